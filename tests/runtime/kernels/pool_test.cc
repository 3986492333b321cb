// Pooling kernels: hand-computed cases per attribute and opset difference, dtypes, errors, and a
// differential test of MaxPool / AveragePool / LpPool against a plain reference over many shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "kernel_test_util.h"

namespace edgefit {
namespace {

using testing::ExpectNear;
using testing::F32;
using testing::NodeInput;
using testing::NodeSpec;
using testing::RunNode;
using testing::Values;

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

std::vector<float> Iota(int64_t n, float start = 0.f) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

// x = 1..16 as 4x4.
Tensor X4x4() { return F32({1, 1, 4, 4}, Iota(16, 1.f)); }

TEST(PoolTest, MaxPoolBasicPadsStrides) {
  auto out = RunNode(Spec("MaxPool", {{"x", X4x4()}}, {Attribute::Ints("kernel_shape", {2, 2})}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 1, 3, 3}, {6, 7, 8, 10, 11, 12, 14, 15, 16});
  out = RunNode(Spec("MaxPool", {{"x", X4x4()}},
                     {Attribute::Ints("kernel_shape", {3, 3}), Attribute::Ints("strides", {2, 2}),
                      Attribute::Ints("pads", {1, 1, 1, 1})}));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 2, 2}, {6, 8, 14, 16});
}

TEST(PoolTest, MaxPoolCeilModeDropsWindowStartingInPadding) {
  // 4x4, k 3, s 2: floor -> 1x1, ceil -> 2x2 (the last window starts inside the input).
  auto out = RunNode(Spec("MaxPool", {{"x", X4x4()}},
                          {Attribute::Ints("kernel_shape", {3, 3}),
                           Attribute::Ints("strides", {2, 2}), Attribute::Int("ceil_mode", 1)}));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 2, 2}, {11, 12, 15, 16});
  // 1-D, 5 elements, k 2, s 2, pads [1,1]: ceil gives 4 windows but the 4th would start at
  // index 5 = the end padding, so 3 remain.
  Tensor x = F32({1, 1, 5}, {1, 5, 2, 4, 3});
  out = RunNode(Spec("MaxPool", {{"x", x}},
                     {Attribute::Ints("kernel_shape", {2}), Attribute::Ints("strides", {2}),
                      Attribute::Ints("pads", {1, 1}), Attribute::Int("ceil_mode", 1)}));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 3}, {1, 5, 4});
}

TEST(PoolTest, MaxPoolDilationsAndSamePadding) {
  auto out = RunNode(
      Spec("MaxPool", {{"x", X4x4()}},
           {Attribute::Ints("kernel_shape", {2, 2}), Attribute::Ints("dilations", {2, 2})}));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 2, 2}, {11, 12, 15, 16});
  // SAME_UPPER, k 2: pad at the end; SAME_LOWER: at the start.
  Tensor x = F32({1, 1, 3}, {3, 1, 2});
  out = RunNode(
      Spec("MaxPool", {{"x", x}},
           {Attribute::Ints("kernel_shape", {2}), Attribute::String("auto_pad", "SAME_UPPER")}));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 3}, {3, 2, 2});
  out = RunNode(
      Spec("MaxPool", {{"x", x}},
           {Attribute::Ints("kernel_shape", {2}), Attribute::String("auto_pad", "SAME_LOWER")}));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 3}, {3, 3, 2});
}

TEST(PoolTest, MaxPoolIndicesRowAndColumnMajor) {
  // Batch 1, 2 channels of 2x3; k 2x2, stride 1 -> 1x2 per channel.
  Tensor x = F32({1, 2, 2, 3}, {1, 9, 2, 3, 4, 8, 7, 1, 1, 1, 1, 6});
  auto out = RunNode(Spec("MaxPool", {{"x", x}}, {Attribute::Ints("kernel_shape", {2, 2})}, 12, 2));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 2, 1, 2}, {9, 9, 7, 6});
  EXPECT_EQ(Values<int64_t>((*out)[1]), (std::vector<int64_t>{1, 1, 6, 11}));
  out = RunNode(Spec("MaxPool", {{"x", x}},
                     {Attribute::Ints("kernel_shape", {2, 2}), Attribute::Int("storage_order", 1)},
                     12, 2));
  ASSERT_TRUE(out.ok());
  // Column major within a 2x3 plane: (h, w) -> h + w * 2, plus the plane offset 6.
  EXPECT_EQ(Values<int64_t>((*out)[1]), (std::vector<int64_t>{2, 2, 6, 6 + 1 + 2 * 2}));
}

