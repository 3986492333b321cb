#include "ir/graph.h"

#include <algorithm>
#include <sstream>

namespace edgefit {

// ---------------------------------------------------------------------------- Dim / TypeInfo

std::string Dim::ToString() const {
  switch (kind) {
    case Kind::kValue: return std::to_string(value);
    case Kind::kParam: return param;
    case Kind::kUnknown: return "?";
  }
  return "?";
}

TypeInfo TypeInfo::Tensor(DataType t, const Shape& shape) {
  TypeInfo info;
  info.kind = Kind::kTensor;
  info.elem_type = t;
  info.has_shape = true;
  for (int64_t d : shape) info.dims.push_back(Dim::Fixed(d));
  return info;
}

bool TypeInfo::IsStatic() const {
  if (kind != Kind::kTensor || !has_shape) return false;
  for (const Dim& d : dims)
    if (!d.is_fixed() || d.value < 0) return false;
  return true;
}

std::optional<Shape> TypeInfo::StaticShape() const {
  if (!IsStatic()) return std::nullopt;
  Shape s;
  for (const Dim& d : dims) s.push_back(d.value);
  return s;
}

std::string TypeInfo::ShapeString() const {
  if (!has_shape) return "?";
  std::string out = "[";
  for (size_t i = 0; i < dims.size(); ++i) out += (i ? "," : "") + dims[i].ToString();
  return out + "]";
}

// ---------------------------------------------------------------------------- Attribute

Attribute Attribute::Int(std::string name, int64_t v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kInt;
  a.i = v;
  return a;
}
Attribute Attribute::Float(std::string name, float v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kFloat;
  a.f = v;
  return a;
}
Attribute Attribute::String(std::string name, std::string v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kString;
  a.s = std::move(v);
  return a;
}
Attribute Attribute::Ints(std::string name, std::vector<int64_t> v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kInts;
  a.ints = std::move(v);
  return a;
}
Attribute Attribute::Floats(std::string name, std::vector<float> v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kFloats;
  a.floats = std::move(v);
  return a;
}
Attribute Attribute::TensorValue(std::string name, edgefit::Tensor t) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kTensor;
  a.tensors.push_back({"", std::move(t), {}});
  return a;
}

const char* AttrTypeName(AttrType type) {
  switch (type) {
    case AttrType::kUndefined: return "UNDEFINED";
    case AttrType::kFloat: return "FLOAT";
    case AttrType::kInt: return "INT";
    case AttrType::kString: return "STRING";
    case AttrType::kTensor: return "TENSOR";
    case AttrType::kGraph: return "GRAPH";
    case AttrType::kSparseTensor: return "SPARSE_TENSOR";
    case AttrType::kTypeProto: return "TYPE_PROTO";
    case AttrType::kFloats: return "FLOATS";
    case AttrType::kInts: return "INTS";
    case AttrType::kStrings: return "STRINGS";
    case AttrType::kTensors: return "TENSORS";
    case AttrType::kGraphs: return "GRAPHS";
    case AttrType::kSparseTensors: return "SPARSE_TENSORS";
    case AttrType::kTypeProtos: return "TYPE_PROTOS";
  }
  return "UNKNOWN";
}

// ---------------------------------------------------------------------------- Node

namespace {
void RemoveUse(Value* v, Node* node, int index) {
  if (!v) return;
  auto& uses = const_cast<std::vector<Use>&>(v->uses());
  auto it = std::find(uses.begin(), uses.end(), Use{node, index});
  if (it != uses.end()) uses.erase(it);
}
}  // namespace

void Node::SetInput(size_t i, Value* v) {
  if (i >= inputs_.size()) inputs_.resize(i + 1, nullptr);
  Value* old = inputs_[i];
  if (old == v) return;
  RemoveUse(old, this, static_cast<int>(i));
  inputs_[i] = v;
  if (v) v->uses_.push_back({this, static_cast<int>(i)});
}

void Node::TruncateInputs(size_t count) {
  while (inputs_.size() > count) {
    RemoveUse(inputs_.back(), this, static_cast<int>(inputs_.size() - 1));
    inputs_.pop_back();
  }
}

