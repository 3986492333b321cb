// Normalization kernels: BatchNormalization per opset (spatial, is_test, training_mode),
// InstanceNormalization, LayerNormalization (axis, broadcast Scale/B, Mean/InvStdDev), LRN,
// MeanVarianceNormalization, LpNormalization. Expected values computed by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernel_test_util.h"

namespace edgefit {
namespace {

using testing::ExpectNear;
using testing::F32;
using testing::NodeInput;
using testing::NodeSpec;
using testing::RunNode;

NodeSpec Spec(const std::string& op, std::vector<NodeInput> inputs,
              std::vector<Attribute> attrs = {}, int64_t opset = 17, size_t outputs = 1) {
  NodeSpec s;
  s.op_type = op;
  s.inputs = std::move(inputs);
  s.attributes = std::move(attrs);
  s.opset = opset;
  s.num_outputs = outputs;
  return s;
}

std::vector<NodeInput> BnInputs(Tensor x, Shape pshape, std::vector<float> scale,
                                std::vector<float> b, std::vector<float> mean,
                                std::vector<float> var) {
  return {{"x", std::move(x)},
          {"scale", F32(pshape, scale), true},
          {"b", F32(pshape, b), true},
          {"mean", F32(pshape, mean), true},
          {"var", F32(pshape, var)}};
}

TEST(NormalizationTest, BatchNormPerChannel) {
  // c0: (x - 1) / 2 * 1 + 0; c1: (x - 3) / 0.5 * 2 + 1.
  auto in = BnInputs(F32({1, 2, 1, 2}, {1, 2, 3, 4}), {2}, {1, 2}, {0, 1}, {1, 3}, {4, 0.25f});
  for (int64_t opset : {6, 7, 9, 14, 15}) {
    SCOPED_TRACE(opset);
    std::vector<Attribute> attrs = {Attribute::Float("epsilon", 0.f)};
    if (opset < 7) attrs.push_back(Attribute::Int("is_test", 1));
    auto out = RunNode(Spec("BatchNormalization", in, attrs, opset));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ExpectNear((*out)[0], {1, 2, 1, 2}, {0, 0.5f, 1, 5});
  }
  // Rank 2 input [N, C] and the default epsilon.
  auto out = RunNode(Spec("BatchNormalization", BnInputs(F32({2, 2}, {1, 3, 5, 7}), {2}, {1, 1},
                                                         {0, 0}, {1, 3}, {4, 1})));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2, 2}, {0, 0, 2, 4}, 1e-4f, 1e-4f);
}

TEST(NormalizationTest, BatchNormSpatialZeroOpset7) {
  // Parameters per (channel, position): y = x - mean.
  auto in = BnInputs(F32({1, 2, 2}, {1, 2, 3, 4}), {2, 2}, {1, 1, 1, 1}, {0, 0, 0, 0}, {0, 1, 2, 3},
                     {1, 1, 1, 1});
  auto out = RunNode(Spec("BatchNormalization", in,
                          {Attribute::Int("spatial", 0), Attribute::Float("epsilon", 0.f)}, 7));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 2, 2}, {1, 1, 1, 1});
}

