// Cross-layer equalization: numeric equivalence on our executor before/after, equal per-channel
// ranges in both layers of every pair, depthwise pairs, chains, skips with reasons, idempotence,
// and the MobileNet-like fixture.
#include "quant/cross_layer_equalization.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "onnx/model_io.h"
#include "passes/pass.h"
#include "runtime/session.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

// ---------------------------------------------------------------------------- model building

class Builder {
 public:
  explicit Builder(int opset = 13) {
    model.ir_version = 8;
    model.opset_imports.push_back({"", opset});
  }
  Graph& g() { return *model.graph; }

  Value* Input(const std::string& name, const Shape& dims) {
    Value* v = *g().CreateValue(name);
    v->type() = TypeInfo::Tensor(DataType::kFloat, dims);
    g().AddInput(v);
    return v;
  }
  Value* Init(const std::string& name, Tensor t) { return g().AddInitializer(name, std::move(t)); }
  Value* Op(const std::string& op, const std::vector<Value*>& inputs, const std::string& out,
            std::vector<Attribute> attrs = {}) {
    Value* v = *g().CreateValue(out);
    Node* n = g().AddNode(op, inputs, {v}, out);  // node named like its output
    for (Attribute& a : attrs) n->SetAttribute(std::move(a));
    return v;
  }
  // Conv with weight [out, in/group, k, k] whose output channel o has range ~ scales[o]
  // (exactly scales[o]: one element is set to +-scales[o]), "same" padding, and a bias.
  Value* Conv(Value* x, const std::string& name, int64_t in, int64_t out, int64_t k, int64_t group,
              const std::vector<float>& scales, uint32_t seed,
              const std::vector<float>& in_scales = {}) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    Tensor w(DataType::kFloat, {out, in / group, k, k});
    int64_t per = w.numel() / out;
    for (int64_t o = 0; o < out; ++o) {
      for (int64_t i = 0; i < per; ++i) w.data<float>()[o * per + i] = u(rng) * scales[o];
      w.data<float>()[o * per + static_cast<int64_t>(rng() % per)] =
          (o % 2 ? -1.f : 1.f) * scales[o];
    }
    // Optionally scale input channel c (group 1 only) by in_scales[c] as well.
    int64_t kk = k * k;
    for (int64_t o = 0; o < out && !in_scales.empty(); ++o)
      for (int64_t i = 0; i < in; ++i)
        for (int64_t e = 0; e < kk; ++e) w.data<float>()[(o * in + i) * kk + e] *= in_scales[i];
    Tensor b(DataType::kFloat, {out});
    for (int64_t o = 0; o < out; ++o) b.data<float>()[o] = 0.5f * u(rng) * scales[o];
    std::vector<Value*> inputs = {x, Init(name + ".weight", w), Init(name + ".bias", b)};
    return Op(
        "Conv", inputs, name,
        {Attribute::Int("group", group), Attribute::Ints("pads", {k / 2, k / 2, k / 2, k / 2})});
  }
  void Output(Value* v) { g().AddOutput(v); }

  Model model;
};

// n values spread log-uniformly from lo to hi (e.g. 0.01 .. 100), shuffled deterministically.
std::vector<float> LogRanges(int64_t n, float lo, float hi, uint32_t seed) {
  std::vector<float> r(n);
  for (int64_t i = 0; i < n; ++i)
    r[i] = lo * std::pow(hi / lo, n == 1 ? 0.f : static_cast<float>(i) / (n - 1));
  std::shuffle(r.begin(), r.end(), std::mt19937(seed));
  return r;
}
std::vector<float> Ones(int64_t n) { return std::vector<float>(n, 1.f); }

// ---------------------------------------------------------------------------- running

Node* FindNode(const Model& m, const std::string& name) {
  for (const auto& n : m.graph->nodes())
    if (n->name() == name) return n.get();
  ADD_FAILURE() << "no node " << name;
  return nullptr;
}

const Tensor& WeightOf(const Model& m, const std::string& node, int index = 1) {
  Node* n = FindNode(m, node);
  EXPECT_TRUE(n && n->input(index) && n->input(index)->has_initializer());
  return *n->input(index)->initializer();
}

// Seeded uniform [-1, 1) inputs; dynamic dims become 1.
std::vector<NamedTensor> RandomInputs(const Model& m, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<NamedTensor> inputs;
  for (const Value* v : m.graph->inputs()) {
    if (v->has_initializer()) continue;
    Shape shape;
    for (const Dim& d : v->type().dims) shape.push_back(d.is_fixed() ? d.value : 1);
    Tensor t(DataType::kFloat, shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
    inputs.push_back({v->name(), t});
  }
  return inputs;
}

std::vector<Tensor> Run(const Model& m, const std::vector<NamedTensor>& inputs) {
  auto session = Session::Create(m);
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  if (!session.ok()) return {};
  auto out = (*session)->Run(inputs);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok()) return {};
  std::vector<Tensor> copies;
  for (const Tensor& t : *out) copies.push_back(t.Clone());
  return copies;
}

