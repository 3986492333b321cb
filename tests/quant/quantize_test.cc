// QuantizeModel on hand-built graphs: Q/DQ structure, weight/bias encoding, shared scales,
// fused activations, kept-float reasons, the ONNX checker, the target check, and accuracy of
// the simulated INT8 model against the float one.
#include "quant/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "../passes/graph_builder.h"
#include "onnx/model_io.h"
#include "runtime/session.h"

namespace edgefit {
namespace {

using testing::GraphBuilder;

Value* RandomWeight(GraphBuilder& b, const std::string& name, const Shape& shape, uint32_t seed,
                    float scale = 0.3f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  Tensor t(DataType::kFloat, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return b.g().AddInitializer(name, t);
}

// input[1,3,8,8] -> Conv+Relu -> {Conv+Relu, Conv} -> Concat -> MaxPool -> GlobalAveragePool
// -> Flatten -> Gemm(transB) -> Softmax -> probs; also logits as an output.
Model SmallCnn() {
  GraphBuilder b(13);
  b.g().name = "small_cnn";
  Value* x = b.Input("input", {1, 3, 8, 8});
  Value* c1 =
      b.Op("Conv", {x, RandomWeight(b, "w1", {8, 3, 3, 3}, 1), RandomWeight(b, "b1", {8}, 2)}, "c1",
           {Attribute::Ints("pads", {1, 1, 1, 1})});
  Value* r1 = b.Op("Relu", {c1}, "r1");
  Value* c2 = b.Op(
      "Conv", {r1, RandomWeight(b, "w2", {4, 8, 1, 1}, 3), RandomWeight(b, "b2", {4}, 4)}, "c2");
  Value* r2 = b.Op("Relu", {c2}, "r2");
  Value* c3 =
      b.Op("Conv",
           {r1, RandomWeight(b, "w3", {4, 8, 1, 1}, 5, 2.0f), RandomWeight(b, "b3", {4}, 6)}, "c3");
  Value* cat = b.Op("Concat", {r2, c3}, "cat", {Attribute::Int("axis", 1)});
  Value* mp = b.Op("MaxPool", {cat}, "mp",
                   {Attribute::Ints("kernel_shape", {2, 2}), Attribute::Ints("strides", {2, 2})});
  Value* gap = b.Op("GlobalAveragePool", {mp}, "gap");
  Value* flat = b.Op("Flatten", {gap}, "flat");
  Value* logits =
      b.Op("Gemm", {flat, RandomWeight(b, "fc_w", {5, 8}, 7), RandomWeight(b, "fc_b", {5}, 8)},
           "logits", {Attribute::Int("transB", 1)});
  Value* probs = b.Op("Softmax", {logits}, "probs", {Attribute::Int("axis", 1)});
  b.g().FindValue("input")->type() = TypeInfo::Tensor(DataType::kFloat, {1, 3, 8, 8});
  logits->type() = TypeInfo::Tensor(DataType::kFloat, {1, 5});
  probs->type() = TypeInfo::Tensor(DataType::kFloat, {1, 5});
  b.Output(logits);
  b.Output(probs);
  b.model.ir_version = 8;
  return std::move(b.model);
}

Dataset RandomData(const Model& model, int64_t n) {
  DatasetOptions o;
  o.random = true;
  o.random_count = n;
  o.seed = 3;
  auto specs = InputSpecsOf(model);
  EXPECT_TRUE(specs.ok()) << specs.status().ToString();
  auto d = Dataset::Open(o, *specs);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return std::move(d).value();
}

const Node* Producer(const Model& m, const std::string& value) {
  const Value* v = m.graph->FindValue(value);
  return v ? v->producer() : nullptr;
}

const Node* NodeNamed(const Model& m, const std::string& name) {
  for (const auto& n : m.graph->nodes())
    if (n->name() == name) return n.get();
  return nullptr;
}

std::vector<float> Floats(const Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

TEST(QuantizeTest, StructureOfTheQdqModel) {
  Model model = SmallCnn();
  Dataset data = RandomData(model, 8);
  QuantizeOptions options;
  auto report = QuantizeModel(model, nullptr, data, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(RunOnnxChecker(model).ok()) << RunOnnxChecker(model).ToString();

  // Weights: int8 per output channel (axis 0 for Conv and for Gemm with transB), zero points 0.
  for (const char* node : {"c1_node", "c2_node", "c3_node", "logits_node"}) {
    SCOPED_TRACE(node);
    const Node* n = NodeNamed(model, node);
    ASSERT_NE(n, nullptr);
    const Node* wdq = n->input(1)->producer();
    ASSERT_NE(wdq, nullptr);
    EXPECT_EQ(wdq->op_type(), "DequantizeLinear");
    EXPECT_EQ(wdq->GetInt("axis", -7), 0);
    const Tensor& wq = *wdq->input(0)->initializer();
    EXPECT_EQ(wq.dtype(), DataType::kInt8);
    const Tensor& ws = *wdq->input(1)->initializer();
    EXPECT_EQ(ws.numel(), wq.dim(0));
    const Tensor& wz = *wdq->input(2)->initializer();
    for (int64_t i = 0; i < wz.numel(); ++i) EXPECT_EQ(wz.data<int8_t>()[i], 0);
    // Bias: int32 with scale = input scale * weight scale, per channel.
    const Node* bdq = n->input(2)->producer();
    ASSERT_NE(bdq, nullptr);
    EXPECT_EQ(bdq->input(0)->initializer()->dtype(), DataType::kInt32);
    const Node* in_dq = n->input(0)->producer();
    ASSERT_NE(in_dq, nullptr);
    ASSERT_EQ(in_dq->op_type(), "DequantizeLinear");
    const float s_in = in_dq->input(1)->initializer()->data<float>()[0];
    const Tensor& bs = *bdq->input(1)->initializer();
    ASSERT_EQ(bs.numel(), ws.numel());
    for (int64_t c = 0; c < bs.numel(); ++c)
      EXPECT_FLOAT_EQ(bs.data<float>()[c], s_in * ws.data<float>()[c]);
  }
  // Conv -> Relu fused: the Relu reads the Conv directly.
  EXPECT_EQ(Producer(model, "c1")->op_type(), "Conv");
  EXPECT_EQ(NodeNamed(model, "r1_node")->input(0)->name(), "c1");
  // Concat inputs and output, and MaxPool's output, share one scale and zero point.
  const Node* concat = NodeNamed(model, "cat_node");
  const Value* scale = concat->input(0)->producer()->input(1);
  EXPECT_EQ(concat->input(1)->producer()->input(1), scale);
  EXPECT_EQ(Producer(model, "cat")->input(1), scale);
  EXPECT_EQ(Producer(model, "mp")->input(1), scale);
  // Softmax is quantized without a target (it is in the activation table); see the stm32n6 test
  // for an op the target runs on the CPU.
  EXPECT_TRUE(report->kept_float.empty());
  // Graph outputs keep their names and stay float (DequantizeLinear before the output).
  EXPECT_EQ(model.graph->outputs()[0]->name(), "logits");
  EXPECT_EQ(Producer(model, "logits")->op_type(), "DequantizeLinear");
  EXPECT_EQ(model.graph->outputs()[0]->type().elem_type, DataType::kFloat);
  EXPECT_LT(report->bytes_after, report->bytes_before);  // tiny model: scales weigh in
}

TEST(QuantizeTest, QuantizedOutputsStayCloseToFloat) {
  Model model = SmallCnn();
  auto reference = CloneModel(model);
  ASSERT_TRUE(reference.ok());
  Dataset data = RandomData(model, 16);
  auto report = QuantizeModel(model, nullptr, data, QuantizeOptions{});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  auto fs = Session::Create(*reference);
  auto qs = Session::Create(model);
  ASSERT_TRUE(fs.ok() && qs.ok());
  double err = 0, ref = 0;
  for (int64_t i = 0; i < data.size(); ++i) {
    auto feeds = data.Get(i);
    ASSERT_TRUE(feeds.ok());
    auto a = (*fs)->Run(*feeds);
    auto b = (*qs)->Run(*feeds);
    ASSERT_TRUE(a.ok() && b.ok());
    std::vector<float> fa = Floats((*a)[0]), fb = Floats((*b)[0]);
    for (size_t k = 0; k < fa.size(); ++k) {
      err += (fa[k] - fb[k]) * (fa[k] - fb[k]);
      ref += fa[k] * fa[k];
    }
  }
  const double sqnr_db = 10 * std::log10(ref / err);
  // 8-bit weights and activations through 4 layers: ~6 dB per bit minus accumulated error.
  EXPECT_GT(sqnr_db, 25.0) << "SQNR " << sqnr_db << " dB";
}

TEST(QuantizeTest, ChecksCleanOnStm32n6AndKeepsCpuOpsFloat) {
  Model model = SmallCnn();
  Dataset data = RandomData(model, 4);
  auto profile = LoadTargetProfile("stm32n6");
  ASSERT_TRUE(profile.ok());
  auto report = QuantizeModel(model, &*profile, data, QuantizeOptions{});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_TRUE(report->check.has_value());
  EXPECT_EQ(report->check->Count(Severity::kViolation), 0) << FormatCheckText(*report->check);
  // Weights behind DequantizeLinear are constants for the NPU: no CPU fallback for Conv/Gemm.
  for (const Finding& f : report->check->findings)
    EXPECT_FALSE(f.rule == "op.cpu-fallback" && (f.op == "Conv" || f.op == "Gemm")) << f.message;
  bool softmax_cpu = false;
  for (const auto& f : report->kept_float)
    softmax_cpu |= f.op == "Softmax" && f.reason.find("CPU") != std::string::npos;
  EXPECT_TRUE(softmax_cpu) << FormatQuantizeText(*report);
}

TEST(QuantizeTest, ExcludeKeepsNodesFloat) {
  Model model = SmallCnn();
  Dataset data = RandomData(model, 4);
  QuantizeOptions options;
  options.exclude = {"c3_node", "GlobalAveragePool"};
  auto report = QuantizeModel(model, nullptr, data, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const Node* c3 = NodeNamed(model, "c3_node");
  EXPECT_TRUE(c3->input(1)->has_initializer());  // float weight, no DequantizeLinear
  EXPECT_EQ(c3->input(1)->initializer()->dtype(), DataType::kFloat);
  int excluded = 0;
  for (const auto& f : report->kept_float)
    excluded += f.reason.find("--exclude") != std::string::npos;
  EXPECT_EQ(excluded, 2);
}

TEST(QuantizeTest, PerTensorAndInt8Io) {
  Model model = SmallCnn();
  Dataset data = RandomData(model, 4);
  QuantizeOptions options;
  options.per_channel = false;
  options.int8_io = true;
  options.cle = false;
  options.bias_correction = false;
  auto report = QuantizeModel(model, nullptr, data, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const Node* wdq = NodeNamed(model, "c1_node")->input(1)->producer();
  EXPECT_FALSE(wdq->HasAttribute("axis"));
  EXPECT_EQ(wdq->input(1)->initializer()->numel(), 1);
  EXPECT_EQ(model.graph->inputs()[0]->type().elem_type, DataType::kInt8);
  EXPECT_EQ(model.graph->outputs()[0]->type().elem_type, DataType::kInt8);
  EXPECT_EQ(model.graph->outputs()[0]->name(), "logits");
  EXPECT_TRUE(RunOnnxChecker(model).ok()) << RunOnnxChecker(model).ToString();
}

TEST(QuantizeTest, RefusesAnAlreadyQuantizedModel) {
  Model model = SmallCnn();
  Dataset data = RandomData(model, 2);
  ASSERT_TRUE(QuantizeModel(model, nullptr, data, QuantizeOptions{}).ok());
  auto again = QuantizeModel(model, nullptr, data, QuantizeOptions{});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(again.status().message().find("already quantized"), std::string::npos);
  EXPECT_NE(again.status().message().find("QuantizeLinear"), std::string::npos);
}

TEST(QuantizeTest, OldOpsetIsConvertedForPerChannelWeights) {
  Model model = SmallCnn();
  model.SetOpsetVersion("", 11);
  // Opset 11 Softmax has axis semantics of "flatten from axis"; with axis 1 on [1,5] the same.
  Dataset data = RandomData(model, 2);
  auto report = QuantizeModel(model, nullptr, data, QuantizeOptions{});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->opset_before, 11);
  EXPECT_GE(model.OpsetVersion(), 13);
}

}  // namespace
}  // namespace edgefit
