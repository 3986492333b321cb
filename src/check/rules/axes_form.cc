// axes.form: Squeeze/Unsqueeze/Reduce*/Split axes (and Split sizes) are given in the form the
// target's axes rules require (docs/targets.md, "axes"):
//   - computed at run time, or from constants by a chain fold-constants would remove, where the
//     rule says "constant" or "attribute": a violation;
//   - a constant input tensor (opset >= 13 Squeeze, ...), where the rule accepts constants: an
//     info naming the node, because several users report vendor parsers that want the attribute
//     form; squeeze-to-reshape / axes-to-attribute remove the input.
//
//   Squeeze(x, axes=Constant [3]) at opset 14, stm32n6 "constant" -> info
//   Squeeze(x, axes=Shape(...)...) at opset 14                  -> violation, fold-constants
#include "check/rule.h"

namespace edgefit {
namespace {

// Where the node's axes live: an attribute (opset before the switch to an input) or input 1.
struct AxesSlot {
  bool known = false;
  bool as_input = false;
  const char* name = "axes";
};

AxesSlot SlotOf(const Node& node, int64_t opset) {
  const std::string& op = node.op_type();
  AxesSlot s;
  if (op == "Squeeze" || op == "Unsqueeze") {
    s = {true, opset >= 13, "axes"};
  } else if (op == "Split") {
    s = {true, opset >= 13, "split"};
  } else if (op == "ReduceSum") {
    s = {true, opset >= 13, "axes"};
  } else if (op.rfind("Reduce", 0) == 0) {
    s = {true, opset >= 18, "axes"};
  }
  return s;
}

const char* FixFor(const std::string& op) {
  return op == "Squeeze" || op == "Unsqueeze" ? "squeeze-to-reshape" : "axes-to-attribute";
}

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  for (const AxesRule& rule : ctx.profile().axes.rules) {
    if (rule.must_be == AxesForm::kAny) continue;
    for (const Node* n : ctx.nodes()) {
      if (!CheckContext::IsDefaultDomain(*n) || ctx.IsFoldableNode(*n)) continue;
      if (std::find(rule.ops.begin(), rule.ops.end(), n->op_type()) == rule.ops.end()) continue;
      AxesSlot slot = SlotOf(*n, ctx.Opset(*n));
      if (!slot.known || !slot.as_input) continue;  // attribute form (or no axes at all)
      const Value* axes = n->input(1);
      if (!axes) continue;
      std::string what = slot.name;
      FindingValue fv = DescribeValue(ctx, axes, slot.name);
      if (ctx.IsLiteralConstant(axes)) {
        if (auto ints = ctx.ConstantInts(axes)) {
          fv.has_data = true;
          fv.data = *ints;
          what += " " + FormatInts(*ints);
        }
        Finding f =
            NodeFinding(ctx, "axes.form", Severity::kInfo, *n,
                        what + " given as input '" + axes->name() + "', not as an attribute; " +
                            ctx.target() + " accepts constant axes");
        f.values.push_back(std::move(fv));
        f.fixed_by = FixFor(n->op_type());
        ApplyFact(&f, rule.provenance);
        out->push_back(std::move(f));
        continue;
      }
      bool foldable = ctx.IsFoldable(axes);
      Finding f = NodeFinding(
          ctx, "axes.form", Severity::kViolation, *n,
          what + " input '" + axes->name() + "' is" +
              (foldable ? " computed from constants" : " computed at run time") + "; " +
              ctx.target() + " needs " +
              (rule.must_be == AxesForm::kConstant ? "constant" : "attribute") + " axes");
      f.values.push_back(std::move(fv));
      if (foldable) f.fixed_by = "fold-constants";
      ApplyFact(&f, rule.provenance);
      out->push_back(std::move(f));
    }
  }
}

}  // namespace

const Rule kAxesFormRule = {
    "axes.form", "Squeeze/Unsqueeze/Reduce*/Split axes are given as the target requires", &Run};

}  // namespace edgefit
