// The explicit list of passes, with their stable ids. Adding a pass: one file, one line in
// passes.h, one line here, and its section in docs/passes.md.
#include "passes/passes.h"

namespace edgefit {

const std::vector<PassInfo>& AllPasses() {
  static const std::vector<PassInfo> passes = {
      {"fix-dynamic-dims", "freeze input shapes (--input-shape, or dynamic batch -> 1)",
       CreateFixDynamicDimsPass},
      {"convert-opset", "convert to the target's recommended opset (every node keeps its meaning)",
       CreateConvertOpsetPass},
      {"fold-constants", "evaluate constant subgraphs (Shape->Gather->Concat, constant arithmetic)",
       CreateFoldConstantsPass},
      {"fix-reshape-shape", "Reshape targets with -1/0 or computed -> explicit constant shapes",
       CreateFixReshapeShapePass},
      {"squeeze-to-reshape", "Squeeze/Unsqueeze/Flatten with static shapes -> Reshape",
       CreateSqueezeToReshapePass},
      {"axes-to-attribute", "Squeeze/Unsqueeze/Reduce*/Split axes: attribute or constant input",
       CreateAxesToAttributePass},
      {"reduce-rank", "merge axes of over-rank Reshape/Transpose chains to reach the target rank",
       CreateReduceRankPass},
      {"unbatch", "run Conv/pool chains at batch N > 1 at batch 1 (grouped Conv or N branches)",
       CreateUnbatchPass},
      {"fold-batchnorm", "fold inference BatchNormalization into Conv/ConvTranspose/Gemm",
       CreateFoldBatchNormPass},
      {"eliminate-identity", "remove Identity, inference Dropout, no-op Reshape/Transpose/Cast/Pad",
       CreateEliminateIdentityPass},
      {"fuse-reshapes", "Reshape/Flatten/Squeeze/Unsqueeze chains -> one Reshape",
       CreateFuseReshapesPass},
      {"fuse-transposes", "Transpose chains -> one Transpose with the composed perm (or none)",
       CreateFuseTransposesPass},
      {"topo-sort", "order nodes so each comes after its inputs' producers", CreateTopoSortPass},
      {"eliminate-dead", "remove nodes, initializers and value_info nothing uses",
       CreateEliminateDeadPass},
  };
  return passes;
}

StatusOr<std::unique_ptr<Pass>> CreatePass(const std::string& id) {
  std::string known;
  for (const PassInfo& p : AllPasses()) {
    if (id == p.id) return p.create();
    known += (known.empty() ? "" : ", ") + std::string(p.id);
  }
  return NotFound("unknown pass '" + id + "' (known: " + known + ")");
}

}  // namespace edgefit
