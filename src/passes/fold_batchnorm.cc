// fold-batchnorm: fold an inference BatchNormalization into the Conv, ConvTranspose or Gemm
// that feeds it.
//
//   Before: x -> Conv(W, b) -> t -> BatchNormalization(scale, B, mean, var) -> y
//   After:  x -> Conv(W', b') -> y
//
// With s[c] = scale[c] / sqrt(var[c] + epsilon) for output channel c:
//   W'[c, ...] = W[c, ...] * s[c]          b'[c] = (b[c] - mean[c]) * s[c] + B[c]
// (b = 0 when the Conv has no bias). The output channel is axis 0 of a Conv weight, axis 1 of
// a ConvTranspose weight (within each group), and for Gemm the N axis of B (rows if transB).
// Fires only when every operand is a float32 constant, the producer's output feeds nothing but
// the BatchNormalization, and the BatchNormalization is in inference mode with one output.
#include <cmath>
#include <map>
#include <tuple>

#include "passes/pass_util.h"
#include "passes/passes.h"

namespace edgefit {
namespace {

struct Folding {
  Node* producer;
  Node* bn;
  Tensor weight;  // new weight
  Tensor bias;    // new bias
};

std::optional<std::vector<float>> FloatVector(const Value* v, int64_t n) {
  const Tensor* t = ConstantValue(v);
  if (!t || t->dtype() != DataType::kFloat || t->numel() != n) return std::nullopt;
  return std::vector<float>(t->data<float>(), t->data<float>() + n);
}

std::optional<Folding> Match(Node* bn) {
  if (!IsOp(*bn, "BatchNormalization") || bn->num_inputs() < 5) return std::nullopt;
  if (bn->GetInt("training_mode", 0) != 0) return std::nullopt;
  for (size_t i = 1; i < bn->num_outputs(); ++i)
    if (bn->output(i) && (!bn->output(i)->uses().empty() || bn->output(i)->is_graph_output()))
      return std::nullopt;
  Value* t = bn->input(0);
  if (!t || !HasSingleConsumer(t)) return std::nullopt;
  Node* p = t->producer();
  if (!p || !(IsOp(*p, "Conv") || IsOp(*p, "ConvTranspose") || IsOp(*p, "Gemm")))
    return std::nullopt;
  const Tensor* w = ConstantValue(p->input(1));
  if (!w || w->dtype() != DataType::kFloat || w->rank() < 2) return std::nullopt;

  const std::string& op = p->op_type();
  int64_t group = p->GetInt("group", 1);
  bool trans_b = p->GetInt("transB", 0) != 0;
  int64_t channels;
  if (op == "Conv")
    channels = w->dim(0);
  else if (op == "ConvTranspose")
    channels = w->dim(1) * group;
  else {
    if (w->rank() != 2 || p->GetFloat("alpha", 1.f) != 1.f) return std::nullopt;
    channels = trans_b ? w->dim(0) : w->dim(1);
  }
  auto scale = FloatVector(bn->input(1), channels);
  auto beta = FloatVector(bn->input(2), channels);
  auto mean = FloatVector(bn->input(3), channels);
  auto var = FloatVector(bn->input(4), channels);
  if (!scale || !beta || !mean || !var) return std::nullopt;
  std::vector<float> bias(channels, 0.f);
  if (p->input(2)) {
    const Tensor* b = ConstantValue(p->input(2));
    if (!b || b->dtype() != DataType::kFloat) return std::nullopt;
    float coeff = op == "Gemm" ? p->GetFloat("beta", 1.f) : 1.f;
    if (b->numel() == channels) {
      for (int64_t c = 0; c < channels; ++c) bias[c] = coeff * b->data<float>()[c];
    } else if (b->numel() == 1) {
      for (int64_t c = 0; c < channels; ++c) bias[c] = coeff * b->data<float>()[0];
    } else {
      return std::nullopt;  // a Gemm C with a row axis cannot become a per-channel bias
    }
  }
  float eps = bn->GetFloat("epsilon", 1e-5f);
  std::vector<float> s(channels);
  for (int64_t c = 0; c < channels; ++c) s[c] = (*scale)[c] / std::sqrt((*var)[c] + eps);

  Folding f{p, bn, w->Clone(), Tensor(DataType::kFloat, {channels})};
  float* wd = f.weight.data<float>();
  if (op == "Conv") {
    int64_t per = w->numel() / channels;
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < per; ++i) wd[c * per + i] *= s[c];
  } else if (op == "ConvTranspose") {
    // W: [C_in, C_out/group, k...]; output channel = g * (C_out/group) + j.
    int64_t cin = w->dim(0), cout_g = w->dim(1), k = w->numel() / (cin * cout_g);
    int64_t cin_g = cin / group;
    for (int64_t ci = 0; ci < cin; ++ci)
      for (int64_t j = 0; j < cout_g; ++j) {
        int64_t c = (ci / cin_g) * cout_g + j;
        for (int64_t i = 0; i < k; ++i) wd[(ci * cout_g + j) * k + i] *= s[c];
      }
  } else {
    int64_t rows = w->dim(0), cols = w->dim(1);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t q = 0; q < cols; ++q) wd[r * cols + q] *= s[trans_b ? r : q];
  }
  for (int64_t c = 0; c < channels; ++c)
    f.bias.data<float>()[c] = (bias[c] - (*mean)[c]) * s[c] + (*beta)[c];
  return f;
}

