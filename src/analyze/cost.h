// Cost model of a model as it will be deployed: MACs and other ops per layer, parameters, weight
// bytes at their stored dtype (an int8 weight behind DequantizeLinear counts 1 byte, an int32
// bias 4, a shared initializer once) and every activation tensor at its deployed dtype (a
// tensor a layer writes straight into a QuantizeLinear is int8 on the device).
//
// The conventions per op (what one MAC is, what counts as an "op") are in docs/analyze.md.
// Values computed only from constants (Constant nodes, Shape of a static shape, DequantizeLinear
// of a weight, ...) are folded: they are weights or compile-time data, not layers.
//
// How Q/DQ nodes are deployed (an NPU runs the int8 op between them, it never materializes the
// float tensor):
//
//   Before (QDQ ONNX)                           Deployed
//   x_i8 -> DQ -> Conv -> y_f32 -> Q -> y_i8    x_i8 -> Conv(int8) -> y_i8
//
// so y_f32 is int8 (the layer writes quantized output), Q and DQ are views of the same buffer.
// A Q of a float graph input, or a DQ feeding a float layer or a graph output, is a real
// conversion with a buffer of its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgefit/status.h"
#include "ir/graph.h"

namespace edgefit {

// One activation tensor (not a weight, not folded).
struct TensorCost {
  std::string name;
  DataType dtype = DataType::kUndefined;     // as deployed
  DataType declared = DataType::kUndefined;  // as in the ONNX model
  bool has_shape = false;
  Shape shape;
  int64_t bytes = 0;  // elements x deployed element size (0 when the shape is unknown)
  int producer = -1;  // layer index; -1 for a graph input
  int last_use = -1;  // last layer reading it; -1 when nothing reads it
  int alias_of = -1;  // tensor index whose buffer this one is (views, fused Q/DQ); -1 = own
  bool graph_input = false;
  bool graph_output = false;
};

// How a layer is executed, as far as memory and cost care.
enum class LayerKind {
  kCompute,     // does arithmetic or moves data into a new buffer
  kView,        // output is input 0's buffer (Reshape, Flatten, Squeeze, Unsqueeze, Identity)
  kFusedQdq,    // Q/DQ fused into its neighbours (a view, no cost)
  kConversion,  // a real Q/DQ conversion (float <-> int8)
};

struct LayerCost {
  std::string name;  // node name
  std::string op;    // op type
  LayerKind kind = LayerKind::kCompute;
  int64_t macs = 0;    // multiply-accumulates
  int64_t ops = 0;     // other arithmetic (comparisons, adds, activations), 1 per element-op
  int64_t params = 0;  // weight elements first used by this layer
  int64_t weight_bytes = 0;
  std::vector<int> inputs;   // activation tensor indices (constants left out)
  std::vector<int> outputs;  // activation tensor indices
  bool modelled = true;      // false: the op is not in the conventions table (0 MACs assumed)
  bool may_inplace = false;  // elementwise: the output may overwrite an input that dies here
  DataType precision = DataType::kFloat;  // dtype the layer computes in (int8 when quantized)
  int64_t output_bytes = 0;               // sum of output tensors (deployed dtype)
};

// One stored weight tensor (counted once even when several layers read it).
struct WeightCost {
  std::string name;
  DataType dtype = DataType::kUndefined;  // as stored
  int64_t elements = 0;
  int64_t bytes = 0;
  int layer = -1;  // first layer reading it
};

struct CostReport {
  std::vector<LayerCost> layers;  // topological order; folded nodes left out
  std::vector<TensorCost> tensors;
  std::vector<WeightCost> weights;
  std::vector<int> inputs, outputs;  // tensor indices of the graph inputs / outputs
  int64_t macs = 0;
  int64_t ops = 0;
  int64_t params = 0;
  int64_t weight_bytes = 0;          // as deployed
  int64_t weight_bytes_float32 = 0;  // the same parameters stored as float32
  int64_t qparam_bytes = 0;          // scales and zero points of weights and activations
  bool quantized = false;            // the model has QuantizeLinear/DequantizeLinear nodes
  std::vector<std::string> notes;    // ops not modelled, tensors without a static shape

  int64_t LayerCount() const;  // layers that are not views or fused Q/DQ
};

// Analyses the main graph of `model`, whose nodes must be in topological order and whose values
// should carry static shapes (RecordStaticShapes). Tensors without a static shape get 0 bytes
// and a note. Fails only on a graph that is not topologically ordered.
StatusOr<CostReport> AnalyzeCost(const Model& model);

// "1.23 M", "456 k", "7" (decimal, for MACs and params) and "12.3 KiB" (binary, for bytes).
std::string FormatCount(int64_t n);
std::string FormatBytes(int64_t bytes);
const char* LayerKindName(LayerKind kind);  // "compute", "view", "fused_qdq", "conversion"

}  // namespace edgefit