// Largest max|a - b| / max|a| over the outputs, on 3 seeded random input sets.
double MaxRelativeDifference(const Model& before, const Model& after) {
  double worst = 0;
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    auto inputs = RandomInputs(before, seed);
    auto a = Run(before, inputs), b = Run(after, inputs);
    EXPECT_EQ(a.size(), b.size());
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
      EXPECT_EQ(a[i].shape(), b[i].shape());
      double max_ref = 0, max_diff = 0;
      for (int64_t j = 0; j < a[i].numel(); ++j) {
        max_ref = std::max<double>(max_ref, std::fabs(a[i].data<float>()[j]));
        max_diff =
            std::max<double>(max_diff, std::fabs(a[i].data<float>()[j] - b[i].data<float>()[j]));
      }
      worst = std::max(worst, max_ref > 0 ? max_diff / max_ref : max_diff);
    }
  }
  return worst;
}

Model Clone(const Model& m) {
  auto c = CloneModel(m);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

CleReport Equalize(Model& m, CleOptions options = {}) {
  auto r = EqualizeCrossLayer(&m, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(m.graph->Verify().ok()) << m.graph->Verify().ToString();
  return r.ok() ? std::move(r).value() : CleReport{};
}

// ---------------------------------------------------------------------------- ranges (written
// out independently of the implementation's channel slices)

// max |W[o, ...]| for each output channel of a Conv weight [O, I/g, k...].
std::vector<float> ConvOutputRanges(const Tensor& w) {
  int64_t out = w.dim(0), per = w.numel() / out;
  std::vector<float> r(out, 0.f);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < per; ++i)
      r[o] = std::max(r[o], std::fabs(w.data<float>()[o * per + i]));
  return r;
}

// max |W[o, j, ...]| over the output channels o that read input channel c = group(o) * I/g + j.
std::vector<float> ConvInputRanges(const Tensor& w, int64_t group) {
  int64_t out = w.dim(0), in_g = w.dim(1), k = w.numel() / (out * in_g);
  int64_t out_g = out / group;
  std::vector<float> r(in_g * group, 0.f);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t j = 0; j < in_g; ++j) {
      int64_t c = (o / out_g) * in_g + j;
      for (int64_t i = 0; i < k; ++i)
        r[c] = std::max(r[c], std::fabs(w.data<float>()[(o * in_g + j) * k + i]));
    }
  return r;
}

float SpreadOf(const std::vector<float>& r) {
  double sum = 0, mx = 0;
  for (float v : r) sum += v, mx = std::max<double>(mx, v);
  return static_cast<float>(mx / (sum / r.size()));
}

// max / min over the channels (the precision the narrowest channel loses under per-tensor
// quantization, compared with the widest one).
float MaxOverMin(const std::vector<float>& r) {
  return *std::max_element(r.begin(), r.end()) / *std::min_element(r.begin(), r.end());
}

void ExpectNear(const std::vector<float>& a, const std::vector<float>& b, double rel,
                const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t c = 0; c < a.size(); ++c)
    EXPECT_NEAR(a[c], b[c], rel * std::max(std::fabs(a[c]), std::fabs(b[c])))
        << what << ", channel " << c;
}

std::vector<float> Product(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> p(a.size());
  for (size_t i = 0; i < a.size(); ++i) p[i] = a[i] * b[i];
  return p;
}

// Bitwise equality of every initializer of two models with the same initializer names.
bool SameInitializers(const Model& a, const Model& b) {
  if (a.graph->initializers().size() != b.graph->initializers().size()) return false;
  for (const Value* v : a.graph->initializers()) {
    const Value* w = b.graph->FindValue(v->name());
    if (!w || !w->has_initializer()) return false;
    const Tensor& x = *v->initializer();
    const Tensor& y = *w->initializer();
    if (x.shape() != y.shape() || x.nbytes() != y.nbytes() ||
        std::memcmp(x.raw(), y.raw(), x.nbytes()) != 0)
      return false;
  }
  return true;
}

std::string SkipsText(const CleReport& r) {
  std::string s;
  for (const CleSkip& k : r.skipped) s += k.node + " / " + k.second + ": " + k.reason + "\n";
  return s;
}

