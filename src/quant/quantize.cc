// `edgefit quantize`: prepare -> CLE -> plan -> calibrate -> scales -> QDQ rewrite -> bias
// correction -> check (see quantize.h and docs/quantize.md).
#include "quant/quantize.h"

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "onnx/model_io.h"
#include "passes/equivalence.h"
#include "passes/pass_util.h"
#include "passes/pipeline.h"
#include "quant/bias_correction.h"
#include "quant/calibrate.h"
#include "quant/quant_params.h"
#include "runtime/session.h"
#include "shape/concrete_shapes.h"

namespace edgefit {
namespace {

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

bool IsQuantizationOp(const Node& n) {
  static const std::set<std::string> kOps = {
      "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv",
      "QLinearMatMul",  "ConvInteger",      "MatMulInteger"};
  return IsOnnxDomain(n) && kOps.count(n.op_type()) > 0;
}

int64_t InitializerBytes(const Graph& g) {
  int64_t total = 0;
  for (const Value* v : g.initializers()) total += static_cast<int64_t>(v->initializer()->nbytes());
  return total;
}

// The scheme in force: the target profile's, then the command line's overrides.
struct Scheme {
  bool per_channel = true;
  bool weight_symmetric = true;
  DataType activation_dtype = DataType::kInt8;
  bool activation_symmetric = false;
};

Scheme ResolveScheme(const TargetProfile* profile, const QuantizeOptions& options) {
  Scheme s;
  if (profile) {
    const TensorQuant& w = profile->quantization.weights.value;
    const TensorQuant& a = profile->quantization.activations.value;
    s.per_channel = w.granularity == QuantGranularity::kPerChannel;
    s.weight_symmetric = w.symmetric || w.dtype.empty();
    if (a.dtype == "uint8") s.activation_dtype = DataType::kUint8;
    s.activation_symmetric = a.symmetric;
  }
  if (options.per_channel) s.per_channel = *options.per_channel;
  if (options.activation_dtype) s.activation_dtype = *options.activation_dtype;
  if (options.activation_symmetric) s.activation_symmetric = *options.activation_symmetric;
  return s;
}

Tensor ScalarOf(DataType dtype, int32_t value) {
  Tensor t(dtype, {});
  switch (dtype) {
    case DataType::kInt8: *t.data<int8_t>() = static_cast<int8_t>(value); break;
    case DataType::kUint8: *t.data<uint8_t>() = static_cast<uint8_t>(value); break;
    default: *t.data<int32_t>() = value; break;
  }
  return t;
}

// Zero points as a tensor of `dtype`: a scalar for one value, else 1-D.
Tensor ZeroPointTensor(DataType dtype, const std::vector<int32_t>& zps, bool scalar) {
  if (scalar) return ScalarOf(dtype, zps.empty() ? 0 : zps[0]);
  Tensor t(dtype, {static_cast<int64_t>(zps.size())});
  for (size_t i = 0; i < zps.size(); ++i) {
    if (dtype == DataType::kInt8)
      t.data<int8_t>()[i] = static_cast<int8_t>(zps[i]);
    else if (dtype == DataType::kUint8)
      t.data<uint8_t>()[i] = static_cast<uint8_t>(zps[i]);
    else
      t.data<int32_t>()[i] = zps[i];
  }
  return t;
}

Tensor ScaleTensor(const std::vector<float>& scales, bool scalar) {
  if (scalar) return Tensor::Scalar(scales.empty() ? 1.0f : scales[0]);
  return Tensor::FromVector<float>(DataType::kFloat, {static_cast<int64_t>(scales.size())}, scales);
}

// The range of the finite values ({0, 0} when there are none).
FloatRange TensorRange(const Tensor& t) { return ScanFinite(t.data<float>(), t.numel()).finite; }

Status CheckFloatModel(const Model& model) {
  for (const auto& n : model.graph->nodes())
    if (IsQuantizationOp(*n))
      return Unsupported("model '" + model.source_path + "' is already quantized (" +
                         n->Describe() + ", opset " + std::to_string(model.OpsetVersion()) +
                         "); edgefit quantize takes the float model");
  for (const Value* in : model.graph->inputs()) {
    if (in->has_initializer()) continue;
    if (!in->type().IsStatic())
      return Unsupported("model '" + model.source_path + "': input '" + in->name() +
                         "' has the dynamic shape " + in->type().ShapeString() +
                         "; freeze it first (edgefit fix --input-shape " + in->name() + "=...)");
  }
  return Status::Ok();
}

// Opset conversion, BatchNormalization folding and clean-up, verified on the executor when a
// pass changed the graph.
Status Prepare(Model& model, const TargetProfile* profile, const Scheme& scheme,
               const QuantizeOptions& options, QuantizeReport* report) {
  ASSIGN_OR_RETURN(Model original, CloneModel(model));
  PassContext ctx{model, profile, {}};
  PipelineOptions pipeline;
  int64_t opset = model.OpsetVersion();
  if (opset < 13) {
    // Per-axis DequantizeLinear (per-channel weights) needs opset 13; convert rather than
    // relabel. The target's recommended opset when it allows, else 13.
    int to = 13;
    if (profile && profile->opset.recommended.value >= 13) to = profile->opset.recommended.value;
    ctx.options.target_opset = to;
    pipeline.passes.push_back("convert-opset");
    report->preparation.push_back("convert-opset: opset " + std::to_string(opset) + " -> " +
                                  std::to_string(to) +
                                  (scheme.per_channel ? " (per-channel weights need >= 13)"
                                                      : " (QDQ needs >= 13 for int8 weights)"));
  }
  for (const char* id : {"fold-batchnorm", "eliminate-identity", "eliminate-dead", "topo-sort"})
    pipeline.passes.push_back(id);
  pipeline.max_rounds = 4;
  ASSIGN_OR_RETURN(PipelineResult result, RunPipeline(ctx, pipeline));
  // Placement needs every value's dtype and the Q/DQ pairs need shapes for value_info.
  RecordStaticShapes(model, &report->warnings);
  bool changed = false;
  for (const PassRecord& r : result.records) {
    changed = changed || r.result.changed;
    if (r.result.changed && r.pass != "convert-opset")
      report->preparation.push_back(r.pass + ": " + std::to_string(r.result.rewrites) +
                                    " rewrite(s)");
  }
  if (!changed) return Status::Ok();  // the graph is the original: nothing to verify
  EquivalenceOptions eq;
  eq.random_samples = 4;
  eq.tolerance = 1e-4;
  eq.num_threads = options.num_threads;
  ASSIGN_OR_RETURN(EquivalenceReport equivalence, CheckEquivalence(original, model, eq));
  if (!equivalence.equivalent)
    return Internal("preparing '" + model.source_path +
                    "' for quantization changed its outputs; please report this model:\n" +
                    equivalence.Summary());
  return Status::Ok();
}

// ------------------------------------------------------------------------------ rewriting

struct GroupParams {
  QuantParams params;
  FloatRange range;
  Value* scale = nullptr;  // shared initializers of the group
  Value* zero_point = nullptr;
};

class QdqWriter {
 public:
  QdqWriter(Graph& g, DataType act_dtype) : g_(g), act_dtype_(act_dtype) {}

