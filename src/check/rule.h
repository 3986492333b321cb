// A check rule: a stable id, one line of summary, and a function that appends findings. Rules
// live one per file in src/check/rules/ and are listed, in report order, in registry.cc.
//
// A rule reads only the CheckContext (the model, the profile, and the analyses computed once);
// it never modifies anything and never fails: what it cannot decide becomes an "info" finding.
#pragma once

#include <vector>

#include "check/check.h"
#include "check/context.h"

namespace edgefit {

struct Rule {
  const char* id;       // stable, e.g. "batch.compute"
  const char* summary;  // what the rule checks, one line (docs/rules.md has the details)
  void (*run)(const CheckContext& ctx, std::vector<Finding>* findings);
};

// Every rule, in the order the report lists them within one severity.
const std::vector<const Rule*>& RuleRegistry();

// The rules (one definition per file in rules/).
extern const Rule kOpsetRangeRule;
extern const Rule kOpsetRecommendedRule;
extern const Rule kDimsDynamicRule;
extern const Rule kDimsMaxRule;
extern const Rule kBatchIoRule;
extern const Rule kBatchComputeRule;
extern const Rule kRankMaxRule;
extern const Rule kRankReshapeRule;
extern const Rule kRankPreferredRule;
extern const Rule kAxesFormRule;
extern const Rule kReshapeWildcardRule;
extern const Rule kOpUnsupportedRule;
extern const Rule kOpConditionRule;
extern const Rule kOpCpuFallbackRule;
extern const Rule kControlFlowRule;
extern const Rule kDtypeUnsupportedRule;
extern const Rule kQdqFloatModelRule;
extern const Rule kQdqWeightDtypeRule;
extern const Rule kQdqWeightZeroPointRule;
extern const Rule kQdqPerChannelAxisRule;
extern const Rule kQdqActivationDtypeRule;
extern const Rule kQdqBiasDtypeRule;
extern const Rule kQdqScaleRule;
extern const Rule kQdqHybridRule;
extern const Rule kDanglingOutputRule;
extern const Rule kConstantSubgraphRule;
extern const Rule kShapesIncompleteRule;

}  // namespace edgefit
