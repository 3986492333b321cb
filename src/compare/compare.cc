// edgefit compare: see compare.h and docs/compare.md.
//
// Per sample: the reference model runs first; its observer copies the matched intermediate
// tensors of THIS sample. The test model runs next; its observer compares each matched tensor
// as it is produced, adds the sums to that tensor's accumulator and frees the copy. So the
// state is one sample's matched tensors plus a fixed number of sums per tensor, whatever the
// number of samples.
#include "compare/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "draw/keypoints.h"
#include "onnx/model_io.h"
#include "runtime/session.h"

namespace edgefit {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// A reference weight this far from the dequantized one was changed by more than rounding
// (cross-layer equalization, bias correction): not the same weight.
constexpr double kRescaledWeightDb = 10.0;

std::string Fmt(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string Db(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return Fmt("%.1f", v);
}

std::string ShapeText(const TypeInfo& t) { return t.ShapeString(); }

}  // namespace

// ------------------------------------------------------------------------------ statistics

double SqnrDb(double signal_power, double noise_power) {
  if (noise_power <= 0) return kInf;
  if (signal_power <= 0) return -kInf;
  return 10.0 * std::log10(signal_power / noise_power);
}

void DiffAccumulator::Add(const float* ref, const float* test, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double r = ref[i], t = test[i], d = t - r;
    sum_d_ += d;
    sum_d2_ += d * d;
    const double a = std::fabs(d);
    sum_abs_ += a;
    if (a > max_abs_ || std::isnan(a)) max_abs_ = a;
    sum_r2_ += r * r;
    sum_t2_ += t * t;
    sum_rt_ += r * t;
  }
  count_ += n;
}

double DiffAccumulator::nsr() const {
  if (sum_d2_ <= 0) return 0;
  if (sum_r2_ <= 0) return kInf;
  return sum_d2_ / sum_r2_;
}

DiffStats DiffAccumulator::Finish(const std::string& name) const {
  DiffStats s;
  s.name = name;
  s.count = count_;
  if (count_ == 0) return s;
  const double n = static_cast<double>(count_);
  s.mae = sum_abs_ / n;
  s.rmse = std::sqrt(sum_d2_ / n);
  s.max_abs = max_abs_;
  s.mean = sum_d_ / n;
  // Population variance E[d^2] - E[d]^2, clamped against rounding below zero.
  s.std = std::sqrt(std::max(0.0, sum_d2_ / n - s.mean * s.mean));
  if (sum_r2_ > 0 && sum_t2_ > 0)
    s.cosine = sum_rt_ / (std::sqrt(sum_r2_) * std::sqrt(sum_t2_));
  else
    s.cosine = (sum_r2_ == 0 && sum_t2_ == 0) ? 1.0 : 0.0;
  s.sqnr_db = SqnrDb(sum_r2_, sum_d2_);
  return s;
}

const char* CompareTaskName(CompareTask task) {
  switch (task) {
    case CompareTask::kRegression: return "regression";
    case CompareTask::kClassification: return "classification";
    case CompareTask::kKeypoints: return "keypoints";
    default: return "none";
  }
}

CompareTask TaskForLabels(const Tensor& labels, const Model* reference) {
  switch (labels.dtype()) {
    case DataType::kFloat:
    case DataType::kDouble:
    case DataType::kFloat16:
    case DataType::kBfloat16: break;
    default: return CompareTask::kClassification;
  }
  if (reference && labels.rank() == 3 && (labels.dim(2) == 2 || labels.dim(2) == 3) &&
      !reference->graph->outputs().empty()) {
    const TypeInfo& t = reference->graph->outputs()[0]->type();
    if (t.is_tensor() && t.rank() == 4) {
      const Dim& k = t.dims[1];
      if (!k.is_fixed() || k.value == labels.dim(1)) return CompareTask::kKeypoints;
    }
  }
  return CompareTask::kRegression;
}

namespace {

// Keypoint statistics of the keypoints task (TaskMetrics), accumulated sample by sample.
struct KeypointAccumulator {
  double shift_sum = 0, shift_max = 0, ref_err = 0, test_err = 0;
  int64_t decoded = 0, labelled = 0, ref_hits = 0, test_hits = 0;
  double pck_px = 0;

  static double Distance(const draw::Keypoint& a, double x, double y) {
    return std::hypot(a.x - x, a.y - y);
  }

  // ref/test: output 0 of each model ([1, K, h, w] heatmaps); image_w/h: the model input's
  // size; label: K rows of `stride` values (x, y[, visible]) or null.
  Status Add(const Tensor& ref, const Tensor& test, int image_w, int image_h, const double* label,
             int64_t stride) {
    ASSIGN_OR_RETURN(std::vector<draw::Keypoint> r, draw::DecodeHeatmaps(ref));
    ASSIGN_OR_RETURN(std::vector<draw::Keypoint> t, draw::DecodeHeatmaps(test));
    const int64_t h = ref.dim(ref.rank() - 2), w = ref.dim(ref.rank() - 1);
    pck_px = kPckAlpha * std::max(image_w, image_h);
    for (size_t k = 0; k < r.size(); ++k) {
      const draw::Keypoint a = draw::MapToImage(r[k], w, h, image_w, image_h);
      const draw::Keypoint b = draw::MapToImage(t[k], w, h, image_w, image_h);
      const double shift = Distance(a, b.x, b.y);
      shift_sum += shift;
      shift_max = std::max(shift_max, shift);
      ++decoded;
      if (!label) continue;
      const double* l = label + k * stride;
      if (stride == 3 && !(l[2] > 0)) continue;  // not visible
      const double ea = Distance(a, l[0], l[1]), eb = Distance(b, l[0], l[1]);
      ref_err += ea;
      test_err += eb;
      ref_hits += ea <= pck_px;
      test_hits += eb <= pck_px;
      ++labelled;
    }
    return Status::Ok();
  }

