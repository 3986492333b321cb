// Bias correction from E[x] and the weight quantization error (see bias_correction.h).
#include "quant/bias_correction.h"

#include <cmath>
#include <limits>
#include <vector>

#include "runtime/session.h"

namespace edgefit {
namespace {

Node* FindNode(const Graph& g, const std::string& name) {
  for (const auto& up : g.nodes())
    if (up->name() == name) return up.get();
  return nullptr;
}

// Float values of DequantizeLinear(q, scale, zero_point) with per-axis parameters.
StatusOr<Tensor> Dequantize(const Node& dq) {
  const Value* qv = dq.input(0);
  const Value* sv = dq.input(1);
  const Value* zv = dq.input(2);
  if (!qv || !qv->has_initializer() || !sv || !sv->has_initializer())
    return FailedPrecondition(dq.Describe() + ": weight is not a constant");
  const Tensor& q = *qv->initializer();
  const Tensor& s = *sv->initializer();
  const Tensor* z = zv && zv->has_initializer() ? zv->initializer() : nullptr;
  const std::vector<double> qd = q.ToDoubleVector();
  const std::vector<double> zd = z ? z->ToDoubleVector() : std::vector<double>{0.0};
  Tensor out(DataType::kFloat, q.shape());
  int64_t axis = dq.GetInt("axis", 1);
  if (axis < 0) axis += static_cast<int64_t>(q.rank());
  int64_t inner = 1;
  for (size_t i = static_cast<size_t>(axis) + 1; i < q.rank(); ++i) inner *= q.dim(i);
  const int64_t channels = s.numel() > 1 ? q.dim(static_cast<size_t>(axis)) : 1;
  for (int64_t i = 0; i < q.numel(); ++i) {
    const int64_t c = channels > 1 ? (i / inner) % channels : 0;
    const double zp = zd.size() > 1 ? zd[static_cast<size_t>(c)] : zd[0];
    out.data<float>()[i] =
        static_cast<float>(s.data<float>()[c] * (qd[static_cast<size_t>(i)] - zp));
  }
  return out;
}

// Runs `node` (Conv/ConvTranspose/Gemm, same attributes) alone on `x` with weight `w`, no bias.
StatusOr<Tensor> RunLayer(const Node& node, int64_t opset, const Tensor& x, const Tensor& w,
                          int num_threads) {
  Model m;
  m.ir_version = 8;
  m.opset_imports.push_back({"", opset});
  Graph& g = *m.graph;
  Value* xv = *g.CreateValue("x");
  xv->type() = TypeInfo::Tensor(DataType::kFloat, x.shape());
  g.AddInput(xv);
  Value* wv = g.AddInitializer("w", w);
  Value* yv = *g.CreateValue("y");
  Node* n = g.AddNode(node.op_type(), {xv, wv}, {yv}, "layer");
  for (const Attribute& a : node.attributes()) n->SetAttribute(a);
  g.AddOutput(yv);
  SessionOptions so;
  so.num_threads = num_threads;
  ASSIGN_OR_RETURN(auto session, Session::Create(m, so));
  ASSIGN_OR_RETURN(std::vector<Tensor> out, session->Run({{"x", x}}));
  return out[0];
}

std::vector<double> ChannelMeans(const Tensor& t, int axis) {
  const int r = static_cast<int>(t.rank());
  const int a = axis < 0 ? r - 1 : axis;
  const int64_t channels = t.dim(static_cast<size_t>(a));
  int64_t inner = 1;
  for (int i = a + 1; i < r; ++i) inner *= t.dim(static_cast<size_t>(i));
  std::vector<double> sum(static_cast<size_t>(channels), 0.0);
  for (int64_t i = 0; i < t.numel(); ++i)
    sum[static_cast<size_t>((i / inner) % channels)] += t.data<float>()[i];
  const double per = static_cast<double>(t.numel() / channels);
  for (double& v : sum) v /= per;
  return sum;
}

}  // namespace

StatusOr<int> CorrectBiases(const Model& float_model, Model& quantized,
                            const std::map<std::string, BiasSite>& sites, const Dataset& calib,
                            const BiasCorrectionOptions& options) {
  Graph& g = *quantized.graph;
  // The input tensor of every site in the quantized model -> running sum over samples.
  struct Accumulator {
    std::vector<double> sum;
    Shape shape;
    int64_t count = 0;
  };
  std::map<std::string, Accumulator> inputs;  // by input value name
  for (const auto& [name, site] : sites) {
    const Node* n = FindNode(g, name);
    if (n && n->input(0) && !site.bias_dequantized.empty()) inputs[n->input(0)->name()];
  }
  if (inputs.empty()) return 0;
  {
    SessionOptions so;
    so.num_threads = options.num_threads;
    ASSIGN_OR_RETURN(auto session, Session::Create(quantized, so));
    auto add = [&](const std::string& name, const Tensor& t) {
      auto it = inputs.find(name);
      if (it == inputs.end() || t.dtype() != DataType::kFloat) return;
      Accumulator& acc = it->second;
      if (acc.sum.empty()) {
        acc.sum.assign(static_cast<size_t>(t.numel()), 0.0);
        acc.shape = t.shape();
      }
      if (acc.shape != t.shape()) return;
      for (int64_t i = 0; i < t.numel(); ++i) acc.sum[static_cast<size_t>(i)] += t.data<float>()[i];
      ++acc.count;
    };
    const int64_t total = calib.size();
    const int64_t n = options.max_samples > 0 ? std::min(options.max_samples, total) : total;
    for (int64_t k = 0; k < n; ++k) {
      ASSIGN_OR_RETURN(std::vector<NamedTensor> feeds, calib.Get(k * total / n));
      for (const NamedTensor& f : feeds) add(f.name, f.tensor);
      auto run = session->Run(
          feeds, [&](const Node&, const Value& v, const Tensor& t) { add(v.name(), t); });
      if (!run.ok()) return run.status();
      if (options.progress) options.progress("bias correction", k + 1, n);
    }
  }

  int corrected = 0;
  for (const auto& [name, site] : sites) {
    Node* n = FindNode(g, name);
    const Node* fn = FindNode(*float_model.graph, name);
    if (!n || !fn || site.bias_dequantized.empty() || !n->input(0)) continue;
    const Accumulator& acc = inputs[n->input(0)->name()];
    if (acc.count == 0) continue;
    const Node* wdq = n->input(1) ? n->input(1)->producer() : nullptr;
    const Value* wf = fn->input(1);
    Value* bdq_out = g.FindValue(site.bias_dequantized);
    Node* bdq = bdq_out ? bdq_out->producer() : nullptr;
    if (!wdq || wdq->op_type() != "DequantizeLinear" || !wf || !wf->has_initializer() || !bdq ||
        bdq->op_type() != "DequantizeLinear" || !bdq->input(0)->has_initializer() ||
        !bdq->input(1)->has_initializer())
      continue;
    ASSIGN_OR_RETURN(Tensor wq, Dequantize(*wdq));
    const Tensor& w = *wf->initializer();
    if (w.shape() != wq.shape() || w.dtype() != DataType::kFloat) continue;
    Tensor dw(DataType::kFloat, w.shape());
    for (int64_t i = 0; i < w.numel(); ++i)
      dw.data<float>()[i] = w.data<float>()[i] - wq.data<float>()[i];
    Tensor mean_x(DataType::kFloat, acc.shape);
    for (int64_t i = 0; i < mean_x.numel(); ++i)
      mean_x.data<float>()[i] =
          static_cast<float>(acc.sum[static_cast<size_t>(i)] / static_cast<double>(acc.count));
    ASSIGN_OR_RETURN(Tensor shift,
                     RunLayer(*n, quantized.OpsetVersion(), mean_x, dw, options.num_threads));
    const std::vector<double> delta = ChannelMeans(shift, site.channel_axis);
    Tensor updated = bdq->input(0)->initializer()->Clone();
    const Tensor& scales = *bdq->input(1)->initializer();
    if (updated.dtype() != DataType::kInt32 ||
        updated.numel() != static_cast<int64_t>(delta.size()))
      continue;
    bool changed = false;
    for (int64_t c = 0; c < updated.numel(); ++c) {
      const double s = scales.numel() == 1 ? scales.data<float>()[0] : scales.data<float>()[c];
      int32_t& b = updated.data<int32_t>()[c];
      const double value = std::nearbyint(b + delta[static_cast<size_t>(c)] / s);
      const int32_t nb = static_cast<int32_t>(std::clamp<double>(
          value, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
      changed |= nb != b;
      b = nb;
    }
    if (changed) {
      g.SetInitializer(bdq->input(0), std::move(updated));
      ++corrected;
    }
  }
  return corrected;
}

}  // namespace edgefit