TEST(NormalizationTest, BatchNormTrainingIsUnsupported) {
  auto in = BnInputs(F32({1, 1, 2}, {1, 2}), {1}, {1}, {0}, {0}, {1});
  auto t15 = RunNode(Spec("BatchNormalization", in, {Attribute::Int("training_mode", 1)}, 15));
  EXPECT_EQ(t15.status().code(), StatusCode::kUnsupported);
  auto t6 = RunNode(Spec("BatchNormalization", in, {Attribute::Int("is_test", 0)}, 6));
  EXPECT_EQ(t6.status().code(), StatusCode::kUnsupported);
  auto t9 = RunNode(Spec("BatchNormalization", in, {}, 9, 5));
  EXPECT_EQ(t9.status().code(), StatusCode::kUnsupported);
  auto bad =
      RunNode(Spec("BatchNormalization", BnInputs(F32({1, 2, 2}, {1, 2, 3, 4}), {3}, {1, 1, 1},
                                                  {0, 0, 0}, {0, 0, 0}, {1, 1, 1})));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(NormalizationTest, InstanceNorm) {
  Tensor x = F32({1, 2, 3}, {1, 2, 3, 2, 2, 2});
  for (int64_t opset : {1, 6}) {
    auto out =
        RunNode(Spec("InstanceNormalization",
                     {{"x", x}, {"s", F32({2}, {1, 2})}, {"b", F32({2}, {0, 1})}}, {}, opset));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    const float k = 1.f / std::sqrt(2.f / 3.f + 1e-5f);
    ExpectNear((*out)[0], {1, 2, 3}, {-k, 0, k, 1, 1, 1}, 1e-5f, 1e-4f);
  }
  auto bad = RunNode(
      Spec("InstanceNormalization", {{"x", x}, {"s", F32({1}, {1})}, {"b", F32({2}, {0, 1})}}));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(NormalizationTest, LayerNormLastAxisWithStatistics) {
  Tensor x = F32({2, 3}, {1, 2, 3, 4, 4, 4});
  auto out =
      RunNode(Spec("LayerNormalization",
                   {{"x", x}, {"s", F32({3}, {1, 1, 1})}, {"b", F32({3}, {0, 0, 0})}}, {}, 17, 3));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const float k = 1.f / std::sqrt(2.f / 3.f + 1e-5f);
  ExpectNear((*out)[0], {2, 3}, {-k, 0, k, 0, 0, 0}, 1e-5f, 1e-4f);
  ExpectNear((*out)[1], {2, 1}, {2, 4});
  ExpectNear((*out)[2], {2, 1}, {k, 1.f / std::sqrt(1e-5f)}, 1e-5f, 1e-4f);
}

TEST(NormalizationTest, LayerNormAxisZeroAndBroadcastParameters) {
  Tensor x = F32({2, 3}, {1, 2, 3, 4, 4, 4});
  // Over all 6 values: mean 3, variance 8/6.
  auto out = RunNode(Spec("LayerNormalization", {{"x", x}, {"s", F32({1}, {2})}},
                          {Attribute::Int("axis", 0), Attribute::Float("epsilon", 0.f)}, 17, 2));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const float k = 2.f / std::sqrt(8.f / 6.f);
  ExpectNear((*out)[0], {2, 3}, {-2 * k, -k, 0, k, k, k}, 1e-5f, 1e-4f);
  ExpectNear((*out)[1], {1, 1}, {3});
  // Scale [3] over the last axis, B [1] broadcast.
  out = RunNode(Spec("LayerNormalization",
                     {{"x", x}, {"s", F32({3}, {1, 2, 3})}, {"b", F32({1}, {10})}},
                     {Attribute::Float("epsilon", 0.f)}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const float j = 1.f / std::sqrt(2.f / 3.f);
  ExpectNear((*out)[0], {2, 3}, {10 - j, 10, 10 + 3 * j, NAN, NAN, NAN}, 1e-5f, 1e-4f);
  // Scale varying along the leading axis ([2, 1]).
  Tensor x2 = F32({2, 3}, {1, 2, 3, 2, 4, 6});
  out = RunNode(Spec("LayerNormalization", {{"x", x2}, {"s", F32({2, 1}, {2, 3})}},
                     {Attribute::Float("epsilon", 0.f)}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {2, 3}, {-2 * j, 0, 2 * j, -3 * j, 0, 3 * j}, 1e-5f, 1e-4f);
}

TEST(NormalizationTest, LayerNormErrors) {
  Tensor x = F32({2, 3}, {1, 2, 3, 4, 5, 6});
  auto axis = RunNode(Spec("LayerNormalization", {{"x", x}, {"s", F32({3}, {1, 1, 1})}},
                           {Attribute::Int("axis", 2)}));
  EXPECT_EQ(axis.status().code(), StatusCode::kInvalidArgument);
  auto stash = RunNode(Spec("LayerNormalization", {{"x", x}, {"s", F32({3}, {1, 1, 1})}},
                            {Attribute::Int("stash_type", 11)}));
  EXPECT_EQ(stash.status().code(), StatusCode::kUnsupported);
  auto shape = RunNode(Spec("LayerNormalization", {{"x", x}, {"s", F32({2}, {1, 1})}}));
  EXPECT_EQ(shape.status().code(), StatusCode::kInvalidArgument);
  auto old = RunNode(Spec("LayerNormalization", {{"x", x}, {"s", F32({3}, {1, 1, 1})}}, {}, 16));
  EXPECT_EQ(old.status().code(), StatusCode::kUnsupported);
}

TEST(NormalizationTest, Lrn) {
  Tensor x = F32({1, 3, 1, 1}, {1, 2, 3});
  // size 3, alpha / size = 1, beta 1, bias 1: windows {0,1}, {0,1,2}, {1,2}.
  auto out = RunNode(Spec(
      "LRN", {{"x", x}},
      {Attribute::Int("size", 3), Attribute::Float("alpha", 3.f), Attribute::Float("beta", 1.f)},
      13));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 3, 1, 1}, {1.f / 6, 2.f / 15, 3.f / 14});
  // size 2: windows [c, c + 1].
  out = RunNode(Spec(
      "LRN", {{"x", x}},
      {Attribute::Int("size", 2), Attribute::Float("alpha", 2.f), Attribute::Float("beta", 1.f)},
      1));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 3, 1, 1}, {1.f / 6, 2.f / 14, 3.f / 10});
  // Defaults: alpha 1e-4, beta 0.75, bias 1.
  out = RunNode(Spec("LRN", {{"x", F32({1, 1, 1, 1}, {10})}}, {Attribute::Int("size", 1)}));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 1, 1}, {10.f / std::pow(1.f + 1e-4f * 100.f, 0.75f)});
  auto no_size = RunNode(Spec("LRN", {{"x", x}}));
  EXPECT_EQ(no_size.status().code(), StatusCode::kInvalidModel);
}