  void Finish(TaskMetrics* tm) const {
    tm->keypoints = decoded;
    tm->labelled_keypoints = labelled;
    tm->pck_threshold_px = pck_px;
    if (decoded > 0) {
      tm->shift_mean_px = shift_sum / decoded;
      tm->shift_max_px = shift_max;
    }
    if (labelled > 0) {
      tm->ref_error_px = ref_err / labelled;
      tm->test_error_px = test_err / labelled;
      tm->ref_pck = static_cast<double>(ref_hits) / labelled;
      tm->test_pck = static_cast<double>(test_hits) / labelled;
    }
  }
};

// Width and height of the model's input image: the first input, [1, C, H, W] (C <= 4) or
// [1, H, W, C].
StatusOr<std::pair<int, int>> InputImageSize(const std::vector<NamedTensor>& sample) {
  if (!sample.empty() && sample[0].tensor.rank() == 4) {
    const Tensor& x = sample[0].tensor;
    if (x.dim(1) <= 4)
      return std::make_pair(static_cast<int>(x.dim(3)), static_cast<int>(x.dim(2)));
    if (x.dim(3) <= 4)
      return std::make_pair(static_cast<int>(x.dim(2)), static_cast<int>(x.dim(1)));
  }
  return InvalidArgument(
      "the keypoints task needs an image input [1, C, H, W] or [1, H, W, C] (C <= 4) to place "
      "keypoints in its pixels");
}

}  // namespace

// ------------------------------------------------------------------------------ model checks

Status CheckComparable(const Model& reference, const Model& test) {
  auto ref_in = InputSpecsOf(reference);
  if (!ref_in.ok()) return ref_in.status().WithContext("reference model");
  auto test_in = InputSpecsOf(test);
  if (!test_in.ok()) return test_in.status().WithContext("test model");
  auto describe = [](const InputSpec& s) {
    std::string out = "'" + s.name + "' " + DataTypeName(s.dtype) + " [";
    for (size_t i = 0; i < s.shape.size(); ++i) out += (i ? "," : "") + std::to_string(s.shape[i]);
    return out + "]";
  };
  auto list = [&](const std::vector<InputSpec>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + describe(s);
    return out.empty() ? std::string("none") : out;
  };
  bool same = ref_in->size() == test_in->size();
  for (size_t i = 0; same && i < ref_in->size(); ++i) {
    const InputSpec& a = (*ref_in)[i];
    const InputSpec& b = (*test_in)[i];
    same = a.name == b.name && a.dtype == b.dtype && a.shape == b.shape;
  }
  if (!same)
    return InvalidModel("the models have different inputs: the test model takes " + list(*test_in) +
                        ", the reference takes " + list(*ref_in));
  const auto& ro = reference.graph->outputs();
  const auto& to = test.graph->outputs();
  if (ro.size() != to.size())
    return InvalidModel("the models have different outputs: the reference has " +
                        std::to_string(ro.size()) + ", the test model " +
                        std::to_string(to.size()));
  for (size_t i = 0; i < ro.size(); ++i) {
    if (ro[i]->name() != to[i]->name())
      return InvalidModel("the models have different outputs: output " + std::to_string(i) +
                          " is '" + ro[i]->name() + "' in the reference and '" + to[i]->name() +
                          "' in the test model");
    auto rs = ro[i]->type().StaticShape();
    auto ts = to[i]->type().StaticShape();
    if (rs && ts && *rs != *ts)
      return InvalidModel("the models have different outputs: '" + ro[i]->name() + "' is " +
                          ShapeText(ro[i]->type()) + " in the reference and " +
                          ShapeText(to[i]->type()) + " in the test model");
  }
  return Status::Ok();
}

// ------------------------------------------------------------------------------ weights

