// Shapes: ONNX's own shape inference (with data propagation) behind the IR, so every later
// feature can ask a Value for its static shape (Value::type().StaticShape()).
#pragma once

#include <string>
#include <vector>

#include "edgefit/status.h"
#include "ir/graph.h"

namespace edgefit {

struct ShapeInferenceOptions {
  // Fail on the first node ONNX cannot infer (otherwise such nodes are listed as warnings).
  bool strict = false;
  // Record inferred types of intermediates so that saving writes them as value_info.
  bool record_value_info = false;
};

struct ShapeInferenceResult {
  int values_updated = 0;             // values whose type gained information
  std::vector<std::string> warnings;  // what ONNX's inference reported and ignored
};

// Runs onnx::shape_inference::InferShapes with data propagation on the model and merges what
// it finds into the IR: a value's type is only ever refined (unknown dims become known), never
// replaced by less information.
StatusOr<ShapeInferenceResult> InferShapes(Model& model, const ShapeInferenceOptions& options = {});

// True when InferShapes cannot refine anything in `g`: every node output, graph output and
// value_info value is a tensor with a known element type and a static shape, and no node has a
// subgraph. (InferShapes would still re-run ONNX's inference, only to change nothing.)
bool ShapesComplete(const Graph& g);

}  // namespace edgefit
