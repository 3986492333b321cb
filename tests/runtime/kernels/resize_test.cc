// Resize (opset 10, 11, 13, 18, 19) and Upsample (7, 9). Expected values are computed by hand,
// taken from the examples documented with ONNX's operator tests (opset 18/19 features, which
// Debian's ONNX 1.12 test data does not cover), or computed by a plain per-element loop in this
// file for the randomized differential tests.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernel_test_util.h"

namespace edgefit {
namespace {

using testing::F32;
using testing::I64;
using testing::NodeInput;
using testing::NodeSpec;
using testing::RunNode;
using testing::Values;

Tensor Run1(const NodeSpec& spec, int threads = 1) {
  auto out = RunNode(spec, threads);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? (*out)[0] : Tensor();
}

NodeInput Omitted() { return {"", Tensor()}; }

// Resize with `scales` (opset 10: X, scales; 11: X, roi=[], scales; 13+: X, "", scales).
NodeSpec ResizeScales(int64_t opset, Tensor x, std::vector<float> scales,
                      std::vector<Attribute> attrs = {}) {
  NodeSpec s{"Resize", {{"x", x}}};
  s.opset = opset;
  s.attributes = std::move(attrs);
  if (opset == 11)
    s.inputs.push_back({"roi", F32({0}, {}), true});
  else if (opset > 11)
    s.inputs.push_back(Omitted());
  s.inputs.push_back({"scales", F32({static_cast<int64_t>(scales.size())}, scales), true});
  return s;
}

// Resize with `sizes` (opset 11: X, roi=[], scales=[], sizes; 13+: X, "", "", sizes).
NodeSpec ResizeSizes(int64_t opset, Tensor x, std::vector<int64_t> sizes,
                     std::vector<Attribute> attrs = {}) {
  NodeSpec s{"Resize", {{"x", x}}};
  s.opset = opset;
  s.attributes = std::move(attrs);
  if (opset == 11) {
    s.inputs.push_back({"roi", F32({0}, {}), true});
    s.inputs.push_back({"scales", F32({0}, {}), true});
  } else {
    s.inputs.push_back(Omitted());
    s.inputs.push_back(Omitted());
  }
  s.inputs.push_back({"sizes", I64({static_cast<int64_t>(sizes.size())}, sizes), true});
  return s;
}

Attribute Str(const char* name, const char* v) { return Attribute::String(name, v); }

const Tensor k2x2 = F32({1, 1, 2, 2}, {1, 2, 3, 4});
const Tensor k4x4 = F32({1, 1, 4, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});

// ---------------------------------------------------------------- legacy: Upsample, Resize-10

TEST(UpsampleTest, Opset7NearestScalesAttribute) {
  NodeSpec s{"Upsample", {{"x", k2x2}}};
  s.opset = 7;
  s.attributes = {Attribute::Floats("scales", {1, 1, 2, 3}), Str("mode", "nearest")};
  testing::ExpectNear(Run1(s), {1, 1, 4, 6},
                      {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4});
}

TEST(UpsampleTest, Opset9LinearScalesInput) {
  // Asymmetric: x = j / 2 = 0, .5, 1, 1.5 (clamped to 1).
  NodeSpec s{"Upsample", {{"x", k2x2}, {"scales", F32({4}, {1, 1, 2, 2}), true}}};
  s.opset = 9;
  s.attributes = {Str("mode", "linear")};
  const std::vector<float> expected = {1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 3, 3.5f, 4, 4, 3, 3.5f, 4, 4};
  testing::ExpectNear(Run1(s), {1, 1, 4, 4}, expected);
  // Resize-10 has the same rules.
  testing::ExpectNear(Run1(ResizeScales(10, k2x2, {1, 1, 2, 2}, {Str("mode", "linear")})),
                      {1, 1, 4, 4}, expected);
  // Scales given at run time.
  NodeSpec runtime{"Upsample", {{"x", k2x2}, {"scales", F32({4}, {1, 1, 2, 2})}}};
  runtime.opset = 9;
  runtime.attributes = {Str("mode", "linear")};
  testing::ExpectNear(Run1(runtime), {1, 1, 4, 4}, expected);
}

TEST(UpsampleTest, Resize10NearestTakesCeilWhenDownsampling) {
  Tensor x = F32({1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  // W: 4 -> 2, x = j / 0.6 = 0, 1.67 -> ceil -> 0, 2.
  testing::ExpectNear(Run1(ResizeScales(10, x, {1, 1, 0.6f, 0.6f})), {1, 1, 1, 2}, {1, 3});
  // Up-sampling floors: x = j / 3.
  testing::ExpectNear(Run1(ResizeScales(10, F32({1, 2}, {5, 6}), {1, 3})), {1, 6},
                      {5, 5, 5, 6, 6, 6});
}

TEST(UpsampleTest, NotRegisteredFromOpset10) {
  NodeSpec s{"Upsample", {{"x", k2x2}, {"scales", F32({4}, {1, 1, 2, 2}), true}}};
  s.opset = 10;
  EXPECT_EQ(RunNode(s).status().code(), StatusCode::kUnsupported);
}

// ---------------------------------------------------------------- coordinate transforms

TEST(ResizeTest, LinearHalfPixelAndAlignCorners) {
  for (int64_t opset : {11, 13, 18, 19}) {
    SCOPED_TRACE(opset);
    testing::ExpectNear(Run1(ResizeScales(opset, k2x2, {1, 1, 2, 2}, {Str("mode", "linear")})),
                        {1, 1, 4, 4},
                        {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3,
                         3.25f, 3.75f, 4});
    // align_corners: x = j / 3.
    const float t = 1.0f / 3, u = 2.0f / 3;
    testing::ExpectNear(
        Run1(ResizeSizes(
            opset, k2x2, {1, 1, 4, 4},
            {Str("mode", "linear"), Str("coordinate_transformation_mode", "align_corners")})),
        {1, 1, 4, 4},
        {1, 1 + t, 1 + u, 2, 1 + u, 2, 2 + t, 2 + u, 2 + t, 2 + u, 3, 3 + t, 3, 3 + t, 3 + u, 4});
  }
}

TEST(ResizeTest, NearestModesOnTies) {
  // Asymmetric 2 -> 4: x = 0, .5, 1, 1.5.
  const Tensor x = F32({1, 2}, {10, 20});
  struct C {
    const char* mode;
    std::vector<float> expected;
  };
  for (const C& c :
       {C{"round_prefer_floor", {10, 10, 20, 20}}, C{"round_prefer_ceil", {10, 20, 20, 20}},
        C{"floor", {10, 10, 20, 20}}, C{"ceil", {10, 20, 20, 20}}}) {
    SCOPED_TRACE(c.mode);
    testing::ExpectNear(Run1(ResizeSizes(13, x, {1, 4},
                                         {Str("coordinate_transformation_mode", "asymmetric"),
                                          Str("nearest_mode", c.mode)})),
                        {1, 4}, c.expected);
  }
  // Default (half_pixel, round_prefer_floor), 4 -> 2: x = 0.5, 2.5 -> 0, 2.
  const Tensor y = F32({4}, {10, 20, 30, 40});
  testing::ExpectNear(Run1(ResizeSizes(13, y, {2})), {2}, {10, 30});
  // tf_half_pixel_for_nn: x = (j + .5) / .5 = 1, 3.
  testing::ExpectNear(
      Run1(
          ResizeSizes(11, y, {2}, {Str("coordinate_transformation_mode", "tf_half_pixel_for_nn")})),
      {2}, {20, 40});
}

TEST(ResizeTest, PytorchHalfPixelToLengthOne) {
  const Tensor y = F32({4}, {10, 20, 30, 40});
  // One output: x = 0 (half_pixel would sample x = 1.5).
  testing::ExpectNear(Run1(ResizeSizes(13, y, {1},
                                       {Str("mode", "linear"), Str("coordinate_transformation_mode",
                                                                   "pytorch_half_pixel")})),
                      {1}, {10});
  testing::ExpectNear(Run1(ResizeSizes(13, y, {1}, {Str("mode", "linear")})), {1}, {25});
}

TEST(ResizeTest, CubicCoefficients) {
  // With a = -0.5 Keys' cubic reproduces a linear function when all four taps are inside.
  std::vector<float> v(8);
  for (int i = 0; i < 8; ++i) v[i] = 2.0f * i + 1;
  Tensor y = Run1(ResizeScales(13, F32({8}, v), {2},
                               {Str("mode", "cubic"), Attribute::Float("cubic_coeff_a", -0.5f)}));
  ASSERT_EQ(y.shape(), Shape({16}));
  for (int j = 0; j < 16; ++j) {
    const double x = (j + 0.5) / 2 - 0.5;
    const double base = std::ceil(x) - 1;
    if (base - 1 < 0 || base + 2 > 7) continue;
    EXPECT_NEAR(y.data<float>()[j], 2 * x + 1, 1e-5) << "j = " << j;
  }
  // a = -0.75 (default), j = 3: x = 1.25, taps 0..3 (values 1, 3, 5, 7) with weights
  // -0.10546875, 0.87890625, 0.26171875, -0.03515625 -> 3.59375.
  y = Run1(ResizeScales(13, F32({8}, v), {2}, {Str("mode", "cubic")}));
  EXPECT_NEAR(y.data<float>()[3], 3.59375, 1e-6);
  // Weights sum to one: constant data stays constant, edges included.
  y = Run1(ResizeScales(13, F32({5}, {3, 3, 3, 3, 3}), {2.6f}, {Str("mode", "cubic")}));
  for (float o : Values<float>(y)) EXPECT_NEAR(o, 3, 1e-6);
}

TEST(ResizeTest, TfCropAndResizeExtrapolation) {
  NodeSpec s{"Resize",
             {{"x", k4x4},
              {"roi", F32({8}, {0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f}), true},
              Omitted(),
              {"sizes", I64({4}, {1, 1, 3, 3}), true}}};
  s.opset = 13;
  s.attributes = {Str("mode", "linear"),
                  Str("coordinate_transformation_mode", "tf_crop_and_resize"),
                  Attribute::Float("extrapolation_value", 10)};
  testing::ExpectNear(Run1(s), {1, 1, 3, 3}, {7.6f, 10, 10, 12.4f, 10, 10, 10, 10, 10});
  // Nearest also extrapolates.
  s.attributes[0] = Str("mode", "nearest");
  Tensor y = Run1(s);
  EXPECT_EQ(Values<float>(y)[1], 10);
  EXPECT_EQ(Values<float>(y)[8], 10);
}

// ---------------------------------------------------------------- opset 18 / 19 features

TEST(ResizeTest, AxesSubset) {
  const std::vector<float> expected = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                       3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
  testing::ExpectNear(Run1(ResizeScales(18, k2x2, {2, 3}, {Attribute::Ints("axes", {2, 3})})),
                      {1, 1, 4, 6}, expected);
  testing::ExpectNear(Run1(ResizeScales(18, k2x2, {3, 2}, {Attribute::Ints("axes", {3, -2})})),
                      {1, 1, 4, 6}, expected);
  testing::ExpectNear(Run1(ResizeSizes(18, k2x2, {6, 4}, {Attribute::Ints("axes", {3, 2})})),
                      {1, 1, 4, 6}, expected);
}

TEST(ResizeTest, KeepAspectRatioPolicies) {
  auto run = [](Tensor x, std::vector<int64_t> sizes, const char* policy) {
    return Run1(ResizeSizes(
        18, x, sizes, {Attribute::Ints("axes", {2, 3}), Str("keep_aspect_ratio_policy", policy)}));
  };
  std::vector<float> e7(49), e8(64);
  for (int r = 0; r < 7; ++r)
    for (int c = 0; c < 7; ++c) e7[r * 7 + c] = (r < 4 ? 1.0f : 3.0f) + (c < 4 ? 0.0f : 1.0f);
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 8; ++c) e8[r * 8 + c] = (r < 4 ? 1.0f : 3.0f) + (c < 4 ? 0.0f : 1.0f);
  testing::ExpectNear(run(k2x2, {7, 8}, "not_larger"), {1, 1, 7, 7}, e7);
  testing::ExpectNear(run(k2x2, {7, 8}, "not_smaller"), {1, 1, 8, 8}, e8);
  const Tensor x = F32({1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  testing::ExpectNear(run(x, {1, 3}, "not_larger"), {1, 1, 1, 2}, {1, 3});
  testing::ExpectNear(run(x, {1, 3}, "not_smaller"), {1, 1, 2, 3}, {1, 2, 4, 5, 6, 8});
}

TEST(ResizeTest, Antialias) {
  auto aa = [](const char* mode) {
    return std::vector<Attribute>{Str("mode", mode), Attribute::Int("antialias", 1)};
  };
  testing::ExpectNear(Run1(ResizeScales(18, k4x4, {1, 1, 0.6f, 0.6f}, aa("linear"))), {1, 1, 2, 2},
                      {2.875f, 4.5f, 9.375f, 11.0f});
  testing::ExpectNear(Run1(ResizeSizes(18, k4x4, {1, 1, 3, 3}, aa("linear"))), {1, 1, 3, 3},
                      {2.3636363f, 3.590909f, 4.818182f, 7.2727275f, 8.5f, 9.727273f, 12.181818f,
                       13.409091f, 14.636364f});
  testing::ExpectNear(Run1(ResizeScales(18, k4x4, {1, 1, 0.6f, 0.6f}, aa("cubic"))), {1, 1, 2, 2},
                      {2.5180721f, 4.2858863f, 9.589329f, 11.357142f});
  testing::ExpectNear(Run1(ResizeSizes(18, k4x4, {1, 1, 3, 3}, aa("cubic"))), {1, 1, 3, 3},
                      {1.7750092f, 3.1200073f, 4.4650054f, 7.1550016f, 8.5f, 9.844998f, 12.534994f,
                       13.8799925f, 15.224991f});
  // Up-sampling ignores antialias.
  testing::ExpectNear(
      Run1(ResizeScales(18, k2x2, {1, 1, 2, 2}, aa("linear"))), {1, 1, 4, 4},
      Values<float>(Run1(ResizeScales(18, k2x2, {1, 1, 2, 2}, {Str("mode", "linear")}))));
}

TEST(ResizeTest, HalfPixelSymmetric) {
  const auto attrs = std::vector<Attribute>{
      Str("mode", "linear"), Str("coordinate_transformation_mode", "half_pixel_symmetric")};
  testing::ExpectNear(
      Run1(ResizeScales(19, F32({1, 1, 1, 4}, {1, 2, 3, 4}), {1, 1, 1, 0.6f}, attrs)), {1, 1, 1, 2},
      {1.6666667f, 3.3333333f});
  testing::ExpectNear(
      Run1(ResizeScales(19, k2x2, {1, 1, 2.3f, 2.94f}, attrs)), {1, 1, 4, 5},
      {1.0f,        1.15986395f, 1.5f,        1.84013605f, 2.0f,        1.56521738f, 1.72508133f,
       2.06521738f, 2.40535343f, 2.56521738f, 2.43478262f, 2.59464657f, 2.93478262f, 3.27491867f,
       3.43478262f, 3.0f,        3.15986395f, 3.5f,        3.84013605f, 4.0f},
      1e-5f, 1e-4f);
  // Not a valid mode before opset 19.
  EXPECT_EQ(RunNode(ResizeScales(18, k2x2, {1, 1, 2, 2}, attrs)).status().code(),
            StatusCode::kInvalidModel);
}

// ---------------------------------------------------------------- types, identity, errors

TEST(ResizeTest, IntegerAndOtherTypes) {
  // uint8 linear rounds half to even and saturates: 0, 63.75, 191.25, 255.
  Tensor u = testing::Make<uint8_t>(DataType::kUint8, {1, 2}, {0, 255});
  Tensor y = Run1(ResizeScales(13, u, {1, 2}, {Str("mode", "linear")}));
  ASSERT_EQ(y.dtype(), DataType::kUint8);
  EXPECT_EQ(Values<uint8_t>(y), (std::vector<uint8_t>{0, 64, 191, 255}));
  Tensor i8 = testing::Make<int8_t>(DataType::kInt8, {2}, {-7, 9});
  y = Run1(ResizeScales(13, i8, {2}));
  EXPECT_EQ(Values<int8_t>(y), (std::vector<int8_t>{-7, -7, 9, 9}));
  Tensor b = testing::Make<uint8_t>(DataType::kBool, {2}, {1, 0});
  y = Run1(ResizeScales(13, b, {1.5f}, {Str("coordinate_transformation_mode", "asymmetric")}));
  ASSERT_EQ(y.dtype(), DataType::kBool);
  EXPECT_EQ(Values<uint8_t>(y), (std::vector<uint8_t>{1, 0, 0}));  // x = 0, .67, 1.33
  Tensor d = testing::Make<double>(DataType::kDouble, {2}, {1, 2});
  y = Run1(ResizeScales(13, d, {2}, {Str("mode", "linear")}));
  EXPECT_EQ(Values<double>(y), (std::vector<double>{1, 1.25, 1.75, 2}));
  Tensor h = testing::Make<uint16_t>(DataType::kFloat16, {2}, {FloatToHalf(1), FloatToHalf(2)});
  y = Run1(ResizeScales(13, h, {2}, {Str("mode", "linear")}));
  ASSERT_EQ(y.dtype(), DataType::kFloat16);
  EXPECT_EQ(HalfToFloat(Values<uint16_t>(y)[1]), 1.25f);
  Tensor i64 = I64({2}, {100, 200});
  y = Run1(ResizeScales(13, i64, {2}, {Str("mode", "cubic")}));
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  // Bool cannot be interpolated.
  EXPECT_EQ(RunNode(ResizeScales(13, b, {2}, {Str("mode", "linear")})).status().code(),
            StatusCode::kUnsupported);
}

TEST(ResizeTest, IdentityAndEmpty) {
  testing::ExpectNear(Run1(ResizeScales(13, k2x2, {1, 1, 1, 1}, {Str("mode", "cubic")})),
                      {1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor y = Run1(ResizeScales(13, k2x2, {1, 1, 0.4f, 1}));
  EXPECT_EQ(y.shape(), Shape({1, 1, 0, 2}));
  y = Run1(ResizeSizes(13, F32({0, 2}, {}), {0, 4}, {Str("mode", "linear")}));
  EXPECT_EQ(y.shape(), Shape({0, 4}));
}

TEST(ResizeTest, Errors) {
  // Both scales and sizes.
  NodeSpec both{"Resize",
                {{"x", k2x2},
                 Omitted(),
                 {"scales", F32({4}, {1, 1, 2, 2}), true},
                 {"sizes", I64({4}, {1, 1, 4, 4}), true}}};
  both.opset = 13;
  EXPECT_EQ(RunNode(both).status().code(), StatusCode::kInvalidModel);
  // Neither (sizes given at run time but empty).
  NodeSpec neither{"Resize", {{"x", k2x2}, Omitted(), Omitted(), {"sizes", I64({0}, {})}}};
  neither.opset = 13;
  auto r = RunNode(neither);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("one of 'scales' and 'sizes'"), std::string::npos);
  // Wrong length, at run time.
  NodeSpec len{"Resize", {{"x", k2x2}, Omitted(), {"scales", F32({2}, {2, 2})}}};
  len.opset = 13;
  r = RunNode(len);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'scales' has 2 values, expected 4"), std::string::npos)
      << r.status().message();
  // Non-positive scale.
  EXPECT_EQ(RunNode(ResizeScales(13, k2x2, {1, 1, 0, 2})).status().code(),
            StatusCode::kInvalidModel);
  // Cubic does not exist at opset 10; unknown modes.
  EXPECT_EQ(RunNode(ResizeScales(10, k2x2, {1, 1, 2, 2}, {Str("mode", "cubic")})).status().code(),
            StatusCode::kInvalidModel);
  EXPECT_EQ(
      RunNode(ResizeScales(13, k2x2, {1, 1, 2, 2}, {Str("nearest_mode", "round")})).status().code(),
      StatusCode::kInvalidModel);
  // tf_crop_and_resize without roi.
  r = RunNode(ResizeScales(13, k2x2, {1, 1, 2, 2},
                           {Str("coordinate_transformation_mode", "tf_crop_and_resize")}));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  // Axes out of range.
  EXPECT_EQ(RunNode(ResizeScales(18, k2x2, {2}, {Attribute::Ints("axes", {4})})).status().code(),
            StatusCode::kInvalidModel);
}

// ---------------------------------------------------------------- differential (fast paths)

// Plain per-element reference for nearest and linear with sizes (scale = out / in): each output
// element is computed from its own coordinates on every axis.
double RefCoord(const std::string& ctm, int64_t j, int64_t in, int64_t out) {
  const double scale = static_cast<double>(out) / static_cast<double>(in);
  if (ctm == "half_pixel") return (j + 0.5) / scale - 0.5;
  if (ctm == "pytorch_half_pixel") return out > 1 ? (j + 0.5) / scale - 0.5 : 0;
  if (ctm == "align_corners") return out == 1 ? 0 : j * (in - 1.0) / (out - 1.0);
  if (ctm == "asymmetric") return j / scale;
  return (j + 0.5) / scale;  // tf_half_pixel_for_nn
}

int64_t RefNearest(const std::string& mode, double x, int64_t in) {
  const double f = std::floor(x);
  int64_t i;
  if (mode == "round_prefer_floor")
    i = static_cast<int64_t>(x - f > 0.5 ? f + 1 : f);
  else if (mode == "round_prefer_ceil")
    i = static_cast<int64_t>(x - f >= 0.5 ? f + 1 : f);
  else if (mode == "floor")
    i = static_cast<int64_t>(f);
  else
    i = static_cast<int64_t>(std::ceil(x));
  return std::clamp<int64_t>(i, 0, in - 1);
}

std::vector<float> RefResize(const std::vector<float>& x, const Shape& in, const Shape& out,
                             const std::string& mode, const std::string& ctm,
                             const std::string& nearest_mode) {
  const size_t rank = in.size();
  std::vector<int64_t> stride(rank, 1);
  for (size_t d = rank; d-- > 1;) stride[d - 1] = stride[d] * in[d];
  std::vector<float> y(static_cast<size_t>(NumElements(out)));
  std::vector<int64_t> coord(rank, 0);
  for (size_t o = 0; o < y.size(); ++o) {
    int64_t rem = static_cast<int64_t>(o);
    for (size_t d = rank; d-- > 0;) {
      coord[d] = rem % out[d];
      rem /= out[d];
    }
    if (mode == "nearest") {
      int64_t off = 0;
      for (size_t d = 0; d < rank; ++d)
        off += RefNearest(nearest_mode, RefCoord(ctm, coord[d], in[d], out[d]), in[d]) * stride[d];
      y[o] = x[off];
      continue;
    }
    // N-linear: sum over the 2^rank corners.
    std::vector<int64_t> lo(rank), hi(rank);
    std::vector<double> w(rank);
    for (size_t d = 0; d < rank; ++d) {
      const double c = std::clamp(RefCoord(ctm, coord[d], in[d], out[d]), 0.0, in[d] - 1.0);
      lo[d] = static_cast<int64_t>(std::floor(c));
      hi[d] = std::min(lo[d] + 1, in[d] - 1);
      w[d] = c - static_cast<double>(lo[d]);
    }
    double v = 0;
    for (size_t corner = 0; corner < (size_t{1} << rank); ++corner) {
      double weight = 1;
      int64_t off = 0;
      for (size_t d = 0; d < rank; ++d) {
        const bool upper = (corner >> d) & 1;
        weight *= upper ? w[d] : 1 - w[d];
        off += (upper ? hi[d] : lo[d]) * stride[d];
      }
      v += weight * x[off];
    }
    y[o] = static_cast<float>(v);
  }
  return y;
}

struct DiffCase {
  const char* mode;
  const char* ctm;
  const char* nearest;
};

const DiffCase kDiffCases[] = {
    {"nearest", "asymmetric", "floor"},
    {"nearest", "asymmetric", "round_prefer_floor"},
    {"nearest", "half_pixel", "round_prefer_floor"},
    {"nearest", "half_pixel", "round_prefer_ceil"},
    {"nearest", "align_corners", "round_prefer_ceil"},
    {"nearest", "tf_half_pixel_for_nn", "ceil"},
    {"linear", "half_pixel", ""},
    {"linear", "align_corners", ""},
    {"linear", "asymmetric", ""},
    {"linear", "pytorch_half_pixel", ""},
};

void CheckResizeAgainstReference(const Shape& in, const std::vector<Shape>& outs, int threads,
                                 uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-2, 2);
  std::vector<float> x(static_cast<size_t>(NumElements(in)));
  for (float& v : x) v = dist(rng);
  for (const DiffCase& c : kDiffCases) {
    for (const Shape& out : outs) {
      SCOPED_TRACE(std::string(c.mode) + " " + c.ctm + " " + c.nearest + " -> " +
                   ShapeToString(out) + " threads " + std::to_string(threads));
      std::vector<Attribute> attrs = {Str("mode", c.mode),
                                      Str("coordinate_transformation_mode", c.ctm)};
      if (*c.nearest) attrs.push_back(Str("nearest_mode", c.nearest));
      Tensor y = Run1(ResizeSizes(11, F32(in, x), out, attrs), threads);
      ASSERT_EQ(y.shape(), out);
      std::vector<float> ref = RefResize(x, in, out, c.mode, c.ctm, c.nearest);
      for (size_t i = 0; i < ref.size(); ++i)
        ASSERT_NEAR(y.data<float>()[i], ref[i], 1e-5) << "at " << i;
    }
  }
}

TEST(ResizeTest, TwoDimensionalPathMatchesPlainLoop) {
  CheckResizeAgainstReference(
      {2, 3, 7, 9},
      {{2, 3, 14, 18}, {2, 3, 3, 4}, {2, 3, 7, 5}, {2, 3, 15, 9}, {2, 3, 1, 1}, {2, 3, 7, 27}}, 1,
      1);
}

TEST(ResizeTest, TwoDimensionalPathMatchesPlainLoopThreaded) {
  // HRNet-like 2x up-sampling; big enough to be split across threads.
  CheckResizeAgainstReference({2, 8, 40, 40}, {{2, 8, 80, 80}, {2, 8, 21, 33}}, 2, 2);
}

TEST(ResizeTest, GeneralPathMatchesPlainLoop) {
  // Resizing a leading axis (or three axes) takes the N-D path.
  CheckResizeAgainstReference({3, 4, 5}, {{6, 4, 10}, {2, 8, 5}, {5, 3, 7}}, 1, 3);
  CheckResizeAgainstReference({2, 3, 4, 5}, {{4, 3, 4, 10}}, 2, 4);
}

TEST(ResizeTest, TwoDimensionalAndGeneralPathsAgreeForEveryMode) {
  // The same data as [N, C, H, W] (2-D path) and as [N, C, H, W, 1] (N-D path).
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> dist(-2, 2);
  std::vector<float> x(2 * 3 * 6 * 7);
  for (float& v : x) v = dist(rng);
  struct C {
    std::vector<Attribute> attrs;
    std::vector<float> scales;
  };
  const std::vector<C> cases = {
      {{Str("mode", "cubic")}, {2, 2}},
      {{Str("mode", "cubic"), Attribute::Int("exclude_outside", 1),
        Attribute::Float("cubic_coeff_a", -0.5f)},
       {0.6f, 1.7f}},
      {{Str("mode", "cubic"), Str("coordinate_transformation_mode", "align_corners")},
       {1.5f, 0.5f}},
      {{Str("mode", "linear"), Attribute::Int("antialias", 1)}, {0.4f, 0.7f}},
      {{Str("mode", "cubic"), Attribute::Int("antialias", 1)}, {0.3f, 2.0f}},
      {{Str("mode", "nearest"), Str("nearest_mode", "ceil")}, {2.5f, 0.5f}},
  };
  for (const C& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.scales));
    Tensor y4 =
        Run1(ResizeScales(18, F32({2, 3, 6, 7}, x), {1, 1, c.scales[0], c.scales[1]}, c.attrs));
    Tensor y5 = Run1(
        ResizeScales(18, F32({2, 3, 6, 7, 1}, x), {1, 1, c.scales[0], c.scales[1], 1}, c.attrs));
    ASSERT_EQ(y4.numel(), y5.numel());
    for (int64_t i = 0; i < y4.numel(); ++i)
      ASSERT_NEAR(y4.data<float>()[i], y5.data<float>()[i], 1e-5) << "at " << i;
  }
}

}  // namespace
}  // namespace edgefit