TEST(PoolTest, MaxPoolInt8Uint8AndNaN) {
  Tensor xi = testing::Make<int8_t>(DataType::kInt8, {1, 1, 4}, {-128, -5, 7, -100});
  auto out = RunNode(Spec("MaxPool", {{"x", xi}}, {Attribute::Ints("kernel_shape", {2})}, 12));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Values<int8_t>((*out)[0]), (std::vector<int8_t>{-5, 7, 7}));
  Tensor xu = testing::Make<uint8_t>(DataType::kUint8, {1, 1, 4}, {0, 255, 3, 1});
  out = RunNode(Spec("MaxPool", {{"x", xu}},
                     {Attribute::Ints("kernel_shape", {2}), Attribute::Ints("pads", {1, 0})}, 12));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<uint8_t>((*out)[0]), (std::vector<uint8_t>{0, 255, 255, 3}));
  Tensor xn = F32({1, 1, 4}, {1, NAN, 3, 2});
  out = RunNode(Spec("MaxPool", {{"x", xn}}, {Attribute::Ints("kernel_shape", {2})}));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 3}, {NAN, NAN, 3});
  out = RunNode(Spec("GlobalMaxPool", {{"x", xn}}));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 1}, {NAN});
}

TEST(PoolTest, AveragePoolCountIncludePad) {
  // 3x3 all-ones-ish input 1..9, k 2, pads 1 on every side, stride 2.
  Tensor x = F32({1, 1, 3, 3}, Iota(9, 1.f));
  std::vector<Attribute> attrs = {Attribute::Ints("kernel_shape", {2, 2}),
                                  Attribute::Ints("strides", {2, 2}),
                                  Attribute::Ints("pads", {1, 1, 1, 1})};
  auto out = RunNode(Spec("AveragePool", {{"x", x}}, attrs, 11));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Windows: {1}, {2,3}, {4,7}, {5,6,8,9}.
  ExpectNear((*out)[0], {1, 1, 2, 2}, {1, 2.5f, 5.5f, 7});
  attrs.push_back(Attribute::Int("count_include_pad", 1));
  out = RunNode(Spec("AveragePool", {{"x", x}}, attrs, 11));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 2, 2}, {0.25f, 1.25f, 2.75f, 7});
}

TEST(PoolTest, AveragePoolCeilModeAndDilations) {
  Tensor x = F32({1, 1, 5}, {1, 2, 3, 4, 5});
  auto out = RunNode(Spec("AveragePool", {{"x", x}},
                          {Attribute::Ints("kernel_shape", {2}), Attribute::Ints("strides", {2}),
                           Attribute::Int("ceil_mode", 1)},
                          10));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 3}, {1.5f, 3.5f, 5});
  // Dilations (opset 19): taps at +0 and +2.
  out =
      RunNode(Spec("AveragePool", {{"x", x}},
                   {Attribute::Ints("kernel_shape", {2}), Attribute::Ints("dilations", {2})}, 19));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 1, 3}, {2, 3, 4});
  // Opset 1 (no count_include_pad attribute): pads are excluded.
  out = RunNode(Spec("AveragePool", {{"x", x}},
                     {Attribute::Ints("kernel_shape", {3}), Attribute::Ints("pads", {1, 1})}, 1));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 5}, {1.5f, 2, 3, 4, 4.5f});
}

TEST(PoolTest, LpPool) {
  Tensor x = F32({1, 1, 4}, {3, -4, 0, 5});
  auto out = RunNode(Spec("LpPool", {{"x", x}}, {Attribute::Ints("kernel_shape", {2})}, 11));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 1, 3}, {5, 4, 5});
  out = RunNode(Spec("LpPool", {{"x", x}},
                     {Attribute::Ints("kernel_shape", {2}), Attribute::Int("p", 1)}, 11));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 3}, {7, 4, 5});
  // LpPool-1: p is a float attribute.
  out = RunNode(Spec("LpPool", {{"x", x}},
                     {Attribute::Ints("kernel_shape", {4}), Attribute::Float("p", 3.f)}, 1));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 1}, {std::cbrt(27.f + 64.f + 125.f)});
  // LpPool-18: ceil_mode.
  out = RunNode(Spec("LpPool", {{"x", x}},
                     {Attribute::Ints("kernel_shape", {3}), Attribute::Ints("strides", {2}),
                      Attribute::Int("ceil_mode", 1)},
                     18));
  ASSERT_TRUE(out.ok());
  ExpectNear((*out)[0], {1, 1, 2}, {5, 5});
}

