// Conv and ConvTranspose: hand-computed cases per attribute, error cases, and differential tests
// of every fast path (im2col + Sgemm, pointwise, depthwise, tiny direct, column tiling) against
// a plain direct convolution written here.
#include <gtest/gtest.h>

#include <random>

#include "kernel_test_util.h"
#include "runtime/kernels/conv_impl.h"

namespace edgefit {
namespace {

using testing::ExpectNear;
using testing::F32;
using testing::NodeInput;
using testing::NodeSpec;
using testing::RunNode;

NodeSpec Spec(const std::string& op, std::vector<NodeInput> inputs,
              std::vector<Attribute> attrs = {}, int64_t opset = 17) {
  NodeSpec s;
  s.op_type = op;
  s.inputs = std::move(inputs);
  s.attributes = std::move(attrs);
  s.opset = opset;
  return s;
}

std::vector<float> Iota(int64_t n, float start = 0.f) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

std::vector<float> Random(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

int64_t Product(const Shape& s) {
  int64_t n = 1;
  for (int64_t v : s) n *= v;
  return n;
}

// ------------------------------------------------------------------------- Conv by hand

TEST(ConvTest, Basic3x3WithoutAndWithPadding) {
  // ONNX's example: x = 0..24 (5x5), W = ones(3x3).
  Tensor x = F32({1, 1, 5, 5}, Iota(25));
  Tensor w = F32({1, 1, 3, 3}, std::vector<float>(9, 1.f));
  auto out = RunNode(
      Spec("Conv", {{"x", x}, {"w", w, true}}, {Attribute::Ints("kernel_shape", {3, 3})}, 11));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 1, 3, 3}, {54, 63, 72, 99, 108, 117, 144, 153, 162});
  out = RunNode(
      Spec("Conv", {{"x", x}, {"w", w, true}}, {Attribute::Ints("pads", {1, 1, 1, 1})}, 11));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 1, 5, 5}, {12,  21, 27, 33,  24,  33,  54,  63, 72,  51,  63,  99, 108,
                                       117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84});
}

TEST(ConvTest, StridesAndAsymmetricPads) {
  // ONNX's conv_with_strides_and_asymmetric_padding: x = 0..34 (7x5), stride 2, pads [1,0,1,0].
  Tensor x = F32({1, 1, 7, 5}, Iota(35));
  Tensor w = F32({1, 1, 3, 3}, std::vector<float>(9, 1.f));
  auto out =
      RunNode(Spec("Conv", {{"x", x}, {"w", w}},
                   {Attribute::Ints("strides", {2, 2}), Attribute::Ints("pads", {1, 0, 1, 0})}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 1, 4, 2}, {21, 33, 99, 117, 189, 207, 171, 183});
}

TEST(ConvTest, AutoPadSameUpperVersusLower) {
  // 1-D, x = [1,2,3,4], w = [1,10]: one pad element, at the end (UPPER) or start (LOWER).
  Tensor x = F32({1, 1, 4}, {1, 2, 3, 4});
  Tensor w = F32({1, 1, 2}, {1, 10});
  auto up =
      RunNode(Spec("Conv", {{"x", x}, {"w", w}}, {Attribute::String("auto_pad", "SAME_UPPER")}));
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  ExpectNear((*up)[0], {1, 1, 4}, {21, 32, 43, 4});
  auto low =
      RunNode(Spec("Conv", {{"x", x}, {"w", w}}, {Attribute::String("auto_pad", "SAME_LOWER")}));
  ASSERT_TRUE(low.ok()) << low.status().ToString();
  ExpectNear((*low)[0], {1, 1, 4}, {10, 21, 32, 43});
  // SAME with stride 2: output ceil(4 / 2) = 2; pads total = (2-1)*2 + 2 - 4 = 0.
  auto s2 =
      RunNode(Spec("Conv", {{"x", x}, {"w", w}},
                   {Attribute::String("auto_pad", "SAME_UPPER"), Attribute::Ints("strides", {2})}));
  ASSERT_TRUE(s2.ok());
  ExpectNear((*s2)[0], {1, 1, 2}, {21, 43});
  // VALID ignores pads.
  auto valid =
      RunNode(Spec("Conv", {{"x", x}, {"w", w}}, {Attribute::String("auto_pad", "VALID")}));
  ASSERT_TRUE(valid.ok());
  ExpectNear((*valid)[0], {1, 1, 3}, {21, 32, 43});
}

