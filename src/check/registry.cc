// The rule registry: every rule, in report order. A new rule adds its file in rules/, one line
// here, one line in rule.h, a section in docs/rules.md and its tests.
#include "check/rule.h"

namespace edgefit {

const std::vector<const Rule*>& RuleRegistry() {
  static const std::vector<const Rule*> kRules = {
      // The model as a whole.
      &kOpsetRangeRule,
      &kOpsetRecommendedRule,
      &kDimsDynamicRule,
      &kDimsMaxRule,
      // Shapes after batch freezing.
      &kBatchIoRule,
      &kBatchComputeRule,
      &kRankMaxRule,
      &kRankReshapeRule,
      &kRankPreferredRule,
      &kAxesFormRule,
      &kReshapeWildcardRule,
      // Where each op runs.
      &kOpUnsupportedRule,
      &kOpConditionRule,
      &kOpCpuFallbackRule,
      &kControlFlowRule,
      // Element types and quantization.
      &kDtypeUnsupportedRule,
      &kQdqFloatModelRule,
      &kQdqWeightDtypeRule,
      &kQdqWeightZeroPointRule,
      &kQdqPerChannelAxisRule,
      &kQdqActivationDtypeRule,
      &kQdqBiasDtypeRule,
      &kQdqScaleRule,
      &kQdqHybridRule,
      // Graph hygiene and notes on the analysis itself.
      &kDanglingOutputRule,
      &kConstantSubgraphRule,
      &kShapesIncompleteRule,
  };
  return kRules;
}

}  // namespace edgefit
