// op.condition: an op the target supports only under conditions (kernel/stride/dilation limits,
// Softmax axis, Resize modes, Pad mode, Gather axis, Transpose touching the batch, constant
// operands, ...), evaluated as docs/targets.md defines them:
//   - a condition that fails with on_fail "unsupported": a violation, one per condition;
//   - a condition that cannot be decided (unknown shape or value): an info;
//   - a "manual" condition: an info for review, one per op type and condition, naming the nodes.
// Conditions that fail with on_fail "cpu" are op.cpu-fallback's.
//
//   Gather axis=0 on stm32n6 ("axis not in [0]", documented) -> violation
#include <map>

#include "check/rule.h"

namespace edgefit {
namespace {

std::string Consequence(const CheckContext& ctx, const Node& node, Placement on_fail) {
  return on_fail == Placement::kCpu ? node.op_type() + " runs on the CPU instead"
                                    : ctx.target() + " rejects it";
}

// A value the condition is about (its input), if any.
void AddConditionValue(const CheckContext& ctx, const Node& node, const OpCondition& c,
                       Finding* f) {
  if (c.subject != OpCondition::Subject::kInput) {
    if (c.subject == OpCondition::Subject::kTouchesBatch ||
        c.subject == OpCondition::Subject::kSpatialSizeMax)
      if (node.input(0)) f->values.push_back(DescribeValue(ctx, node.input(0), "input"));
    return;
  }
  if (const Value* v = node.input(static_cast<size_t>(c.input)))
    f->values.push_back(DescribeValue(ctx, v, "input " + std::to_string(c.input)));
}

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  struct Manual {
    const Node* first = nullptr;
    std::vector<std::string> nodes;
  };
  std::map<const OpCondition*, Manual> manual;
  std::vector<const OpCondition*> manual_order;
  for (const Node* n : ctx.nodes()) {
    const NodePlacement* p = ctx.Placement(*n);
    if (!p || !p->rule || p->rule->runs_on == Placement::kUnsupported) continue;
    for (const ConditionResult& r : p->failed) {
      if (r.condition->on_fail != Placement::kUnsupported) continue;
      Finding f = NodeFinding(ctx, "op.condition", Severity::kViolation, *n,
                              "needs " + DescribeCondition(*r.condition) + ", but " +
                                  r.outcome.detail + "; " + ctx.target() + " rejects it");
      AddConditionValue(ctx, *n, *r.condition, &f);
      ApplyFact(&f, r.condition->provenance);
      out->push_back(std::move(f));
    }
    for (const ConditionResult& r : p->undecided) {
      Finding f = NodeFinding(ctx, "op.condition", Severity::kInfo, *n,
                              "cannot decide: " + DescribeCondition(*r.condition) + " (" +
                                  r.outcome.detail + "); if it does not hold, " +
                                  Consequence(ctx, *n, r.condition->on_fail));
      AddConditionValue(ctx, *n, *r.condition, &f);
      ApplyFact(&f, r.condition->provenance);
      out->push_back(std::move(f));
    }
    for (const OpCondition* c : p->manual) {
      Manual& m = manual[c];
      if (!m.first) {
        m.first = n;
        manual_order.push_back(c);
      }
      m.nodes.push_back("'" + n->name() + "'");
    }
  }
  for (const OpCondition* c : manual_order) {
    const Manual& m = manual[c];
    const Node& first = *m.first;
    Finding f = ModelFinding("op.condition", Severity::kInfo,
                             first.op_type() + " (" + std::to_string(m.nodes.size()) +
                                 (m.nodes.size() == 1 ? " node: " : " nodes: ") +
                                 JoinNames(m.nodes) + "): check by hand: " + c->manual +
                                 "; if it does not hold, " + Consequence(ctx, first, c->on_fail));
    f.op = first.op_type();
    f.order = ctx.Order(first);
    if (m.nodes.size() == 1) {
      f.node = first.name();
      f.opset = ctx.Opset(first);
    }
    ApplyFact(&f, c->provenance);
    out->push_back(std::move(f));
  }
}

}  // namespace

const Rule kOpConditionRule = {"op.condition", "ops meet the target's per-op conditions", &Run};

}  // namespace edgefit