  void EnsureGroupInitializers(GroupParams& gp, const std::string& base) {
    if (gp.scale) return;
    gp.scale = g_.AddInitializer(base + "_scale", Tensor::Scalar(gp.params.scale));
    gp.zero_point =
        g_.AddInitializer(base + "_zero_point", ScalarOf(act_dtype_, gp.params.zero_point));
  }

  // v (a node output or graph input) becomes Q -> DQ; every reader of v reads the dequantized
  // tensor, which keeps v's name (so FP32 and INT8 tensors match by name).
  void QuantizeActivation(Value* v, GroupParams& gp, bool int8_edge) {
    EnsureGroupInitializers(gp, v->name());
    TypeInfo qtype = v->type();
    qtype.elem_type = act_dtype_;
    if (v->is_graph_input()) {
      Node* first = g_.nodes().empty() ? nullptr : g_.nodes().front().get();
      Value* dq = g_.CreateUniqueValue(v->name() + "_dequantized");
      dq->type() = v->type();
      ReplaceNodeUses(v, dq);
      if (int8_edge) {
        v->type() = qtype;
        g_.InsertNode(first, "DequantizeLinear", {v, gp.scale, gp.zero_point}, {dq},
                      g_.UniqueNodeName(v->name() + "_DequantizeLinear"));
      } else {
        Value* q = g_.CreateUniqueValue(v->name() + "_quantized");
        q->type() = qtype;
        g_.InsertNode(first, "QuantizeLinear", {v, gp.scale, gp.zero_point}, {q},
                      g_.UniqueNodeName(v->name() + "_QuantizeLinear"));
        g_.InsertNode(first, "DequantizeLinear", {q, gp.scale, gp.zero_point}, {dq},
                      g_.UniqueNodeName(v->name() + "_DequantizeLinear"));
      }
      return;
    }
    Node* producer = v->producer();
    Node* next = NextNode(producer);
    Value* pre = g_.CreateUniqueValue(v->name() + "_prequant");
    pre->type() = v->type();
    g_.SetNodeOutput(producer, static_cast<size_t>(v->producer_output_index()), pre);
    prequant_of_[v->name()] = pre->name();
    if (int8_edge && v->is_graph_output()) {
      // The graph output itself is the int8 tensor; readers inside the graph get a DQ.
      Value* dq = g_.CreateUniqueValue(v->name() + "_dequantized");
      dq->type() = v->type();
      ReplaceNodeUses(v, dq);
      v->type() = qtype;
      g_.InsertNode(next, "QuantizeLinear", {pre, gp.scale, gp.zero_point}, {v},
                    g_.UniqueNodeName(v->name() + "_QuantizeLinear"));
      if (!dq->uses().empty())
        g_.InsertNode(next, "DequantizeLinear", {v, gp.scale, gp.zero_point}, {dq},
                      g_.UniqueNodeName(v->name() + "_DequantizeLinear"));
      else
        g_.RemoveValueIfUnused(dq);
      return;
    }
    Value* q = g_.CreateUniqueValue(v->name() + "_quantized");
    q->type() = qtype;
    g_.InsertNode(next, "QuantizeLinear", {pre, gp.scale, gp.zero_point}, {q},
                  g_.UniqueNodeName(v->name() + "_QuantizeLinear"));
    g_.InsertNode(next, "DequantizeLinear", {q, gp.scale, gp.zero_point}, {v},
                  g_.UniqueNodeName(v->name() + "_DequantizeLinear"));
  }