// x[1,8,10,10] -> conv1 (8 -> 16, 3x3, channel ranges 0.01 .. 100) -> act -> conv2 (16 -> 8, 3x3)
Model ConvActConv(const std::string& act, uint32_t seed = 7) {
  Builder b;
  Value* x = b.Input("x", {1, 8, 10, 10});
  Value* h = b.Conv(x, "conv1", 8, 16, 3, 1, LogRanges(16, 0.01f, 100.f, seed), seed);
  if (act == "Relu") {
    h = b.Op("Relu", {h}, "act");
  } else if (act == "LeakyRelu") {
    h = b.Op("LeakyRelu", {h}, "act", {Attribute::Float("alpha", 0.1f)});
  } else if (act == "PRelu") {
    h = b.Op("PRelu",
             {h, b.Init("slope", Tensor::FromVector<float>(DataType::kFloat, {1}, {0.2f}))}, "act");
  } else if (act == "Relu6") {
    h = b.Op("Clip", {h, b.Init("lo", Tensor::Scalar(0.f)), b.Init("hi", Tensor::Scalar(6.f))},
             "act");
  } else if (act == "ClipMin0") {
    h = b.Op("Clip", {h, b.Init("lo", Tensor::Scalar(0.f))}, "act");
  }
  // conv2's input channel c has a range of about factor_c / r1_c (factor in [0.5, 2]): the
  // scale ambiguity of a trained Relu network, where one layer's wide channel meets the next
  // layer's narrow one. CLE can then make both layers' channels nearly alike.
  std::vector<float> r1 = LogRanges(16, 0.01f, 100.f, seed), in_scales(16);
  std::mt19937 rng(seed + 2);
  std::uniform_real_distribution<float> factor(0.5f, 2.f);
  for (int c = 0; c < 16; ++c) in_scales[c] = factor(rng) / r1[c];
  Value* y = b.Conv(h, "conv2", 16, 8, 3, 1, Ones(8), seed + 1, in_scales);
  b.Output(y);
  return std::move(b.model);
}

// ---------------------------------------------------------------------------- tests

class ClePairTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ClePairTest, EqualizesRangesAndKeepsOutputs) {
  const std::string act = GetParam();
  Model original = ConvActConv(act);
  Model m = Clone(original);
  CleReport r = Equalize(m);

  ASSERT_EQ(r.equalized.size(), 1u) << SkipsText(r);
  EXPECT_TRUE(r.skipped.empty()) << SkipsText(r);
  const ClePair& p = r.equalized[0];
  EXPECT_EQ(p.first, "conv1");
  EXPECT_EQ(p.second, "conv2");
  EXPECT_EQ(p.activation, act.empty() ? "" : act == "ClipMin0" ? "Clip" : act);
  EXPECT_EQ(p.channels, 16);
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.iterations, 1);

  // Same function.
  EXPECT_LE(MaxRelativeDifference(original, m), 1e-5);

  // r1_c / s_c == r2_c * s_c, and the product r1_c * r2_c is kept (s_c cancels).
  std::vector<float> r1 = ConvOutputRanges(WeightOf(original, "conv1"));
  std::vector<float> r2 = ConvInputRanges(WeightOf(original, "conv2"), 1);
  std::vector<float> r1e = ConvOutputRanges(WeightOf(m, "conv1"));
  std::vector<float> r2e = ConvInputRanges(WeightOf(m, "conv2"), 1);
  ExpectNear(r1e, r2e, 1e-5, "equalized ranges");
  ExpectNear(Product(r1e, r2e), Product(r1, r2), 1e-5, "r1 * r2");

  // The spread max/mean of the first layer shrinks a lot (0.01 .. 100 becomes ~0.1 .. 10).
  EXPECT_NEAR(p.first_spread_before, SpreadOf(r1), 1e-4 * SpreadOf(r1));
  EXPECT_NEAR(p.first_spread_after, SpreadOf(r1e), 1e-4 * SpreadOf(r1e));
  EXPECT_NEAR(p.second_spread_after, SpreadOf(r2e), 1e-4 * SpreadOf(r2e));
  EXPECT_LT(p.first_spread_after, p.first_spread_before / 3);
  EXPECT_LT(p.second_spread_after, p.second_spread_before / 3);
  EXPECT_LT(MaxOverMin(r1e), MaxOverMin(r1) / 1000);
  std::cout << "[cle] conv1 -" << act << "-> conv2: spread conv1 " << p.first_spread_before
            << " -> " << p.first_spread_after << ", conv2 " << p.second_spread_before << " -> "
            << p.second_spread_after << ", ranges conv1 ["
            << *std::min_element(r1.begin(), r1.end()) << ", "
            << *std::max_element(r1.begin(), r1.end()) << "] -> ["
            << *std::min_element(r1e.begin(), r1e.end()) << ", "
            << *std::max_element(r1e.begin(), r1e.end()) << "]\n";

  // New initializers replace the old ones, the second layer's bias is left alone.
  EXPECT_EQ(FindNode(m, "conv1")->input(1)->name(), "conv1.weight_cle");
  EXPECT_EQ(FindNode(m, "conv1")->input(2)->name(), "conv1.bias_cle");
  EXPECT_EQ(FindNode(m, "conv2")->input(1)->name(), "conv2.weight_cle");
  EXPECT_EQ(FindNode(m, "conv2")->input(2)->name(), "conv2.bias");
  EXPECT_EQ(m.graph->FindValue("conv1.weight"), nullptr);
  EXPECT_EQ(m.graph->initializers().size(), original.graph->initializers().size());
  // The bias moved with its channel: b1'_c = b1_c / s_c, s_c = r1_c / r1'_c.
  const Tensor& b1 = WeightOf(original, "conv1", 2);
  const Tensor& b1e = WeightOf(m, "conv1", 2);
  for (int c = 0; c < 16; ++c)
    EXPECT_NEAR(b1e.data<float>()[c], b1.data<float>()[c] * r1e[c] / r1[c],
                1e-5 * std::fabs(b1.data<float>()[c]) + 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Activations, ClePairTest,
                         ::testing::Values("Relu", "LeakyRelu", "PRelu", "ClipMin0", ""),
                         [](const auto& info) {
                           return info.param.empty() ? std::string("None") : info.param;
                         });