TEST(PoolTest, GlobalPools) {
  Tensor x = F32({2, 2, 2, 2}, Iota(16));
  auto avg = RunNode(Spec("GlobalAveragePool", {{"x", x}}));
  ASSERT_TRUE(avg.ok()) << avg.status().ToString();
  ExpectNear((*avg)[0], {2, 2, 1, 1}, {1.5f, 5.5f, 9.5f, 13.5f});
  auto mx = RunNode(Spec("GlobalMaxPool", {{"x", x}}));
  ASSERT_TRUE(mx.ok());
  ExpectNear((*mx)[0], {2, 2, 1, 1}, {3, 7, 11, 15});
  auto lp = RunNode(Spec("GlobalLpPool", {{"x", F32({1, 1, 2}, {3, 4})}}));
  ASSERT_TRUE(lp.ok());
  ExpectNear((*lp)[0], {1, 1, 1}, {5});
  // 3-D spatial and a long plane (exercises the unrolled sum).
  std::vector<float> v(1000);
  for (int i = 0; i < 1000; ++i) v[i] = static_cast<float>(i % 7);
  double mean = 0;
  for (float f : v) mean += f;
  auto big = RunNode(Spec("GlobalAveragePool", {{"x", F32({1, 1, 10, 10, 10}, v)}}));
  ASSERT_TRUE(big.ok());
  ExpectNear((*big)[0], {1, 1, 1, 1, 1}, {static_cast<float>(mean / 1000)});
  Tensor xi = testing::Make<uint8_t>(DataType::kUint8, {1, 2, 2}, {1, 200, 7, 3});
  auto mi = RunNode(Spec("GlobalMaxPool", {{"x", xi}}));
  ASSERT_TRUE(mi.ok());
  EXPECT_EQ(Values<uint8_t>((*mi)[0]), (std::vector<uint8_t>{200, 7}));
}

TEST(PoolTest, MaxUnpool) {
  Tensor x = F32({1, 1, 2, 2}, {5, 6, 7, 8});
  Tensor idx = testing::I64({1, 1, 2, 2}, {5, 7, 13, 15});
  std::vector<Attribute> attrs = {Attribute::Ints("kernel_shape", {2, 2}),
                                  Attribute::Ints("strides", {2, 2})};
  auto out = RunNode(Spec("MaxUnpool", {{"x", x}, {"i", idx}}, attrs, 11));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 1, 4, 4}, {0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 7, 0, 8});
  // output_shape [1,1,5,5]: same coordinates, one more zero row and column.
  out = RunNode(
      Spec("MaxUnpool", {{"x", x}, {"i", idx}, {"s", testing::I64({4}, {1, 1, 5, 5})}}, attrs, 9));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 1, 5, 5},
             {0, 0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 0, 0, 7, 0, 8, 0, 0, 0, 0, 0, 0});
  // Round trip with MaxPool's Indices.
  Tensor src = F32({1, 2, 2, 4}, {1, 9, 2, 3, 4, 8, 7, 1, 0, 0, 5, 0, 0, 6, 0, 0});
  auto pooled = RunNode(Spec("MaxPool", {{"x", src}}, attrs, 12, 2));
  ASSERT_TRUE(pooled.ok());
  out = RunNode(Spec("MaxUnpool", {{"x", (*pooled)[0]}, {"i", (*pooled)[1]}}, attrs, 11));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 2, 2, 4}, {0, 9, 0, 0, 0, 0, 7, 0, 0, 0, 5, 0, 0, 6, 0, 0});
  auto bad = RunNode(
      Spec("MaxUnpool", {{"x", x}, {"i", testing::I64({1, 1, 2, 2}, {5, 7, 13, 16})}}, attrs, 11));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(PoolTest, Errors) {
  auto no_kernel = RunNode(Spec("MaxPool", {{"x", X4x4()}}));
  EXPECT_EQ(no_kernel.status().code(), StatusCode::kInvalidModel);
  auto rank = RunNode(Spec("MaxPool", {{"x", X4x4()}}, {Attribute::Ints("kernel_shape", {2})}));
  EXPECT_EQ(rank.status().code(), StatusCode::kInvalidArgument);
  auto too_big =
      RunNode(Spec("AveragePool", {{"x", X4x4()}}, {Attribute::Ints("kernel_shape", {5, 5})}));
  EXPECT_EQ(too_big.status().code(), StatusCode::kInvalidArgument);
  Tensor half = testing::Make<uint16_t>(DataType::kFloat16, {1, 1, 2}, {0, 0});
  auto f16 = RunNode(Spec("AveragePool", {{"x", half}}, {Attribute::Ints("kernel_shape", {2})}));
  EXPECT_EQ(f16.status().code(), StatusCode::kUnsupported);
  Tensor xi = testing::Make<int8_t>(DataType::kInt8, {1, 1, 2}, {1, 2});
  auto avg_int = RunNode(Spec("AveragePool", {{"x", xi}}, {Attribute::Ints("kernel_shape", {2})}));
  EXPECT_EQ(avg_int.status().code(), StatusCode::kUnsupported);
  auto four_d = RunNode(Spec("MaxPool", {{"x", F32({1, 1, 1, 1, 1, 1}, {1})}},
                             {Attribute::Ints("kernel_shape", {1, 1, 1, 1})}));
  EXPECT_EQ(four_d.status().code(), StatusCode::kUnsupported);
}

