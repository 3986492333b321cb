// Empirical bias correction (see bias_correction.h).
#include "quant/bias_correction.h"

#include <cmath>
#include <limits>
#include <vector>

#include "passes/pass_util.h"
#include "runtime/session.h"

namespace edgefit {
namespace {

// Per-channel running sums of one tensor.
struct ChannelMeans {
  std::vector<double> sum;
  int64_t count = 0;  // elements per channel accumulated

  void Add(const Tensor& t, int axis) {
    if (t.dtype() != DataType::kFloat || t.rank() == 0) return;
    const int r = static_cast<int>(t.rank());
    const int a = axis < 0 ? r - 1 : axis;
    if (a >= r) return;
    const int64_t channels = t.dim(static_cast<size_t>(a));
    int64_t inner = 1, outer = 1;
    for (int i = a + 1; i < r; ++i) inner *= t.dim(static_cast<size_t>(i));
    for (int i = 0; i < a; ++i) outer *= t.dim(static_cast<size_t>(i));
    if (sum.empty()) sum.assign(static_cast<size_t>(channels), 0.0);
    if (static_cast<int64_t>(sum.size()) != channels) return;
    const float* d = t.data<float>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < channels; ++c) {
        const float* p = d + (o * channels + c) * inner;
        double s = 0;
        for (int64_t i = 0; i < inner; ++i) s += p[i];
        sum[static_cast<size_t>(c)] += s;
      }
    count += outer * inner;
  }
  double Mean(size_t c) const { return count > 0 ? sum[c] / static_cast<double>(count) : 0.0; }
};

Node* FindNode(Graph& g, const std::string& name) {
  for (const auto& up : g.nodes())
    if (up->name() == name) return up.get();
  return nullptr;
}

}  // namespace

StatusOr<int> CorrectBiases(const Model& float_model, Model& quantized,
                            const std::map<std::string, BiasSite>& sites, const Dataset& calib,
                            const BiasCorrectionOptions& options) {
  // Output names per site in both models.
  std::map<std::string, const BiasSite*> by_float_output, by_quant_output;
  for (const auto& [name, site] : sites) {
    const Node* fn = nullptr;
    for (const auto& up : float_model.graph->nodes())
      if (up->name() == name) fn = up.get();
    if (!fn || !fn->output(0) || site.output.empty() || site.bias_dequantized.empty()) continue;
    by_float_output[fn->output(0)->name()] = &site;
    by_quant_output[site.output] = &site;
  }
  if (by_float_output.empty()) return 0;

  std::map<std::string, ChannelMeans> float_means, quant_means;
  SessionOptions so;
  so.num_threads = options.num_threads;
  ASSIGN_OR_RETURN(auto float_session, Session::Create(float_model, so));
  ASSIGN_OR_RETURN(auto quant_session, Session::Create(quantized, so));
  const int64_t total = calib.size();
  const int64_t n = options.max_samples > 0 ? std::min(options.max_samples, total) : total;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t i = k * total / n;
    ASSIGN_OR_RETURN(std::vector<NamedTensor> feeds, calib.Get(i));
    auto f = float_session->Run(feeds, [&](const Node&, const Value& v, const Tensor& t) {
      auto it = by_float_output.find(v.name());
      if (it != by_float_output.end())
        float_means[it->second->node].Add(t, it->second->channel_axis);
    });
    if (!f.ok()) return f.status();
    auto q = quant_session->Run(feeds, [&](const Node&, const Value& v, const Tensor& t) {
      auto it = by_quant_output.find(v.name());
      if (it != by_quant_output.end())
        quant_means[it->second->node].Add(t, it->second->channel_axis);
    });
    if (!q.ok()) return q.status();
    if (options.progress) options.progress("bias correction", k + 1, n);
  }
  // Sessions reference the model: release them before rewriting.
  float_session.reset();
  quant_session.reset();

  int corrected = 0;
  Graph& g = *quantized.graph;
  for (const auto& [name, site] : sites) {
    auto fm = float_means.find(name);
    auto qm = quant_means.find(name);
    if (fm == float_means.end() || qm == quant_means.end()) continue;
    Value* bdq = g.FindValue(site.bias_dequantized);
    Node* dq = bdq ? bdq->producer() : nullptr;
    if (!dq || dq->op_type() != "DequantizeLinear" || !dq->input(0) ||
        !dq->input(0)->has_initializer() || !dq->input(1) || !dq->input(1)->has_initializer())
      continue;
    Tensor* qb = dq->input(0)->mutable_initializer();
    const Tensor& scales = *dq->input(1)->initializer();
    if (qb->dtype() != DataType::kInt32 ||
        qb->numel() != static_cast<int64_t>(fm->second.sum.size()) ||
        qm->second.sum.size() != fm->second.sum.size())
      continue;
    if (FindNode(g, name) == nullptr) continue;
    Tensor updated = qb->Clone();
    int32_t* b = updated.data<int32_t>();
    bool changed = false;
    for (int64_t c = 0; c < updated.numel(); ++c) {
      const float s = scales.numel() == 1 ? scales.data<float>()[0] : scales.data<float>()[c];
      const double delta =
          fm->second.Mean(static_cast<size_t>(c)) - qm->second.Mean(static_cast<size_t>(c));
      const double value = static_cast<double>(b[c]) + delta / static_cast<double>(s);
      const double clamped = std::max<double>(
          std::numeric_limits<int32_t>::min(),
          std::min<double>(std::numeric_limits<int32_t>::max(), std::nearbyint(value)));
      if (static_cast<int32_t>(clamped) != b[c]) changed = true;
      b[c] = static_cast<int32_t>(clamped);
    }
    if (changed) {
      g.SetInitializer(dq->input(0), std::move(updated));
      ++corrected;
    }
  }
  return corrected;
}

}  // namespace edgefit