TEST(CleTest, SecondRunChangesNothing) {
  Model m = ConvActConv("Relu");
  Equalize(m);
  Model once = Clone(m);
  CleReport again = Equalize(m);
  EXPECT_FALSE(again.changed);
  EXPECT_EQ(again.iterations, 0);
  EXPECT_TRUE(again.converged);
  ASSERT_EQ(again.equalized.size(), 1u);  // still an eligible (and balanced) pair
  EXPECT_NEAR(again.equalized[0].first_spread_before, again.equalized[0].first_spread_after, 0);
  EXPECT_TRUE(SameInitializers(once, m));
  EXPECT_EQ(FindNode(m, "conv1")->input(1)->name(), "conv1.weight_cle");
}

// x -> conv (8 -> 16) -> Relu -> depthwise 3x3 (group 16) -> y: the depthwise conv's weight slice
// c is its input channel c; its bias belongs to its output and must not change.
TEST(CleTest, ConvFollowedByDepthwise) {
  Builder b;
  Value* x = b.Input("x", {1, 8, 9, 9});
  Value* h = b.Conv(x, "pw", 8, 16, 1, 1, LogRanges(16, 0.01f, 100.f, 3), 3);
  h = b.Op("Relu", {h}, "relu");
  b.Output(b.Conv(h, "dw", 16, 16, 3, 16, LogRanges(16, 0.05f, 5.f, 4), 4));
  Model m = Clone(b.model);
  CleReport r = Equalize(m);
  ASSERT_EQ(r.equalized.size(), 1u) << SkipsText(r);
  EXPECT_LE(MaxRelativeDifference(b.model, m), 1e-5);
  ExpectNear(ConvOutputRanges(WeightOf(m, "pw")), ConvInputRanges(WeightOf(m, "dw"), 16), 1e-5,
             "pw out vs dw in");
  // For a depthwise conv the input ranges are the per-slice (= output channel) ranges.
  ExpectNear(ConvInputRanges(WeightOf(m, "dw"), 16), ConvOutputRanges(WeightOf(m, "dw")), 0,
             "dw in == dw out");
  EXPECT_EQ(FindNode(m, "dw")->input(2)->name(), "dw.bias");
  EXPECT_LT(r.equalized[0].first_spread_after, r.equalized[0].first_spread_before);
  EXPECT_LT(MaxOverMin(ConvOutputRanges(WeightOf(m, "pw"))),
            MaxOverMin(ConvOutputRanges(WeightOf(b.model, "pw"))) / 5);
}

