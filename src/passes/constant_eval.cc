#include "passes/constant_eval.h"

#include <algorithm>
#include <cstddef>
#include <deque>
#include <new>
#include <queue>

#include "passes/pass_util.h"
#include "runtime/blas.h"
#include "runtime/session.h"

namespace edgefit {
namespace {

// Ops whose output shapes depend on their inputs' contents in ways no shape analysis can follow.
bool HasDataDependentShape(const std::string& op) {
  static const std::string kOps =
      " NonZero Unique Compress NonMaxSuppression StringSplit TfIdfVectorizer ";
  return kOps.find(" " + op + " ") != std::string::npos;
}

// Ops whose outputs' shapes depend only on their inputs' shapes and attributes.
bool IsShapeOnlyOp(const std::string& op) {
  static const std::string kOps =
      " Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool"
      " BatchNormalization BitShift BitwiseAnd BitwiseNot BitwiseOr BitwiseXor Cast"
      " CastLike Ceil Celu Clip Concat Conv ConvInteger ConvTranspose Cos Cosh CumSum"
      " DepthToSpace DequantizeLinear Det Div Dropout Einsum Elu Equal Erf Exp EyeLike"
      " Flatten Floor Gather GatherElements GatherND Gelu Gemm GlobalAveragePool"
      " GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GridSample GroupNormalization"
      " HardSigmoid HardSwish Hardmax Identity InstanceNormalization IsInf IsNaN LRN"
      " LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax LpNormalization LpPool"
      " MatMul MatMulInteger Max MaxPool MaxRoiPool Mean MeanVarianceNormalization Min Mish"
      " Mod Mul Neg Not Or PRelu Pow QLinearConv QLinearMatMul QuantizeLinear Reciprocal"
      " Relu ReverseSequence RoiAlign Round Scatter ScatterElements ScatterND Selu Shrink"
      " Sigmoid Sign Sin Sinh Softmax Softplus Softsign SpaceToDepth Sqrt Sub Sum Tan Tanh"
      " ThresholdedRelu Transpose Trilu Where Xor ";
  return kOps.find(" " + op + " ") != std::string::npos;
}

// Ops whose every input is a size (their outputs' shapes are their inputs' values).
bool IsAllSizesOp(const std::string& op) {
  return op == "ConstantOfShape" || op == "Range" || op == "HannWindow" || op == "HammingWindow" ||
         op == "BlackmanWindow" || op == "MelWeightMatrix";
}

bool IsIntegerType(DataType t) {
  switch (t) {
    case DataType::kInt8:
    case DataType::kUint8:
    case DataType::kInt16:
    case DataType::kUint16:
    case DataType::kInt32:
    case DataType::kUint32:
    case DataType::kInt64:
    case DataType::kUint64:
    case DataType::kBool: return true;
    default: return false;
  }
}

std::optional<Tensor> ConstantNodeTensor(const Node& node) {
  for (const Attribute& a : node.attributes()) {
    if (a.name == "value" && a.type == AttrType::kTensor && !a.tensors.empty())
      return a.tensors[0].tensor;
    if (a.name == "value_float" && a.type == AttrType::kFloat) return Tensor::Scalar(a.f);
    if (a.name == "value_floats" && a.type == AttrType::kFloats)
      return Tensor::FromVector<float>(DataType::kFloat, {static_cast<int64_t>(a.floats.size())},
                                       a.floats);
    if (a.name == "value_int" && a.type == AttrType::kInt)
      return Tensor::FromVector<int64_t>(DataType::kInt64, {}, {a.i});
    if (a.name == "value_ints" && a.type == AttrType::kInts)
      return Tensor::FromVector<int64_t>(DataType::kInt64, {static_cast<int64_t>(a.ints.size())},
                                         a.ints);
  }
  return std::nullopt;
}

// Static shape of a value as the IR knows it (type or constant), without running anything.
std::optional<Shape> DeclaredShape(const Value* v) {
  if (auto t = LiteralTensor(v)) return t->shape();
  if (v->type().is_tensor()) return v->type().StaticShape();
  return std::nullopt;
}

}  // namespace

bool IsNeverFoldedOp(const std::string& op) {
  static const std::string kOps =
      " QuantizeLinear DequantizeLinear DynamicQuantizeLinear RandomNormal RandomUniform"
      " RandomNormalLike RandomUniformLike Multinomial Bernoulli If Loop Scan ";
  return kOps.find(" " + op + " ") != std::string::npos;
}

std::optional<Tensor> LiteralTensor(const Value* v) {
  if (!v) return std::nullopt;
  if (v->has_initializer()) {
    if (v->is_graph_input()) return std::nullopt;
    return *v->initializer();
  }
  const Node* p = v->producer();
  if (p && IsOp(*p, "Constant")) return ConstantNodeTensor(*p);
  return std::nullopt;
}

std::optional<std::vector<int64_t>> LiteralInts(const Value* v) {
  auto t = LiteralTensor(v);
  if (!t || t->dtype() == DataType::kString || t->numel() > (1 << 20)) return std::nullopt;
  auto ints = t->ToInt64Vector();
  if (!ints.ok()) return std::nullopt;
  return std::move(ints).value();
}

std::vector<Node*> TopoOrder(const Graph& g) {
  std::unordered_map<const Node*, size_t> position;
  std::vector<Node*> nodes;
  for (const auto& n : g.nodes()) {
    position[n.get()] = nodes.size();
    nodes.push_back(n.get());
  }
  std::vector<int> pending(nodes.size(), 0);
  auto in_graph = [&](const Value* v) {
    return v && v->producer() && v->producer()->graph() == &g;
  };
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const Value* v : nodes[i]->inputs()) pending[i] += in_graph(v);
    for (const Value* v : nodes[i]->implicit_inputs()) pending[i] += in_graph(v);
  }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (pending[i] == 0) ready.push(i);
  std::vector<Node*> order;
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    order.push_back(nodes[i]);
    for (const Value* out : nodes[i]->outputs()) {
      if (!out) continue;
      for (const Use& u : out->uses()) {
        if (u.node->graph() != &g) continue;
        size_t j = position[u.node];
        if (--pending[j] == 0) ready.push(j);
      }
    }
  }
  return order;
}

