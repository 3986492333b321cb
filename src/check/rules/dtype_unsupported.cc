// dtype.unsupported: tensor element types outside the profile's dtypes. Shape and index tensors
// (int64 Reshape shapes, Gather indices, axes, and everything computed only to feed them, such
// as Shape->Gather->Concat) are exempt, as are quantization parameters (the qdq.* rules check
// them). One finding per element type, naming every value of that type.
//
//   a float64 graph input on stm32n6 (float32, int8, uint8, int32)   -> violation
//   an int64 Reshape shape                                            -> nothing
#include <map>
#include <unordered_set>

#include "check/op_roles.h"
#include "check/rule.h"

namespace edgefit {
namespace {

// Values used only as index/shape operands, directly or through nodes whose outputs are.
std::unordered_set<const Value*> IndexOnlyValues(const CheckContext& ctx) {
  std::unordered_set<const Value*> index_only;
  auto decide = [&](const Value* v) {
    if (v->is_graph_output() || v->uses().empty()) return;
    for (const Use& u : v->uses()) {
      if (u.input_index < 0) return;
      const Node& consumer = *u.node;
      if (IsIndexSlot(consumer, ctx.Opset(consumer), static_cast<size_t>(u.input_index))) continue;
      bool passes = consumer.num_outputs() > 0;
      for (const Value* o : consumer.outputs())
        if (o && !index_only.count(o)) passes = false;
      if (!passes) return;
    }
    index_only.insert(v);
  };
  const auto& order = ctx.MainTopoOrder();
  for (auto it = order.rbegin(); it != order.rend(); ++it)
    for (const Value* v : (*it)->outputs())
      if (v) decide(v);
  for (const Value* v : ctx.graph().inputs()) decide(v);
  for (const Value* v : ctx.graph().initializers()) decide(v);
  return index_only;
}

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  const auto& fact = ctx.profile().dtypes;
  std::unordered_set<std::string> allowed(fact.value.begin(), fact.value.end());
  std::unordered_set<const Value*> index_only = IndexOnlyValues(ctx);
  struct Group {
    std::vector<const Value*> values;
    std::vector<std::string> names;
    std::unordered_set<const Node*> producers;
    int64_t order = -1;
  };
  std::map<std::string, Group> groups;
  auto consider = [&](const Value* v, const char* role) {
    if (!v || index_only.count(v)) return;
    const TypeInfo& type = ctx.Type(v);
    if (!type.is_tensor() || type.elem_type == DataType::kUndefined) return;
    std::string dtype = DataTypeName(type.elem_type);
    if (allowed.count(dtype)) return;
    Group& g = groups[dtype];
    g.values.push_back(v);
    std::string name = std::string(role) + " '" + v->name() + "'";
    if (v->producer()) {
      g.producers.insert(v->producer());
      name += " of " + v->producer()->Describe();
      if (g.order < 0) g.order = ctx.Order(*v->producer());
    }
    g.names.push_back(name);
  };
  const Graph& graph = ctx.graph();
  for (const Value* v : graph.inputs())
    if (!v->has_initializer()) consider(v, "input");
  for (const Value* v : graph.initializers()) {
    // Only initializers something keeps after folding reads as data.
    bool read = false;
    for (const Use& u : v->uses())
      if (!ctx.IsFoldableNode(*u.node)) read = true;
    if (read) consider(v, "initializer");
  }
  for (const auto& n : graph.nodes()) {
    bool foldable = ctx.IsFoldableNode(*n);
    for (const Value* v : n->outputs()) {
      if (!v) continue;
      if (foldable) {
        // A folded value matters only where a kept node reads it.
        bool read = v->is_graph_output();
        for (const Use& u : v->uses())
          if (!ctx.IsFoldableNode(*u.node)) read = true;
        if (!read) continue;
      }
      consider(v, "output");
    }
  }
  std::string allowed_text;
  for (const std::string& d : fact.value) allowed_text += (allowed_text.empty() ? "" : ", ") + d;
  for (auto& [dtype, g] : groups) {
    std::string text = dtype + " is not among " + ctx.target() + "'s element types (" +
                       allowed_text + "): " + JoinNames(g.names, 4);
    Finding f;
    if (g.producers.size() == 1 && g.values.size() == 1) {
      f = NodeFinding(ctx, "dtype.unsupported", Severity::kViolation, **g.producers.begin(), text);
    } else {
      f = ModelFinding("dtype.unsupported", Severity::kViolation, text);
      f.order = g.order;
    }
    for (const Value* v : g.values) f.values.push_back(DescribeValue(ctx, v));
    ApplyFact(&f, fact);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kDtypeUnsupportedRule = {"dtype.unsupported",
                                    "tensor element types are among the target's dtypes", &Run};

}  // namespace edgefit
