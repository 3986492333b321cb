// Factories of every pass (one pass per file in this folder). registry.cc lists them in order.
#pragma once

#include <memory>

#include "passes/pass.h"

namespace edgefit {

std::unique_ptr<Pass> CreateTopoSortPass();           // topo_sort.cc
std::unique_ptr<Pass> CreateEliminateDeadPass();      // eliminate_dead.cc
std::unique_ptr<Pass> CreateEliminateIdentityPass();  // eliminate_identity.cc
std::unique_ptr<Pass> CreateFoldBatchNormPass();      // fold_batchnorm.cc
std::unique_ptr<Pass> CreateFixDynamicDimsPass();     // fix_dynamic_dims.cc
std::unique_ptr<Pass> CreateFoldConstantsPass();      // fold_constants.cc
std::unique_ptr<Pass> CreateFixReshapeShapePass();    // fix_reshape_shape.cc
std::unique_ptr<Pass> CreateSqueezeToReshapePass();   // squeeze_to_reshape.cc
std::unique_ptr<Pass> CreateAxesToAttributePass();    // axes_to_attribute.cc
std::unique_ptr<Pass> CreateFuseReshapesPass();       // fuse_reshapes.cc
std::unique_ptr<Pass> CreateFuseTransposesPass();     // fuse_transposes.cc
std::unique_ptr<Pass> CreateReduceRankPass();         // reduce_rank.cc
std::unique_ptr<Pass> CreateUnbatchPass();            // unbatch.cc
std::unique_ptr<Pass> CreateConvertOpsetPass();       // convert_opset.cc

}  // namespace edgefit
