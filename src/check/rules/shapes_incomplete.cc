// shapes.incomplete: the checker could not learn every shape of the frozen model (ONNX shape
// inference gave up and edgefit's executor could not complete it: a kernel is missing, a
// non-batch input dim is dynamic, ...). Rules that need a shape say nothing about those values,
// so this info says the report may be incomplete, and why.
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  const FrozenShapes& frozen = ctx.frozen();
  std::string text;
  if (!ctx.freeze_error().empty()) {
    text = "shapes could not be inferred on a copy of the model: " + ctx.freeze_error();
  } else if (!frozen.incomplete.empty()) {
    std::vector<std::string> names;
    for (const std::string& n : frozen.incomplete) names.push_back("'" + n + "'");
    text = "shapes were partly unknown: " + std::to_string(names.size()) +
           (names.size() == 1 ? " value has" : " values have") +
           " no static shape after batch freezing (" + JoinNames(names, 5) + ")";
    if (!frozen.executor_note.empty())
      text += "; the executor could not complete them: " + frozen.executor_note;
    text += "; rules needing those shapes report nothing for them";
  } else {
    return;
  }
  Finding f = ModelFinding("shapes.incomplete", Severity::kInfo, text);
  ApplyNoFact(&f, "edgefit analysis");
  out->push_back(std::move(f));
}

}  // namespace

const Rule kShapesIncompleteRule = {
    "shapes.incomplete", "the checker knew every shape of the frozen model (info)", &Run};

}  // namespace edgefit
