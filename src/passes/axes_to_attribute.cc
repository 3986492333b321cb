// axes-to-attribute: give Squeeze/Unsqueeze/Reduce*/Split axes (and Split sizes) in the most
// static form the node's opset allows.
//
//   Opset 13, before: Squeeze(x, axes = Concat(Sub(Size(Shape(x)), 1), ...))   (computed)
//   Opset 13, after:  Squeeze(x, axes = initializer [3])
//
// Where the axes are an attribute (Squeeze, Unsqueeze, Split and ReduceSum before opset 13, the
// other Reduce* before 18) there is nothing to do: the node already has the attribute form. From
// those opsets on ONNX only accepts the axes as input 1 (Split: `split`), so the "attribute
// form" cannot exist; the most static form is a constant input. A computed axes input whose
// value is known without the data — computed from constants only (evaluated on the executor),
// or from static shapes (seen on one executor run, when the graph inputs are static and the
// computation reads no data) — becomes an initializer, and the computation, if nothing else
// reads it, is removed. The function is unchanged: the node reads the same numbers.
//
// A target profile whose axes rule says "attribute" accepts a constant input where the opset
// has no attribute (docs/targets.md); the pass says so in a note. Turning the node into a
// Reshape (squeeze-to-reshape) or converting to an opset before 13 (convert-opset) removes the
// input altogether.
#include <set>

#include "passes/constant_eval.h"
#include "passes/pass_util.h"
#include "passes/passes.h"
#include "targets/profile.h"

namespace edgefit {
namespace {

bool IsReduce(const std::string& op) { return op.rfind("Reduce", 0) == 0; }

// The opset from which the op's axes are an input (0: the op has no axes slot here).
int64_t InputSince(const std::string& op) {
  if (op == "Squeeze" || op == "Unsqueeze" || op == "Split" || op == "ReduceSum") return 13;
  if (IsReduce(op)) return 18;
  return 0;
}

struct Rewrite {
  Node* node;
  std::vector<int64_t> values;
  std::string note;
};

const AxesRule* RuleFor(const TargetProfile* target, const std::string& op) {
  if (!target) return nullptr;
  for (const AxesRule& r : target->axes.rules)
    if (std::find(r.ops.begin(), r.ops.end(), op) != r.ops.end()) return &r;
  return nullptr;
}

class AxesToAttributePass : public Pass {
 public:
  const char* id() const override { return "axes-to-attribute"; }
  const char* summary() const override {
    return "Squeeze/Unsqueeze/Reduce*/Split axes: attributes where the opset has them, else "
           "computed axes -> constant initializers";
  }
  StatusOr<PassResult> Run(PassContext& ctx) override {
    Graph& g = *ctx.model.graph;
    int64_t opset = ctx.model.OpsetVersion("");
    PassResult result;
    if (opset < 1 || opset > 21) return result;  // versions checked up to opset 21
    ConstantEvaluator eval(ctx.model, ctx.options.fold_max_output_bytes);
    ShapeOracle shapes(ctx.model);
    std::vector<Rewrite> rewrites;
    std::set<std::string> attribute_notes;
    for (const auto& np : g.nodes()) {
      Node* n = np.get();
      if (!IsOnnxDomain(*n)) continue;
      const std::string& op = n->op_type();
      int64_t since = InputSince(op);
      if (since == 0 || opset < since) continue;  // attribute form (or no axes at all)
      Value* axes = n->input(1);
      if (!axes) continue;
      const char* slot = op == "Split" ? "split" : "axes";
      const AxesRule* rule = RuleFor(ctx.target, op);
      if (rule && rule->must_be == AxesForm::kAttribute && !attribute_notes.count(op)) {
        attribute_notes.insert(op);
        result.notes.push_back(
            ctx.target->id + " wants " + op + " " + slot + " as an attribute, but ONNX opset " +
            std::to_string(opset) + " only has them as input 1 (since opset " +
            std::to_string(since) + "); they are given as a constant input, which the profile " +
            "accepts at this opset. convert-opset to " + std::to_string(since - 1) +
            (op == "Squeeze" || op == "Unsqueeze" ? " or squeeze-to-reshape" : "") +
            " removes the input.");
      }
      if (LiteralTensor(axes)) continue;  // already constant
      std::optional<std::vector<int64_t>> values;
      if (const Tensor* t = eval.Evaluate(axes)) {
        auto ints = t->ToInt64Vector();
        if (ints.ok()) values = std::move(ints).value();
      }
      if (!values) values = shapes.Ints(axes);
      if (!values) {
        result.unresolved.push_back(n->Describe() + ": " + slot + " input '" + axes->name() +
                                    "' is computed from the data at run time; it cannot become "
                                    "a constant");
        continue;
      }
      rewrites.push_back({n, *values,
                          n->Describe() + ": " + slot + " '" + axes->name() + "' (computed) -> " +
                              ShapeToString(*values)});
    }
    for (Rewrite& r : rewrites) {
      Value* old = r.node->input(1);
      std::string base = r.node->name().empty() ? r.node->output(0)->name() : r.node->name();
      r.node->SetInput(
          1, AddInt64Initializer(g, base + (r.node->op_type() == "Split" ? "_split" : "_axes"),
                                 r.values));
      RemoveIfDead(g, old);
      result.Rewrote(r.note);
    }
    return result;
  }
};

}  // namespace

std::unique_ptr<Pass> CreateAxesToAttributePass() {
  return std::make_unique<AxesToAttributePass>();
}

}  // namespace edgefit
