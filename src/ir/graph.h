// The edgefit IR: Model > Graph > Node / Value, independent of protobuf.
//
// A Value is a named tensor edge: produced by at most one Node (or a graph input, an initializer,
// or a name captured from an enclosing graph), and used by any number of Nodes. Use lists are
// kept up to date by the mutation functions here, so passes can ask "who reads this value?".
// Node order in a Graph is the file's order until a pass reorders it (TopologicalSort).
//
// Everything ONNX can carry that the IR does not model (functions, sparse initializers,
// training info, non-tensor types, ...) is kept as serialized protobuf bytes ("opaque") so that
// load -> save is lossless.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "edgefit/status.h"
#include "ir/tensor.h"

namespace edgefit {

class Graph;
class Node;

// One dimension of a declared shape.
struct Dim {
  enum class Kind { kUnknown, kValue, kParam };
  Kind kind = Kind::kUnknown;
  int64_t value = 0;       // for kValue
  std::string param;       // for kParam (symbolic name such as "batch")
  std::string denotation;  // ONNX dim denotation, kept for round trips

  static Dim Fixed(int64_t v) { return {Kind::kValue, v, {}, {}}; }
  static Dim Symbolic(std::string p) { return {Kind::kParam, 0, std::move(p), {}}; }
  bool is_fixed() const { return kind == Kind::kValue; }
  std::string ToString() const;  // "72", "batch", "?"
};

// The declared or inferred type of a Value.
struct TypeInfo {
  enum class Kind { kNone, kTensor, kOpaque };
  Kind kind = Kind::kNone;
  DataType elem_type = DataType::kUndefined;  // kTensor only (kUndefined = not known)
  bool has_shape = false;                     // false: rank unknown
  std::vector<Dim> dims;
  std::string denotation;
  std::string opaque;  // kOpaque: serialized onnx.TypeProto (sequence, map, optional, sparse)

  static TypeInfo Tensor(DataType t, const Shape& shape);
  bool is_tensor() const { return kind == Kind::kTensor; }
  // True when the rank and every dim are known numbers.
  bool IsStatic() const;
  // The shape when IsStatic(); otherwise nullopt.
  std::optional<Shape> StaticShape() const;
  int rank() const { return has_shape ? static_cast<int>(dims.size()) : -1; }
  std::string ShapeString() const;  // "[batch,72,36,36]" or "?" when rank unknown
};

// How an initializer was stored in the file, so that saving writes it back the same way.
struct TensorEncoding {
  bool raw_data = true;  // raw_data field vs. typed *_data fields
  std::string doc_string;
  bool was_external = false;
  std::vector<std::pair<std::string, std::string>> external_data;  // as in the file
};

struct Use {
  Node* node;
  int input_index;  // -1: an implicit use by a subgraph of `node`
  bool operator==(const Use& o) const { return node == o.node && input_index == o.input_index; }
};

class Value {
 public:
  const std::string& name() const { return name_; }
  Graph* graph() const { return graph_; }

  TypeInfo& type() { return type_; }
  const TypeInfo& type() const { return type_; }
  std::string doc_string;

  Node* producer() const { return producer_; }
  int producer_output_index() const { return producer_index_; }
  const std::vector<Use>& uses() const { return uses_; }

  bool is_graph_input() const { return is_graph_input_; }
  bool is_graph_output() const { return graph_output_count_ > 0; }
  // A name used inside a subgraph but defined in an enclosing graph.
  bool is_outer_ref() const { return is_outer_ref_; }

  bool has_initializer() const { return initializer_ != nullptr; }
  const Tensor* initializer() const { return initializer_.get(); }
  Tensor* mutable_initializer() { return initializer_.get(); }
  TensorEncoding& initializer_encoding() { return encoding_; }
  const TensorEncoding& initializer_encoding() const { return encoding_; }

  // Whether a value_info record should be written for this value when it is an intermediate.
  bool keep_value_info = false;

 private:
  friend class Graph;
  friend class Node;
  std::string name_;
  Graph* graph_ = nullptr;
  TypeInfo type_;
  Node* producer_ = nullptr;
  int producer_index_ = -1;
  std::vector<Use> uses_;
  bool is_graph_input_ = false;
  int graph_output_count_ = 0;
  bool is_outer_ref_ = false;
  std::unique_ptr<Tensor> initializer_;
  TensorEncoding encoding_;
};

enum class AttrType {
  kUndefined = 0,
  kFloat = 1,
  kInt = 2,
  kString = 3,
  kTensor = 4,
  kGraph = 5,
  kSparseTensor = 11,
  kTypeProto = 13,
  kFloats = 6,
  kInts = 7,
  kStrings = 8,
  kTensors = 9,
  kGraphs = 10,
  kSparseTensors = 12,
  kTypeProtos = 14,
};

struct AttrTensor {
  std::string name;
  Tensor tensor;
  TensorEncoding encoding;
};

struct Attribute {
  std::string name;
  AttrType type = AttrType::kUndefined;
  float f = 0;
  int64_t i = 0;
  std::string s;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<AttrTensor> tensors;             // kTensor (one) or kTensors
  std::vector<std::shared_ptr<Graph>> graphs;  // kGraph (one) or kGraphs
  std::vector<std::string> opaque;             // serialized SparseTensorProto / TypeProto
  std::string doc_string;
  std::string ref_attr_name;  // inside function bodies

