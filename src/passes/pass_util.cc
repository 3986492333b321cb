#include "passes/pass_util.h"

namespace edgefit {

const Tensor* ConstantValue(const Value* v) {
  if (!v) return nullptr;
  if (v->has_initializer() && !v->is_graph_input()) return v->initializer();
  const Node* p = v->producer();
  if (p && IsOp(*p, "Constant")) {
    const Attribute* a = p->FindAttribute("value");
    if (a && a->type == AttrType::kTensor && !a->tensors.empty()) return &a->tensors[0].tensor;
  }
  return nullptr;
}

std::optional<std::vector<int64_t>> ConstantInts(const Value* v) {
  const Tensor* t = ConstantValue(v);
  if (!t) return std::nullopt;
  auto ints = t->ToInt64Vector();
  if (!ints.ok()) return std::nullopt;
  return std::move(ints).value();
}

bool IsOnnxDomain(const Node& n) { return n.domain().empty() || n.domain() == "ai.onnx"; }
bool IsOp(const Node& n, const char* op_type) { return IsOnnxDomain(n) && n.op_type() == op_type; }

bool HasSingleConsumer(const Value* v) { return v->uses().size() == 1 && !v->is_graph_output(); }

Value* AddInt64Initializer(Graph& g, const std::string& base, const std::vector<int64_t>& values) {
  Tensor t(DataType::kInt64, {static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i) t.data<int64_t>()[i] = values[i];
  return g.AddInitializer(base, std::move(t));
}

bool ReplaceValue(Graph& g, Value* old, Value* replacement) {
  if (!old->is_graph_output()) {
    g.ReplaceAllUsesWith(old, replacement);
    return true;
  }
  // `old` is a graph output: keep its name by making the replacement's producer write `old`.
  Node* producer = replacement->producer();
  if (!producer || replacement->is_graph_output() || replacement->is_graph_input() ||
      replacement->has_initializer())
    return false;
  Node* old_producer = old->producer();
  if (old_producer) g.SetNodeOutput(old_producer, old->producer_output_index(), nullptr);
  // Readers of `replacement` now read `old`, which the replacement's producer writes.
  g.ReplaceAllUsesWith(replacement, old);
  g.SetNodeOutput(producer, replacement->producer_output_index(), old);
  g.RemoveValueIfUnused(replacement);
  return true;
}

}  // namespace edgefit