class FoldBatchNormPass : public Pass {
 public:
  const char* id() const override { return "fold-batchnorm"; }
  const char* summary() const override {
    return "fold inference BatchNormalization into the preceding Conv/ConvTranspose/Gemm";
  }
  StatusOr<PassResult> Run(PassContext& ctx) override {
    Graph& g = *ctx.model.graph;
    std::vector<Folding> foldings;
    for (const auto& n : g.nodes())
      if (auto f = Match(n.get())) foldings.push_back(std::move(*f));
    PassResult result;
    // Producers sharing one weight whose BatchNormalizations share their parameters (e.g. the
    // branches of unbatch's split mode) share one folded weight and bias as well.
    using Key = std::tuple<const Value*, const Value*, const Value*, const Value*, const Value*,
                           const Value*, float, std::string, int64_t, int64_t>;
    std::map<Key, std::pair<Value*, Value*>> folded;
    for (Folding& f : foldings) {
      Node* p = f.producer;
      Key key{p->input(1),
              p->input(2),
              f.bn->input(1),
              f.bn->input(2),
              f.bn->input(3),
              f.bn->input(4),
              f.bn->GetFloat("epsilon", 1e-5f),
              p->op_type(),
              p->GetInt("group", 1),
              p->GetInt("transB", 0)};
      auto it = folded.find(key);
      if (it == folded.end()) {
        Value* nw = g.AddInitializer(p->input(1)->name() + "_bnfolded", std::move(f.weight));
        Value* nb = g.AddInitializer(
            (p->input(2) ? p->input(2)->name() : p->name() + "_bias") + "_bnfolded",
            std::move(f.bias));
        it = folded.emplace(key, std::make_pair(nw, nb)).first;
      }
      Value* w = it->second.first;
      Value* b = it->second.second;
      p->SetInput(1, w);
      p->SetInput(2, b);
      if (IsOp(*p, "Gemm")) p->SetAttribute(Attribute::Float("beta", 1.f));
      Value* t = p->output(0);
      Value* y = f.bn->output(0);
      std::string desc = f.bn->Describe() + " into " + p->Describe();
      // p now computes y directly: y takes over t's place.
      g.SetNodeOutput(f.bn, 0, nullptr);
      g.RemoveNode(f.bn);
      g.SetNodeOutput(p, 0, y);
      g.RemoveValueIfUnused(t);
      result.Rewrote("folded " + desc);
    }
    return result;
  }
};

}  // namespace

std::unique_ptr<Pass> CreateFoldBatchNormPass() { return std::make_unique<FoldBatchNormPass>(); }

}  // namespace edgefit
