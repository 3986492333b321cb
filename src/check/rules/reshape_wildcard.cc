// reshape.wildcard: a Reshape shape containing -1 (infer this dim) or 0 (copy the input dim,
// when allowzero is 0). Vendor parsers that do no shape inference choke on them; the profile's
// axes.reshape_wildcards says how much it matters ("warn" -> warning, "error" -> violation).
// Shapes computed from constants only (Shape->Gather->Concat once the batch is fixed) are
// checked with the values the executor computed.
//
//   Reshape(x, [-1,3,36,36])  -> warning for stm32n6, fixed by fix-reshape-shape
//   Reshape(x, [24,3,36,36])  -> nothing
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  const auto& level = ctx.profile().axes.reshape_wildcards;
  if (level.value == RuleLevel::kAllow) return;
  Severity severity = level.value == RuleLevel::kError ? Severity::kViolation : Severity::kWarning;
  for (const Node* n : ctx.nodes()) {
    if (!CheckContext::IsDefaultDomain(*n) || n->op_type() != "Reshape" || ctx.IsFoldableNode(*n))
      continue;
    const Value* shape_value = n->input(1);
    std::optional<std::vector<int64_t>> shape;
    if (shape_value) {
      shape = ctx.ConstantInts(shape_value);
    } else if (n->HasAttribute("shape")) {  // Reshape-1
      shape = n->GetInts("shape");
    }
    if (!shape) continue;
    bool allow_zero = n->GetInt("allowzero", 0) != 0;
    std::vector<std::string> wild;
    for (int64_t d : *shape) {
      if (d == -1 && std::find(wild.begin(), wild.end(), "-1") == wild.end()) wild.push_back("-1");
      if (d == 0 && !allow_zero && std::find(wild.begin(), wild.end(), "0") == wild.end())
        wild.push_back("0");
    }
    if (wild.empty()) continue;
    std::string text = "shape ";
    if (shape_value) text += "'" + shape_value->name() + "' ";
    text += FormatInts(*shape) + " contains " + (wild.size() == 2 ? "-1 and 0" : wild[0]);
    if (const Value* y = n->output(0)) text += "; the output is " + ctx.Type(y).ShapeString();
    text += "; " + ctx.target() + " wants explicit sizes";
    Finding f = NodeFinding(ctx, "reshape.wildcard", severity, *n, text);
    if (shape_value) {
      FindingValue fv = DescribeValue(ctx, shape_value, "shape");
      fv.has_data = true;
      fv.data = *shape;
      f.values.push_back(std::move(fv));
    }
    if (n->output(0)) f.values.push_back(DescribeValue(ctx, n->output(0), "output"));
    f.fixed_by = "fix-reshape-shape";
    ApplyFact(&f, level);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kReshapeWildcardRule = {
    "reshape.wildcard", "no -1 or 0 in Reshape shapes (per the profile's reshape_wildcards)", &Run};

}  // namespace edgefit