namespace {

// What a kernel sees when it runs alone on constant inputs: one thread, heap outputs.
class DirectContext final : public KernelContext {
 public:
  DirectContext(const std::vector<const Tensor*>& inputs, const Node& node,
                const std::string* description)
      : node_(node), outputs_(node.num_outputs()) {
    inputs_ = inputs;
    num_outputs_ = node.num_outputs();
    node_description_ = description;
  }
  bool output_wanted(size_t i) const override { return i < num_outputs_ && node_.output(i); }
  StatusOr<Tensor*> Output(size_t i, DataType dtype, const Shape& shape) override {
    if (i >= num_outputs_) return Error("output index " + std::to_string(i) + " out of range");
    if (NumElements(shape) < 0)
      return Error("output shape " + ShapeToString(shape) + " is invalid");
    Tensor* slot = &outputs_[i];
    if (!node_.output(i)) {
      extra_.emplace_back();
      slot = &extra_.back();
    }
    ASSIGN_OR_RETURN(*slot, Tensor::Create(dtype, shape));
    return slot;
  }
  Status OutputView(size_t i, size_t input_index, const Shape& shape) override {
    const Tensor* in = input(input_index);
    if (!in) return Error("view of a missing input");
    if (NumElements(shape) != in->numel())
      return Error("cannot view " + ShapeToString(in->shape()) + " as " + ShapeToString(shape));
    if (output_wanted(i)) outputs_[i] = in->Reshaped(shape);
    return Status::Ok();
  }
  Status SetOutput(size_t i, const Tensor& tensor) override {
    if (output_wanted(i)) outputs_[i] = tensor;
    return Status::Ok();
  }
  int num_threads() const override { return 1; }
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) const override {
    if (n > 0) fn(0, n);
  }
  void* Scratch(size_t bytes) override {  // 64-byte aligned, as the session's
    if (bytes > scratch_bytes_ || !scratch_) {
      scratch_.reset(
          static_cast<std::byte*>(::operator new(bytes + 64, std::align_val_t(64), std::nothrow)));
      scratch_bytes_ = scratch_ ? bytes : 0;
    }
    return scratch_.get();
  }
  std::vector<Tensor>& outputs() { return outputs_; }

 private:
  const Node& node_;
  std::vector<Tensor> outputs_;
  std::deque<Tensor> extra_;
  struct AlignedDelete {
    void operator()(std::byte* p) const { ::operator delete(p, std::align_val_t(64)); }
  };
  std::unique_ptr<std::byte, AlignedDelete> scratch_;
  size_t scratch_bytes_ = 0;
};