  static Attribute Int(std::string name, int64_t v);
  static Attribute Float(std::string name, float v);
  static Attribute String(std::string name, std::string v);
  static Attribute Ints(std::string name, std::vector<int64_t> v);
  static Attribute Floats(std::string name, std::vector<float> v);
  static Attribute TensorValue(std::string name, Tensor t);
};

const char* AttrTypeName(AttrType type);

class Node {
 public:
  const std::string& name() const { return name_; }
  void set_name(std::string n) { name_ = std::move(n); }
  const std::string& op_type() const { return op_type_; }
  void set_op_type(std::string op) { op_type_ = std::move(op); }
  const std::string& domain() const { return domain_; }  // "" is the default ONNX domain
  void set_domain(std::string d) { domain_ = std::move(d); }
  std::string doc_string;
  Graph* graph() const { return graph_; }

  // Inputs and outputs may hold nullptr for an omitted optional one ("" in ONNX).
  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  Value* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  Value* output(size_t i) const { return i < outputs_.size() ? outputs_[i] : nullptr; }
  size_t num_inputs() const { return inputs_.size(); }
  size_t num_outputs() const { return outputs_.size(); }
  void SetInput(size_t i, Value* v);  // grows the input list when needed
  void AddInput(Value* v) { SetInput(inputs_.size(), v); }
  // Drops trailing inputs from `count` on.
  void TruncateInputs(size_t count);
  // Values of enclosing graphs that this node's subgraphs read.
  const std::vector<Value*>& implicit_inputs() const { return implicit_inputs_; }

  std::vector<Attribute>& attributes() { return attributes_; }
  const std::vector<Attribute>& attributes() const { return attributes_; }
  const Attribute* FindAttribute(const std::string& name) const;
  bool HasAttribute(const std::string& name) const { return FindAttribute(name) != nullptr; }
  void SetAttribute(Attribute attr);  // replaces one of the same name
  bool RemoveAttribute(const std::string& name);
  int64_t GetInt(const std::string& name, int64_t default_value) const;
  float GetFloat(const std::string& name, float default_value) const;
  std::string GetString(const std::string& name, const std::string& default_value) const;
  std::vector<int64_t> GetInts(const std::string& name,
                               const std::vector<int64_t>& default_value = {}) const;
  std::vector<float> GetFloats(const std::string& name,
                               const std::vector<float>& default_value = {}) const;
  bool HasSubgraphs() const;

  // "Conv 'conv_3'" — the prefix every message about a node starts with.
  std::string Describe() const;

 private:
  friend class Graph;
  std::string name_;
  std::string op_type_;
  std::string domain_;
  Graph* graph_ = nullptr;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  std::vector<Value*> implicit_inputs_;
  std::vector<Attribute> attributes_;
  std::list<std::unique_ptr<Node>>::iterator self_;
};

class Graph {
 public:
  explicit Graph(Graph* parent = nullptr) : parent_(parent) {}
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  std::string name;
  std::string doc_string;
  Graph* parent() const { return parent_; }

  // --- values ---
  Value* FindValue(const std::string& name) const;
  // Looks in this graph, then in the enclosing graphs.
  Value* FindValueInScope(const std::string& name) const;
  // Creates a value with exactly this name; fails if the name exists.
  StatusOr<Value*> CreateValue(const std::string& name);
  // Creates a value with a fresh name derived from `base` ("base", "base_1", ...).
  Value* CreateUniqueValue(const std::string& base);
  std::string UniqueName(const std::string& base);
  // Creates (or returns) the local stand-in for an enclosing graph's value.
  Value* GetOrCreateOuterRef(const std::string& name);
  size_t num_values() const { return values_.size(); }
  std::vector<Value*> AllValues() const;