namespace {

const Tensor* ConstantOf(const Value* v) { return v ? v->initializer() : nullptr; }

bool IsQdq(const Node& n) {
  return n.domain().empty() &&
         (n.op_type() == "DequantizeLinear" || n.op_type() == "QuantizeLinear");
}

// DequantizeLinear of constants: r = (q - zero_point) * scale, per tensor or along `axis`.
std::optional<Tensor> DequantizeConstant(const Node& dq) {
  const Tensor* q = ConstantOf(dq.input(0));
  const Tensor* scale = ConstantOf(dq.input(1));
  const Tensor* zp = ConstantOf(dq.input(2));
  if (!q || !scale || scale->dtype() != DataType::kFloat) return std::nullopt;
  if (dq.input(2) && !zp) return std::nullopt;
  const std::vector<double> qv = q->ToDoubleVector();
  const std::vector<double> zv = zp ? zp->ToDoubleVector() : std::vector<double>{0.0};
  const float* s = scale->data<float>();
  const int64_t nscale = scale->numel();
  int64_t inner = 1, channels = 1;
  if (nscale > 1) {
    int64_t axis = dq.GetInt("axis", 1);
    if (axis < 0) axis += static_cast<int64_t>(q->rank());
    if (axis < 0 || axis >= static_cast<int64_t>(q->rank()) || q->dim(axis) != nscale)
      return std::nullopt;
    channels = nscale;
    for (size_t d = static_cast<size_t>(axis) + 1; d < q->rank(); ++d) inner *= q->dim(d);
  }
  if (static_cast<int64_t>(zv.size()) != (nscale > 1 ? nscale : 1) && zv.size() != 1)
    return std::nullopt;
  Tensor out(DataType::kFloat, q->shape());
  float* o = out.data<float>();
  for (int64_t i = 0; i < q->numel(); ++i) {
    const int64_t c = channels > 1 ? (i / inner) % channels : 0;
    const double z = zv.size() == 1 ? zv[0] : zv[c];
    o[i] = static_cast<float>((qv[i] - z) * s[c]);
  }
  return out;
}

struct RefWeight {
  std::optional<Tensor> tensor;
  bool bn_folded = false;
  std::string reason;
};

// The reference model's input `index` of node `name`, folded with a following
// BatchNormalization the way the quantizer's fold-batchnorm does (Conv: W'[c] = W[c] s[c];
// Gemm: column/row of B; bias b' = (b - mean) s + beta, s = gamma / sqrt(var + eps)).
RefWeight ReferenceWeight(const std::unordered_map<std::string, const Node*>& ref_nodes,
                          const std::string& name, size_t index, const Shape& want) {
  RefWeight r;
  auto it = ref_nodes.find(name);
  if (name.empty() || it == ref_nodes.end()) {
    r.reason = "no node '" + name + "' in the reference model";
    return r;
  }
  const Node& n = *it->second;
  const Tensor* w = ConstantOf(n.input(index));
  const Value* out = n.output(0);
  const Node* bn = nullptr;
  if (out && out->uses().size() == 1 && !out->is_graph_output()) {
    const Node* u = out->uses()[0].node;
    if (u->op_type() == "BatchNormalization" && u->domain().empty()) bn = u;
  }
  if (!bn) {
    if (!w) {
      r.reason = "input " + std::to_string(index) + " of " + n.Describe() +
                 " in the reference model is not a constant";
      return r;
    }
    if (w->dtype() != DataType::kFloat || w->shape() != want) {
      r.reason = "the reference weight has another shape or dtype";
      return r;
    }
    r.tensor = *w;
    return r;
  }
  // BatchNormalization after the node: fold it.
  const bool conv = n.op_type() == "Conv";
  const bool gemm = n.op_type() == "Gemm";
  if (!conv && !gemm) {
    r.reason = "the reference " + n.Describe() + " is followed by a BatchNormalization that " +
               "edgefit compare does not fold for this op";
    return r;
  }
  const Tensor* wt = ConstantOf(n.input(1));
  if (!wt || wt->dtype() != DataType::kFloat || wt->rank() < 2) {
    r.reason = "the reference weight of " + n.Describe() + " is not a float constant";
    return r;
  }
  const bool trans_b = n.GetInt("transB", 0) != 0;
  const int64_t channels = conv ? wt->dim(0) : (trans_b ? wt->dim(0) : wt->dim(1));
  std::vector<const Tensor*> p(4);
  for (int k = 0; k < 4; ++k) {
    p[k] = ConstantOf(bn->input(k + 1));
    if (!p[k] || p[k]->dtype() != DataType::kFloat || p[k]->numel() != channels) {
      r.reason = "BatchNormalization after " + n.Describe() + " has non-constant parameters";
      return r;
    }
  }
  const float eps = bn->GetFloat("epsilon", 1e-5f);
  std::vector<float> s(channels);
  for (int64_t c = 0; c < channels; ++c)
    s[c] = p[0]->data<float>()[c] / std::sqrt(p[3]->data<float>()[c] + eps);
  r.bn_folded = true;
  if (index == 1) {
    Tensor f = wt->Clone();
    float* d = f.data<float>();
    if (conv) {
      const int64_t per = f.numel() / channels;
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = 0; i < per; ++i) d[c * per + i] *= s[c];
    } else {
      const int64_t rows = f.dim(0), cols = f.dim(1);
      for (int64_t a = 0; a < rows; ++a)
        for (int64_t b = 0; b < cols; ++b) d[a * cols + b] *= s[trans_b ? a : b];
    }
    if (f.shape() != want) {
      r.reason = "the folded reference weight has another shape";
      return r;
    }
    r.tensor = f;
    return r;
  }
  if (index == 2) {
    const Tensor* b = ConstantOf(n.input(2));
    if (n.input(2) && (!b || b->dtype() != DataType::kFloat)) {
      r.reason = "the reference bias of " + n.Describe() + " is not a float constant";
      return r;
    }
    const float coeff = gemm ? n.GetFloat("beta", 1.f) : 1.f;
    Tensor f(DataType::kFloat, {channels});
    if (b && b->numel() != channels && b->numel() != 1) {
      r.reason = "the reference bias has another shape";
      return r;
    }
    // b' = (b - mean) * s + beta   (p: 0 gamma, 1 beta, 2 mean, 3 var)
    for (int64_t c = 0; c < channels; ++c) {
      float bc = 0;
      if (b) bc = coeff * (b->numel() == 1 ? b->data<float>()[0] : b->data<float>()[c]);
      f.data<float>()[c] = (bc - p[2]->data<float>()[c]) * s[c] + p[1]->data<float>()[c];
    }
    if (f.shape() != want) {
      r.reason = "the folded reference bias has another shape";
      return r;
    }
    r.tensor = f;
    return r;
  }
  r.reason = "input " + std::to_string(index) + " of a BatchNormalization-folded " + n.Describe() +
             " has no reference counterpart";
  return r;
}

double TensorSqnr(const Tensor& ref, const Tensor& test) {
  DiffAccumulator acc;
  acc.Add(ref.data<float>(), test.data<float>(), ref.numel());
  return acc.Finish("").sqnr_db;
}

// One constant DequantizeLinear use in the test model and what the reference holds for it.
struct WeightSite {
  const Node* dq;
  const Node* reader;
  size_t index;
  RefWeight ref;
  WeightStats stats;
};

std::vector<WeightSite> WeightSites(const Model& reference, const Model& test) {
  std::unordered_map<std::string, const Node*> ref_nodes;
  for (const auto& n : reference.graph->nodes())
    if (!n->name().empty()) ref_nodes.emplace(n->name(), n.get());
  std::vector<WeightSite> sites;
  for (const auto& n : test.graph->nodes()) {
    if (n->op_type() != "DequantizeLinear" || !ConstantOf(n->input(0))) continue;
    const Value* out = n->output(0);
    if (!out) continue;
    auto value = DequantizeConstant(*n);
    for (const Use& u : out->uses()) {
      if (u.input_index < 0 || IsQdq(*u.node)) continue;
      WeightSite site{n.get(), u.node, static_cast<size_t>(u.input_index), {}, {}};
      site.stats.weight = out->name();
      site.stats.node = u.node->name();
      site.stats.input = u.input_index;
      if (!value) {
        site.stats.reason = "the DequantizeLinear parameters are not constants edgefit reads";
      } else {
        site.ref = ReferenceWeight(ref_nodes, u.node->name(), site.index, value->shape());
        site.stats.bn_folded = site.ref.bn_folded;
        if (site.ref.tensor) {
          site.stats.comparable = true;
          site.stats.sqnr_db = TensorSqnr(*site.ref.tensor, *value);
        } else {
          site.stats.reason = site.ref.reason;
        }
      }
      sites.push_back(std::move(site));
    }
  }
  return sites;
}

// Weights only: every activation QuantizeLinear -> DequantizeLinear pair becomes an Identity
// of the float tensor (weight DequantizeLinear nodes stay).
Status BypassActivationQdq(Model& m) {
  Graph& g = *m.graph;
  std::vector<Node*> dqs;
  for (const auto& n : g.nodes())
    if (n->op_type() == "DequantizeLinear" && n->input(0) && n->input(0)->producer() &&
        n->input(0)->producer()->op_type() == "QuantizeLinear")
      dqs.push_back(n.get());
  for (Node* dq : dqs) {
    Node* q = dq->input(0)->producer();
    Value* x = q->input(0);
    dq->set_op_type("Identity");
    dq->attributes().clear();
    dq->SetInput(0, x);
    dq->TruncateInputs(1);
    Value* qout = q->output(0);
    if (qout->uses().empty() && !qout->is_graph_output()) {
      g.RemoveNode(q);
      g.RemoveValueIfUnused(qout);
    }
  }
  return Status::Ok();
}

