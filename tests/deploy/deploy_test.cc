// deploy library: manifest hashing, the output-folder rules and --draw-image (the full flow on
// the examples is covered by deploy_e2e.sh).
#include "deploy/deploy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "draw/image_io.h"
#include "onnx/model_io.h"
#include "png_check.h"
#include "runtime/session.h"
#include "testing/onnx_builders.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

namespace fs = std::filesystem;

TEST(DeployTest, Sha256OfKnownStrings) {
  const fs::path dir = fs::temp_directory_path() / "edgefit_deploy_sha";
  fs::create_directories(dir);
  std::ofstream(dir / "abc") << "abc";
  std::ofstream(dir / "empty");
  // FIPS 180-2 test vectors.
  EXPECT_EQ(*Sha256File((dir / "abc").string()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(*Sha256File((dir / "empty").string()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_FALSE(Sha256File((dir / "missing").string()).ok());
  fs::remove_all(dir);
}

TEST(DeployTest, RefusesANonEmptyFolderAndLeavesNothingOnFailure) {
  const fs::path dir = fs::temp_directory_path() / "edgefit_deploy_out";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "keep") << "x";
  DeployOptions o;
  o.target = "stm32n6";
  o.out_dir = dir.string();
  o.calib.random = true;
  o.calib.random_count = 2;
  const std::string model =
      std::string(EDGEFIT_SOURCE_DIR) + "/tests/fixtures/rppg_clean_op14.onnx";
  auto r = Deploy(model, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--overwrite"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "keep"));
  // A model that does not exist: the run stops at 'load' and no output folder appears.
  fs::remove_all(dir);
  auto bad = Deploy("/nonexistent/model.onnx", o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("stage 'load'"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir));
  for (const auto& e : fs::directory_iterator(dir.parent_path()))
    EXPECT_EQ(e.path().filename().string().find("edgefit_deploy_out.tmp"), std::string::npos);
}

// Kneron's hand-off opset is 12. A model that can go down is handed over at 12 (convert-opset,
// verified); one with a node that needs its newer opset (here Reshape allowzero = 1, which
// opset 12 lacks and ONNX's converter has no adapter back for) is handed over at its own opset
// when the toolchain's window (8..18) accepts it, and NEXT_STEPS.md and summary.json say why.
TEST(DeployTest, KneronHandOffOpset) {
  testing::TempDir dir;
  DeployOptions o;
  o.target = "kl730";
  o.calib.random = true;
  o.calib.random_count = 2;
  o.out_dir = dir.File("down");
  auto r = Deploy(testing::FixturePath("mobilenet_like_op13.onnx"), o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto handoff = LoadModel(dir.File("down/model.float.onnx"));
  ASSERT_TRUE(handoff.ok()) << handoff.status().message();
  EXPECT_EQ(handoff->OpsetVersion(), 12);
  EXPECT_FALSE(nlohmann::json::parse(testing::ReadFile(dir.File("down/summary.json")))
                   .contains("handoff_opset_note"));
  EXPECT_EQ(testing::ReadFile(dir.File("down/NEXT_STEPS.md")).find("**Opset**"), std::string::npos);

  onnx::ModelProto stays = testing::SimpleModel();  // Relu, Add at opset 13 ...
  stays.mutable_opset_import(0)->set_version(14);   // ... 14, with Reshape allowzero = 1
  auto* g = stays.mutable_graph();
  g->mutable_output(0)->set_name("Z");
  auto* shape = g->add_initializer();
  shape->set_name("shape");
  shape->set_data_type(onnx::TensorProto::INT64);
  shape->add_dims(2);
  shape->add_int64_data(1);
  shape->add_int64_data(4);
  auto* reshape = testing::AddNode(g, "Reshape", {"Y", "shape"}, {"Z"}, "reshape");
  auto* allowzero = reshape->add_attribute();
  allowzero->set_name("allowzero");
  allowzero->set_type(onnx::AttributeProto::INT);
  allowzero->set_i(1);
  testing::WriteModel(dir.File("stays.onnx"), stays);
  o.out_dir = dir.File("stays");
  r = Deploy(dir.File("stays.onnx"), o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  handoff = LoadModel(dir.File("stays/model.float.onnx"));
  ASSERT_TRUE(handoff.ok()) << handoff.status().message();
  EXPECT_EQ(handoff->OpsetVersion(), 14);
  const nlohmann::json summary =
      nlohmann::json::parse(testing::ReadFile(dir.File("stays/summary.json")));
  ASSERT_TRUE(summary.contains("handoff_opset_note"));
  const std::string note = summary["handoff_opset_note"];
  EXPECT_NE(note.find("stays at opset 14"), std::string::npos) << note;
  EXPECT_NE(note.find("accepts opsets 8..18"), std::string::npos) << note;
  EXPECT_NE(testing::ReadFile(dir.File("stays/NEXT_STEPS.md")).find("**Opset**: " + note),
            std::string::npos);
}

// deploy --draw-image on the HRNet-like fixture for kl730: draw.png is a valid PNG of two panels
// of the picture's size; summary.json lists every keypoint of both models, and the FP32 ones are
// those an independent decoding of the fixed model's executor output gives; the report shows
// the picture.
class DeployDraw : public ::testing::Test {
 protected:
  void SetUp() override {
    draw::Image img(96, 128);  // twice the model input (48x64): the data library resizes it
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < img.width; ++x)
        img.Set(x, y,
                draw::Rgb{static_cast<uint8_t>(x * 2), static_cast<uint8_t>(255 - y),
                          static_cast<uint8_t>((x * y) % 256)});
    draw::FillCircle(&img, 50, 40, 14, draw::Rgb{250, 240, 230});
    image_ = dir_.File("person.png");
    ASSERT_TRUE(draw::WritePng(img, image_).ok());
    options_.target = "kl730";
    options_.calib.random = true;
    options_.calib.random_count = 2;
    ImagePreprocess pre;
    pre.mean = {0.485f, 0.456f, 0.406f};
    pre.std = {0.229f, 0.224f, 0.225f};
    options_.calib.image = pre;  // what --preprocess sets; random data ignores it, draw uses it
    options_.draw_image = image_;
    options_.out_dir = dir_.File("out");
  }
  testing::TempDir dir_;
  std::string image_;
  DeployOptions options_;
  const std::string model_ = testing::FixturePath("hrnet_like_op12_dyn.onnx");
};

TEST_F(DeployDraw, WritesThePictureAndTheKeypointsOfBothModels) {
  auto r = Deploy(model_, options_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const fs::path out = options_.out_dir;
  EXPECT_NE(std::find(r->files.begin(), r->files.end(), "draw.png"), r->files.end());
  bool staged = false;
  for (const DeployStage& s : r->stages) staged |= s.name == "draw" && s.ok;
  EXPECT_TRUE(staged);

  draw::Image png = testing::DecodePngForTest(testing::ReadFile((out / "draw.png").string()));
  EXPECT_EQ(png.width, 2 * 96);
  EXPECT_EQ(png.height, 128);

  const nlohmann::json summary =
      nlohmann::json::parse(testing::ReadFile((out / "summary.json").string()));
  const nlohmann::json& d = summary.at("draw");
  EXPECT_EQ(d.at("file"), "draw.png");
  EXPECT_EQ(d.at("width"), 192);
  EXPECT_EQ(d.at("height"), 128);
  ASSERT_EQ(d.at("panels").size(), 2u);
  EXPECT_EQ(d["panels"][0].at("model"), "model.fixed.onnx");
  EXPECT_EQ(d["panels"][1].at("model"), "model.int8-sim.onnx");
  EXPECT_EQ(d["panels"][1].at("label"), "INT8 SIM");

  // The fixed model's heatmaps as `edgefit run` computes them, decoded here.
  auto model = LoadModel((out / "model.fixed.onnx").string());
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto specs = InputSpecsOf(*model);
  ASSERT_TRUE(specs.ok());
  DatasetOptions data;
  data.sources = {image_};
  data.image = options_.calib.image;
  auto dataset = Dataset::Open(data, *specs);
  ASSERT_TRUE(dataset.ok()) << dataset.status().message();
  auto sample = dataset->Get(0);
  ASSERT_TRUE(sample.ok());
  auto session = Session::Create(*model);
  ASSERT_TRUE(session.ok());
  auto outs = (*session)->Run(*sample);
  ASSERT_TRUE(outs.ok());
  const Tensor& hm = (*outs)[0];
  ASSERT_EQ(hm.shape(), (Shape{1, 17, 16, 12}));
  const float* p = hm.data<float>();
  const int H = 16, W = 12;
  const nlohmann::json& kps = d["panels"][0].at("keypoints");
  ASSERT_EQ(kps.size(), 17u);
  EXPECT_EQ(kps[5].at("name"), "left_shoulder");
  for (int k = 0; k < 17; ++k) {
    auto v = [&](int y, int x) { return p[(k * H + y) * W + x]; };
    int bx = 0, by = 0;
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x)
        if (v(y, x) > v(by, bx)) bx = x, by = y;
    double x = bx, y = by;
    if (bx > 0 && bx < W - 1 && v(by, bx + 1) != v(by, bx - 1))
      x += v(by, bx + 1) > v(by, bx - 1) ? 0.25 : -0.25;
    if (by > 0 && by < H - 1 && v(by + 1, bx) != v(by - 1, bx))
      y += v(by + 1, bx) > v(by - 1, bx) ? 0.25 : -0.25;
    // Heatmap 12x16 -> picture 96x128: each heatmap pixel covers 8x8 picture pixels.
    EXPECT_NEAR(kps[k].at("x").get<double>(), (x + 0.5) * 8 - 0.5, 1e-4) << "keypoint " << k;
    EXPECT_NEAR(kps[k].at("y").get<double>(), (y + 0.5) * 8 - 0.5, 1e-4) << "keypoint " << k;
    EXPECT_FLOAT_EQ(kps[k].at("score").get<float>(), v(by, bx)) << "keypoint " << k;
  }
  // The shift is the mean / largest distance between the two panels' keypoints.
  double sum = 0, max = 0;
  for (int k = 0; k < 17; ++k) {
    const nlohmann::json& a = d["panels"][0]["keypoints"][k];
    const nlohmann::json& b = d["panels"][1]["keypoints"][k];
    const double dist = std::hypot(a["x"].get<double>() - b["x"].get<double>(),
                                   a["y"].get<double>() - b["y"].get<double>());
    sum += dist;
    max = std::max(max, dist);
  }
  EXPECT_NEAR(d.at("keypoint_shift_px").at("mean").get<double>(), sum / 17, 1e-6);
  EXPECT_NEAR(d.at("keypoint_shift_px").at("max").get<double>(), max, 1e-6);

  // The manifest records the picture; the reports show it.
  const nlohmann::json manifest =
      nlohmann::json::parse(testing::ReadFile((out / "manifest.json").string()));
  EXPECT_EQ(manifest.at("draw_image").at("sha256"), *Sha256File(image_));
  EXPECT_EQ(manifest.at("draw_image").at("width"), 96);
  const std::string html = testing::ReadFile((out / "report.html").string());
  EXPECT_NE(html.find("<img src=\"data:image/png;base64,iVBORw0KGgo"), std::string::npos);
  EXPECT_NE(html.find("width=\"576\" height=\"384\""), std::string::npos);  // 192x128, x3
  const std::string md = testing::ReadFile((out / "report.md").string());
  EXPECT_NE(md.find("](draw.png)"), std::string::npos) << md;
}

TEST_F(DeployDraw, HeatmapTask) {
  options_.draw_task = draw::DrawTask::kHeatmap;
  auto r = Deploy(model_, options_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const nlohmann::json d = nlohmann::json::parse(
      testing::ReadFile((fs::path(options_.out_dir) / "summary.json").string()))["draw"];
  EXPECT_EQ(d.at("task"), "heatmap");
  for (const nlohmann::json& panel : d.at("panels")) {
    EXPECT_FALSE(panel.contains("keypoints"));
    EXPECT_LT(panel.at("heat_min").get<double>(), panel.at("heat_max").get<double>());
  }
}

TEST_F(DeployDraw, ABadPictureStopsAtDataNamingTheFileAndLeavesNothing) {
  for (const std::string& bad : {dir_.File("missing.png"), dir_.File("broken.jpg")}) {
    if (bad.find("broken") != std::string::npos) testing::WriteFile(bad, "not a JPEG");
    options_.draw_image = bad;
    auto r = Deploy(model_, options_);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("stage 'data'"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().message();
    EXPECT_FALSE(fs::exists(options_.out_dir));
  }
}

TEST_F(DeployDraw, AModelThatIsNotAnImageModelStopsAtDraw) {
  // The rPPG model takes 72-channel clips: the picture cannot be its input.
  options_.target = "stm32n6";
  auto r = Deploy(testing::FixturePath("rppg_clean_op14.onnx"), options_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("stage 'draw'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(image_), std::string::npos) << r.status().message();
  EXPECT_FALSE(fs::exists(options_.out_dir));
}

}  // namespace
}  // namespace edgefit