// x -> depthwise 3x3 (group 16, ranges 0.01 .. 100) -> Relu -> pointwise 16 -> 24 (MobileNet).
TEST(CleTest, DepthwiseFollowedByPointwise) {
  Builder b;
  Value* x = b.Input("x", {1, 16, 9, 9});
  Value* h = b.Conv(x, "dw", 16, 16, 3, 16, LogRanges(16, 0.01f, 100.f, 5), 5);
  h = b.Op("Relu", {h}, "relu");
  b.Output(b.Conv(h, "pw", 16, 24, 1, 1, Ones(24), 6));
  Model m = Clone(b.model);
  CleReport r = Equalize(m);
  ASSERT_EQ(r.equalized.size(), 1u) << SkipsText(r);
  const ClePair& p = r.equalized[0];
  EXPECT_EQ(p.first, "dw");
  EXPECT_EQ(p.channels, 16);
  EXPECT_LE(MaxRelativeDifference(b.model, m), 1e-5);
  std::vector<float> r1e = ConvOutputRanges(WeightOf(m, "dw"));
  ExpectNear(r1e, ConvInputRanges(WeightOf(m, "pw"), 1), 1e-5, "dw out vs pw in");
  EXPECT_LT(p.first_spread_after, p.first_spread_before * 0.75);
  std::vector<float> r1 = ConvOutputRanges(WeightOf(b.model, "dw"));
  EXPECT_LT(MaxOverMin(r1e), MaxOverMin(r1) / 10);
  std::cout << "[cle] dw -Relu-> pw: max/min dw " << MaxOverMin(r1) << " -> " << MaxOverMin(r1e)
            << "\n";
  std::cout << "[cle] dw -Relu-> pw: spread dw " << p.first_spread_before << " -> "
            << p.first_spread_after << ", pw (input channels) " << p.second_spread_before << " -> "
            << p.second_spread_after << "\n";
}

// A depthwise conv with channel multiplier 2 as the second layer, and a grouped conv (group 4).
TEST(CleTest, GroupedAndMultiplierConvs) {
  Builder b;
  Value* x = b.Input("x", {1, 8, 7, 7});
  Value* h = b.Conv(x, "a", 8, 8, 3, 1, LogRanges(8, 0.01f, 100.f, 8), 8);
  h = b.Conv(h, "dw2", 8, 16, 3, 8, LogRanges(16, 0.1f, 10.f, 9), 9);  // multiplier 2
  h = b.Op("Relu", {h}, "relu");
  b.Output(b.Conv(h, "g4", 16, 12, 3, 4, Ones(12), 10));  // 4 groups of 4 -> 3
  Model m = Clone(b.model);
  CleOptions options;
  options.tolerance = 1e-6f;
  options.max_iterations = 200;
  CleReport r = Equalize(m, options);
  ASSERT_EQ(r.equalized.size(), 2u) << SkipsText(r);
  EXPECT_LE(MaxRelativeDifference(b.model, m), 1e-5);
  EXPECT_TRUE(r.converged);
  ExpectNear(ConvOutputRanges(WeightOf(m, "a")), ConvInputRanges(WeightOf(m, "dw2"), 8), 1e-4,
             "a out vs dw2 in");
  ExpectNear(ConvOutputRanges(WeightOf(m, "dw2")), ConvInputRanges(WeightOf(m, "g4"), 4), 1e-4,
             "dw2 out vs g4 in");
}

// pw -> Relu -> dw -> Relu -> pw: every sweep unbalances the neighbour pair; sweeps converge.
TEST(CleTest, ChainOfThreeConverges) {
  Builder b;
  Value* x = b.Input("x", {1, 8, 9, 9});
  Value* h = b.Conv(x, "c1", 8, 16, 1, 1, LogRanges(16, 0.01f, 100.f, 11), 11);
  h = b.Op("Relu", {h}, "r1");
  h = b.Conv(h, "c2", 16, 16, 3, 16, LogRanges(16, 0.01f, 100.f, 12), 12);
  h = b.Op("Relu", {h}, "r2");
  b.Output(b.Conv(h, "c3", 16, 8, 1, 1, LogRanges(8, 0.1f, 10.f, 13), 13));
  Model m = Clone(b.model);
  CleOptions options;
  options.tolerance = 1e-5f;
  options.max_iterations = 500;
  CleReport r = Equalize(m, options);
  ASSERT_EQ(r.equalized.size(), 2u) << SkipsText(r);
  EXPECT_TRUE(r.converged);
  EXPECT_GT(r.iterations, 1);
  EXPECT_LT(r.iterations, options.max_iterations);
  EXPECT_LE(MaxRelativeDifference(b.model, m), 1e-5);
  // Both pairs balanced at once (within the sweep tolerance: |s - 1| < 1e-5 means the ranges
  // agree within about 2e-5).
  ExpectNear(ConvOutputRanges(WeightOf(m, "c1")), ConvInputRanges(WeightOf(m, "c2"), 16), 1e-4,
             "c1/c2");
  ExpectNear(ConvOutputRanges(WeightOf(m, "c2")), ConvInputRanges(WeightOf(m, "c3"), 1), 1e-4,
             "c2/c3");
  std::cout << "[cle] chain c1-c2-c3: " << r.iterations << " sweeps; spread c1 "
            << r.equalized[0].first_spread_before << " -> " << r.equalized[0].first_spread_after
            << ", c2 " << r.equalized[1].first_spread_before << " -> "
            << r.equalized[1].first_spread_after << "\n";

  for (const char* n : {"c1", "c2"})
    std::cout << "[cle]   " << n << " output channels max/min "
              << MaxOverMin(ConvOutputRanges(WeightOf(b.model, n))) << " -> "
              << MaxOverMin(ConvOutputRanges(WeightOf(m, n))) << "\n";

  // With the default options the cap or the tolerance stops it early, still equivalent.
  Model d = Clone(b.model);
  CleReport rd = Equalize(d, CleOptions{2, 1e-3f});
  EXPECT_EQ(rd.iterations, 2);
  EXPECT_FALSE(rd.converged);
  EXPECT_LE(MaxRelativeDifference(b.model, d), 1e-5);
}

