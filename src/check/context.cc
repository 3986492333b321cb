#include "check/context.h"

#include <cmath>
#include <cstdio>

namespace edgefit {
namespace {

// Ops constant folding must never evaluate: random, quantization boundaries (they are the
// QDQ model's structure), control flow.
bool NeverFolded(const std::string& op) {
  static const char* const kOps[] = {
      "QuantizeLinear",
      "DequantizeLinear",
      "DynamicQuantizeLinear",
      "RandomNormal",
      "RandomUniform",
      "RandomNormalLike",
      "RandomUniformLike",
      "Multinomial",
      "Bernoulli",
      "If",
      "Loop",
      "Scan",
  };
  for (const char* o : kOps)
    if (op == o) return true;
  return false;
}

// The tensor a Constant node holds (value, or value_float(s) / value_int(s)), or nothing.
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

}  // namespace

CheckContext::CheckContext(const Model& model, const TargetProfile& profile,
                           const CheckOptions& options)
    : model_(model), profile_(profile) {
  CollectNodes(*model.graph);

  FrozenShapeOptions frozen_options;
  frozen_options.use_executor = options.use_executor;
  auto frozen = InferFrozenShapes(model, frozen_options);
  if (frozen.ok()) {
    frozen_ = std::move(frozen).value();
    // By name, without AllValues (which sorts every value's name): the same pairs.
    frozen_types_.reserve(frozen_.types.size());
    for (const auto& [name, type] : frozen_.types)
      if (const Value* v = model.graph->FindValue(name)) frozen_types_[v] = &type;
  } else {
    freeze_error_ = frozen.status().message();
  }

  // Literal constants of every graph.
  auto add_initializers = [&](const Graph& g) {
    for (const Value* v : g.initializers()) literal_constants_[v] = v->initializer();
  };
  add_initializers(*model.graph);
  for (const Node* n : nodes_) {
    for (const Attribute& a : n->attributes())
      for (const auto& sg : a.graphs) add_initializers(*sg);
    if (n->op_type() == "Constant" && IsDefaultDomain(*n) && n->output(0)) {
      std::optional<Tensor> t = ConstantNodeTensor(*n);
      if (t) {
        owned_tensors_.push_back(std::move(*t));
        literal_constants_[n->output(0)] = &owned_tensors_.back();
      }
    }
  }
  FindFoldable();
  for (const Node* n : nodes_)
    if (!IsFoldableNode(*n)) placements_.emplace(n, EvaluatePlacement(*this, *n));
}

void CheckContext::CollectNodes(const Graph& graph) {
  // The main graph first (file order), then each subgraph's nodes.
  std::vector<const Graph*> pending = {&graph};
  for (size_t gi = 0; gi < pending.size(); ++gi) {
    for (const auto& n : pending[gi]->nodes()) {
      order_[n.get()] = static_cast<int64_t>(nodes_.size());
      nodes_.push_back(n.get());
      for (const Attribute& a : n->attributes())
        for (const auto& sg : a.graphs) pending.push_back(sg.get());
    }
  }
}

void CheckContext::FindFoldable() {
  // Kahn's order over the main graph, so that a node is decided after its producers (files may
  // list nodes out of order).
  const Graph& g = *model_.graph;
  std::unordered_map<const Node*, int> pending_inputs;
  std::vector<const Node*> ready;
  for (const auto& n : g.nodes()) {
    int count = 0;
    for (const Value* v : n->inputs())
      if (v && v->producer() && v->producer()->graph() == &g) ++count;
    pending_inputs[n.get()] = count;
    if (count == 0) ready.push_back(n.get());
  }
  for (size_t i = 0; i < ready.size(); ++i) {
    const Node* n = ready[i];
    bool foldable = IsDefaultDomain(*n) && !n->HasSubgraphs() && !NeverFolded(n->op_type()) &&
                    n->num_outputs() > 0;
    if (foldable) {
      if (n->op_type() == "Shape" || n->op_type() == "Size") {
        foldable = n->input(0) && StaticShape(n->input(0)).has_value();
      } else {
        for (const Value* v : n->inputs())
          if (v && !IsFoldable(v)) foldable = false;
      }
    }
    if (foldable) foldable_nodes_.insert(n);
    for (const Value* out : n->outputs()) {
      if (!out) continue;
      for (const Use& u : out->uses()) {
        if (u.input_index < 0 || u.node->graph() != &g) continue;
        if (--pending_inputs[u.node] == 0) ready.push_back(u.node);
      }
    }
  }
  topo_order_ = std::move(ready);
}

int64_t CheckContext::Order(const Node& node) const {
  auto it = order_.find(&node);
  return it == order_.end() ? -1 : it->second;
}

const TypeInfo& CheckContext::Type(const Value* value) const {
  auto it = frozen_types_.find(value);
  if (it != frozen_types_.end()) return *it->second;
  return value->type();
}

bool CheckContext::IsLiteralConstant(const Value* value) const {
  return literal_constants_.count(value) > 0;
}

bool CheckContext::IsFoldable(const Value* value) const {
  if (IsLiteralConstant(value)) return true;
  const Node* p = value->producer();
  return p != nullptr && IsFoldableNode(*p);
}

const Tensor* CheckContext::ConstantTensor(const Value* value) const {
  auto it = literal_constants_.find(value);
  return it == literal_constants_.end() ? nullptr : it->second;
}

std::optional<std::vector<double>> CheckContext::ConstantNumbers(const Value* value,
                                                                 int64_t max_elements) const {
  if (const Tensor* t = ConstantTensor(value)) {
    if (t->raw() == nullptr || t->dtype() == DataType::kString ||
        t->dtype() == DataType::kUndefined || t->numel() > max_elements)
      return std::nullopt;
    return t->ToDoubleVector();
  }
  // A value computed from constants only: the executor's run at batch 1 knows it.
  if (value->graph() == model_.graph.get() && IsFoldable(value)) {
    auto it = frozen_.small_values.find(value->name());
    if (it != frozen_.small_values.end())
      return std::vector<double>(it->second.begin(), it->second.end());
  }
  return std::nullopt;
}

std::optional<std::vector<int64_t>> CheckContext::ConstantInts(const Value* value) const {
  if (const Tensor* t = ConstantTensor(value)) {
    if (t->raw() == nullptr || t->numel() > (1 << 20)) return std::nullopt;
    auto ints = t->ToInt64Vector();
    if (!ints.ok()) return std::nullopt;
    return std::move(ints).value();
  }
  if (value->graph() == model_.graph.get() && IsFoldable(value)) {
    auto it = frozen_.small_values.find(value->name());
    if (it != frozen_.small_values.end()) return it->second;
  }
  return std::nullopt;
}

const NodePlacement* CheckContext::Placement(const Node& node) const {
  auto it = placements_.find(&node);
  return it == placements_.end() ? nullptr : &it->second;
}

// ---- Building findings ----------------------------------------------------------------------

namespace {

FindingValue FromType(const Value* value, const TypeInfo& type, std::string role) {
  FindingValue fv;
  fv.name = value->name();
  fv.role = std::move(role);
  fv.dtype = type.is_tensor() ? type.elem_type : DataType::kUndefined;
  fv.has_shape = type.has_shape;
  fv.dims = type.dims;
  return fv;
}

}  // namespace

FindingValue DescribeValue(const CheckContext& ctx, const Value* value, std::string role) {
  return FromType(value, ctx.Type(value), std::move(role));
}

FindingValue DescribeOriginalValue(const Value* value, std::string role) {
  return FromType(value, value->type(), std::move(role));
}

Finding NodeFinding(const CheckContext& ctx, const char* rule, Severity severity, const Node& node,
                    const std::string& text) {
  Finding f;
  f.rule = rule;
  f.severity = severity;
  f.node = node.name();
  f.op = node.op_type();
  f.opset = ctx.Opset(node);
  f.order = ctx.Order(node);
  f.message = node.Describe() + " (opset " + std::to_string(f.opset) + "): " + text;
  return f;
}

Finding ModelFinding(const char* rule, Severity severity, const std::string& message) {
  Finding f;
  f.rule = rule;
  f.severity = severity;
  f.message = message;
  return f;
}

void ApplyFact(Finding* finding, const Provenance& fact) {
  finding->source_status = fact.status;
  finding->source = fact.source;
  switch (fact.status) {
    case FactStatus::kDocumented: break;
    case FactStatus::kUserReported: finding->message += " (reported by users)"; break;
    case FactStatus::kAssumed:
      // docs/targets.md: a violation of an assumed fact is a hint, reported as a warning.
      if (finding->severity == Severity::kViolation) finding->severity = Severity::kWarning;
      finding->message += " (assumed by edgefit; check with the vendor tool)";
      break;
  }
}

void ApplyNoFact(Finding* finding, const std::string& source) {
  finding->source_status.reset();
  finding->source = source;
}

std::string NameAndShape(const CheckContext& ctx, const Value* value) {
  return "'" + value->name() + "' " + ctx.Type(value).ShapeString();
}

std::string ProducerText(const Value* value) {
  if (value->producer()) return value->producer()->Describe();
  if (value->is_graph_input()) return "graph input";
  if (value->has_initializer()) return "initializer";
  return "unknown producer";
}

std::string FormatInts(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out + "]";
}

std::string FormatNumbers(const std::vector<double>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    double v = values[i];
    if (i) out += ",";
    if (std::isinf(v)) {
      out += v > 0 ? "inf" : "-inf";
    } else if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
      out += std::to_string(static_cast<int64_t>(v));
    } else {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%g", v);
      out += buf;
    }
  }
  return out + "]";
}

std::string JoinNames(const std::vector<std::string>& names, size_t max) {
  std::string out;
  size_t shown = std::min(names.size(), max);
  for (size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
  return out;
}

}  // namespace edgefit