  // A constant (weight, bias, other) replaced, for `readers`, by DequantizeLinear(q, s, zp).
  Value* DequantizedConstant(const std::string& base, Tensor q, Tensor scale, Tensor zp, int axis,
                             const Shape& shape) {
    Value* qv = g_.AddInitializer(base + "_quantized", std::move(q));
    Value* sv = g_.AddInitializer(base + "_scale", std::move(scale));
    Value* zv = g_.AddInitializer(base + "_zero_point", std::move(zp));
    Value* dq = g_.CreateUniqueValue(base + "_dequantized");
    dq->type() = TypeInfo::Tensor(DataType::kFloat, shape);
    Node* n =
        g_.InsertNode(g_.nodes().empty() ? nullptr : g_.nodes().front().get(), "DequantizeLinear",
                      {qv, sv, zv}, {dq}, g_.UniqueNodeName(base + "_DequantizeLinear"));
    if (axis >= 0) n->SetAttribute(Attribute::Int("axis", axis));
    return dq;
  }

  const std::map<std::string, std::string>& prequant_of() const { return prequant_of_; }

 private:
  void ReplaceNodeUses(Value* from, Value* to) {
    std::vector<Use> uses = from->uses();
    for (const Use& u : uses)
      if (u.input_index >= 0) u.node->SetInput(static_cast<size_t>(u.input_index), to);
  }
  Node* NextNode(Node* n) {
    bool found = false;
    for (const auto& up : g_.nodes()) {
      if (found) return up.get();
      if (up.get() == n) found = true;
    }
    return nullptr;
  }