// EvaluateNode without a Session: the node's kernel is made and run directly, on the node
// itself (kernel factories read only its op, attributes and which inputs are present; the input
// types given are those of initializers holding `inputs`, as in the one-node model). nullopt
// when anything goes differently from a plain successful run: the caller then takes the
// Session path, whose errors are the ones to report.
std::optional<std::vector<Tensor>> EvaluateDirectly(const Model& model, const Node& node,
                                                    const std::vector<const Tensor*>& inputs) {
  const int64_t opset = model.OpsetVersion(node.domain());
  if (opset < 0 || node.HasSubgraphs()) return std::nullopt;
  const KernelDef* def = DefaultKernelRegistry().Find(node.domain(), node.op_type(), opset);
  if (!def) return std::nullopt;
  std::vector<TypeInfo> types(inputs.size());
  KernelInit init{node, opset, {}, {}, node.num_outputs()};
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i]) types[i] = TypeInfo::Tensor(inputs[i]->dtype(), inputs[i]->shape());
    init.input_types.push_back(inputs[i] ? &types[i] : nullptr);
    init.constant_inputs.push_back(inputs[i]);
  }
  blas::Init();  // as Session::Create
  auto kernel = def->factory(init);
  if (!kernel.ok()) return std::nullopt;
  const std::string description = init.Describe();
  DirectContext ctx(inputs, node, &description);
  if (!(*kernel)->Run(ctx).ok()) return std::nullopt;
  std::vector<Tensor> out(node.num_outputs());
  for (size_t i = 0; i < node.num_outputs(); ++i) {
    if (!node.output(i)) continue;
    if (ctx.outputs()[i].dtype() == DataType::kUndefined) return std::nullopt;
    out[i] = ctx.outputs()[i].Clone();
  }
  return out;
}

}  // namespace

StatusOr<std::vector<Tensor>> EvaluateNode(const Model& model, const Node& node,
                                           const std::vector<const Tensor*>& inputs) {
  if (auto direct = EvaluateDirectly(model, node, inputs)) return std::move(*direct);
  return EvaluateNodeInSession(model, node, inputs);
}

StatusOr<std::vector<Tensor>> EvaluateNodeInSession(const Model& model, const Node& node,
                                                    const std::vector<const Tensor*>& inputs) {
  Model sub;
  sub.ir_version = model.ir_version > 0 ? model.ir_version : 8;
  sub.opset_imports = model.opset_imports;
  Graph& g = *sub.graph;
  std::vector<Value*> ins;
  for (size_t i = 0; i < inputs.size(); ++i)
    ins.push_back(inputs[i] ? g.AddInitializer("in" + std::to_string(i), *inputs[i]) : nullptr);
  std::vector<Value*> outs;
  for (size_t i = 0; i < node.num_outputs(); ++i) {
    Value* v = nullptr;
    if (node.output(i)) {
      v = g.CreateUniqueValue("out" + std::to_string(i));
      g.AddOutput(v);
    }
    outs.push_back(v);
  }
  Node* n = g.AddNode(node.op_type(), ins, outs, node.name());
  n->set_domain(node.domain());
  n->attributes() = node.attributes();
  SessionOptions so;
  so.num_threads = 1;
  ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(sub, so));
  ASSIGN_OR_RETURN(std::vector<Tensor> results, session->Run({}));
  std::vector<Tensor> out(node.num_outputs());
  size_t k = 0;
  for (size_t i = 0; i < node.num_outputs(); ++i)
    if (outs[i] && k < results.size()) out[i] = results[k++].Clone();
  return out;
}

// ---------------------------------------------------------------------------------------------
// ConstantEvaluator

const Tensor* ConstantEvaluator::Evaluate(const Value* v) {
  if (!v) return nullptr;
  auto it = values_.find(v);
  if (it != values_.end()) return &it->second;
  if (auto t = LiteralTensor(v)) return &values_.emplace(v, std::move(*t)).first->second;
  const Node* p = v->producer();
  if (!p || p->graph() != model_.graph.get() || depth_ > 200) return nullptr;
  ++depth_;
  bool ok = EvaluateNode(p);
  --depth_;
  if (!ok) return nullptr;
  it = values_.find(v);
  return it == values_.end() ? nullptr : &it->second;
}

