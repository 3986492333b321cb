// convert-opset: ONNX's version converter, verified on the executor.
#include <functional>

#include "graph_builder.h"
#include "pass_test_util.h"
#include "shape/shape_inference.h"

namespace edgefit {
namespace {

using testing::CountOps;
using testing::ExpectEquivalentRewrite;
using testing::GraphBuilder;
using testing::LoadFixture;
using testing::RunPass;

Model Frozen(const std::string& fixture) {
  Model m = LoadFixture(fixture);
  RunPass(m, "fix-dynamic-dims");
  return m;
}

// A built graph (its types inferred) taken down to opset 12: equivalent, valid for ONNX's checker.
Model DownToTwelve(Model& built) {
  EXPECT_TRUE(InferShapes(built).ok());  // the outputs' types, which ONNX's checker needs
  PassOptions o;
  o.target_opset = 12;
  Model m = ExpectEquivalentRewrite(built, "convert-opset", o);
  EXPECT_EQ(m.OpsetVersion(""), 12);
  EXPECT_TRUE(RunOnnxChecker(m).ok()) << RunOnnxChecker(m).ToString();
  return m;
}

TEST(ConvertOpsetTest, RppgOpset11To17MovesSqueezeAxesToInputs) {
  Model original = Frozen("rppg_dyn_op11.onnx");
  PassOptions o;
  o.target_opset = 17;
  Model m = ExpectEquivalentRewrite(original, "convert-opset", o);
  EXPECT_EQ(m.OpsetVersion(""), 17);
  int squeezes = 0;
  for (const auto& n : m.graph->nodes()) {
    if (n->op_type() != "Squeeze") continue;
    ++squeezes;
    EXPECT_EQ(n->num_inputs(), 2u) << n->name();  // axes became an input at opset 13
    EXPECT_FALSE(n->HasAttribute("axes"));
  }
  EXPECT_EQ(squeezes, 2);
}

TEST(ConvertOpsetTest, HrnetAndMobilenetTo17) {
  PassOptions o;
  o.target_opset = 17;
  Model hrnet = ExpectEquivalentRewrite(Frozen("hrnet_like_op12_dyn.onnx"), "convert-opset", o);
  EXPECT_EQ(hrnet.OpsetVersion(""), 17);
  EXPECT_EQ(CountOps(hrnet, "Resize"), 2);
  Model mobile = ExpectEquivalentRewrite(Frozen("mobilenet_like_op13.onnx"), "convert-opset", o);
  EXPECT_EQ(mobile.OpsetVersion(""), 17);
}

TEST(ConvertOpsetTest, DoesNotFireAtTargetOpsetOrWithoutTarget) {
  Model m = LoadFixture("rppg_clean_op14.onnx");
  PassOptions o;
  o.target_opset = 14;
  EXPECT_FALSE(RunPass(m, "convert-opset", o).changed);
  EXPECT_FALSE(RunPass(m, "convert-opset").changed);  // no target, no --opset
}

// Relabelling is used only when ONNX's converter would leave every node unchanged.
TEST(ConvertOpsetTest, CompatibleStepsOnlyChangeTheOpsetNumber) {
  Model m = Frozen("mobilenet_like_op13.onnx");  // Conv, Clip, Add, ... at opset 13
  PassOptions o;
  o.target_opset = 17;
  PassResult r = RunPass(m, "convert-opset", o);
  ASSERT_TRUE(r.changed);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("every op step is compatible"), std::string::npos) << r.notes[0];
  EXPECT_EQ(m.OpsetVersion(""), 17);
  EXPECT_GE(m.ir_version, 8);  // opset 17 needs IR version 8
}

TEST(ConvertOpsetTest, IncompatibleStepsUseOnnxsConverter) {
  Model m = Frozen("rppg_dyn_op11.onnx");  // Squeeze axes move from attribute to input at 13
  PassOptions o;
  o.target_opset = 13;
  PassResult r = RunPass(m, "convert-opset", o);
  ASSERT_TRUE(r.changed);
  EXPECT_NE(r.notes[0].find("ONNX version converter"), std::string::npos) << r.notes[0];
}

// Down to opset 12 (kl730's recommendation) from 13 and 14: ONNX's converter has no adapter back
// for Relu, Clip, Reshape or Shape; steps that only added types or defaulted attributes are
// undone by changing nothing, constant axes inputs become attributes again.
TEST(ConvertOpsetTest, DownToTwelveWithoutOnnxsConverter) {
  PassOptions o;
  o.target_opset = 12;
  for (const char* fixture : {"mobilenet_like_op13.onnx", "rppg_dyn_op13.onnx",
                              "rppg_dyn_op14.onnx", "rppg_clean_op14.onnx"}) {
    SCOPED_TRACE(fixture);
    Model m = ExpectEquivalentRewrite(Frozen(fixture), "convert-opset", o);
    EXPECT_EQ(m.OpsetVersion(""), 12);
    EXPECT_TRUE(RunOnnxChecker(m).ok()) << RunOnnxChecker(m).ToString();
    int axes_nodes = 0;
    for (const auto& n : m.graph->nodes()) {
      EXPECT_FALSE(n->HasAttribute("allowzero")) << n->name();  // Reshape-14's, 0 = default
      if (n->op_type() == "Squeeze" || n->op_type() == "Unsqueeze") {
        ++axes_nodes;
        EXPECT_EQ(n->num_inputs(), 1u) << n->name();
        EXPECT_TRUE(n->HasAttribute("axes")) << n->name();
      }
    }
    if (std::string(fixture).find("rppg_dyn") == 0) EXPECT_EQ(axes_nodes, 4);
  }
}

// What a node uses of the newer version keeps the model where it is (ONNX's converter, which
// has no adapter back for these either, reports why).
TEST(ConvertOpsetTest, DownKeepsNodesThatNeedTheNewerVersion) {
  struct Case {
    const char* what;
    int opset;
    std::function<void(GraphBuilder&)> build;
  };
  const std::vector<Case> cases = {
      {"Reshape allowzero = 1 (opset 14)", 14,
       [](GraphBuilder& b) {
         b.Output(b.Op("Reshape", {b.Input("x", {2, 3}), b.Ints("shape", {3, 2})}, "y",
                       {Attribute::Int("allowzero", 1)}));
       }},
      {"Relu on int32 (a type of opset 14)", 14,
       [](GraphBuilder& b) {
         b.Output(b.Op("Relu", {b.Input("x", {2, 3}, DataType::kInt32)}, "y"));
       }},
      {"Softmax along a middle axis (opset 13's meaning; before 13 it flattens)", 13,
       [](GraphBuilder& b) {
         b.Output(b.Op("Softmax", {b.Input("x", {2, 3, 4})}, "y", {Attribute::Int("axis", 1)}));
       }},
      {"DequantizeLinear per axis (opset 13; before, one scale)", 13,
       [](GraphBuilder& b) {
         Tensor zero_points(DataType::kInt8, {3});
         b.Output(b.Op("DequantizeLinear",
                       {b.Input("x", {2, 3}, DataType::kInt8), b.Floats("scale", {3}),
                        b.g().AddInitializer("zero_points", zero_points)},
                       "y"));
       }},
      {"Squeeze axes computed from the data's shape", 13,
       [](GraphBuilder& b) {
         Value* x = b.Input("x", {2, 1});
         Value* rank = b.Op("Shape", {b.Op("Shape", {x}, "shape")}, "rank");
         b.Output(b.Op("Squeeze", {x, b.Op("Sub", {rank, b.Ints("one", {1})}, "last")}, "y"));
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    GraphBuilder b(c.opset);
    c.build(b);
    ASSERT_TRUE(InferShapes(b.model).ok());  // the outputs' types, which ONNX's checker needs
    PassOptions o;
    o.target_opset = c.opset - 1;
    PassResult r = RunPass(b.model, "convert-opset", o);
    EXPECT_FALSE(r.changed);
    EXPECT_EQ(b.model.OpsetVersion(""), c.opset);
    ASSERT_FALSE(r.unresolved.empty());
    EXPECT_NE(r.unresolved[0].find("nor can edgefit without changing nodes: "), std::string::npos)
        << r.unresolved[0];
  }
  // The same graphs built the way the older opset allows do go down: allowzero = 0 (dropped),
  // Relu on floats, constant axes (an attribute again), Softmax along the last axis (said
  // explicitly: the default was 1 before 13).
  GraphBuilder b(14);
  Value* x = b.Op("Reshape", {b.Input("x", {2, 3}), b.Ints("shape", {3, 2, 1})}, "x3",
                  {Attribute::Int("allowzero", 0)});
  Value* y = b.Op("Squeeze", {b.Op("Relu", {x}, "r"), b.Ints("axes", {2})}, "y");
  b.Output(b.Op("Softmax", {y}, "p"));
  Model m = DownToTwelve(b.model);
  EXPECT_FALSE(m.graph->FindValue("x3")->producer()->HasAttribute("allowzero"));
  const Node* squeeze = m.graph->FindValue("y")->producer();
  EXPECT_EQ(squeeze->num_inputs(), 1u);
  EXPECT_EQ(squeeze->GetInts("axes"), (std::vector<int64_t>{2}));
  EXPECT_EQ(m.graph->FindValue("axes"), nullptr);  // the initializer went with the input
  EXPECT_EQ(m.graph->FindValue("p")->producer()->GetInt("axis", -1), 1);
}

// What a PyTorch export at opset 17 holds (Conv, Relu, Clip with inputs, Resize with sizes,
// MaxPool, ReduceMean, the Shape -> Gather -> Unsqueeze -> Concat -> Reshape of view(B, -1),
// Gemm, Softmax) goes down to 12 with every node's meaning kept.
TEST(ConvertOpsetTest, PyTorchLikeOpsetSeventeenDownToTwelve) {
  GraphBuilder b(17);
  Value* x = b.Input("x", {1, 3, 8, 8});
  Value* c = b.Op("Conv", {x, b.Floats("w", {4, 3, 3, 3}), b.Floats("bias", {4})}, "c",
                  {Attribute::Ints("pads", {1, 1, 1, 1})});
  Value* k = b.Op("Clip",
                  {b.Op("Relu", {c}, "r"), b.g().AddInitializer("lo", Tensor::Scalar(0.f)),
                   b.g().AddInitializer("hi", Tensor::Scalar(0.6f))},
                  "k");
  Value* z = b.Op("Resize", {k, nullptr, nullptr, b.Ints("sizes", {1, 4, 16, 16})}, "z",
                  {Attribute::String("mode", "nearest")});
  Value* p = b.Op("MaxPool", {z}, "p",
                  {Attribute::Ints("kernel_shape", {2, 2}), Attribute::Ints("strides", {2, 2})});
  Value* m = b.Op("ReduceMean", {p}, "m",
                  {Attribute::Ints("axes", {2, 3}), Attribute::Int("keepdims", 0)});
  Value* zero =
      b.g().AddInitializer("zero", Tensor::FromVector<int64_t>(DataType::kInt64, {}, {0}));
  Value* batch = b.Op("Gather", {b.Op("Shape", {m}, "s"), zero}, "batch");  // a scalar
  Value* target =
      b.Op("Concat", {b.Op("Unsqueeze", {batch, b.Ints("at", {0})}, "bu"), b.Ints("rest", {-1})},
           "target", {Attribute::Int("axis", 0)});
  Value* f = b.Op("Reshape", {m, target}, "f");
  Value* g = b.Op("Gemm", {f, b.Floats("wfc", {5, 4}), b.Floats("bfc", {5})}, "g",
                  {Attribute::Int("transB", 1)});
  b.Output(b.Op("Softmax", {g}, "y"));
  Model down = DownToTwelve(b.model);
  EXPECT_EQ(down.graph->FindValue("y")->producer()->GetInt("axis", -1), 1);
  const Node* unsqueeze = down.graph->FindValue("bu")->producer();
  EXPECT_EQ(unsqueeze->num_inputs(), 1u);
  EXPECT_EQ(unsqueeze->GetInts("axes"), (std::vector<int64_t>{0}));
  const Node* resize = down.graph->FindValue("z")->producer();
  for (size_t i : {1, 2}) EXPECT_NE(resize->input(i), nullptr) << i;
}

// PRelu before 7 applies a 1-D slope of the channel count along axis 1; from 7 on it broadcasts
// from the right. Crossing 7 upward the slope becomes [C, 1, 1]; a shared slope stays.
TEST(ConvertOpsetTest, UpAcrossSevenGivesPReluSlopesTheirChannelAxis) {
  GraphBuilder b(6);
  Value* x = b.Input("x", {1, 3, 4, 4});
  Value* y = b.Op("PRelu", {x, b.Floats("slope", {3})}, "y");
  b.Output(b.Op("PRelu", {y, b.Floats("shared", {1})}, "z"));
  ASSERT_TRUE(InferShapes(b.model).ok());
  PassOptions o;
  o.target_opset = 12;
  Model m = ExpectEquivalentRewrite(b.model, "convert-opset", o);
  EXPECT_EQ(m.OpsetVersion(""), 12);
  const Value* slope = m.graph->FindValue("y")->producer()->input(1);
  ASSERT_TRUE(slope->has_initializer());
  EXPECT_EQ(slope->initializer()->shape(), (Shape{3, 1, 1}));
  EXPECT_EQ(m.graph->FindValue("z")->producer()->input(1)->name(), "shared");
}

// Resize before 13 has no optional roi and scales: omitted ones become empty tensors.
TEST(ConvertOpsetTest, DownGivesResizeEmptyRoiAndScales) {
  GraphBuilder b(13);
  Value* x = b.Input("x", {1, 2, 3, 4});
  b.Output(b.Op("Resize", {x, nullptr, nullptr, b.Ints("sizes", {1, 2, 6, 8})}, "y",
                {Attribute::String("mode", "linear")}));
  Model m = DownToTwelve(b.model);
  const Node* resize = m.graph->FindValue("y")->producer();
  ASSERT_EQ(resize->num_inputs(), 4u);
  for (size_t i : {1, 2}) {
    ASSERT_NE(resize->input(i), nullptr) << i;
    ASSERT_TRUE(resize->input(i)->has_initializer()) << i;
    EXPECT_EQ(resize->input(i)->initializer()->numel(), 0) << i;
  }
}

}  // namespace
}  // namespace edgefit