TEST(CleTest, Relu6BetweenLayersIsSkippedWithReason) {
  Model original = ConvActConv("Relu6");
  Model m = Clone(original);
  CleReport r = Equalize(m);
  EXPECT_TRUE(r.equalized.empty());
  EXPECT_FALSE(r.changed);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0].node, "conv1");
  EXPECT_EQ(r.skipped[0].second, "conv2");
  EXPECT_NE(r.skipped[0].reason.find("Clip 'act'"), std::string::npos) << r.skipped[0].reason;
  EXPECT_NE(r.skipped[0].reason.find("max 6"), std::string::npos) << r.skipped[0].reason;
  EXPECT_NE(r.skipped[0].reason.find("not positively homogeneous"), std::string::npos);
  EXPECT_TRUE(SameInitializers(original, m));
}

TEST(CleTest, BatchNormBetweenLayersIsSkipped) {
  Builder b;
  Value* x = b.Input("x", {1, 4, 5, 5});
  Value* h = b.Conv(x, "c1", 4, 4, 3, 1, LogRanges(4, 0.1f, 10.f, 1), 1);
  auto vec = [&](const std::string& n, float v) {
    return b.Init(n, Tensor::FromVector<float>(DataType::kFloat, {4}, std::vector<float>(4, v)));
  };
  h = b.Op("BatchNormalization",
           {h, vec("s", 1.f), vec("bb", 0.f), vec("mu", 0.f), vec("var", 1.f)}, "bn");
  b.Output(b.Conv(h, "c2", 4, 4, 3, 1, Ones(4), 2));
  CleReport r = Equalize(b.model);
  EXPECT_TRUE(r.equalized.empty());
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_NE(r.skipped[0].reason.find("fold-batchnorm"), std::string::npos) << SkipsText(r);
}

// conv1's output is read by Relu -> conv2 and by a graph output: nothing may change.
TEST(CleTest, MultipleConsumersAreNotTouched) {
  Model original = ConvActConv("Relu");
  original.graph->AddOutput(original.graph->FindValue("conv1"));
  Model m = Clone(original);
  CleReport r = Equalize(m);
  EXPECT_TRUE(r.equalized.empty());
  EXPECT_FALSE(r.changed);
  ASSERT_EQ(r.skipped.size(), 1u) << SkipsText(r);
  EXPECT_NE(r.skipped[0].reason.find("graph output"), std::string::npos) << SkipsText(r);
  EXPECT_TRUE(SameInitializers(original, m));

  // conv1 feeding two convs directly.
  Builder b;
  Value* x = b.Input("x", {1, 4, 5, 5});
  Value* h = b.Conv(x, "c1", 4, 4, 3, 1, LogRanges(4, 0.1f, 10.f, 1), 1);
  b.Output(b.Conv(h, "c2", 4, 4, 3, 1, Ones(4), 2));
  b.Output(b.Conv(h, "c3", 4, 4, 3, 1, Ones(4), 3));
  Model m2 = Clone(b.model);
  CleReport r2 = Equalize(m2);
  EXPECT_TRUE(r2.equalized.empty());
  ASSERT_EQ(r2.skipped.size(), 1u) << SkipsText(r2);
  EXPECT_NE(r2.skipped[0].reason.find("2 reader(s)"), std::string::npos) << SkipsText(r2);
  EXPECT_TRUE(SameInitializers(b.model, m2));
}