// Activations only: every constant DequantizeLinear read by a node is replaced, for that
// reader, by the reference model's float weight. Fails (with the reason) when one has no
// reference counterpart.
Status UseReferenceWeights(Model& m, const std::vector<WeightSite>& sites) {
  Graph& g = *m.graph;
  for (const WeightSite& s : sites) {
    if (!s.ref.tensor)
      return FailedPrecondition("input " + std::to_string(s.index) + " of " + s.reader->Describe() +
                                ": " + s.stats.reason);
    if (s.stats.sqnr_db < kRescaledWeightDb)
      return FailedPrecondition("input " + std::to_string(s.index) + " of " + s.reader->Describe() +
                                " differs from the reference beyond rounding (SQNR " +
                                Db(s.stats.sqnr_db) +
                                " dB): the quantizer rescaled it (cross-layer equalization?)");
    Node* reader = nullptr;
    for (const auto& n : g.nodes())
      if (n->name() == s.reader->name() && n->op_type() == s.reader->op_type()) reader = n.get();
    if (!reader) return Internal("node '" + s.reader->name() + "' vanished in the copy");
    Value* w = g.AddInitializer(s.stats.weight + "_reference", s.ref.tensor->Clone());
    w->type() = TypeInfo::Tensor(DataType::kFloat, s.ref.tensor->shape());
    reader->SetInput(s.index, w);
  }
  return Status::Ok();
}

// ------------------------------------------------------------------------------ layers

struct LayerSlot {
  std::string tensor;
  const Node* node;       // producer in the reference
  const Node* test_node;  // compute node in the test model
  int64_t order;
  DiffAccumulator acc;
  bool mismatch = false;  // shapes or dtypes differed at run time
};

struct Variant {
  std::string name;
  Model model;
  std::unique_ptr<Session> session;
  std::vector<DiffAccumulator> outputs;
};

int64_t Argmax(const float* v, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

bool InTopK(const float* v, int64_t n, int64_t label, int64_t k) {
  if (label < 0 || label >= n) return false;
  int64_t greater = 0;
  for (int64_t i = 0; i < n; ++i)
    if (v[i] > v[label] || (v[i] == v[label] && i < label)) ++greater;
  return greater < k;
}

std::string DataError(const std::string& m) { return std::string(kCompareDataPrefix) + m; }

}  // namespace