const Attribute* Node::FindAttribute(const std::string& name) const {
  for (const Attribute& a : attributes_)
    if (a.name == name) return &a;
  return nullptr;
}

void Node::SetAttribute(Attribute attr) {
  for (Attribute& a : attributes_) {
    if (a.name == attr.name) {
      a = std::move(attr);
      return;
    }
  }
  attributes_.push_back(std::move(attr));
}

bool Node::RemoveAttribute(const std::string& name) {
  auto it = std::find_if(attributes_.begin(), attributes_.end(),
                         [&](const Attribute& a) { return a.name == name; });
  if (it == attributes_.end()) return false;
  attributes_.erase(it);
  return true;
}

int64_t Node::GetInt(const std::string& name, int64_t default_value) const {
  const Attribute* a = FindAttribute(name);
  return a && a->type == AttrType::kInt ? a->i : default_value;
}
float Node::GetFloat(const std::string& name, float default_value) const {
  const Attribute* a = FindAttribute(name);
  return a && a->type == AttrType::kFloat ? a->f : default_value;
}
std::string Node::GetString(const std::string& name, const std::string& default_value) const {
  const Attribute* a = FindAttribute(name);
  return a && a->type == AttrType::kString ? a->s : default_value;
}
std::vector<int64_t> Node::GetInts(const std::string& name,
                                   const std::vector<int64_t>& default_value) const {
  const Attribute* a = FindAttribute(name);
  return a && a->type == AttrType::kInts ? a->ints : default_value;
}
std::vector<float> Node::GetFloats(const std::string& name,
                                   const std::vector<float>& default_value) const {
  const Attribute* a = FindAttribute(name);
  return a && a->type == AttrType::kFloats ? a->floats : default_value;
}

bool Node::HasSubgraphs() const {
  for (const Attribute& a : attributes_)
    if (!a.graphs.empty()) return true;
  return false;
}

std::string Node::Describe() const {
  std::string op = domain_.empty() || domain_ == "ai.onnx" ? op_type_ : domain_ + "." + op_type_;
  return op + " '" + name_ + "'";
}

// ---------------------------------------------------------------------------- Graph: values

Value* Graph::FindValue(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : it->second.get();
}

Value* Graph::FindValueInScope(const std::string& name) const {
  for (const Graph* g = this; g; g = g->parent_)
    if (Value* v = g->FindValue(name)) return v;
  return nullptr;
}

StatusOr<Value*> Graph::CreateValue(const std::string& name) {
  if (values_.count(name)) return InvalidModel("value name '" + name + "' is defined twice");
  auto v = std::make_unique<Value>();
  v->name_ = name;
  v->graph_ = this;
  Value* raw = v.get();
  values_.emplace(name, std::move(v));
  return raw;
}

std::string Graph::UniqueName(const std::string& base) {
  auto taken = [&](const std::string& n) { return FindValueInScope(n) != nullptr; };
  if (!base.empty() && !taken(base)) return base;
  int& counter = name_counters_[base];
  std::string candidate;
  do {
    candidate = base + "_" + std::to_string(++counter);
  } while (taken(candidate));
  return candidate;
}

Value* Graph::CreateUniqueValue(const std::string& base) {
  return *CreateValue(UniqueName(base.empty() ? "v" : base));
}

Value* Graph::GetOrCreateOuterRef(const std::string& name) {
  if (Value* v = FindValue(name)) return v;
  Value* v = *CreateValue(name);
  v->is_outer_ref_ = true;
  return v;
}

std::vector<Value*> Graph::AllValues() const {
  std::vector<Value*> out;
  out.reserve(values_.size());
  for (const auto& [name, v] : values_) out.push_back(v.get());
  std::sort(out.begin(), out.end(),
            [](const Value* a, const Value* b) { return a->name() < b->name(); });
  return out;
}

void Graph::AddInput(Value* v) {
  v->is_graph_input_ = true;
  inputs_.push_back(v);
}

void Graph::RemoveInput(Value* v) {
  inputs_.erase(std::remove(inputs_.begin(), inputs_.end(), v), inputs_.end());
  v->is_graph_input_ = false;
}