// ------------------------------------------------------------------------- differential

struct PoolCase {
  Shape x;
  Shape kernel, strides, dilations, pads;
  bool ceil = false;
};

// Plain reference: explicit loops over every tap with bounds checks.
void ReferencePool(const PoolCase& c, const std::vector<float>& x, const std::string& kind,
                   bool include_pad, std::vector<float>* y, std::vector<int64_t>* idx,
                   Shape* yshape) {
  const size_t r = c.kernel.size();
  Shape in(c.x.begin() + 2, c.x.end()), out(r), st(r), dl(r), pb(r), pe(r);
  for (size_t i = 0; i < r; ++i) {
    st[i] = c.strides.empty() ? 1 : c.strides[i];
    dl[i] = c.dilations.empty() ? 1 : c.dilations[i];
    pb[i] = c.pads.empty() ? 0 : c.pads[i];
    pe[i] = c.pads.empty() ? 0 : c.pads[i + r];
    double span = static_cast<double>(in[i] + pb[i] + pe[i] - ((c.kernel[i] - 1) * dl[i] + 1));
    out[i] = static_cast<int64_t>(c.ceil ? std::ceil(span / st[i]) : std::floor(span / st[i])) + 1;
    if (c.ceil && (out[i] - 1) * st[i] >= in[i] + pb[i]) --out[i];
  }
  *yshape = {c.x[0], c.x[1]};
  yshape->insert(yshape->end(), out.begin(), out.end());
  int64_t I = 1, O = 1, K = 1;
  for (size_t i = 0; i < r; ++i) {
    I *= in[i];
    O *= out[i];
    K *= c.kernel[i];
  }
  y->assign(c.x[0] * c.x[1] * O, 0.f);
  idx->assign(y->size(), -1);
  for (int64_t p = 0; p < c.x[0] * c.x[1]; ++p)
    for (int64_t o = 0; o < O; ++o) {
      double acc = kind == "max" ? -INFINITY : 0.0;
      int64_t count = 0, padded = 0, arg = -1;
      for (int64_t k = 0; k < K; ++k) {
        int64_t off = 0;
        bool inside = true, in_padded = true;
        for (int64_t ro = o, rk = k, d = r - 1, scale = 1; d >= 0; --d) {
          int64_t od = ro % out[d], kd = rk % c.kernel[d];
          ro /= out[d];
          rk /= c.kernel[d];
          int64_t i = od * st[d] - pb[d] + kd * dl[d];
          if (i < 0 || i >= in[d]) inside = false;
          if (i < -pb[d] || i >= in[d] + pe[d]) in_padded = false;
          off += i * scale;
          scale *= in[d];
        }
        padded += in_padded;
        if (!inside) continue;
        ++count;
        float v = x[p * I + off];
        if (kind == "max") {
          if (v > acc) {
            acc = v;
            arg = p * I + off;
          }
        } else if (kind == "avg") {
          acc += v;
        } else {
          acc += static_cast<double>(v) * v;
        }
      }
      float res = kind == "max"   ? static_cast<float>(acc)
                  : kind == "avg" ? static_cast<float>(acc / (include_pad ? padded : count))
                                  : static_cast<float>(std::sqrt(acc));
      (*y)[p * O + o] = res;
      (*idx)[p * O + o] = arg;
    }
}

