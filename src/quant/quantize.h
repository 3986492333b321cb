// `edgefit quantize`: INT8 post-training quantization of a float ONNX model to QDQ ONNX.
//
// Steps (docs/quantize.md): prepare (convert to opset >= 13 for per-channel weights, fold
// BatchNormalization, drop identities), optional cross-layer equalization, plan the Q/DQ
// placement from the target profile, calibrate (stream every calibration sample through the
// executor; one observer per tensor, memory independent of the sample count), choose scales,
// rewrite the graph, optional bias correction, then check the result against the target.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "check/check.h"
#include "data/dataset.h"
#include "edgefit/status.h"
#include "ir/graph.h"
#include "quant/cross_layer_equalization.h"
#include "quant/observer.h"
#include "quant/placement.h"
#include "targets/profile.h"

namespace edgefit {

struct QuantizeOptions {
  ObserverOptions calibration;  // method and its parameters
  // Scheme overrides; unset = the target profile's scheme (or int8 per-channel symmetric
  // weights and int8 asymmetric activations without a target).
  std::optional<bool> per_channel;           // --per-tensor sets false
  std::optional<DataType> activation_dtype;  // kInt8 or kUint8
  std::optional<bool> activation_symmetric;
  bool int8_io = false;  // graph inputs/outputs become int8 (no float Q/DQ at the edges)
  std::vector<std::string> exclude;  // node names or op types kept float
  // Node names the accuracy budget returned to float (reported with that reason).
  std::vector<std::string> budget_exclude;
  // Accuracy recovery; unset = automatic (on where the weights are per-tensor).
  std::optional<bool> cle;
  std::optional<bool> bias_correction;
  int num_threads = 0;
  // Called as work progresses: stage name, done, total.
  std::function<void(const std::string& stage, int64_t done, int64_t total)> progress;
};

struct QuantizedTensorInfo {
  std::string name;
  std::string kind;  // "activation", "weight", "bias", "constant"
  std::string dtype;
  float scale = 0;  // per-tensor scale (first channel's for per-channel weights)
  int32_t zero_point = 0;
  int channels = 1;        // number of scales
  float min = 0, max = 0;  // the calibrated (or weight) range
};

struct QuantizeReport {
  std::string method;
  int64_t samples = 0;
  bool random_calibration = false;
  bool per_channel = true;
  std::string activation_dtype;
  bool activation_symmetric = false;
  int64_t opset_before = 0, opset_after = 0;
  std::vector<std::string> preparation;  // what preparation changed, one line each
  bool cle_applied = false;
  CleReport cle;
  bool bias_correction_applied = false;
  int bias_corrected_layers = 0;
  int enlarged_weight_scales = 0;  // channels whose weight scale grew to fit the int32 bias
  int quantized_nodes = 0;
  std::vector<FloatNode> kept_float;
  std::vector<QuantizedTensorInfo> tensors;
  int64_t bytes_before = 0, bytes_after = 0;  // initializer bytes
  int64_t non_finite_activations = 0;
  double seconds_prepare = 0, seconds_calibrate = 0, seconds_total = 0;
  std::optional<CheckReport> check;  // the result checked against the target
  std::vector<std::string> warnings;
};

// Quantizes `model` (a float model with static input shapes) in place, calibrating on `calib`.
// `profile` may be null (generic int8 scheme). Fails on a model that is already quantized, on
// calibration data that does not match the model, and when the model cannot be run.
StatusOr<QuantizeReport> QuantizeModel(Model& model, const TargetProfile* profile,
                                       const Dataset& calib, const QuantizeOptions& options);

std::string FormatQuantizeText(const QuantizeReport& report);
std::string FormatQuantizeJson(const QuantizeReport& report, int indent = 2);

}  // namespace edgefit