TEST(NormalizationTest, MeanVarianceNormalization) {
  Tensor x = F32({1, 2, 1, 2}, {1, 3, 5, 5});
  auto out = RunNode(Spec("MeanVarianceNormalization", {{"x", x}}, {}, 9));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 2, 1, 2}, {-1, 1, 0, 0});
  Tensor x2 = F32({2, 2}, {1, 3, 2, 2});
  out =
      RunNode(Spec("MeanVarianceNormalization", {{"x", x2}}, {Attribute::Ints("axes", {-1})}, 13));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2, 2}, {-1, 1, 0, 0});
  auto bad = RunNode(Spec("MeanVarianceNormalization", {{"x", x2}}, {}, 13));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(NormalizationTest, LpNormalization) {
  auto out = RunNode(Spec("LpNormalization", {{"x", F32({2, 2}, {3, 4, 0, 0})}}, {}, 1));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {2, 2}, {0.6f, 0.8f, 0, 0});
  out = RunNode(Spec("LpNormalization", {{"x", F32({2, 2}, {1, -3, 3, 1})}},
                     {Attribute::Int("axis", 0), Attribute::Int("p", 1)}));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {2, 2}, {0.25f, -0.75f, 0.75f, 0.25f});
  auto bad = RunNode(Spec("LpNormalization", {{"x", F32({1}, {1})}}, {Attribute::Int("p", 3)}));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidModel);
}

// Vectorized statistics and affine loops against a plain double reference on longer rows.
TEST(NormalizationTest, LongRowsMatchPlainReference) {
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> dist(-3.f, 5.f);
  auto random = [&](int64_t n) {
    std::vector<float> v(n);
    for (float& f : v) f = dist(rng);
    return v;
  };
  // LayerNormalization over the last two axes of [3, 5, 37], Scale [5, 37], B [37].
  {
    const int64_t outer = 3, inner = 5 * 37;
    std::vector<float> x = random(outer * inner), sc = random(inner), b = random(37);
    auto out =
        RunNode(Spec("LayerNormalization",
                     {{"x", F32({3, 5, 37}, x)}, {"s", F32({5, 37}, sc)}, {"b", F32({37}, b)}},
                     {Attribute::Int("axis", 1)}));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    std::vector<float> ref(x.size());
    for (int64_t o = 0; o < outer; ++o) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < inner; ++i) mean += x[o * inner + i];
      mean /= inner;
      for (int64_t i = 0; i < inner; ++i)
        var += (x[o * inner + i] - mean) * (x[o * inner + i] - mean);
      var /= inner;
      for (int64_t i = 0; i < inner; ++i)
        ref[o * inner + i] = static_cast<float>(
            (x[o * inner + i] - mean) / std::sqrt(var + 1e-5) * sc[i] + b[i % 37]);
    }
    ExpectNear((*out)[0], {3, 5, 37}, ref, 1e-5f, 1e-4f);
  }
  // InstanceNormalization and BatchNormalization on [2, 3, 50].
  {
    std::vector<float> x = random(300), sc = random(3), b = random(3), mean = random(3),
                       var = {0.5f, 2.f, 3.f};
    auto in = RunNode(Spec("InstanceNormalization",
                           {{"x", F32({2, 3, 50}, x)}, {"s", F32({3}, sc)}, {"b", F32({3}, b)}}));
    ASSERT_TRUE(in.ok()) << in.status().ToString();
    auto bn =
        RunNode(Spec("BatchNormalization", BnInputs(F32({2, 3, 50}, x), {3}, sc, b, mean, var)));
    ASSERT_TRUE(bn.ok()) << bn.status().ToString();
    std::vector<float> ref_in(300), ref_bn(300);
    for (int64_t p = 0; p < 6; ++p) {
      const int64_t c = p % 3;
      double m = 0, v = 0;
      for (int64_t i = 0; i < 50; ++i) m += x[p * 50 + i];
      m /= 50;
      for (int64_t i = 0; i < 50; ++i) v += (x[p * 50 + i] - m) * (x[p * 50 + i] - m);
      v /= 50;
      for (int64_t i = 0; i < 50; ++i) {
        ref_in[p * 50 + i] =
            static_cast<float>((x[p * 50 + i] - m) / std::sqrt(v + 1e-5) * sc[c] + b[c]);
        ref_bn[p * 50 + i] =
            static_cast<float>((x[p * 50 + i] - mean[c]) / std::sqrt(var[c] + 1e-5) * sc[c] + b[c]);
      }
    }
    ExpectNear((*in)[0], {2, 3, 50}, ref_in, 1e-5f, 1e-4f);
    ExpectNear((*bn)[0], {2, 3, 50}, ref_bn, 1e-5f, 1e-4f);
  }
}

}  // namespace
}  // namespace edgefit