bool ConstantEvaluator::EvaluateNode(const Node* node, std::string* why) {
  auto cached = evaluated_.find(node);
  if (cached != evaluated_.end()) {
    if (!cached->second && why) *why = refused_why_[node];
    return cached->second;
  }
  auto refuse = [&](std::string reason) {
    evaluated_[node] = false;
    if (!reason.empty()) refused_why_[node] = reason;
    if (why) *why = std::move(reason);
    return false;
  };
  const std::string& op = node->op_type();
  if (!IsOnnxDomain(*node) || node->HasSubgraphs() || IsNeverFoldedOp(op) || op == "Constant" ||
      node->num_outputs() == 0 || !node->output(0) || model_.OpsetVersion("") < 1)
    return refuse("");

  if (op == "Shape" || op == "Size") {
    const Value* in = node->input(0);
    std::optional<Shape> shape = in ? DeclaredShape(in) : std::nullopt;
    if (!shape && in) {
      if (const Tensor* t = Evaluate(in)) shape = t->shape();
    }
    if (!shape && in && shapes_) shape = shapes_->Of(in);
    if (!shape) return refuse("");
    Tensor t;
    if (op == "Size") {
      t = Tensor::FromVector<int64_t>(DataType::kInt64, {}, {NumElements(*shape)});
    } else {
      int64_t r = static_cast<int64_t>(shape->size());
      int64_t start = node->GetInt("start", 0), end = node->GetInt("end", r);
      if (start < 0) start += r;
      if (end < 0) end += r;
      start = std::clamp<int64_t>(start, 0, r);
      end = std::clamp<int64_t>(end, 0, r);
      std::vector<int64_t> dims;
      for (int64_t i = start; i < end; ++i) dims.push_back((*shape)[i]);
      t = Tensor::FromVector<int64_t>(DataType::kInt64, {static_cast<int64_t>(dims.size())}, dims);
    }
    values_[node->output(0)] = std::move(t);
    evaluated_[node] = true;
    return true;
  }

  std::vector<const Tensor*> inputs;
  bool any = false;
  for (const Value* in : node->inputs()) {
    if (!in) {
      inputs.push_back(nullptr);
      continue;
    }
    const Tensor* t = Evaluate(in);
    if (!t) return refuse("");
    inputs.push_back(t);
    any = true;
  }
  if (!any) return refuse("");

  // Known sizes first, so that a large Tile/Expand is not even computed.
  size_t declared = 0;
  for (const Value* out : node->outputs()) {
    if (!out) continue;
    auto s = out->type().is_tensor() ? out->type().StaticShape() : std::nullopt;
    size_t es = out->type().is_tensor() ? DataTypeSize(out->type().elem_type) : 0;
    if (!s || es == 0 || NumElements(*s) < 0) continue;
    declared += static_cast<size_t>(NumElements(*s)) * es;
  }
  auto too_large = [&](size_t bytes) {
    return node->Describe() + ": outputs of " + std::to_string(bytes) +
           " bytes exceed fold_max_output_bytes (" + std::to_string(max_output_bytes_) + ")";
  };
  if (declared > max_output_bytes_) return refuse(too_large(declared));

  auto results = edgefit::EvaluateNode(model_, *node, inputs);
  if (!results.ok()) return refuse(node->Describe() + ": " + results.status().message());
  size_t total = 0;
  for (size_t i = 0; i < results->size(); ++i) {
    const Tensor& t = (*results)[i];
    if (!node->output(i)) continue;
    if (t.empty() || t.dtype() == DataType::kString)
      return refuse(node->Describe() + ": output " + std::to_string(i) +
                    " is not a numeric tensor");
    total += t.nbytes();
  }
  if (total > max_output_bytes_) return refuse(too_large(total));
  for (size_t i = 0; i < results->size(); ++i)
    if (node->output(i)) values_[node->output(i)] = std::move((*results)[i]);
  evaluated_[node] = true;
  return true;
}

// ---------------------------------------------------------------------------------------------
// ShapeOracle

