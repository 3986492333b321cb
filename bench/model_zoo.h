// Reference-architecture models built in C++ with random weights, for benchmarks and for tests
// that need a known architecture (e.g. ResNet18's ~1.8 GMAC). BatchNorm is folded into the
// convolutions, as PyTorch's default ONNX export does.
#pragma once

#include <string>

#include "ir/graph.h"

namespace edgefit::zoo {

// torchvision-style ResNet18: input "input" [1,3,224,224], output "logits" [1,1000]. Opset 13.
Model ResNet18();
// torchvision-style MobileNetV2 (width 1.0): input [1,3,224,224], output [1,1000]. Opset 13.
Model MobileNetV2();
// One Conv node: input [1,cin,h,w], weights [cout,cin/group,k,k], stride 1, "same" padding.
Model SingleConv(int cin, int cout, int h, int w, int k, int group = 1);

}  // namespace edgefit::zoo
