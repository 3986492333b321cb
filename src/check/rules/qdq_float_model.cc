// qdq.float-model: the target's toolchain takes an INT8 QDQ model and this one is float. An info:
// quantizing is a step of the flow, not a repair; until then float ops run where the profile's
// quantization.float_ops_run_on says (the host CPU for stm32n6).
#include "check/op_roles.h"
#include "check/rule.h"

namespace edgefit {
namespace {

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  const TargetProfile& p = ctx.profile();
  if (p.toolchain.input_model.value != HandoffModel::kQdqInt8 || IsQdqModel(ctx)) return;
  Finding f =
      ModelFinding("qdq.float-model", Severity::kInfo,
                   "the model is float (no QuantizeLinear/DequantizeLinear); " + ctx.target() +
                       " takes an INT8 QDQ model, and ops left in float run on " +
                       (p.quantization.float_ops_run_on.value == Placement::kCpu
                            ? "the CPU"
                            : PlacementName(p.quantization.float_ops_run_on.value)) +
                       "; quantize it before the hand-off");
  ApplyFact(&f, p.toolchain.input_model);
  out->push_back(std::move(f));
}

}  // namespace

const Rule kQdqFloatModelRule = {"qdq.float-model",
                                 "a float model for a target that takes INT8 QDQ (info)", &Run};

}  // namespace edgefit