TEST(ConvTest, GroupsDilationAndBias) {
  // Two groups, one channel each, 1-D; dilation 2; bias per output channel.
  Tensor x = F32({1, 2, 5}, {1, 2, 3, 4, 5, 10, 20, 30, 40, 50});
  Tensor w = F32({2, 1, 2}, {1, 1, 1, -1});
  Tensor b = F32({2}, {100, 200});
  auto out = RunNode(Spec("Conv", {{"x", x}, {"w", w}, {"b", b}},
                          {Attribute::Int("group", 2), Attribute::Ints("dilations", {2})}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // ch0: x[i] + x[i+2] + 100; ch1: x[i] - x[i+2] + 200.
  ExpectNear((*out)[0], {1, 2, 3}, {104, 106, 108, 180, 180, 180});
}

TEST(ConvTest, BatchAndMultipleOutputChannels) {
  // 1x1 conv (pointwise) mixing 2 channels into 3, batch 2.
  Tensor x = F32({2, 2, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor w = F32({3, 2, 1, 1}, {1, 0, 0, 1, 1, 1});
  auto out = RunNode(Spec("Conv", {{"x", x}, {"w", w}}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {2, 3, 1, 2}, {1, 2, 3, 4, 4, 6, 5, 6, 7, 8, 12, 14});
}

TEST(ConvTest, OpsetOneAndNaNPropagates) {
  Tensor x = F32({1, 1, 3}, {1, NAN, 3});
  Tensor w = F32({1, 1, 1}, {2});
  auto out = RunNode(Spec("Conv", {{"x", x}, {"w", w}}, {}, 1));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectNear((*out)[0], {1, 1, 3}, {2, NAN, 6});
}

TEST(ConvTest, Errors) {
  Tensor x = F32({1, 3, 4, 4}, std::vector<float>(48, 1.f));
  Tensor w = F32({2, 2, 3, 3}, std::vector<float>(36, 1.f));
  auto bad_channels = RunNode(Spec("Conv", {{"x", x}, {"w", w}}));
  ASSERT_FALSE(bad_channels.ok());
  EXPECT_EQ(bad_channels.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_channels.status().message().find("channels"), std::string::npos)
      << bad_channels.status().message();

  Tensor w3 = F32({2, 3, 3, 3}, std::vector<float>(54, 1.f));
  auto bad_pad =
      RunNode(Spec("Conv", {{"x", x}, {"w", w3}}, {Attribute::String("auto_pad", "SAME")}));
  EXPECT_EQ(bad_pad.status().code(), StatusCode::kInvalidModel);
  auto bad_kernel =
      RunNode(Spec("Conv", {{"x", x}, {"w", w3}}, {Attribute::Ints("kernel_shape", {2, 2})}));
  EXPECT_EQ(bad_kernel.status().code(), StatusCode::kInvalidArgument);
  auto bad_strides =
      RunNode(Spec("Conv", {{"x", x}, {"w", w3}}, {Attribute::Ints("strides", {0, 1})}));
  EXPECT_EQ(bad_strides.status().code(), StatusCode::kInvalidModel);
  Tensor big = F32({2, 3, 5, 5}, std::vector<float>(150, 1.f));
  auto too_small = RunNode(Spec("Conv", {{"x", x}, {"w", big}}));
  EXPECT_EQ(too_small.status().code(), StatusCode::kInvalidArgument);
  Tensor xi = testing::Make<int32_t>(DataType::kInt32, {1, 1, 2}, {1, 2});
  Tensor wi = testing::Make<int32_t>(DataType::kInt32, {1, 1, 1}, {1});
  auto ints = RunNode(Spec("Conv", {{"x", xi}, {"w", wi}}));
  EXPECT_EQ(ints.status().code(), StatusCode::kUnsupported);
}

// ------------------------------------------------------------------------- Conv differential

struct ConvCase {
  Shape x;  // N, C, spatial...
  int64_t m;
  Shape kernel;
  int64_t group;
  Shape strides, dilations, pads;
  std::string auto_pad = "NOTSET";
  bool bias = true;
};

// Plain direct convolution with explicit pads (auto_pad resolved here independently).
std::vector<float> ReferenceConv(const ConvCase& c, const std::vector<float>& x,
                                 const std::vector<float>& w, const std::vector<float>& b,
                                 Shape* yshape) {
  const size_t r = c.kernel.size();
  const int64_t N = c.x[0], C = c.x[1], M = c.m, cg = C / c.group, mg = M / c.group;
  Shape in(c.x.begin() + 2, c.x.end()), out(r), pb(r), st(r), dl(r);
  for (size_t i = 0; i < r; ++i) {
    st[i] = c.strides.empty() ? 1 : c.strides[i];
    dl[i] = c.dilations.empty() ? 1 : c.dilations[i];
    int64_t eff = (c.kernel[i] - 1) * dl[i] + 1;
    if (c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") {
      out[i] = (in[i] + st[i] - 1) / st[i];
      int64_t total = std::max<int64_t>(0, (out[i] - 1) * st[i] + eff - in[i]);
      pb[i] = c.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else {
      int64_t pe = 0;
      pb[i] = 0;
      if (c.auto_pad == "NOTSET" && !c.pads.empty()) {
        pb[i] = c.pads[i];
        pe = c.pads[i + r];
      }
      out[i] = (in[i] + pb[i] + pe - eff) / st[i] + 1;
    }
  }
  *yshape = {N, M};
  yshape->insert(yshape->end(), out.begin(), out.end());
  const int64_t S = Product(out), K = Product(c.kernel), I = Product(in);
  std::vector<float> y(N * M * S);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t s = 0; s < S; ++s) {
        Shape o(r);
        for (int64_t rem = s, d = r - 1; d >= 0; --d) {
          o[d] = rem % out[d];
          rem /= out[d];
        }
        double sum = c.bias ? b[m] : 0.0;
        for (int64_t ci = 0; ci < cg; ++ci)
          for (int64_t k = 0; k < K; ++k) {
            int64_t off = 0;
            bool inside = true;
            for (int64_t rem = k, d = r - 1, scale = 1; d >= 0; --d) {
              int64_t kd = rem % c.kernel[d];
              rem /= c.kernel[d];
              int64_t i = o[d] * st[d] - pb[d] + kd * dl[d];
              if (i < 0 || i >= in[d]) inside = false;
              off += i * scale;
              scale *= in[d];
            }
            if (!inside) continue;
            int64_t cin = (m / mg) * cg + ci;
            sum += static_cast<double>(x[(n * C + cin) * I + off]) * w[(m * cg + ci) * K + k];
          }
        y[(n * M + m) * S + s] = static_cast<float>(sum);
      }
  return y;
}

void CheckConv(const ConvCase& c, std::mt19937& rng, int threads) {
  const int64_t C = c.x[1];
  Shape wshape = {c.m, C / c.group};
  wshape.insert(wshape.end(), c.kernel.begin(), c.kernel.end());
  std::vector<float> x = Random(Product(c.x), rng), w = Random(Product(wshape), rng),
                     b = Random(c.m, rng);
  std::vector<Attribute> attrs = {Attribute::Int("group", c.group),
                                  Attribute::String("auto_pad", c.auto_pad)};
  if (!c.strides.empty()) attrs.push_back(Attribute::Ints("strides", c.strides));
  if (!c.dilations.empty()) attrs.push_back(Attribute::Ints("dilations", c.dilations));
  if (!c.pads.empty()) attrs.push_back(Attribute::Ints("pads", c.pads));
  std::vector<NodeInput> inputs = {{"x", F32(c.x, x)}, {"w", F32(wshape, w), true}};
  if (c.bias) inputs.push_back({"b", F32({c.m}, b), true});
  auto out = RunNode(Spec("Conv", inputs, attrs, 11), threads);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  Shape yshape;
  std::vector<float> ref = ReferenceConv(c, x, w, b, &yshape);
  ExpectNear((*out)[0], yshape, ref, 1e-4f, 1e-4f);
}

TEST(ConvTest, FastPathsMatchDirectReference) {
  std::mt19937 rng(1234);
  const std::vector<ConvCase> cases = {
      // im2col + Sgemm, 2-D, pads, strides, dilations, groups.
      {{2, 8, 12, 11}, 16, {3, 3}, 1, {}, {}, {1, 1, 1, 1}},
      {{1, 6, 13, 9}, 8, {3, 2}, 2, {2, 1}, {1, 2}, {0, 1, 2, 0}},
      {{1, 12, 10, 10}, 6, {5, 5}, 3, {2, 2}, {2, 2}, {3, 3, 3, 3}},
      {{2, 4, 9, 16}, 10, {3, 3}, 1, {1, 2}, {}, {}, "SAME_UPPER"},
      {{1, 4, 9, 16}, 10, {4, 3}, 2, {2, 3}, {}, {}, "SAME_LOWER", false},
      {{1, 4, 9, 16}, 10, {3, 3}, 1, {}, {2, 1}, {}, "VALID"},
      // Pointwise (no im2col) with and without groups; and 1x1 with stride (im2col).
      {{2, 16, 7, 9}, 24, {1, 1}, 1, {}, {}, {}},
      {{1, 16, 7, 9}, 8, {1, 1}, 4, {}, {}, {}, "NOTSET", false},
      {{1, 16, 7, 9}, 8, {1, 1}, 1, {2, 2}, {}, {}},
      // Depthwise (one input channel per group), 2-D and 1-D, with channel multiplier.
      {{2, 8, 15, 13}, 8, {3, 3}, 8, {1, 1}, {}, {1, 1, 1, 1}},
      {{1, 8, 15, 13}, 8, {3, 3}, 8, {2, 2}, {}, {1, 0, 1, 0}},
      {{1, 4, 16, 16}, 8, {5, 3}, 4, {2, 1}, {2, 3}, {0, 2, 4, 1}},
      {{1, 6, 40}, 12, {7}, 6, {3}, {2}, {3, 1}},
      {{1, 6, 17, 17}, 6, {3, 3}, 6, {}, {}, {}, "SAME_UPPER"},
      // Depthwise rows long enough for the blocked interior: stride 1, 2 and 3, dilated.
      {{1, 4, 9, 70}, 4, {3, 3}, 4, {}, {}, {1, 1, 1, 1}},
      {{1, 4, 9, 80}, 4, {3, 3}, 4, {2, 2}, {}, {1, 1, 1, 1}},
      {{2, 3, 200}, 6, {5}, 3, {3}, {2}, {2, 2}},
      {{1, 2, 5, 90}, 2, {3, 5}, 2, {1, 1}, {1, 3}, {0, 6, 0, 0}},
      {{1, 3, 12, 40}, 3, {5, 5}, 3, {}, {}, {2, 2, 2, 2}},
      {{1, 3, 12, 41}, 3, {5, 5}, 3, {2, 2}, {}, {2, 2, 2, 2}},
      {{2, 5, 7, 7}, 5, {3, 3}, 5, {}, {}, {1, 1, 1, 1}},
      // Depthwise on narrow planes (flat vectors across rows): dilated, 5x5 with asymmetric
      // pads, 1-D with a channel multiplier, 31 columns (the widest flat plane).
      {{1, 4, 11, 12}, 4, {3, 3}, 4, {}, {2, 2}, {2, 2, 2, 2}},
      {{1, 3, 9, 20}, 3, {5, 5}, 3, {}, {}, {2, 1, 2, 3}},
      {{2, 4, 30}, 8, {3}, 4, {}, {}, {1, 1}},
      {{1, 2, 10, 31}, 2, {3, 3}, 2, {}, {}, {1, 1, 1, 1}},
      {{1, 2, 6, 6}, 4, {2, 2}, 2, {}, {}, {}},
      // Depthwise stride 2: odd and even sizes and kernels, asymmetric and large pads, a channel
      // multiplier, narrow and wide rows.
      {{1, 4, 14, 14}, 4, {3, 3}, 4, {2, 2}, {}, {1, 1, 1, 1}},
      {{2, 3, 15, 17}, 6, {3, 3}, 3, {2, 2}, {}, {1, 1, 1, 1}},
      {{1, 2, 9, 12}, 2, {3, 3}, 2, {2, 2}, {}, {0, 1, 1, 0}},
      {{1, 2, 10, 11}, 2, {2, 2}, 2, {2, 2}, {}, {}},
      {{1, 2, 11, 13}, 2, {4, 4}, 2, {2, 2}, {}, {2, 1, 1, 2}},
      {{1, 2, 8, 70}, 2, {3, 3}, 2, {2, 2}, {}, {3, 3, 3, 3}},
      {{1, 2, 9, 9}, 2, {5, 5}, 2, {2, 2}, {}, {}, "SAME_UPPER"},
      {{1, 2, 6, 126}, 2, {3, 3}, 2, {2, 2}, {}, {1, 1, 1, 1}},
      // Tiny (direct loop).
      {{1, 2, 3, 3}, 2, {2, 2}, 1, {}, {}, {1, 0, 0, 1}},
      {{1, 3, 4}, 3, {2}, 3, {}, {}, {}},
      // 1-D and 3-D through im2col; 3-D depthwise.
      {{2, 5, 64}, 12, {5}, 1, {2}, {3}, {4, 1}},
      {{1, 4, 6, 7, 8}, 6, {3, 3, 3}, 2, {1, 2, 1}, {1, 1, 2}, {1, 1, 0, 0, 1, 2}},
      {{1, 3, 5, 9, 9}, 8, {2, 3, 3}, 1, {}, {}, {}, "SAME_LOWER"},
      {{1, 4, 5, 6, 7}, 4, {3, 3, 3}, 4, {}, {}, {1, 1, 1, 1, 1, 1}},
      // Work split over threads: whole items (images x groups), column tiles, output channels.
      {{4, 32, 16, 16}, 32, {3, 3}, 1, {}, {}, {1, 1, 1, 1}},
      {{2, 16, 20, 20}, 16, {3, 3}, 4, {}, {}, {1, 1, 1, 1}},
      {{1, 64, 32, 32}, 64, {1, 1}, 1, {}, {}, {}},
      {{1, 64, 8, 8}, 64, {3, 3}, 1, {}, {}, {1, 1, 1, 1}},
      {{1, 128, 4, 4}, 96, {1, 1}, 1, {}, {}, {}, "NOTSET", false},
      // PackedGemm (constant weights packed once): pointwise with M >= 4K and few columns
      // (rows not a multiple of the panel height, groups, channels split over threads), and
      // im2col of small depth (a first conv on 3 channels; K = 18 with groups).
      {{1, 8, 7, 9}, 40, {1, 1}, 1, {}, {}, {}},
      {{2, 8, 5, 5}, 70, {1, 1}, 2, {}, {}, {}, "NOTSET", false},
      {{1, 32, 8, 8}, 160, {1, 1}, 1, {}, {}, {}},
      {{1, 3, 30, 30}, 32, {3, 3}, 1, {2, 2}, {}, {1, 1, 1, 1}},
      {{1, 3, 64, 64}, 16, {3, 3}, 1, {}, {}, {1, 1, 1, 1}},
      // Big enough that im2col is tiled (rows * columns > 256K floats).
      {{1, 32, 96, 96}, 4, {3, 3}, 1, {}, {}, {1, 1, 1, 1}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE("case " + std::to_string(i) + " threads " + std::to_string(threads));
      CheckConv(cases[i], rng, threads);
    }
  }
}

// The direct conv over 2-4 input channels (first convs), both tile widths, against the
// reference: strides 1-3, dilation, asymmetric and auto pads, 1x1 to 7x7 kernels, output widths
// around the tiles (8, 32 columns), channel counts around the 8-channel blocks, batches.
TEST(ConvTest, FewInputChannelsMatchReference) {
  std::mt19937 rng(99);
  const std::vector<ConvCase> cases = {
      {{1, 3, 24, 24}, 32, {3, 3}, 1, {2, 2}, {}, {1, 1, 1, 1}},  // mobilenet's first conv
      {{2, 3, 30, 37}, 13, {7, 7}, 1, {2, 2}, {}, {3, 3, 3, 3}},  // resnet's, batch 2
      {{1, 2, 9, 40}, 8, {3, 3}, 1, {}, {}, {1, 1, 1, 1}},
      {{1, 4, 11, 33}, 9, {5, 3}, 1, {1, 3}, {}, {2, 0, 1, 2}},
      {{1, 3, 10, 65}, 17, {3, 3}, 1, {2, 2}, {2, 2}, {2, 2, 2, 2}},
      {{1, 3, 8, 31}, 7, {1, 1}, 1, {}, {}, {}},
      {{1, 2, 12, 16}, 16, {4, 4}, 1, {4, 4}, {}, {}},
      {{1, 3, 13, 50}, 5, {3, 3}, 1, {2, 2}, {}, {}, "SAME_UPPER"},
      {{1, 3, 13, 50}, 5, {2, 2}, 1, {1, 1}, {}, {}, "SAME_LOWER", false},
      {{1, 3, 6, 8}, 8, {3, 3}, 1, {}, {}, {1, 1, 1, 1}, "NOTSET", false},
  };
  for (bool wide : {false, true}) {
    SetFewChannelConvAvx512(wide);
    for (size_t i = 0; i < cases.size(); ++i) {
      for (int threads : {1, 2}) {
        SCOPED_TRACE("case " + std::to_string(i) + " threads " + std::to_string(threads) +
                     (wide ? " wide" : " narrow"));
        CheckConv(cases[i], rng, threads);
      }
    }
  }
  SetFewChannelConvAvx512(true);
}

// ------------------------------------------------------------------------- ConvTranspose

TEST(ConvTransposeTest, BasicAndTwoOutputChannels) {
  // ONNX's example: x = 0..8 (3x3), W = ones [1, 2, 3, 3].
  Tensor x = F32({1, 1, 3, 3}, Iota(9));
  Tensor w = F32({1, 2, 3, 3}, std::vector<float>(18, 1.f));
  auto out = RunNode(Spec("ConvTranspose", {{"x", x}, {"w", w}}, {}, 11));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<float> one = {0,  1,  3, 3,  2,  3,  8,  15, 12, 7,  9,  21, 36,
                            27, 15, 9, 20, 33, 24, 13, 6,  13, 21, 15, 8};
  std::vector<float> both = one;
  both.insert(both.end(), one.begin(), one.end());
  ExpectNear((*out)[0], {1, 2, 5, 5}, both);
}

TEST(ConvTransposeTest, OneDStridesPadsOutputPaddingBias) {
  // x = [1, 2, 3], w = [1, 10] (C=1, M=1), stride 2: full output = [1,10,2,20,3,30].
  Tensor x = F32({1, 1, 3}, {1, 2, 3});
  Tensor w = F32({1, 1, 2}, {1, 10});
  auto full =
      RunNode(Spec("ConvTranspose", {{"x", x}, {"w", w}}, {Attribute::Ints("strides", {2})}));
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  ExpectNear((*full)[0], {1, 1, 6}, {1, 10, 2, 20, 3, 30});
  // pads [1, 2] crop one element at the start and two at the end.
  auto pads = RunNode(Spec("ConvTranspose", {{"x", x}, {"w", w}},
                           {Attribute::Ints("strides", {2}), Attribute::Ints("pads", {1, 2})}));
  ASSERT_TRUE(pads.ok());
  ExpectNear((*pads)[0], {1, 1, 3}, {10, 2, 20});
  // output_padding adds (zero) elements at the end; bias is added everywhere.
  Tensor b = F32({1}, {0.5f});
  auto op =
      RunNode(Spec("ConvTranspose", {{"x", x}, {"w", w}, {"b", b}},
                   {Attribute::Ints("strides", {2}), Attribute::Ints("output_padding", {1})}));
  ASSERT_TRUE(op.ok());
  ExpectNear((*op)[0], {1, 1, 7}, {1.5f, 10.5f, 2.5f, 20.5f, 3.5f, 30.5f, 0.5f});
  // Dilation 2: taps at +0 and +2.
  auto dil =
      RunNode(Spec("ConvTranspose", {{"x", x}, {"w", w}}, {Attribute::Ints("dilations", {2})}));
  ASSERT_TRUE(dil.ok());
  ExpectNear((*dil)[0], {1, 1, 5}, {1, 2, 13, 20, 30});
}

TEST(ConvTransposeTest, OutputShapeAndAutoPad) {
  Tensor x = F32({1, 1, 3}, {1, 2, 3});
  Tensor w = F32({1, 1, 3}, {1, 10, 100});
  // Full (stride 2): length 7 = [1, 10, 102, 20, 203, 30, 300].
  // output_shape 5: total padding 2 -> 1 at each side (NOTSET puts the odd one first).
  auto os = RunNode(Spec("ConvTranspose", {{"x", x}, {"w", w}},
                         {Attribute::Ints("strides", {2}), Attribute::Ints("output_shape", {5})}));
  ASSERT_TRUE(os.ok()) << os.status().ToString();
  ExpectNear((*os)[0], {1, 1, 5}, {10, 102, 20, 203, 30});
  // output_shape 6 (odd total 1): NOTSET/SAME_LOWER crop the start, SAME_UPPER the end.
  auto lower =
      RunNode(Spec("ConvTranspose", {{"x", x}, {"w", w}},
                   {Attribute::Ints("strides", {2}), Attribute::Ints("output_shape", {1, 1, 6})}));
  ASSERT_TRUE(lower.ok()) << lower.status().ToString();
  ExpectNear((*lower)[0], {1, 1, 6}, {10, 102, 20, 203, 30, 300});
  auto upper =
      RunNode(Spec("ConvTranspose", {{"x", x}, {"w", w}},
                   {Attribute::Ints("strides", {2}), Attribute::String("auto_pad", "SAME_UPPER")}));
  ASSERT_TRUE(upper.ok()) << upper.status().ToString();
  ExpectNear((*upper)[0], {1, 1, 6}, {1, 10, 102, 20, 203, 30});
  auto same_lower =
      RunNode(Spec("ConvTranspose", {{"x", x}, {"w", w}},
                   {Attribute::Ints("strides", {2}), Attribute::String("auto_pad", "SAME_LOWER")}));
  ASSERT_TRUE(same_lower.ok());
  ExpectNear((*same_lower)[0], {1, 1, 6}, {10, 102, 20, 203, 30, 300});
  // output_shape larger than the full output: zeros at the end.
  auto bigger =
      RunNode(Spec("ConvTranspose", {{"x", x}, {"w", w}},
                   {Attribute::Ints("strides", {2}), Attribute::Ints("output_shape", {8})}));
  ASSERT_TRUE(bigger.ok());
  ExpectNear((*bigger)[0], {1, 1, 8}, {1, 10, 102, 20, 203, 30, 300, 0});
}

TEST(ConvTransposeTest, Errors) {
  Tensor x = F32({1, 2, 3}, std::vector<float>(6, 1.f));
  Tensor w = F32({3, 1, 2}, std::vector<float>(6, 1.f));
  auto bad = RunNode(Spec("ConvTranspose", {{"x", x}, {"w", w}}));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  Tensor w2 = F32({2, 1, 2}, std::vector<float>(4, 1.f));
  auto crop =
      RunNode(Spec("ConvTranspose", {{"x", x}, {"w", w2}}, {Attribute::Ints("pads", {2, 2})}));
  EXPECT_EQ(crop.status().code(), StatusCode::kInvalidArgument);
  auto neg = RunNode(
      Spec("ConvTranspose", {{"x", x}, {"w", w2}}, {Attribute::Ints("output_padding", {-1})}));
  EXPECT_EQ(neg.status().code(), StatusCode::kInvalidModel);
}

struct TransposeCase {
  Shape x;
  int64_t m;  // output channels
  Shape kernel;
  int64_t group;
  Shape strides, dilations, pads, output_padding;
};

// Scatter reference: every input element adds w * x into the output window.
std::vector<float> ReferenceConvTranspose(const TransposeCase& c, const std::vector<float>& x,
                                          const std::vector<float>& w, const std::vector<float>& b,
                                          Shape* yshape) {
  const size_t r = c.kernel.size();
  const int64_t N = c.x[0], C = c.x[1], M = c.m, cg = C / c.group, mg = M / c.group;
  Shape in(c.x.begin() + 2, c.x.end()), out(r), st(r), dl(r), pb(r);
  for (size_t i = 0; i < r; ++i) {
    st[i] = c.strides.empty() ? 1 : c.strides[i];
    dl[i] = c.dilations.empty() ? 1 : c.dilations[i];
    pb[i] = c.pads.empty() ? 0 : c.pads[i];
    int64_t pe = c.pads.empty() ? 0 : c.pads[i + r];
    int64_t op = c.output_padding.empty() ? 0 : c.output_padding[i];
    out[i] = st[i] * (in[i] - 1) + op + (c.kernel[i] - 1) * dl[i] + 1 - pb[i] - pe;
  }
  *yshape = {N, M};
  yshape->insert(yshape->end(), out.begin(), out.end());
  const int64_t S = Product(out), K = Product(c.kernel), I = Product(in);
  std::vector<double> y(N * M * S, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m) {
      for (int64_t s = 0; s < S; ++s) y[(n * M + m) * S + s] = b[m];
      const int64_t g = m / mg, mm = m % mg;
      for (int64_t ci = 0; ci < cg; ++ci) {
        const int64_t cin = g * cg + ci;
        for (int64_t i = 0; i < I; ++i)
          for (int64_t k = 0; k < K; ++k) {
            int64_t off = 0;
            bool inside = true;
            for (int64_t ri = i, rk = k, d = r - 1, scale = 1; d >= 0; --d) {
              int64_t id = ri % in[d], kd = rk % c.kernel[d];
              ri /= in[d];
              rk /= c.kernel[d];
              int64_t o = id * st[d] - pb[d] + kd * dl[d];
              if (o < 0 || o >= out[d]) inside = false;
              off += o * scale;
              scale *= out[d];
            }
            if (!inside) continue;
            y[(n * M + m) * S + off] +=
                static_cast<double>(x[(n * C + cin) * I + i]) * w[(cin * mg + mm) * K + k];
          }
      }
    }
  return std::vector<float>(y.begin(), y.end());
}

TEST(ConvTransposeTest, MatchesScatterReference) {
  std::mt19937 rng(99);
  const std::vector<TransposeCase> cases = {
      {{2, 4, 5, 6}, 6, {3, 3}, 1, {2, 2}, {}, {1, 0, 1, 1}, {1, 0}},
      {{1, 6, 7, 5}, 4, {3, 2}, 2, {1, 3}, {2, 1}, {}, {}},
      {{1, 8, 6, 6}, 8, {4, 4}, 8, {2, 2}, {}, {1, 1, 1, 1}, {}},
      {{1, 8, 6, 6}, 12, {1, 1}, 1, {}, {}, {}, {}},  // pointwise
      {{2, 3, 20}, 5, {5}, 1, {3}, {2}, {2, 4}, {2}},
      {{1, 4, 3, 4, 5}, 4, {3, 3, 2}, 2, {2, 1, 2}, {1, 2, 1}, {1, 0, 0, 0, 1, 1}, {}},
      {{1, 16, 40, 40}, 8, {4, 4}, 1, {2, 2}, {}, {1, 1, 1, 1}, {}},
      {{1, 64, 24, 24}, 48, {1, 1}, 1, {}, {}, {}, {}},  // pointwise, split over threads
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const TransposeCase& c = cases[i];
    Shape wshape = {c.x[1], c.m / c.group};
    wshape.insert(wshape.end(), c.kernel.begin(), c.kernel.end());
    std::vector<float> x = Random(Product(c.x), rng), w = Random(Product(wshape), rng),
                       b = Random(c.m, rng);
    std::vector<Attribute> attrs = {Attribute::Int("group", c.group)};
    if (!c.strides.empty()) attrs.push_back(Attribute::Ints("strides", c.strides));
    if (!c.dilations.empty()) attrs.push_back(Attribute::Ints("dilations", c.dilations));
    if (!c.pads.empty()) attrs.push_back(Attribute::Ints("pads", c.pads));
    if (!c.output_padding.empty())
      attrs.push_back(Attribute::Ints("output_padding", c.output_padding));
    Shape yshape;
    std::vector<float> ref = ReferenceConvTranspose(c, x, w, b, &yshape);
    for (int threads : {1, 2}) {
      SCOPED_TRACE("threads " + std::to_string(threads));
      auto out = RunNode(
          Spec("ConvTranspose",
               {{"x", F32(c.x, x)}, {"w", F32(wshape, w), true}, {"b", F32({c.m}, b)}}, attrs, 11),
          threads);
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      ExpectNear((*out)[0], yshape, ref, 1e-4f, 1e-4f);
    }
  }
}

}  // namespace
}  // namespace edgefit
