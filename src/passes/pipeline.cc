#include "passes/pipeline.h"

#include <chrono>

#include "shape/shape_inference.h"

namespace edgefit {

StatusOr<PipelineResult> RunPipeline(PassContext& ctx, const PipelineOptions& options,
                                     const Model* reference) {
  std::vector<std::unique_ptr<Pass>> passes;
  for (const std::string& id : options.passes) {
    ASSIGN_OR_RETURN(auto p, CreatePass(id));
    passes.push_back(std::move(p));
  }
  PipelineResult result;
  // Shapes are re-inferred after a pass that changed the model, once the next pass reads them
  // or the round ends (so a pass that reads none, like convert-opset, does not cost one).
  bool stale = false;
  auto infer = [&] {
    if (!stale) return;
    stale = false;
    // Inference only refines types: when every shape is already static it has nothing to add.
    if (ShapesComplete(*ctx.model.graph)) return;
    auto inferred = InferShapes(ctx.model);
    if (!inferred.ok()) result.warnings.push_back(inferred.status().message());
  };
  for (int round = 1; round <= options.max_rounds; ++round) {
    result.rounds = round;
    bool changed = false;
    for (auto& pass : passes) {
      if (pass->reads_shapes()) infer();
      auto start = std::chrono::steady_clock::now();
      auto r = pass->Run(ctx);
      if (!r.ok()) return r.status().WithContext(std::string("pass ") + pass->id());
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      if (r->changed) {
        changed = true;
        RETURN_IF_ERROR(ctx.model.graph->Verify().WithContext(
            std::string("pass ") + pass->id() + " left an invalid graph (a bug in edgefit)"));
        stale = true;
        if (options.after_pass || options.verify_each) infer();  // they see the inferred model
        if (options.after_pass) RETURN_IF_ERROR(options.after_pass(pass->id(), ctx.model));
        if (options.verify_each && reference) {
          ASSIGN_OR_RETURN(EquivalenceReport eq,
                           CheckEquivalence(*reference, ctx.model, options.verify));
          if (!eq.equivalent)
            return FailedPrecondition(std::string("pass ") + pass->id() +
                                      " changed the model's outputs beyond tolerance:\n" +
                                      eq.Summary());
        }
      }
      result.records.push_back({pass->id(), round, std::move(r).value(), ms});
    }
    infer();
    if (!changed || (options.done && options.done(ctx.model))) return result;
  }
  result.hit_round_cap = true;
  result.warnings.push_back("the pipeline still changed the model after " +
                            std::to_string(options.max_rounds) + " rounds; stopped there");
  return result;
}

}  // namespace edgefit
