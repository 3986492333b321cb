// convert-opset: move the model to the target's recommended opset with ONNX's own version
// converter, never by rewriting the opset number alone.
//
//   Before: opset 11: Squeeze(x) axes=[3] (attribute), Clip(x) min=0 max=6 (attributes)
//   After:  opset 17: Squeeze(x, axes=[3]) (input),   Clip(x, 0, 6) (inputs)
//
// Each op version step is done by the converter's adapters (Squeeze/Unsqueeze/Split/Reduce axes
// attribute <-> input, Upsample -> Resize, Clip min/max, Pad pads, BatchNormalization outputs,
// ...). Where the converter has no adapter or fails, the model is left unchanged and the reason
// is reported as unresolved (check then reports the opset finding). The result is verified
// numerically like every other pass (fix's verification runs the original and the converted
// model on the same inputs).
#include "onnx/model_io.h"
#include "onnx/onnx_pb.h"
#include "onnx/version_converter/convert.h"
#include "passes/pass_util.h"
#include "passes/passes.h"
#include "targets/profile.h"

namespace edgefit {
namespace {

class ConvertOpsetPass : public Pass {
 public:
  const char* id() const override { return "convert-opset"; }
  const char* summary() const override {
    return "convert to the target's recommended opset with ONNX's version converter";
  }
  StatusOr<PassResult> Run(PassContext& ctx) override {
    PassResult result;
    int target = ctx.options.target_opset;
    if (target == 0 && ctx.target) target = ctx.target->opset.recommended.value;
    int64_t current = ctx.model.OpsetVersion("");
    if (target <= 0 || current < 0 || current == target) return result;
    if (done_.count(current) && done_[current] == target) return result;  // tried and failed
    onnx::ModelProto mp;
    RETURN_IF_ERROR(ModelToProto(ctx.model, &mp));
    onnx::ModelProto converted;
    try {
      converted = onnx::version_conversion::ConvertVersion(mp, target);
    } catch (const std::exception& e) {
      done_[current] = target;
      result.unresolved.push_back("ONNX's version converter cannot take this model from opset " +
                                  std::to_string(current) + " to " + std::to_string(target) + ": " +
                                  e.what());
      return result;
    }
    std::string base;
    auto loaded = ModelFromProto(&converted, "(converted)", base);
    if (!loaded.ok()) {
      done_[current] = target;
      result.unresolved.push_back("the converted model is invalid: " + loaded.status().message());
      return result;
    }
    Model& m = *loaded;
    m.source_path = ctx.model.source_path;
    m.external_data_files = ctx.model.external_data_files;
    if (m.ir_version < ctx.model.ir_version) m.ir_version = ctx.model.ir_version;
    ctx.model = std::move(m);
    result.Rewrote("opset " + std::to_string(current) + " -> " + std::to_string(target) +
                   " (ONNX version converter)");
    return result;
  }

 private:
  std::map<int64_t, int> done_;
};

}  // namespace

std::unique_ptr<Pass> CreateConvertOpsetPass() { return std::make_unique<ConvertOpsetPass>(); }

}  // namespace edgefit