  // --- graph inputs / outputs / initializers ---
  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  void AddInput(Value* v);
  void RemoveInput(Value* v);
  void AddOutput(Value* v);
  void SetOutput(size_t i, Value* v);
  void SetInitializer(Value* v, Tensor t);
  void RemoveInitializer(Value* v);
  // RemoveInitializer for many values in one pass over the initializer list.
  void RemoveInitializers(const std::vector<Value*>& values);
  // Initializers in file order (new ones appended).
  const std::vector<Value*>& initializers() const { return initializers_; }
  // Values that had (or should get) a value_info record, in order.
  const std::vector<Value*>& value_info_order() const { return value_info_order_; }
  void AddValueInfo(Value* v);

  // A new initializer value with a unique name derived from `base`.
  Value* AddInitializer(const std::string& base, Tensor t);

  // --- nodes ---
  const std::list<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  size_t num_nodes() const { return nodes_.size(); }
  // Appends a node reading `inputs` and producing `outputs` (values without a producer).
  Node* AddNode(const std::string& op_type, const std::vector<Value*>& inputs,
                const std::vector<Value*>& outputs, const std::string& name = "");
  // Creates a node placed just before `before` (or at the end when nullptr).
  Node* InsertNode(Node* before, const std::string& op_type, const std::vector<Value*>& inputs,
                   const std::vector<Value*>& outputs, const std::string& name = "");
  // Makes `v` an output of `node` at index i (v must have no producer).
  void SetNodeOutput(Node* node, size_t i, Value* v);
  void SetImplicitInputs(Node* node, std::vector<Value*> values);
  // Detaches the node from its inputs and outputs and deletes it. Its output values stay
  // (without producer) until removed by RemoveValueIfUnused or a dead-code pass.
  void RemoveNode(Node* node);
  // Every use of `from` reads `to` instead (graph outputs included).
  void ReplaceAllUsesWith(Value* from, Value* to);
  // Deletes a value that nothing produces, reads, or declares as input/output/initializer.
  bool RemoveValueIfUnused(Value* v);
  std::string UniqueNodeName(const std::string& base);

  // Orders nodes so every node comes after the producers of its inputs. Keeps the current
  // order where it is already valid (stable). Fails on a cycle, naming a node on it.
  Status TopologicalSort();
  // Checks structural invariants: every input produced or declared, one producer per value,
  // no cycles, known dtypes; recurses into subgraphs.
  Status Verify() const;

  // Opaque parts kept for lossless round trips (serialized protobuf messages).
  std::vector<std::string> opaque_sparse_initializers;
  std::vector<std::string> opaque_quantization_annotations;

  // A deep copy (values, initializers with their own bytes, nodes in order, attributes and
  // subgraphs), enclosed in `parent` (the copy of this graph's parent, for a subgraph).
  std::unique_ptr<Graph> Clone(Graph* parent = nullptr) const;

 private:
  // Value of this graph (or an enclosing one) -> its copy, innermost scope last.
  using CloneScopes = std::vector<const std::unordered_map<const Value*, Value*>*>;
  std::unique_ptr<Graph> CloneIn(Graph* parent, CloneScopes& scopes) const;

  Graph* parent_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Value>> values_;
  std::list<std::unique_ptr<Node>> nodes_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  std::vector<Value*> initializers_;
  std::vector<Value*> value_info_order_;
  std::unordered_map<std::string, int> name_counters_;
  std::unordered_map<std::string, int> node_name_counters_;
  std::unordered_map<std::string, int> node_names_;
  Node* CreateNode(const std::string& op_type, const std::string& name);
  void AttachNode(Node* node, const std::vector<Value*>& inputs,
                  const std::vector<Value*>& outputs);
};

struct OpsetImport {
  std::string domain;  // "" or "ai.onnx" = default domain
  int64_t version = 0;
};

class Model {
 public:
  Model() : graph(std::make_unique<Graph>()) {}

  int64_t ir_version = 0;
  std::vector<OpsetImport> opset_imports;
  std::string producer_name;
  std::string producer_version;
  std::string domain;
  int64_t model_version = 0;
  std::string doc_string;
  std::vector<std::pair<std::string, std::string>> metadata_props;
  std::unique_ptr<Graph> graph;
  std::vector<std::string> opaque_functions;      // serialized FunctionProto
  std::vector<std::string> opaque_training_info;  // serialized TrainingInfoProto

  // Where the model was loaded from (empty if built in memory), and the external data files
  // it read; saving refuses to overwrite any of them without --in-place.
  std::string source_path;
  std::vector<std::string> external_data_files;

  // A deep copy (Graph::Clone), with every field of the model.
  Model Clone() const;

  // Opset version of a domain ("" and "ai.onnx" are the same), or -1 if not imported.
  int64_t OpsetVersion(const std::string& domain = "") const;
  void SetOpsetVersion(const std::string& domain, int64_t version);
};

}  // namespace edgefit