void ShapeOracle::Analyze() {
  if (analyzed_) return;
  analyzed_ = true;
  const Graph& g = *model_.graph;
  auto shape_fixed = [&](const Value* v) {
    if (!v) return true;
    auto it = shape_fixed_.find(v);
    return it != shape_fixed_.end() && it->second;
  };
  auto value_fixed = [&](const Value* v) {
    if (!v) return true;
    auto it = value_fixed_.find(v);
    return it != value_fixed_.end() && it->second;
  };
  for (const Value* v : g.inputs()) {
    shape_fixed_[v] = true;
    value_fixed_[v] = LiteralTensor(v).has_value();
  }
  for (const Value* v : g.initializers()) {
    shape_fixed_[v] = true;
    value_fixed_[v] = !v->is_graph_input();
  }
  for (const Node* n : TopoOrder(g)) {
    const std::string& op = n->op_type();
    bool shape = false, value = false;
    if (!IsOnnxDomain(*n) || n->HasSubgraphs() || HasDataDependentShape(op)) {
      // Unknown: neither.
    } else if (op == "Constant") {
      shape = value = true;
    } else if (op == "Shape" || op == "Size") {
      shape = value = shape_fixed(n->input(0));
    } else if (IsNeverFoldedOp(op)) {
      shape = op == "RandomNormal" || op == "RandomUniform" || shape_fixed(n->input(0));
    } else {
      value = !n->inputs().empty();
      shape = true;
      for (size_t i = 0; i < n->num_inputs(); ++i) {
        const Value* in = n->input(i);
        if (!in) continue;
        value = value && value_fixed(in);
        bool sizes = IsAllSizesOp(op) || (!IsShapeOnlyOp(op) && i >= 1);
        shape = shape && (sizes ? value_fixed(in) : shape_fixed(in));
      }
    }
    for (const Value* out : n->outputs()) {
      if (!out) continue;
      shape_fixed_[out] = shape;
      value_fixed_[out] = value;
    }
  }
}

bool ShapeOracle::RunExecutor() {
  if (executor_state_ != 0) return executor_state_ > 0;
  executor_state_ = -1;
  for (const Value* v : model_.graph->inputs()) {
    if (v->has_initializer()) continue;
    if (!v->type().is_tensor() || !v->type().IsStatic()) {
      executor_note_ = "input '" + v->name() + "' " + v->type().ShapeString() +
                       " is not static, so the model cannot be run to complete shapes";
      return false;
    }
  }
  auto recorded = RecordConcreteShapes(model_);
  if (!recorded.ok()) {
    executor_note_ = "running the model to complete shapes failed: " + recorded.status().message();
    return false;
  }
  concrete_ = std::move(recorded).value();
  executor_state_ = 1;
  return true;
}

std::optional<Shape> ShapeOracle::Of(const Value* v) {
  if (!v) return std::nullopt;
  if (auto s = DeclaredShape(v)) return s;
  if (v->graph() != model_.graph.get()) return std::nullopt;
  Analyze();
  auto it = shape_fixed_.find(v);
  if (it == shape_fixed_.end() || !it->second || !RunExecutor()) return std::nullopt;
  auto c = concrete_.find(v->name());
  if (c == concrete_.end()) return std::nullopt;
  return c->second.shape;
}

std::optional<std::vector<int64_t>> ShapeOracle::Ints(const Value* v) {
  if (!v) return std::nullopt;
  if (auto ints = LiteralInts(v)) return ints;
  if (v->graph() != model_.graph.get()) return std::nullopt;
  Analyze();
  auto it = value_fixed_.find(v);
  if (it == value_fixed_.end() || !it->second || !RunExecutor()) return std::nullopt;
  auto c = concrete_.find(v->name());
  if (c == concrete_.end() || !c->second.has_data || !IsIntegerType(c->second.dtype))
    return std::nullopt;
  return c->second.data;
}

// ---------------------------------------------------------------------------------------------

void RemoveIfDead(Graph& g, Value* start) {
  if (start) RemoveIfDead(g, std::vector<std::string>{start->name()});
}

void RemoveIfDead(Graph& g, const std::vector<std::string>& names) {
  // By name: removing one value may delete others that are still listed.
  std::vector<std::string> work(names.rbegin(), names.rend());
  while (!work.empty()) {
    Value* v = g.FindValue(work.back());
    work.pop_back();
    if (!v || !v->uses().empty() || v->is_graph_output() || v->is_graph_input()) continue;
    if (v->has_initializer()) {
      g.RemoveInitializer(v);
      g.RemoveValueIfUnused(v);
      continue;
    }
    Node* p = v->producer();
    if (!p) {
      g.RemoveValueIfUnused(v);
      continue;
    }
    bool all_dead = true;
    for (const Value* out : p->outputs())
      if (out && (!out->uses().empty() || out->is_graph_output())) all_dead = false;
    if (!all_dead) continue;
    std::vector<std::string> inputs, outputs;
    for (const Value* in : p->inputs())
      if (in) inputs.push_back(in->name());
    for (const Value* out : p->outputs())
      if (out) outputs.push_back(out->name());
    g.RemoveNode(p);
    for (const std::string& name : outputs)
      if (Value* out = g.FindValue(name)) g.RemoveValueIfUnused(out);
    for (const std::string& name : inputs) work.push_back(name);
  }
}

}  // namespace edgefit