StatusOr<CompareReport> CompareModels(const Model& reference, const Model& test,
                                      const Dataset& data, const CompareOptions& options) {
  RETURN_IF_ERROR(CheckComparable(reference, test));
  CompareReport report;
  report.samples = data.size();
  report.random_data = data.is_random();
  report.layer_threshold_db = options.min_sqnr_db.value_or(kDefaultLayerSqnrDb);

  SessionOptions so;
  so.num_threads = options.num_threads;
  ASSIGN_OR_RETURN(auto ref_session, Session::Create(reference, so));
  auto test_session_or = Session::Create(test, so);
  if (!test_session_or.ok()) return test_session_or.status().WithContext("test model");
  std::unique_ptr<Session> test_session = std::move(test_session_or).value();

  // Labels.
  CompareTask task = options.task;
  const Tensor* labels = options.labels ? &*options.labels : nullptr;
  if (labels && task == CompareTask::kNone) task = TaskForLabels(*labels, &reference);
  if (task != CompareTask::kNone && task != CompareTask::kKeypoints && !labels)
    return InvalidArgument("task " + std::string(CompareTaskName(task)) + " needs labels");
  if (task == CompareTask::kNone) labels = nullptr;
  const int64_t total = data.total_size();
  int64_t label_row = 0;
  std::vector<double> label_values;
  if (labels) {
    if (labels->rank() < 1 || labels->dim(0) != total)
      return InvalidArgument(
          DataError("labels have " + std::to_string(labels->rank() ? labels->dim(0) : 0) +
                    " rows but the data holds " + std::to_string(total) + " samples"));
    label_row = labels->numel() / std::max<int64_t>(total, 1);
    label_values = labels->ToDoubleVector();
    for (double v : label_values)
      if (!std::isfinite(v)) return InvalidArgument(DataError("labels hold NaN or Inf"));
    if (task == CompareTask::kClassification && label_row != 1)
      return InvalidArgument(DataError("classification labels need one class id per sample, got " +
                                       std::to_string(label_row)));
    if (task == CompareTask::kKeypoints &&
        (labels->rank() != 3 || (labels->dim(2) != 2 && labels->dim(2) != 3)))
      return InvalidArgument(
          DataError("keypoint labels must be [N, K, 2] or [N, K, 3] (x, y[, "
                    "visible]), got " +
                    ShapeToString(labels->shape())));
  }
  KeypointAccumulator keypoints;

  // Matched tensors: reference node outputs whose name the test model produces with a node.
  std::vector<LayerSlot> slots;
  std::unordered_map<std::string, size_t> slot_of;
  if (options.layers) {
    int64_t order = 0;
    for (const auto& n : reference.graph->nodes()) {
      for (const Value* v : n->outputs()) {
        if (!v) continue;
        const Value* tv = test.graph->FindValue(v->name());
        if (!tv || !tv->producer()) continue;
        if (v->type().is_tensor() && v->type().elem_type != DataType::kUndefined &&
            v->type().elem_type != DataType::kFloat)
          continue;
        // The test model's compute node: look through an activation Q -> DQ pair.
        const Node* tp = tv->producer();
        if (tp->op_type() == "DequantizeLinear" && tp->input(0) && tp->input(0)->producer() &&
            tp->input(0)->producer()->op_type() == "QuantizeLinear") {
          const Node* q = tp->input(0)->producer();
          if (q->input(0) && q->input(0)->producer()) tp = q->input(0)->producer();
        }
        slot_of.emplace(v->name(), slots.size());
        slots.push_back({v->name(), n.get(), tp, order, {}, false});
      }
      ++order;
    }
  }

  // Error-source variants.
  std::vector<WeightSite> sites;
  std::vector<std::unique_ptr<Variant>> variants;
  Variant* weights_only = nullptr;
  Variant* activations_only = nullptr;
  if (options.layers) {
    sites = WeightSites(reference, test);
    // Listed in the readers' order in the test model, weight before bias.
    std::unordered_map<const Node*, size_t> position;
    for (const auto& n : test.graph->nodes()) position.emplace(n.get(), position.size());
    std::stable_sort(sites.begin(), sites.end(), [&](const WeightSite& a, const WeightSite& b) {
      const size_t pa = position[a.reader], pb = position[b.reader];
      return pa != pb ? pa < pb : a.index < b.index;
    });
    for (const WeightSite& s : sites) report.weights.push_back(s.stats);
    if (options.sources) {
      std::vector<std::string> notes;
      bool has_activation_qdq = false, has_weight_qdq = !sites.empty();
      for (const auto& n : test.graph->nodes())
        if (n->op_type() == "QuantizeLinear") has_activation_qdq = true;
      if (!has_activation_qdq || !has_weight_qdq)
        notes.push_back(std::string("the test model has no ") +
                        (!has_activation_qdq ? "activation" : "weight") +
                        " QuantizeLinear/DequantizeLinear: nothing to separate");
      else {
        for (int k = 0; k < 2; ++k) {
          ASSIGN_OR_RETURN(Model m, CloneModel(test));
          auto v = std::make_unique<Variant>();
          v->name = k == 0 ? "weights only" : "activations only";
          Status st = k == 0 ? BypassActivationQdq(m) : UseReferenceWeights(m, sites);
          if (!st.ok()) {
            notes.push_back(v->name + " not separable: " + st.message());
            continue;
          }
          v->model = std::move(m);
          auto s = Session::Create(v->model, so);
          if (!s.ok()) {
            notes.push_back(v->name + " not separable: " + s.status().message());
            continue;
          }
          v->session = std::move(s).value();
          v->outputs.resize(reference.graph->outputs().size());
          (k == 0 ? weights_only : activations_only) = v.get();
          variants.push_back(std::move(v));
        }
      }
      for (const auto& n : notes)
        report.sources_note += (report.sources_note.empty() ? "" : "; ") + n;
    }
  }

  const size_t num_outputs = reference.graph->outputs().size();
  std::vector<DiffAccumulator> out_acc(num_outputs);
  TaskMetrics tm;
  tm.task = task;
  double ref_abs = 0, test_abs = 0, ref_sq = 0, test_sq = 0;
  int64_t label_count = 0, ref_top1 = 0, test_top1 = 0, ref_top5 = 0, test_top5 = 0, agree = 0;

  std::unordered_map<std::string, Tensor> held;  // this sample's matched reference tensors
  int64_t held_bytes = 0, peak_held = 0;
  const int64_t n = data.size();
  for (int64_t i = 0; i < n; ++i) {
    auto sample = data.Get(i);
    if (!sample.ok()) return InvalidArgument(DataError(sample.status().message()));
    held.clear();
    held_bytes = 0;
    Observer ref_obs;
    if (!slots.empty())
      ref_obs = [&](const Node&, const Value& v, const Tensor& t) {
        if (t.dtype() != DataType::kFloat || !slot_of.count(v.name())) return;
        held[v.name()] = t.Clone();
        held_bytes += static_cast<int64_t>(t.nbytes());
        peak_held = std::max(peak_held, held_bytes);
      };
    auto ref_out = ref_session->Run(*sample, ref_obs);
    if (!ref_out.ok())
      return ref_out.status().WithContext("reference model on sample " + data.Describe(i));
    Observer test_obs;
    if (!slots.empty())
      test_obs = [&](const Node&, const Value& v, const Tensor& t) {
        auto it = held.find(v.name());
        if (it == held.end()) return;
        LayerSlot& slot = slots[slot_of[v.name()]];
        if (t.dtype() != DataType::kFloat || t.numel() != it->second.numel())
          slot.mismatch = true;
        else
          slot.acc.Add(it->second.data<float>(), t.data<float>(), t.numel());
        held_bytes -= static_cast<int64_t>(it->second.nbytes());
        held.erase(it);
      };
    auto test_out = test_session->Run(*sample, test_obs);
    if (!test_out.ok())
      return test_out.status().WithContext("test model on sample " + data.Describe(i));
    held.clear();
    held_bytes = 0;
    for (size_t o = 0; o < num_outputs; ++o) {
      const Tensor& r = (*ref_out)[o];
      const Tensor& t = (*test_out)[o];
      if (r.dtype() != DataType::kFloat || t.dtype() != DataType::kFloat)
        return Unsupported("output '" + reference.graph->outputs()[o]->name() +
                           "' is not float32 in both models (" + DataTypeName(r.dtype()) + " / " +
                           DataTypeName(t.dtype()) + ")");
      if (r.shape() != t.shape())
        return InvalidModel("the models have different outputs: '" +
                            reference.graph->outputs()[o]->name() + "' has another shape");
      out_acc[o].Add(r.data<float>(), t.data<float>(), r.numel());
    }
    for (auto& v : variants) {
      auto vo = v->session->Run(*sample);
      if (!vo.ok())
        return vo.status().WithContext(v->name + " variant on sample " + data.Describe(i));
      for (size_t o = 0; o < num_outputs; ++o)
        v->outputs[o].Add((*ref_out)[o].data<float>(), (*vo)[o].data<float>(),
                          (*ref_out)[o].numel());
    }
    if (task == CompareTask::kKeypoints) {
      const int64_t row = n == total ? i : (i * total) / n;
      const Tensor& r = (*ref_out)[0];
      if (r.rank() != 4 || r.dim(0) != 1)
        return InvalidArgument("the keypoints task needs heatmaps [1, K, h, w] as output '" +
                               reference.graph->outputs()[0]->name() + "', got " +
                               ShapeToString(r.shape()));
      if (labels && labels->dim(1) != r.dim(1))
        return InvalidArgument(DataError("keypoint labels have " + std::to_string(labels->dim(1)) +
                                         " keypoints but output '" +
                                         reference.graph->outputs()[0]->name() + "' has " +
                                         std::to_string(r.dim(1)) + " heatmaps"));
      ASSIGN_OR_RETURN(auto size, InputImageSize(*sample));
      const int64_t stride = labels ? labels->dim(2) : 0;
      RETURN_IF_ERROR(keypoints.Add(r, (*test_out)[0], size.first, size.second,
                                    labels ? label_values.data() + row * label_row : nullptr,
                                    stride));
    } else if (labels) {
      const int64_t row = n == total ? i : (i * total) / n;
      const Tensor& r = (*ref_out)[0];
      const Tensor& t = (*test_out)[0];
      if (task == CompareTask::kRegression) {
        if (r.numel() != label_row)
          return InvalidArgument(DataError(
              "label rows hold " + std::to_string(label_row) + " values but output '" +
              reference.graph->outputs()[0]->name() + "' has " + std::to_string(r.numel())));
        for (int64_t k = 0; k < label_row; ++k) {
          const double y = label_values[row * label_row + k];
          const double er = r.data<float>()[k] - y, et = t.data<float>()[k] - y;
          ref_abs += std::fabs(er);
          test_abs += std::fabs(et);
          ref_sq += er * er;
          test_sq += et * et;
        }
        label_count += label_row;
      } else {
        const int64_t y = static_cast<int64_t>(label_values[row]);
        const int64_t c = r.numel();
        const int64_t ra = Argmax(r.data<float>(), c), ta = Argmax(t.data<float>(), c);
        ref_top1 += ra == y;
        test_top1 += ta == y;
        ref_top5 += InTopK(r.data<float>(), c, y, 5);
        test_top5 += InTopK(t.data<float>(), c, y, 5);
        agree += ra == ta;
        ++label_count;
      }
    }
    if (options.progress) options.progress("compare", i + 1, n);
  }

  for (size_t o = 0; o < num_outputs; ++o)
    report.outputs.push_back(out_acc[o].Finish(reference.graph->outputs()[o]->name()));
  if (task == CompareTask::kKeypoints) {
    tm.samples = n;
    tm.labelled = labels != nullptr;
    keypoints.Finish(&tm);
    report.task = tm;
  } else if (labels) {
    tm.samples = n;
    if (task == CompareTask::kRegression && label_count > 0) {
      tm.ref_mae = ref_abs / label_count;
      tm.test_mae = test_abs / label_count;
      tm.ref_rmse = std::sqrt(ref_sq / label_count);
      tm.test_rmse = std::sqrt(test_sq / label_count);
    } else if (label_count > 0) {
      const double c = static_cast<double>(label_count);
      tm.ref_top1 = ref_top1 / c;
      tm.test_top1 = test_top1 / c;
      tm.ref_top5 = ref_top5 / c;
      tm.test_top5 = test_top5 / c;
      tm.agreement = agree / c;
    }
    report.task = tm;
  }
  auto min_sqnr = [](const std::vector<DiffAccumulator>& accs) {
    double m = kInf;
    for (const auto& a : accs) m = std::min(m, a.Finish("").sqnr_db);
    return m;
  };
  if (weights_only) report.weights_only_sqnr_db = min_sqnr(weights_only->outputs);
  if (activations_only) report.activations_only_sqnr_db = min_sqnr(activations_only->outputs);

  // Layers: SQNR, the noise added at each node, ranking.
  if (options.layers) {
    // NSR of every reference value: matched -> measured; graph input / constant -> 0 (exact);
    // unmatched intermediate -> the largest NSR among its producer's inputs (inherited).
    std::unordered_map<const Value*, double> nsr;
    std::function<double(const Value*)> nsr_of = [&](const Value* v) -> double {
      if (!v || v->has_initializer() || !v->producer()) return 0.0;
      auto it = nsr.find(v);
      if (it != nsr.end()) return it->second;
      nsr[v] = 0.0;  // guards recursion
      double r = 0;
      auto s = slot_of.find(v->name());
      if (s != slot_of.end() && !slots[s->second].mismatch && slots[s->second].acc.count() > 0) {
        r = slots[s->second].acc.nsr();
      } else {
        for (const Value* in : v->producer()->inputs()) r = std::max(r, nsr_of(in));
      }
      nsr[v] = r;
      return r;
    };
    for (const LayerSlot& s : slots) {
      if (s.mismatch || s.acc.count() == 0) continue;
      LayerStats l;
      l.tensor = s.tensor;
      l.op = s.node->op_type();
      l.node = s.node->name();
      l.test_node = s.test_node->name();
      l.test_op = s.test_node->op_type();
      l.order = s.order;
      l.sqnr_db = s.acc.Finish("").sqnr_db;
      double in_nsr = 0;
      for (const Value* in : s.node->inputs()) in_nsr = std::max(in_nsr, nsr_of(in));
      const double out_nsr = s.acc.nsr();
      const double in_db = in_nsr > 0 ? -10.0 * std::log10(in_nsr) : kInf;
      l.drop_db = (std::isinf(in_db) && std::isinf(l.sqnr_db)) ? 0.0 : in_db - l.sqnr_db;
      l.noise_added = std::isinf(out_nsr) ? kInf : std::max(0.0, out_nsr - in_nsr);
      l.below_threshold = l.sqnr_db < report.layer_threshold_db;
      if (l.below_threshold && report.first_below.empty()) report.first_below = l.tensor;
      report.layers.push_back(l);
    }
    std::stable_sort(report.layers.begin(), report.layers.end(),
                     [](const LayerStats& a, const LayerStats& b) {
                       if (a.noise_added != b.noise_added) return a.noise_added > b.noise_added;
                       return a.order < b.order;
                     });
  }

  // Accounting of the streaming state (memory test; docs/compare.md).
  report.state_bytes =
      peak_held + static_cast<int64_t>((slots.size() + out_acc.size()) * sizeof(DiffAccumulator) +
                                       slots.size() * sizeof(LayerSlot));

  // Verdict.
  struct Check {
    bool pass;
    std::string text;
  };
  std::vector<Check> checks;
  auto cmp = [](bool pass) { return pass ? " <= " : " > "; };
  // A task decides the verdict when it has labels (keypoints without labels only report the
  // shift; the output SQNR decides).
  const bool labelled_task =
      report.task.has_value() &&
      (report.task->task != CompareTask::kKeypoints || report.task->labelled);
  if (options.max_metric_increase && !labelled_task)
    return InvalidArgument("--max-metric-increase needs labels (and a task)");
  const bool task_check = labelled_task && (options.max_metric_increase || !options.min_sqnr_db);
  if (task_check) {
    const TaskMetrics& t = *report.task;
    if (t.task == CompareTask::kKeypoints) {
      const double inc = t.test_error_px - t.ref_error_px;
      const double thr =
          options.max_metric_increase.value_or(kDefaultRegressionRelativeIncrease * t.ref_error_px);
      const bool pass = inc <= thr;
      checks.push_back(
          {pass, "keypoint error increase " + Fmt("%.4g", inc) + " px" + cmp(pass) + "threshold " +
                     Fmt("%.4g", thr) + " px" +
                     (options.max_metric_increase ? " (--max-metric-increase)"
                                                  : " (default: 10% of the reference error)")});
    } else if (t.task == CompareTask::kRegression) {
      const double inc = t.test_mae - t.ref_mae;
      const double thr =
          options.max_metric_increase.value_or(kDefaultRegressionRelativeIncrease * t.ref_mae);
      const bool pass = inc <= thr;
      checks.push_back(
          {pass, "MAE increase " + Fmt("%.4g", inc) + cmp(pass) + "threshold " + Fmt("%.4g", thr) +
                     (options.max_metric_increase ? " (--max-metric-increase)"
                                                  : " (default: 10% of the reference MAE)")});
    } else {
      const double drop = (t.ref_top1 - t.test_top1) * 100.0;
      const double thr = options.max_metric_increase.value_or(kDefaultTop1DropPoints);
      const bool pass = drop <= thr;
      checks.push_back(
          {pass, "top-1 accuracy drop " + Fmt("%.2f", drop) + " points" + cmp(pass) + "threshold " +
                     Fmt("%.4g", thr) +
                     (options.max_metric_increase ? " (--max-metric-increase)" : " (default)")});
    }
  }
  if (options.min_sqnr_db || !labelled_task) {
    const double thr = options.min_sqnr_db.value_or(kDefaultOutputSqnrDb);
    const DiffStats* worst = nullptr;
    for (const DiffStats& d : report.outputs)
      if (!worst || d.sqnr_db < worst->sqnr_db) worst = &d;
    if (worst) {
      const bool pass = worst->sqnr_db >= thr;
      checks.push_back({pass, "output '" + worst->name + "' SQNR " + Db(worst->sqnr_db) + " dB" +
                                  (pass ? " >= " : " < ") + "threshold " + Fmt("%.4g", thr) +
                                  " dB" + (options.min_sqnr_db ? " (--min-sqnr)" : " (default)")});
    }
  }
  report.acceptable = true;
  for (const Check& c : checks) report.acceptable = report.acceptable && c.pass;
  for (const Check& c : checks)
    if (c.pass == report.acceptable)
      report.verdict += (report.verdict.empty() ? "" : "; ") + c.text;
  report.verdict += report.acceptable ? ": ACCEPTABLE" : ": DEGRADED";
  return report;
}