void Graph::AddOutput(Value* v) {
  ++v->graph_output_count_;
  outputs_.push_back(v);
}

void Graph::SetOutput(size_t i, Value* v) {
  --outputs_[i]->graph_output_count_;
  outputs_[i] = v;
  ++v->graph_output_count_;
}

void Graph::SetInitializer(Value* v, Tensor t) {
  if (!v->initializer_) initializers_.push_back(v);
  v->initializer_ = std::make_unique<Tensor>(std::move(t));
}

void Graph::RemoveInitializer(Value* v) {
  if (!v->initializer_) return;
  v->initializer_.reset();
  initializers_.erase(std::remove(initializers_.begin(), initializers_.end(), v),
                      initializers_.end());
}

void Graph::RemoveInitializers(const std::vector<Value*>& values) {
  bool removed = false;
  for (Value* v : values) {
    removed = removed || v->initializer_;
    v->initializer_.reset();
  }
  // Exactly the values in initializers_ hold a tensor.
  if (removed)
    initializers_.erase(std::remove_if(initializers_.begin(), initializers_.end(),
                                       [](const Value* v) { return !v->initializer_; }),
                        initializers_.end());
}

void Graph::AddValueInfo(Value* v) {
  if (!v->keep_value_info) {
    v->keep_value_info = true;
    value_info_order_.push_back(v);
  }
}

Value* Graph::AddInitializer(const std::string& base, Tensor t) {
  Value* v = CreateUniqueValue(base);
  v->type_ = TypeInfo::Tensor(t.dtype(), t.shape());
  SetInitializer(v, std::move(t));
  return v;
}

// ---------------------------------------------------------------------------- Graph: copy

std::unique_ptr<Graph> Graph::Clone(Graph* parent) const {
  CloneScopes scopes;
  return CloneIn(parent, scopes);
}

std::unique_ptr<Graph> Graph::CloneIn(Graph* parent, CloneScopes& scopes) const {
  auto g = std::make_unique<Graph>(parent);
  g->name = name;
  g->doc_string = doc_string;
  g->opaque_sparse_initializers = opaque_sparse_initializers;
  g->opaque_quantization_annotations = opaque_quantization_annotations;
  g->name_counters_ = name_counters_;
  g->node_name_counters_ = node_name_counters_;
  g->node_names_ = node_names_;

  std::unordered_map<const Value*, Value*> map;
  map.reserve(values_.size());
  g->values_.reserve(values_.size());
  for (const auto& [value_name, v] : values_) {
    auto c = std::make_unique<Value>();
    c->name_ = value_name;
    c->graph_ = g.get();
    c->type_ = v->type_;
    c->doc_string = v->doc_string;
    c->keep_value_info = v->keep_value_info;
    c->is_outer_ref_ = v->is_outer_ref_;
    c->encoding_ = v->encoding_;
    if (v->initializer_) c->initializer_ = std::make_unique<Tensor>(v->initializer_->Clone());
    map.emplace(v.get(), c.get());
    g->values_.emplace(value_name, std::move(c));
  }
  scopes.push_back(&map);
  // A value of this graph, or (implicit inputs of a subgraph's node) of an enclosing one.
  auto copy_of = [&scopes](const Value* v) -> Value* {
    if (!v) return nullptr;
    for (size_t i = scopes.size(); i-- > 0;) {
      auto it = scopes[i]->find(v);
      if (it != scopes[i]->end()) return it->second;
    }
    return nullptr;  // not reachable for a valid graph
  };
  for (const Value* v : inputs_) g->AddInput(copy_of(v));
  for (const Value* v : outputs_) g->AddOutput(copy_of(v));
  for (const Value* v : initializers_) g->initializers_.push_back(copy_of(v));
  for (const Value* v : value_info_order_) g->value_info_order_.push_back(copy_of(v));

  for (const auto& n : nodes_) {
    auto c = std::make_unique<Node>();
    c->name_ = n->name_;
    c->op_type_ = n->op_type_;
    c->domain_ = n->domain_;
    c->doc_string = n->doc_string;
    c->graph_ = g.get();
    Node* node = c.get();
    node->self_ = g->nodes_.insert(g->nodes_.end(), std::move(c));
    for (size_t i = 0; i < n->inputs_.size(); ++i) node->SetInput(i, copy_of(n->inputs_[i]));
    node->outputs_.resize(n->outputs_.size(), nullptr);
    for (size_t i = 0; i < n->outputs_.size(); ++i)
      if (n->outputs_[i]) g->SetNodeOutput(node, i, copy_of(n->outputs_[i]));
    node->attributes_ = n->attributes_;  // then what must not be shared: tensors, subgraphs
    for (Attribute& a : node->attributes_) {
      for (AttrTensor& t : a.tensors) t.tensor = t.tensor.Clone();
      for (auto& sg : a.graphs) sg = std::shared_ptr<Graph>(sg->CloneIn(g.get(), scopes));
    }
    std::vector<Value*> implicit;
    for (const Value* v : n->implicit_inputs_) implicit.push_back(copy_of(v));
    g->SetImplicitInputs(node, std::move(implicit));
  }
  scopes.pop_back();
  return g;
}