  Graph& g_;
  DataType act_dtype_;
  std::map<std::string, std::string> prequant_of_;  // quantized activation -> producer output
};

void RemoveIfUnused(Graph& g, Value* v) {
  if (!v || !v->uses().empty() || v->is_graph_output() || v->is_graph_input()) return;
  g.RemoveInitializer(v);
  g.RemoveValueIfUnused(v);
}

}  // namespace

StatusOr<QuantizeReport> QuantizeModel(Model& model, const TargetProfile* profile,
                                       const Dataset& calib, const QuantizeOptions& options) {
  const Clock::time_point start = Clock::now();
  QuantizeReport report;
  RETURN_IF_ERROR(CheckFloatModel(model));
  // The output must pass ONNX's checker whenever the input does.
  const Status input_check = RunOnnxChecker(model);
  const bool input_checked = input_check.ok();
  if (!input_checked)
    report.warnings.push_back("the input model fails ONNX's checker: " + input_check.message());
  if (calib.size() == 0)
    return InvalidArgument("no calibration samples for '" + model.source_path + "'");
  const Scheme scheme = ResolveScheme(profile, options);
  report.method = CalibrationMethodName(options.calibration.method);
  report.samples = calib.size();
  report.random_calibration = calib.is_random();
  report.per_channel = scheme.per_channel;
  report.activation_dtype = DataTypeName(scheme.activation_dtype);
  report.activation_symmetric = scheme.activation_symmetric;
  report.opset_before = model.OpsetVersion();
  report.bytes_before = InitializerBytes(*model.graph);
  if (report.random_calibration)
    report.warnings.push_back(
        "calibrated on RANDOM data (--calib random): the scales do not reflect real inputs and "
        "the INT8 model's accuracy is unknown");
  if (profile && profile->quantization.format.value == QuantFormat::kVendor)
    report.warnings.push_back("target '" + profile->id +
                              "' quantizes with its own toolchain; this QDQ model simulates its "
                              "scheme to estimate INT8 accuracy and is not the hand-off model");
  auto progress = [&](const std::string& stage, int64_t done, int64_t total) {
    if (options.progress) options.progress(stage, done, total);
  };

  // 1. Prepare.
  progress("prepare", 0, 1);
  RETURN_IF_ERROR(Prepare(model, profile, scheme, options, &report));
  report.opset_after = model.OpsetVersion();
  const bool cle = options.cle.value_or(!scheme.per_channel);
  if (cle) {
    ASSIGN_OR_RETURN(report.cle, EqualizeCrossLayer(&model));
    report.cle_applied = true;
  }
  report.seconds_prepare = SecondsSince(start);
  progress("prepare", 1, 1);

  // The float model as calibrated (for bias correction).
  ASSIGN_OR_RETURN(Model float_model, CloneModel(model));

  // 2. Plan.
  PlacementOptions placement;
  placement.per_channel = scheme.per_channel;
  placement.exclude = options.exclude;
  placement.budget_exclude = options.budget_exclude;
  ASSIGN_OR_RETURN(QuantPlan plan, PlanQuantization(model, profile, placement));
  report.kept_float = plan.kept_float;
  report.quantized_nodes = static_cast<int>(plan.quantized.size());

  // 3. Calibrate: one streaming observer per activation.
  const Clock::time_point calib_start = Clock::now();
  std::map<std::string, std::unique_ptr<RangeObserver>> observers;
  // One pass over the calibration data (samples in parallel with several threads, observers
  // fed in sample order: calibrate.h). With `fused`, the executor keeps Conv+Relu/Clip fusion:
  // a fused Conv's own output is then not seen, which is fine when the plan fused the same
  // activation (that tensor is not quantized); otherwise the pass is repeated without fusion.
  auto calibrate = [&](bool fused) -> Status {
    observers.clear();
    for (const Value* v : plan.activations)
      observers[v->name()] = MakeRangeObserver(options.calibration);
    CalibrationRunOptions run;
    run.num_threads = options.num_threads;
    run.fuse_activations = fused;
    run.progress = [&](int64_t done, int64_t total) { progress("calibrate", done, total); };
    return RunCalibration(model, calib, observers, run);
  };
  RETURN_IF_ERROR(calibrate(/*fused=*/true));
  bool all_seen = true;
  for (const auto& [name, obs] : observers) all_seen &= obs->samples() > 0;
  if (!all_seen) RETURN_IF_ERROR(calibrate(/*fused=*/false));
  report.seconds_calibrate = SecondsSince(calib_start);

  // 4. Scales per group.
  std::vector<GroupParams> groups(static_cast<size_t>(plan.num_groups));
  std::vector<bool> group_seen(groups.size(), false);
  auto widen = [&](int gid, FloatRange r) {
    GroupParams& gp = groups[static_cast<size_t>(gid)];
    if (!group_seen[static_cast<size_t>(gid)]) {
      gp.range = r;
      group_seen[static_cast<size_t>(gid)] = true;
    } else {
      gp.range.min = std::min(gp.range.min, r.min);
      gp.range.max = std::max(gp.range.max, r.max);
    }
  };
  for (const Value* v : plan.activations) {
    const RangeObserver& obs = *observers.at(v->name());
    report.non_finite_activations += obs.non_finite();
    widen(plan.group_of.at(v), obs.Range(scheme.activation_symmetric, 256));
  }
  for (const Value* c : plan.constants) widen(plan.group_of.at(c), TensorRange(*ConstantValue(c)));
  for (GroupParams& gp : groups)
    gp.params = ParamsForRange(gp.range, scheme.activation_dtype, scheme.activation_symmetric);
  if (report.non_finite_activations > 0)
    report.warnings.push_back(std::to_string(report.non_finite_activations) +
                              " NaN/Inf activation values were seen during calibration and "
                              "ignored");

  // 5. Rewrite: weights and biases, constants, then activations.
  Graph& g = *model.graph;
  QdqWriter writer(g, scheme.activation_dtype);
  std::map<std::string, BiasSite> bias_sites;
  for (const PlannedWeight& w : plan.weights) {
    Node* node = w.node;
    Value* wv = node->input(static_cast<size_t>(w.weight_input));
    const Tensor weight = *wv->initializer();
    ASSIGN_OR_RETURN(WeightParams wp, ChooseWeightParams(weight, DataType::kInt8,
                                                         scheme.weight_symmetric, w.channel_axis));
    Value* bias_value =
        w.bias_input >= 0 ? node->input(static_cast<size_t>(w.bias_input)) : nullptr;
    const Value* in = node->input(0);
    auto gid = plan.group_of.find(in);
    float input_scale = 0;
    if (gid != plan.group_of.end())
      input_scale = groups[static_cast<size_t>(gid->second)].params.scale;
    if (bias_value && input_scale > 0)
      report.enlarged_weight_scales +=
          EnlargeScalesForBias(*bias_value->initializer(), input_scale, &wp);
    ASSIGN_OR_RETURN(Tensor q, QuantizeTensor(weight, wp, DataType::kInt8));
    const bool scalar = wp.axis < 0;
    Value* wdq = writer.DequantizedConstant(
        wv->name(), std::move(q), ScaleTensor(wp.scales, scalar),
        ZeroPointTensor(DataType::kInt8, wp.zero_points, scalar), wp.axis, weight.shape());
    node->SetInput(static_cast<size_t>(w.weight_input), wdq);
    const FloatRange weight_range = TensorRange(weight);
    report.tensors.push_back({wv->name(), "weight", "int8", wp.scales[0], wp.zero_points[0],
                              static_cast<int>(wp.scales.size()), weight_range.min,
                              weight_range.max});
    RemoveIfUnused(g, wv);
    if (bias_value && input_scale > 0) {
      const Tensor bias = *bias_value->initializer();
      ASSIGN_OR_RETURN(Tensor qb, QuantizeBias(bias, input_scale, wp));
      std::vector<float> bias_scales;
      for (float s : wp.scales) bias_scales.push_back(input_scale * s);
      std::vector<int32_t> zeros(bias_scales.size(), 0);
      const bool bias_scalar = bias_scales.size() == 1;
      Value* bdq = writer.DequantizedConstant(bias_value->name(), std::move(qb),
                                              ScaleTensor(bias_scales, bias_scalar),
                                              ZeroPointTensor(DataType::kInt32, zeros, bias_scalar),
                                              bias_scalar ? -1 : 0, bias.shape());
      node->SetInput(static_cast<size_t>(w.bias_input), bdq);
      const FloatRange bias_range = TensorRange(bias);
      report.tensors.push_back({bias_value->name(), "bias", "int32", bias_scales[0], 0,
                                static_cast<int>(bias_scales.size()), bias_range.min,
                                bias_range.max});
      RemoveIfUnused(g, bias_value);
      bias_sites[node->name()].bias_dequantized = bdq->name();
    } else if (bias_value) {
      report.warnings.push_back(node->Describe() +
                                ": bias kept float (its input is not quantized)");
    }
    bias_sites[node->name()].node = node->name();
    bias_sites[node->name()].channel_axis =
        node->op_type() == "Conv" || node->op_type() == "ConvTranspose" ? 1 : -1;
  }
  for (Value* c : plan.constants) {
    GroupParams& gp = groups[static_cast<size_t>(plan.group_of.at(c))];
    const Tensor value = *ConstantValue(c);
    WeightParams cp;
    cp.scales = {gp.params.scale};
    cp.zero_points = {gp.params.zero_point};
    ASSIGN_OR_RETURN(Tensor q, QuantizeTensor(value, cp, scheme.activation_dtype));
    Value* dq = writer.DequantizedConstant(
        c->name(), std::move(q), ScaleTensor(cp.scales, true),
        ZeroPointTensor(scheme.activation_dtype, cp.zero_points, true), -1, value.shape());
    std::vector<Use> uses = c->uses();
    for (const Use& u : uses)
      if (u.input_index >= 0 && plan.quantized.count(u.node))
        u.node->SetInput(static_cast<size_t>(u.input_index), dq);
    report.tensors.push_back({c->name(), "constant", DataTypeName(scheme.activation_dtype),
                              gp.params.scale, gp.params.zero_point, 1, gp.range.min,
                              gp.range.max});
    RemoveIfUnused(g, c);
  }
  for (Value* v : plan.activations) {
    GroupParams& gp = groups[static_cast<size_t>(plan.group_of.at(v))];
    const bool edge = options.int8_io && (v->is_graph_input() || v->is_graph_output());
    report.tensors.push_back({v->name(), "activation", DataTypeName(scheme.activation_dtype),
                              gp.params.scale, gp.params.zero_point, 1, gp.range.min,
                              gp.range.max});
    writer.QuantizeActivation(v, gp, edge);
  }
  RETURN_IF_ERROR(g.TopologicalSort());
  RETURN_IF_ERROR(g.Verify());
  if (Status st = RunOnnxChecker(model); !st.ok()) {
    if (input_checked)
      return Internal("the quantized model fails ONNX's checker (a bug in edgefit): " +
                      st.message());
    report.warnings.push_back("the quantized model fails ONNX's checker like the input did: " +
                              st.message());
  }

  // 6. Bias correction.
  const bool bias_correction = options.bias_correction.value_or(!scheme.per_channel);
  if (bias_correction) {
    BiasCorrectionOptions bc;
    bc.num_threads = options.num_threads;
    bc.progress = options.progress;
    ASSIGN_OR_RETURN(report.bias_corrected_layers,
                     CorrectBiases(float_model, model, bias_sites, calib, bc));
    report.bias_correction_applied = true;
  }

  report.bytes_after = InitializerBytes(g);
  if (profile) {
    ASSIGN_OR_RETURN(CheckReport check, CheckModel(model, *profile));
    report.check = std::move(check);
  }
  report.seconds_total = SecondsSince(start);
  return report;
}

std::string FormatQuantizeText(const QuantizeReport& r) {
  std::ostringstream out;
  if (r.random_calibration)
    out << "!!! WARNING: calibrated on RANDOM data. Scales are not representative; do not "
           "deploy this model. !!!\n";
  int activations = 0, weights = 0, biases = 0, constants = 0;
  for (const auto& t : r.tensors) {
    if (t.kind == "activation")
      ++activations;
    else if (t.kind == "weight")
      ++weights;
    else if (t.kind == "bias")
      ++biases;
    else
      ++constants;
  }
  out << "calibration: " << r.method << " on " << r.samples << " sample(s)"
      << (r.random_calibration ? " (RANDOM)" : "") << "\n";
  out << "scheme: weights int8 symmetric " << (r.per_channel ? "per-channel" : "per-tensor")
      << ", activations " << r.activation_dtype << " "
      << (r.activation_symmetric ? "symmetric" : "asymmetric") << " per-tensor, bias int32\n";
  if (r.opset_before != r.opset_after)
    out << "opset: " << r.opset_before << " -> " << r.opset_after << "\n";
  for (const auto& p : r.preparation) out << "prepare: " << p << "\n";
  if (r.cle_applied)
    out << "cross-layer equalization: " << r.cle.equalized.size() << " pair(s) equalized, "
        << r.cle.skipped.size() << " skipped\n";
  if (r.bias_correction_applied)
    out << "bias correction: " << r.bias_corrected_layers << " layer(s) corrected\n";
  out << "quantized: " << r.quantized_nodes << " node(s); " << activations << " activation(s), "
      << weights << " weight(s), " << biases << " bias(es), " << constants << " constant(s)\n";
  if (r.enlarged_weight_scales > 0)
    out << "weight scales enlarged to fit int32 biases: " << r.enlarged_weight_scales
        << " channel(s)\n";
  if (!r.kept_float.empty()) {
    out << "kept float: " << r.kept_float.size() << " node(s)\n";
    for (const auto& f : r.kept_float)
      out << "  " << f.op << " '" << f.node << "': " << f.reason << "\n";
  }
  out << "size: " << r.bytes_before << " -> " << r.bytes_after << " bytes of initializers";
  if (r.bytes_before > 0) out << " (" << std::fixed;
  if (r.bytes_before > 0) {
    out.precision(2);
    out << static_cast<double>(r.bytes_after) / static_cast<double>(r.bytes_before) << "x)";
  }
  out << "\n";
  out.precision(2);
  out << "time: " << std::fixed << r.seconds_total << " s (prepare " << r.seconds_prepare
      << " s, calibration " << r.seconds_calibrate << " s)\n";
  for (const auto& w : r.warnings) out << "warning: " << w << "\n";
  if (r.check)
    out << "check --target " << r.check->target << ": " << r.check->VerdictLine() << "\n";
  return out.str();
}

std::string FormatQuantizeJson(const QuantizeReport& r, int indent) {
  nlohmann::json j;
  j["schema"] = "edgefit-quantize/1";
  j["calibration"] = {
      {"method", r.method}, {"samples", r.samples}, {"random", r.random_calibration}};
  j["scheme"] = {
      {"weights",
       {{"dtype", "int8"},
        {"symmetric", true},
        {"granularity", r.per_channel ? "per_channel" : "per_tensor"}}},
      {"activations", {{"dtype", r.activation_dtype}, {"symmetric", r.activation_symmetric}}},
      {"bias", "int32"}};
  j["opset"] = {{"before", r.opset_before}, {"after", r.opset_after}};
  j["preparation"] = r.preparation;
  j["cle"] = {{"applied", r.cle_applied},
              {"pairs", r.cle.equalized.size()},
              {"skipped", r.cle.skipped.size()}};
  j["bias_correction"] = {{"applied", r.bias_correction_applied},
                          {"layers", r.bias_corrected_layers}};
  j["quantized_nodes"] = r.quantized_nodes;
  j["enlarged_weight_scales"] = r.enlarged_weight_scales;
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& f : r.kept_float)
    kept.push_back({{"node", f.node}, {"op", f.op}, {"reason", f.reason}});
  j["kept_float"] = kept;
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : r.tensors)
    tensors.push_back({{"name", t.name},
                       {"kind", t.kind},
                       {"dtype", t.dtype},
                       {"scale", t.scale},
                       {"zero_point", t.zero_point},
                       {"channels", t.channels},
                       {"min", t.min},
                       {"max", t.max}});
  j["tensors"] = tensors;
  j["bytes"] = {{"before", r.bytes_before}, {"after", r.bytes_after}};
  j["seconds"] = {{"prepare", r.seconds_prepare},
                  {"calibrate", r.seconds_calibrate},
                  {"total", r.seconds_total}};
  j["warnings"] = r.warnings;
  if (r.check)
    j["check"] = {{"target", r.check->target},
                  {"verdict", r.check->Verdict()},
                  {"violations", r.check->Count(Severity::kViolation)},
                  {"warnings", r.check->Count(Severity::kWarning)}};
  return j.dump(indent);
}

}  // namespace edgefit