// ------------------------------------------------------------------------------ formatting

namespace {

std::string G(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return Fmt("%.4g", v);
}

nlohmann::json Num(double v) {
  if (!std::isfinite(v)) return nullptr;
  return v;
}

}  // namespace

std::string FormatCompareText(const CompareReport& r, int top) {
  std::ostringstream out;
  out << "samples: " << r.samples << (r.random_data ? " (RANDOM data, not real samples)" : "")
      << "\n";
  for (const DiffStats& d : r.outputs) {
    out << "output '" << d.name << "' (" << d.count << " values)\n"
        << "  MAE " << G(d.mae) << "  RMSE " << G(d.rmse) << "  max |diff| " << G(d.max_abs)
        << "\n  diff mean " << G(d.mean) << "  std " << G(d.std) << "  cosine "
        << Fmt("%.6f", d.cosine) << "  SQNR " << Db(d.sqnr_db) << " dB\n";
  }
  if (r.task && r.task->task == CompareTask::kKeypoints) {
    const TaskMetrics& t = *r.task;
    out << "task: keypoints on " << t.samples << " samples (" << t.keypoints
        << " keypoints per model, in input-image pixels)\n";
    out << "  shift reference -> test: mean " << Fmt("%.3f", t.shift_mean_px) << " px, max "
        << Fmt("%.3f", t.shift_max_px) << " px\n";
    if (t.labelled) {
      out << "  against " << t.labelled_keypoints << " visible labelled keypoints:\n";
      out << "                 reference       test     change\n";
      out << "  error px  " << Fmt("%15.3f", t.ref_error_px) << Fmt("%11.3f", t.test_error_px)
          << Fmt("%+11.3f", t.test_error_px - t.ref_error_px) << "\n";
      out << "  PCK@" << Fmt("%.2f", kPckAlpha) << Fmt("%14.2f%%", 100 * t.ref_pck)
          << Fmt("%10.2f%%", 100 * t.test_pck) << Fmt("%+10.2f", 100 * (t.test_pck - t.ref_pck))
          << " points (within " << Fmt("%.2f", t.pck_threshold_px) << " px)\n";
    }
  } else if (r.task) {
    const TaskMetrics& t = *r.task;
    out << "task: " << CompareTaskName(t.task) << " on " << t.samples << " labelled samples\n";
    if (t.task == CompareTask::kRegression) {
      out << "            reference       test     change\n";
      out << "  MAE  " << Fmt("%16.4f", t.ref_mae) << Fmt("%11.4f", t.test_mae)
          << Fmt("%+11.4f", t.test_mae - t.ref_mae) << "   (label units)\n";
      out << "  RMSE " << Fmt("%16.4f", t.ref_rmse) << Fmt("%11.4f", t.test_rmse)
          << Fmt("%+11.4f", t.test_rmse - t.ref_rmse) << "\n";
    } else {
      out << "            reference       test     change\n";
      out << "  top-1" << Fmt("%15.2f%%", 100 * t.ref_top1) << Fmt("%10.2f%%", 100 * t.test_top1)
          << Fmt("%+10.2f", 100 * (t.test_top1 - t.ref_top1)) << " points\n";
      out << "  top-5" << Fmt("%15.2f%%", 100 * t.ref_top5) << Fmt("%10.2f%%", 100 * t.test_top5)
          << Fmt("%+10.2f", 100 * (t.test_top5 - t.ref_top5)) << " points\n";
      out << "  agreement (same top-1) " << Fmt("%.2f%%", 100 * t.agreement) << "\n";
    }
  }
  if (!r.layers.empty()) {
    out << "layers: " << r.layers.size() << " matched tensors; threshold "
        << Fmt("%.1f", r.layer_threshold_db)
        << " dB; first below: " << (r.first_below.empty() ? "none" : "'" + r.first_below + "'")
        << "\n";
    auto table = [&](const std::vector<const LayerStats*>& rows) {
      out << "     #  noise added  SQNR dB  drop dB  op                  tensor (test-model "
             "node)\n";
      for (size_t i = 0; i < rows.size() && static_cast<int>(i) < top; ++i) {
        const LayerStats& l = *rows[i];
        char line[160];
        std::snprintf(line, sizeof line, "  %4lld  %11s  %7s  %7s  %-18s  ",
                      static_cast<long long>(l.order), G(l.noise_added).c_str(),
                      Db(l.sqnr_db).c_str(), Db(l.drop_db).c_str(), l.op.c_str());
        out << line << "'" << l.tensor << "'";
        if (l.test_node != l.node) out << " (" << l.test_op << " '" << l.test_node << "')";
        out << (l.below_threshold ? "  < threshold" : "") << "\n";
      }
    };
    std::vector<const LayerStats*> by_noise, by_sqnr;
    for (const auto& l : r.layers) by_noise.push_back(&l);
    by_sqnr = by_noise;
    std::stable_sort(by_sqnr.begin(), by_sqnr.end(), [](const LayerStats* a, const LayerStats* b) {
      return a->sqnr_db < b->sqnr_db;
    });
    out << "  most noise added (# = node position in the reference model):\n";
    table(by_noise);
    out << "  lowest SQNR:\n";
    table(by_sqnr);
  }
  if (!r.weights.empty()) {
    out << "weights: " << r.weights.size() << " quantized\n";
    for (const WeightStats& w : r.weights) {
      out << "  '" << w.node << "' input " << w.input << ": ";
      if (w.comparable)
        out << "SQNR " << Db(w.sqnr_db) << " dB"
            << (w.bn_folded ? " (vs BN-folded reference)" : "");
      else
        out << "not comparable: " << w.reason;
      out << "\n";
    }
  }
  if (r.weights_only_sqnr_db || r.activations_only_sqnr_db || !r.sources_note.empty()) {
    out << "error sources (output SQNR vs the reference):";
    if (r.weights_only_sqnr_db) out << " weights only " << Db(*r.weights_only_sqnr_db) << " dB;";
    if (r.activations_only_sqnr_db)
      out << " activations only " << Db(*r.activations_only_sqnr_db) << " dB;";
    if (!r.outputs.empty()) {
      double m = kInf;
      for (const auto& d : r.outputs) m = std::min(m, d.sqnr_db);
      out << " both " << Db(m) << " dB";
    }
    out << "\n";
    if (!r.sources_note.empty()) out << "  " << r.sources_note << "\n";
  }
  out << r.verdict << "\n";
  return out.str();
}