Model Model::Clone() const {
  Model m;
  m.ir_version = ir_version;
  m.opset_imports = opset_imports;
  m.producer_name = producer_name;
  m.producer_version = producer_version;
  m.domain = domain;
  m.model_version = model_version;
  m.doc_string = doc_string;
  m.metadata_props = metadata_props;
  m.graph = graph->Clone();
  m.opaque_functions = opaque_functions;
  m.opaque_training_info = opaque_training_info;
  m.source_path = source_path;
  m.external_data_files = external_data_files;
  return m;
}

// ---------------------------------------------------------------------------- Graph: nodes

std::string Graph::UniqueNodeName(const std::string& base) {
  std::string b = base.empty() ? "node" : base;
  if (!node_names_.count(b)) return b;
  int& counter = node_name_counters_[b];
  std::string candidate;
  do {
    candidate = b + "_" + std::to_string(++counter);
  } while (node_names_.count(candidate));
  return candidate;
}

Node* Graph::CreateNode(const std::string& op_type, const std::string& name) {
  auto node = std::make_unique<Node>();
  node->op_type_ = op_type;
  node->name_ = name;
  node->graph_ = this;
  ++node_names_[name];
  return node.release();
}

void Graph::AttachNode(Node* node, const std::vector<Value*>& inputs,
                       const std::vector<Value*>& outputs) {
  for (size_t i = 0; i < inputs.size(); ++i) node->SetInput(i, inputs[i]);
  node->outputs_.resize(outputs.size(), nullptr);
  for (size_t i = 0; i < outputs.size(); ++i)
    if (outputs[i]) SetNodeOutput(node, i, outputs[i]);
}

Node* Graph::AddNode(const std::string& op_type, const std::vector<Value*>& inputs,
                     const std::vector<Value*>& outputs, const std::string& name) {
  return InsertNode(nullptr, op_type, inputs, outputs, name);
}

Node* Graph::InsertNode(Node* before, const std::string& op_type, const std::vector<Value*>& inputs,
                        const std::vector<Value*>& outputs, const std::string& name) {
  Node* node = CreateNode(op_type, name);
  auto pos = before ? before->self_ : nodes_.end();
  node->self_ = nodes_.insert(pos, std::unique_ptr<Node>(node));
  AttachNode(node, inputs, outputs);
  return node;
}

void Graph::SetNodeOutput(Node* node, size_t i, Value* v) {
  if (i >= node->outputs_.size()) node->outputs_.resize(i + 1, nullptr);
  if (Value* old = node->outputs_[i]) {
    old->producer_ = nullptr;
    old->producer_index_ = -1;
  }
  node->outputs_[i] = v;
  if (v) {
    v->producer_ = node;
    v->producer_index_ = static_cast<int>(i);
  }
}