TEST(PoolTest, MatchesPlainReference) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  const std::vector<PoolCase> cases = {
      {{2, 3, 9, 10}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}},
      {{1, 4, 11, 8}, {2, 3}, {1, 2}, {2, 1}, {0, 1, 1, 0}},
      {{1, 2, 12, 12}, {3, 3}, {2, 2}, {}, {}, true},
      {{1, 2, 13, 7}, {4, 2}, {3, 2}, {1, 2}, {2, 0, 1, 1}, true},
      {{3, 2, 30}, {5}, {3}, {2}, {2, 3}},
      {{1, 2, 5, 6, 7}, {2, 3, 2}, {2, 1, 2}, {1, 1, 2}, {1, 0, 1, 0, 1, 1}},
      {{1, 1, 6, 6, 6}, {3, 3, 3}, {2, 2, 2}, {}, {1, 1, 1, 1, 1, 1}, true},
      // Wide rows: vector blocks of 16 with stride 2 / 1 / 3, kernels 3, 2, other.
      {{1, 2, 7, 40}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}},
      {{2, 2, 6, 50}, {2, 2}, {2, 2}, {}, {}, true},
      {{1, 3, 5, 37}, {3, 3}, {}, {2, 2}, {2, 2, 2, 2}},
      {{1, 2, 5, 70}, {2, 4}, {1, 3}, {}, {1, 0, 0, 3}, true},
      {{2, 2, 100}, {4}, {}, {}, {2, 1}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const PoolCase& c = cases[i];
    int64_t n = 1;
    for (int64_t d : c.x) n *= d;
    std::vector<float> x(n);
    for (float& v : x) v = dist(rng);
    std::vector<Attribute> attrs = {Attribute::Ints("kernel_shape", c.kernel),
                                    Attribute::Int("ceil_mode", c.ceil ? 1 : 0)};
    if (!c.strides.empty()) attrs.push_back(Attribute::Ints("strides", c.strides));
    if (!c.dilations.empty()) attrs.push_back(Attribute::Ints("dilations", c.dilations));
    if (!c.pads.empty()) attrs.push_back(Attribute::Ints("pads", c.pads));
    // "max" runs the vectorized path (no Indices), "max_idx" the generic one.
    for (const std::string kind : {"max", "max_idx", "avg", "avg_pad", "lp"}) {
      SCOPED_TRACE("case " + std::to_string(i) + " " + kind);
      std::vector<Attribute> a = attrs;
      const bool max = kind.rfind("max", 0) == 0;
      std::string op = max ? "MaxPool" : kind == "lp" ? "LpPool" : "AveragePool";
      if (kind == "avg_pad") a.push_back(Attribute::Int("count_include_pad", 1));
      auto out =
          RunNode(Spec(op, {{"x", F32(c.x, x)}}, a, 19, kind == "max_idx" ? 2 : 1), i % 2 ? 2 : 1);
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      std::vector<float> ref;
      std::vector<int64_t> idx;
      Shape yshape;
      ReferencePool(c, x,
                    max                 ? "max"
                    : kind == "avg_pad" ? "avg"
                                        : kind,
                    kind == "avg_pad", &ref, &idx, &yshape);
      ExpectNear((*out)[0], yshape, ref, 1e-5f, 1e-5f);
      if (kind == "max_idx") {
        EXPECT_EQ(Values<int64_t>((*out)[1]), idx);
      }
    }
  }
}

}  // namespace
}  // namespace edgefit