// Two second layers share one weight initializer: it is never rescaled for one of them.
TEST(CleTest, SharedInitializerIsNotModified) {
  Builder b;
  Value* x = b.Input("x", {1, 4, 5, 5});
  Value* h1 = b.Conv(x, "c1", 4, 4, 3, 1, LogRanges(4, 0.1f, 10.f, 1), 1);
  Value* h2 = b.Conv(x, "c2", 4, 4, 3, 1, LogRanges(4, 0.1f, 10.f, 2), 2);
  Value* w = b.Init("shared.weight", WeightOf(b.model, "c1").Clone());
  b.Output(b.Op("Conv", {b.Op("Relu", {h1}, "r1"), w}, "c3"));
  b.Output(b.Op("Conv", {b.Op("Relu", {h2}, "r2"), w}, "c4"));
  Model m = Clone(b.model);
  CleReport r = Equalize(m);
  EXPECT_TRUE(r.equalized.empty());
  EXPECT_FALSE(r.changed);
  ASSERT_EQ(r.skipped.size(), 2u) << SkipsText(r);
  for (const CleSkip& s : r.skipped) EXPECT_NE(s.reason.find("shared"), std::string::npos);
  EXPECT_TRUE(SameInitializers(b.model, m));
}

// The second layer's weight is a graph input (non-constant): skipped.
TEST(CleTest, NonConstantWeightIsSkipped) {
  Builder b;
  Value* x = b.Input("x", {1, 4, 5, 5});
  Value* w = b.Input("w", {4, 4, 1, 1});
  Value* h = b.Conv(x, "c1", 4, 4, 3, 1, LogRanges(4, 0.1f, 10.f, 1), 1);
  b.Output(b.Op("Conv", {b.Op("Relu", {h}, "r"), w}, "c2"));
  CleReport r = Equalize(b.model);
  EXPECT_TRUE(r.equalized.empty());
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_NE(r.skipped[0].reason.find("not an initializer"), std::string::npos) << SkipsText(r);
}

// Gemm (transB = 1) -> Relu -> Gemm (transB = 0), with a [1, N] bias.
TEST(CleTest, GemmReluGemm) {
  Builder b;
  Value* x = b.Input("x", {3, 6});
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> ranges = LogRanges(10, 0.01f, 100.f, 21);
  Tensor w1(DataType::kFloat, {10, 6});  // [N, K], transB
  for (int n = 0; n < 10; ++n)
    for (int k = 0; k < 6; ++k) w1.data<float>()[n * 6 + k] = u(rng) * ranges[n];
  Tensor b1(DataType::kFloat, {1, 10});
  for (int n = 0; n < 10; ++n) b1.data<float>()[n] = u(rng) * ranges[n];
  Tensor w2(DataType::kFloat, {10, 5});  // [K, N]
  for (int64_t i = 0; i < w2.numel(); ++i) w2.data<float>()[i] = u(rng);
  Value* h = b.Op("Gemm", {x, b.Init("w1", w1), b.Init("b1", b1)}, "g1",
                  {Attribute::Int("transB", 1), Attribute::Float("beta", 0.5f)});
  h = b.Op("Relu", {h}, "relu");
  b.Output(b.Op("Gemm", {h, b.Init("w2", w2)}, "g2"));
  Model m = Clone(b.model);
  CleReport r = Equalize(m);
  ASSERT_EQ(r.equalized.size(), 1u) << SkipsText(r);
  EXPECT_EQ(r.equalized[0].channels, 10);
  EXPECT_LE(MaxRelativeDifference(b.model, m), 1e-5);
  const Tensor& w1e = WeightOf(m, "g1");
  const Tensor& w2e = WeightOf(m, "g2");
  std::vector<float> r1(10, 0.f), r2(10, 0.f);
  for (int n = 0; n < 10; ++n) {
    for (int k = 0; k < 6; ++k) r1[n] = std::max(r1[n], std::fabs(w1e.data<float>()[n * 6 + k]));
    for (int j = 0; j < 5; ++j) r2[n] = std::max(r2[n], std::fabs(w2e.data<float>()[n * 5 + j]));
  }
  ExpectNear(r1, r2, 1e-5, "gemm ranges");
  EXPECT_LT(r.equalized[0].first_spread_after, r.equalized[0].first_spread_before);
  EXPECT_LT(MaxOverMin(r1), 1e4f / 10);  // 0.01 .. 100 before
}