void Graph::SetImplicitInputs(Node* node, std::vector<Value*> values) {
  for (Value* v : node->implicit_inputs_) RemoveUse(v, node, -1);
  node->implicit_inputs_ = std::move(values);
  for (Value* v : node->implicit_inputs_) v->uses_.push_back({node, -1});
}

void Graph::RemoveNode(Node* node) {
  for (size_t i = 0; i < node->inputs_.size(); ++i)
    RemoveUse(node->inputs_[i], node, static_cast<int>(i));
  for (Value* v : node->implicit_inputs_) RemoveUse(v, node, -1);
  for (Value* v : node->outputs_) {
    if (v) {
      v->producer_ = nullptr;
      v->producer_index_ = -1;
    }
  }
  if (--node_names_[node->name_] == 0) node_names_.erase(node->name_);
  nodes_.erase(node->self_);
}

void Graph::ReplaceAllUsesWith(Value* from, Value* to) {
  if (from == to) return;
  std::vector<Use> uses = from->uses_;
  for (const Use& u : uses) {
    if (u.input_index >= 0) {
      u.node->SetInput(static_cast<size_t>(u.input_index), to);
    } else {
      std::vector<Value*> implicit = u.node->implicit_inputs_;
      std::replace(implicit.begin(), implicit.end(), from, to);
      u.node->graph()->SetImplicitInputs(u.node, implicit);
    }
  }
  for (size_t i = 0; i < outputs_.size(); ++i)
    if (outputs_[i] == from) SetOutput(i, to);
}

bool Graph::RemoveValueIfUnused(Value* v) {
  if (v->producer_ || !v->uses_.empty() || v->is_graph_input_ || v->graph_output_count_ > 0 ||
      v->initializer_)
    return false;
  value_info_order_.erase(std::remove(value_info_order_.begin(), value_info_order_.end(), v),
                          value_info_order_.end());
  values_.erase(v->name_);
  return true;
}

// ---------------------------------------------------------------------------- order and checks

Status Graph::TopologicalSort() {
  // Kahn's algorithm, taking ready nodes in their current order so a valid order is kept.
  std::unordered_map<const Node*, int> pending;
  std::vector<Node*> order;
  order.reserve(nodes_.size());
  auto count_pending = [&](Node* n) {
    int count = 0;
    auto add = [&](Value* v) {
      if (v && v->producer_ && v->producer_->graph_ == this) ++count;
    };
    for (Value* v : n->inputs_) add(v);
    for (Value* v : n->implicit_inputs_) add(v);
    return count;
  };
  std::vector<Node*> ready;
  std::unordered_map<const Node*, size_t> position;
  size_t pos = 0;
  for (auto& n : nodes_) {
    position[n.get()] = pos++;
    int c = count_pending(n.get());
    pending[n.get()] = c;
    if (c == 0) ready.push_back(n.get());
  }
  // `ready` is processed as a min-heap on original position.
  auto later = [&](Node* a, Node* b) { return position[a] > position[b]; };
  std::make_heap(ready.begin(), ready.end(), later);
  while (!ready.empty()) {
    std::pop_heap(ready.begin(), ready.end(), later);
    Node* n = ready.back();
    ready.pop_back();
    order.push_back(n);
    for (Value* out : n->outputs_) {
      if (!out) continue;
      for (const Use& u : out->uses_) {
        if (u.node->graph_ != this) continue;
        if (--pending[u.node] == 0) {
          ready.push_back(u.node);
          std::push_heap(ready.begin(), ready.end(), later);
        }
      }
    }
  }
  if (order.size() != nodes_.size()) {
    for (auto& n : nodes_) {
      if (pending[n.get()] > 0)
        return InvalidModel("graph '" + name + "' has a cycle through node " + n->Describe());
    }
  }
  std::list<std::unique_ptr<Node>> sorted;
  for (Node* n : order) {
    sorted.splice(sorted.end(), nodes_, n->self_);
    n->self_ = std::prev(sorted.end());
  }
  nodes_.swap(sorted);
  return Status::Ok();
}