std::string FormatCompareJson(const CompareReport& r, int indent) {
  nlohmann::json j;
  j["schema"] = "edgefit-compare/1";
  j["samples"] = r.samples;
  j["random_data"] = r.random_data;
  nlohmann::json outs = nlohmann::json::array();
  for (const DiffStats& d : r.outputs)
    outs.push_back({{"name", d.name},
                    {"count", d.count},
                    {"mae", d.mae},
                    {"rmse", d.rmse},
                    {"max_abs", d.max_abs},
                    {"mean", d.mean},
                    {"std", d.std},
                    {"cosine", Num(d.cosine)},
                    {"sqnr_db", Num(d.sqnr_db)}});
  j["outputs"] = outs;
  if (r.task) {
    const TaskMetrics& t = *r.task;
    nlohmann::json tj{{"task", CompareTaskName(t.task)}, {"samples", t.samples}};
    if (t.task == CompareTask::kKeypoints) {
      tj["keypoints"] = t.keypoints;
      tj["shift_px"] = {{"mean", t.shift_mean_px}, {"max", t.shift_max_px}};
      tj["labelled"] = t.labelled;
      if (t.labelled) {
        tj["labelled_keypoints"] = t.labelled_keypoints;
        tj["pck_threshold_px"] = t.pck_threshold_px;
        tj["reference"] = {{"error_px", t.ref_error_px}, {"pck", t.ref_pck}};
        tj["test"] = {{"error_px", t.test_error_px}, {"pck", t.test_pck}};
        tj["error_increase_px"] = t.test_error_px - t.ref_error_px;
      }
    } else if (t.task == CompareTask::kRegression) {
      tj["reference"] = {{"mae", t.ref_mae}, {"rmse", t.ref_rmse}};
      tj["test"] = {{"mae", t.test_mae}, {"rmse", t.test_rmse}};
      tj["mae_increase"] = t.test_mae - t.ref_mae;
      tj["rmse_increase"] = t.test_rmse - t.ref_rmse;
    } else {
      tj["reference"] = {{"top1", t.ref_top1}, {"top5", t.ref_top5}};
      tj["test"] = {{"top1", t.test_top1}, {"top5", t.test_top5}};
      tj["top1_drop_points"] = 100 * (t.ref_top1 - t.test_top1);
      tj["agreement"] = t.agreement;
    }
    j["task"] = tj;
  } else {
    j["task"] = nullptr;
  }
  if (!r.layers.empty() || !r.weights.empty()) {
    nlohmann::json lj = nlohmann::json::array();
    for (const LayerStats& l : r.layers)
      lj.push_back({{"tensor", l.tensor},
                    {"op", l.op},
                    {"node", l.node},
                    {"test_node", l.test_node},
                    {"test_op", l.test_op},
                    {"order", l.order},
                    {"sqnr_db", Num(l.sqnr_db)},
                    {"drop_db", Num(l.drop_db)},
                    {"noise_added", Num(l.noise_added)},
                    {"below_threshold", l.below_threshold}});
    nlohmann::json wj = nlohmann::json::array();
    for (const WeightStats& w : r.weights) {
      nlohmann::json e{{"weight", w.weight},
                       {"node", w.node},
                       {"input", w.input},
                       {"comparable", w.comparable},
                       {"bn_folded", w.bn_folded}};
      e["sqnr_db"] = w.comparable ? Num(w.sqnr_db) : nlohmann::json(nullptr);
      if (!w.comparable) e["reason"] = w.reason;
      wj.push_back(e);
    }
    j["layers"] = {{"threshold_db", r.layer_threshold_db},
                   {"first_below", r.first_below.empty() ? nlohmann::json(nullptr)
                                                         : nlohmann::json(r.first_below)},
                   {"ranked", lj},
                   {"weights", wj}};
    j["sources"] = {
        {"weights_only_sqnr_db",
         r.weights_only_sqnr_db ? Num(*r.weights_only_sqnr_db) : nlohmann::json(nullptr)},
        {"activations_only_sqnr_db",
         r.activations_only_sqnr_db ? Num(*r.activations_only_sqnr_db) : nlohmann::json(nullptr)},
        {"note", r.sources_note}};
  }
  j["state_bytes"] = r.state_bytes;
  j["acceptable"] = r.acceptable;
  j["verdict"] = r.verdict;
  return j.dump(indent);
}

}  // namespace edgefit