// A channel whose weights are all zero keeps s = 1 (no division by zero, no NaN).
TEST(CleTest, DeadChannelKeepsScaleOne) {
  std::vector<float> ranges = LogRanges(16, 0.01f, 100.f, 7);
  Model original = ConvActConv("Relu");
  // Zero output channel 3 of conv1 (weights and bias).
  Tensor w = WeightOf(original, "conv1").Clone();
  int64_t per = w.numel() / 16;
  for (int64_t i = 0; i < per; ++i) w.data<float>()[3 * per + i] = 0.f;
  original.graph->SetInitializer(original.graph->FindValue("conv1.weight"), w);
  Model m = Clone(original);
  CleReport r = Equalize(m);
  ASSERT_EQ(r.equalized.size(), 1u);
  EXPECT_LE(MaxRelativeDifference(original, m), 1e-5);
  EXPECT_EQ(ConvOutputRanges(WeightOf(m, "conv1"))[3], 0.f);
  EXPECT_EQ(ConvInputRanges(WeightOf(m, "conv2"), 1)[3],
            ConvInputRanges(WeightOf(original, "conv2"), 1)[3]);
  for (int64_t i = 0; i < WeightOf(m, "conv2").numel(); ++i)
    ASSERT_TRUE(std::isfinite(WeightOf(m, "conv2").data<float>()[i]));
}

TEST(CleTest, RejectsBadOptions) {
  Model m = ConvActConv("Relu");
  EXPECT_FALSE(EqualizeCrossLayer(&m, CleOptions{-1, 1e-3f}).ok());
  EXPECT_FALSE(EqualizeCrossLayer(&m, CleOptions{10, -1.f}).ok());
  EXPECT_FALSE(EqualizeCrossLayer(nullptr).ok());
}

// The MobileNetV2-like fixture: BN already folded by the exporter; its Relu6 are Clip(0, 6), so
// every pair around a depthwise conv is skipped; the linear projection -> next expansion
// (no activation, no residual) pairs are equalized.
TEST(CleTest, MobileNetLikeFixture) {
  auto loaded = LoadModel(testing::FixturePath("mobilenet_like_op13.onnx"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  Model original = std::move(loaded).value();
  {
    auto pass = CreatePass("fold-batchnorm");
    ASSERT_TRUE(pass.ok()) << pass.status().ToString();
    PassContext ctx{original, nullptr, {}};
    auto folded = (*pass)->Run(ctx);
    ASSERT_TRUE(folded.ok()) << folded.status().ToString();
  }
  Model m = Clone(original);
  CleReport r = Equalize(m);
  int clip_skips = 0;
  for (const CleSkip& s : r.skipped)
    clip_skips += s.reason.find("Clip") != std::string::npos &&
                  s.reason.find("not positively homogeneous") != std::string::npos;
  EXPECT_TRUE(!r.equalized.empty() || clip_skips > 0) << SkipsText(r);
  EXPECT_GT(clip_skips, 0) << SkipsText(r);
  EXPECT_LE(MaxRelativeDifference(original, m), 1e-5);
  std::cout << "[cle] mobilenet_like_op13: " << r.equalized.size() << " pairs equalized, "
            << r.skipped.size() << " skipped (" << clip_skips << " for Clip), " << r.iterations
            << " sweeps\n";
  for (const ClePair& p : r.equalized)
    std::cout << "[cle]   " << p.first << " -> " << p.second << " (" << p.channels
              << " ch): spread " << p.first_spread_before << " -> " << p.first_spread_after << " / "
              << p.second_spread_before << " -> " << p.second_spread_after << "\n";
  std::cout << SkipsText(r);
  CleReport again = Equalize(m);
  EXPECT_FALSE(again.changed);
}

// The same network with every Relu6 turned into Relu (Clip without max): now the expand ->
// depthwise and depthwise -> project pairs are eligible and form chains; the function stays the
// same.
TEST(CleTest, MobileNetLikeFixtureWithRelu) {
  auto loaded = LoadModel(testing::FixturePath("mobilenet_like_op13.onnx"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  Model relu = std::move(loaded).value();
  for (const auto& n : relu.graph->nodes())
    if (n->op_type() == "Clip") n->TruncateInputs(2);  // drop max: Clip(x, 0) == Relu(x)
  Model m = Clone(relu);
  CleReport r = Equalize(m);
  EXPECT_GE(r.equalized.size(), 13u) << SkipsText(r);
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(r.converged);
  EXPECT_LE(MaxRelativeDifference(relu, m), 1e-5);
  float worst_before = 0, worst_after = 0;
  for (const ClePair& p : r.equalized) {
    worst_before = std::max(worst_before, p.first_spread_before);
    worst_after = std::max(worst_after, p.first_spread_after);
  }
  std::cout << "[cle] mobilenet_like_op13 with Relu: " << r.equalized.size() << " pairs, "
            << r.iterations << " sweeps, worst first-layer spread " << worst_before << " -> "
            << worst_after << ", max rel diff " << MaxRelativeDifference(relu, m) << "\n";
  CleReport again = Equalize(m);
  EXPECT_FALSE(again.changed);
}

}  // namespace
}  // namespace edgefit