Status Graph::Verify() const {
  std::string where = name.empty() ? std::string("graph") : "graph '" + name + "'";
  for (const auto& [vname, v] : values_) {
    if (v->type_.kind == TypeInfo::Kind::kTensor && v->type_.elem_type != DataType::kUndefined &&
        !IsKnownDataType(static_cast<int32_t>(v->type_.elem_type)))
      return InvalidModel(where + ": value '" + vname + "' has unknown element type " +
                          std::to_string(static_cast<int>(v->type_.elem_type)));
    if (v->initializer_ && v->producer_)
      return InvalidModel(where + ": value '" + vname +
                          "' is both an initializer and the output of " + v->producer_->Describe());
    if (v->is_graph_input_ && v->producer_)
      return InvalidModel(where + ": graph input '" + vname + "' is also produced by " +
                          v->producer_->Describe());
    if (v->is_outer_ref_ && !(parent_ && parent_->FindValueInScope(vname)))
      return InvalidModel(where + ": subgraph reads '" + vname +
                          "' which no enclosing graph defines");
  }
  std::unordered_map<const Node*, size_t> position;
  size_t pos = 0;
  for (const auto& n : nodes_) position[n.get()] = pos++;
  bool out_of_order = false;
  for (const auto& n : nodes_) {
    for (size_t i = 0; i < n->inputs_.size(); ++i) {
      Value* v = n->inputs_[i];
      if (!v) continue;
      bool defined = v->producer_ || v->is_graph_input_ || v->initializer_ || v->is_outer_ref_;
      if (!defined)
        return InvalidModel(where + ": " + n->Describe() + " input " + std::to_string(i) + " '" +
                            v->name_ + "' is not produced by any node, graph input or initializer");
      if (v->producer_ && v->producer_->graph_ == this &&
          position[v->producer_] >= position[n.get()])  // >=: a node reading its own output
        out_of_order = true;
    }
    for (const Attribute& a : n->attributes_)
      for (const auto& g : a.graphs) RETURN_IF_ERROR(g->Verify().WithContext(n->Describe()));
  }
  for (Value* v : outputs_) {
    bool defined = v->producer_ || v->is_graph_input_ || v->initializer_ || v->is_outer_ref_;
    if (!defined)
      return InvalidModel(where + ": graph output '" + v->name_ + "' is not produced by any node");
  }
  if (out_of_order) {
    // Not sorted: either a cycle (an error) or just an unusual order (fine). Decide on a copy of
    // the order so Verify stays const.
    std::unordered_map<const Node*, int> pending;
    std::vector<const Node*> ready;
    for (const auto& n : nodes_) {
      int c = 0;
      for (Value* v : n->inputs_)
        if (v && v->producer_ && v->producer_->graph_ == this) ++c;
      for (Value* v : n->implicit_inputs_)
        if (v && v->producer_ && v->producer_->graph_ == this) ++c;
      pending[n.get()] = c;
      if (c == 0) ready.push_back(n.get());
    }
    size_t done = 0;
    while (!ready.empty()) {
      const Node* n = ready.back();
      ready.pop_back();
      ++done;
      for (Value* out : n->outputs_)
        if (out)
          for (const Use& u : out->uses_)
            if (u.node->graph_ == this && --pending[u.node] == 0) ready.push_back(u.node);
    }
    if (done != nodes_.size()) {
      for (const auto& n : nodes_)
        if (pending[n.get()] > 0)
          return InvalidModel(where + " has a cycle through node " + n->Describe());
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------- Model

int64_t Model::OpsetVersion(const std::string& d) const {
  bool want_default = d.empty() || d == "ai.onnx";
  for (const OpsetImport& o : opset_imports) {
    bool is_default = o.domain.empty() || o.domain == "ai.onnx";
    if (want_default ? is_default : o.domain == d) return o.version;
  }
  return -1;
}

void Model::SetOpsetVersion(const std::string& d, int64_t version) {
  bool want_default = d.empty() || d == "ai.onnx";
  for (OpsetImport& o : opset_imports) {
    bool is_default = o.domain.empty() || o.domain == "ai.onnx";
    if (want_default ? is_default : o.domain == d) {
      o.version = version;
      return;
    }
  }
  opset_imports.push_back({d, version});
}

}  // namespace edgefit
