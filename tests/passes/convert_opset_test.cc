// convert-opset: ONNX's version converter, verified on the executor.
#include "pass_test_util.h"

namespace edgefit {
namespace {

using testing::CountOps;
using testing::ExpectEquivalentRewrite;
using testing::LoadFixture;
using testing::RunPass;

Model Frozen(const std::string& fixture) {
  Model m = LoadFixture(fixture);
  RunPass(m, "fix-dynamic-dims");
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

}  // namespace
}  // namespace edgefit
