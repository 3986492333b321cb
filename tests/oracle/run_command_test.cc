// `edgefit run`, run as a user would: inputs from .npy/.npz or --random, outputs, statistics,
// JSON, and the one-line errors with their exit codes (docs/run.md).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "io/npy.h"
#include "onnx/onnx_pb.h"
#include "testing/onnx_builders.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::FixturePath;
using testing::TempDir;

constexpr int kUsage = 2;
constexpr int kInvalidModel = 3;
constexpr int kOutputRefused = 4;
constexpr int kUnsupported = 6;
constexpr int kInvalidData = 8;

const std::string kMobilenet = FixturePath("mobilenet_like_op13.onnx");
const std::string kMobilenetInput = FixturePath("mobilenet_like_op13.input.npy");

CommandResult EdgefitRun(std::vector<std::string> args) {
  args.insert(args.begin(), {EDGEFIT_BINARY, "run"});
  return testing::RunCommand(args);
}

std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + " signal " + std::to_string(r.signal) +
         "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// Exit `code`, nothing on stdout, one line "edgefit run: error: <file>: ..." with every word.
void ExpectError(const CommandResult& r, int code, const std::string& file,
                 std::initializer_list<std::string> words = {}) {
  EXPECT_EQ(r.signal, 0) << Describe(r);
  EXPECT_EQ(r.exit_code, code) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  ASSERT_FALSE(r.err.empty());
  std::string line = r.err.substr(0, r.err.size() - 1);
  EXPECT_TRUE(testing::IsOneLine(line)) << r.err;
  std::string prefix = "edgefit run: error: " + file + (file.empty() ? "" : ": ");
  EXPECT_EQ(line.rfind(prefix, 0), 0u) << "expected prefix '" << prefix << "'\n" << r.err;
  for (const auto& w : words) EXPECT_NE(line.find(w), std::string::npos) << w << "\n" << r.err;
}

std::vector<float> Floats(const Tensor& t) {
  auto v = t.ToDoubleVector();
  return std::vector<float>(v.begin(), v.end());
}

// Y[1,4] = Relu(X[1,4]) + W, W = [1,2,3,4]; the output is renamed to `output`.
std::string SimpleModel(const TempDir& dir, const std::string& output = "Y") {
  onnx::ModelProto m = testing::SimpleModel();
  auto* g = m.mutable_graph();
  g->mutable_node(1)->set_output(0, output);
  g->mutable_output(0)->set_name(output);
  std::string path = dir.File("simple.onnx");
  testing::WriteModel(path, m);
  return path;
}

// Z[1] = Gather(D, I) with D = [10,20,30,40,50] an initializer and I an int64 [1] input.
std::string GatherModel(const TempDir& dir) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("gather");
  *g->add_input() = testing::MakeValueInfo("I", onnx::TensorProto::INT64, {1});
  *g->add_initializer() = testing::MakeFloatTensor("D", {5}, {10, 20, 30, 40, 50});
  testing::AddNode(g, "Gather", {"D", "I"}, {"Z"}, "g");
  *g->add_output() = testing::MakeValueInfo("Z", onnx::TensorProto::FLOAT, {1});
  std::string path = dir.File("gather.onnx");
  testing::WriteModel(path, m);
  return path;
}

TEST(RunCommand, FixtureMatchesPytorchAndWritesOutputs) {
  TempDir dir;
  auto r = EdgefitRun({kMobilenet, "--input", "input=" + kMobilenetInput, "--output-dir",
                       dir.File("out"), "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("logits"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("float32"), std::string::npos);
  EXPECT_NE(r.out.find("[1,10]"), std::string::npos);
  EXPECT_NE(r.out.find("nan 0"), std::string::npos);
  EXPECT_NE(r.out.find("run time: "), std::string::npos);
  auto got = ReadNpy(dir.File("out/logits.npy"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  auto want = ReadNpy(FixturePath("mobilenet_like_op13.output.npy"));
  ASSERT_TRUE(want.ok());
  ASSERT_EQ(got->shape(), want->shape());
  auto a = Floats(*got), b = Floats(*want);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4) << i;
}

TEST(RunCommand, JsonAndNpzInputs) {
  TempDir dir;
  auto x = ReadNpy(kMobilenetInput);
  ASSERT_TRUE(x.ok());
  EDGEFIT_ASSERT_OK(WriteNpz(dir.File("in.npz"), {{"input", *x}}));
  auto r = EdgefitRun({kMobilenet, "--inputs", dir.File("in.npz"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema"], "edgefit-run/1");
  EXPECT_EQ(j["inputs"][0]["source"], "npz");
  ASSERT_EQ(j["outputs"].size(), 1u);
  const auto& out = j["outputs"][0];
  EXPECT_EQ(out["name"], "logits");
  EXPECT_EQ(out["dtype"], "float32");
  EXPECT_EQ(out["shape"], nlohmann::json::array({1, 10}));
  EXPECT_EQ(out["nan"], 0);
  EXPECT_LE(out["min"].get<double>(), out["mean"].get<double>());
  EXPECT_LE(out["mean"].get<double>(), out["max"].get<double>());
  EXPECT_GT(out["std"].get<double>(), 0);
  EXPECT_TRUE(out["file"].is_null());
  EXPECT_GE(j["run_ms"].get<double>(), 0);

  EDGEFIT_ASSERT_OK(WriteNpz(dir.File("bad.npz"), {{"image", *x}}));
  ExpectError(EdgefitRun({kMobilenet, "--inputs", dir.File("bad.npz")}), kInvalidData,
              dir.File("bad.npz"), {"member 'image.npy' is not an input", "'input'"});
  ExpectError(EdgefitRun({kMobilenet, "--inputs", dir.File("in.npz"), "--input",
                          "input=" + kMobilenetInput}),
              kUsage, "", {"given both"});
}

TEST(RunCommand, RandomInputsAreDeterministic) {
  TempDir dir;
  auto run = [&](const std::string& seed, const std::string& out) {
    auto r = EdgefitRun({kMobilenet, "--random", "--seed", seed, "--input-shape", "input=2,3,32,32",
                         "--output-dir", dir.File(out), "--json"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r;
  };
  auto a = run("42", "a");
  run("42", "b");
  run("7", "c");
  auto j = nlohmann::json::parse(a.out);
  EXPECT_EQ(j["inputs"][0]["data"], "uniform[-1,1)");
  EXPECT_EQ(j["seed"], 42);
  EXPECT_EQ(j["outputs"][0]["shape"], nlohmann::json::array({2, 10}));
  std::string fa = testing::ReadFile(dir.File("a/logits.npy"));
  EXPECT_EQ(fa, testing::ReadFile(dir.File("b/logits.npy")));
  EXPECT_NE(fa, testing::ReadFile(dir.File("c/logits.npy")));

  // A dynamic dim without --input-shape, or one that contradicts the model.
  ExpectError(EdgefitRun({kMobilenet, "--random"}), kInvalidData, kMobilenet,
              {"input 'input'", "[batch,3,32,32]", "--input-shape input="});
  ExpectError(EdgefitRun({kMobilenet, "--random", "--input-shape", "input=1,4,32,32"}),
              kInvalidData, kMobilenet, {"[batch,3,32,32]", "[1,4,32,32]"});
  ExpectError(EdgefitRun({kMobilenet, "--random", "--input-shape", "image=1,3,32,32"}),
              kInvalidData, kMobilenet, {"no input 'image'"});
  ExpectError(EdgefitRun({kMobilenet, "--random", "--input-shape", "input=1,x"}), kUsage, "",
              {"--input-shape"});
  // Caught by the command-line parser (CLI11's usage message).
  auto seed = EdgefitRun({kMobilenet, "--seed", "3"});
  EXPECT_EQ(seed.exit_code, kUsage) << Describe(seed);
  EXPECT_NE(seed.err.find("--random"), std::string::npos) << seed.err;
}

TEST(RunCommand, InputErrors) {
  TempDir dir;
  ExpectError(EdgefitRun({kMobilenet}), kInvalidData, kMobilenet,
              {"'input'", "not given", "--random"});
  ExpectError(EdgefitRun({kMobilenet, "--input", "image=" + kMobilenetInput}), kInvalidData,
              kMobilenet, {"no input 'image'", "(inputs: 'input')"});
  ExpectError(EdgefitRun({kMobilenet, "--input", "input"}), kUsage, "", {"NAME=FILE.npy"});
  // Wrong rank, wrong dtype, a fixed dim that disagrees.
  auto write = [&](const std::string& name, const Tensor& t) {
    std::string path = dir.File(name);
    EXPECT_TRUE(WriteNpy(path, t).ok());
    return path;
  };
  std::string rank3 = write("rank3.npy", Tensor(DataType::kFloat, {3, 32, 32}));
  ExpectError(EdgefitRun({kMobilenet, "--input", "input=" + rank3}), kInvalidData, rank3,
              {"must be float32 [batch,3,32,32]", "[3,32,32]"});
  std::string f64 = write("f64.npy", Tensor(DataType::kDouble, {1, 3, 32, 32}));
  ExpectError(EdgefitRun({kMobilenet, "--input", "input=" + f64}), kInvalidData, f64, {"float64"});
  std::string dims = write("dims.npy", Tensor(DataType::kFloat, {1, 3, 31, 32}));
  ExpectError(EdgefitRun({kMobilenet, "--input", "input=" + dims}), kInvalidData, dims,
              {"[1,3,31,32]"});
  // Unreadable files.
  std::string truncated = dir.File("truncated.npy");
  std::string bytes = testing::ReadFile(kMobilenetInput);
  testing::WriteFile(truncated, bytes.substr(0, bytes.size() - 5));
  ExpectError(EdgefitRun({kMobilenet, "--input", "input=" + truncated}), kInvalidData, truncated,
              {"truncated data"});
  ExpectError(EdgefitRun({kMobilenet, "--input", "input=" + dir.File("none.npy")}), kInvalidData,
              dir.File("none.npy"), {"no such file"});
  ExpectError(EdgefitRun({dir.File("none.onnx"), "--random"}), kInvalidModel,
              dir.File("none.onnx"));
}

TEST(RunCommand, GatherIndexOutOfRange) {
  TempDir dir;
  std::string model = GatherModel(dir);
  std::string ok = dir.File("ok.npy"), bad = dir.File("bad.npy");
  ASSERT_TRUE(WriteNpy(ok, Tensor::FromVector<int64_t>(DataType::kInt64, {1}, {-2})).ok());
  ASSERT_TRUE(WriteNpy(bad, Tensor::FromVector<int64_t>(DataType::kInt64, {1}, {7})).ok());
  auto r = EdgefitRun({model, "--input", "I=" + ok, "--json"});
  if (r.exit_code == kUnsupported) GTEST_SKIP() << "no Gather kernel yet: " << r.err;
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(nlohmann::json::parse(r.out)["outputs"][0]["max"], 40.0);
  ExpectError(EdgefitRun({model, "--input", "I=" + bad}), kInvalidData, model, {"Gather", "7"});
  // --random makes int64 inputs zeros.
  auto z = EdgefitRun({model, "--random", "--json"});
  ASSERT_EQ(z.exit_code, 0) << Describe(z);
  auto j = nlohmann::json::parse(z.out);
  EXPECT_EQ(j["inputs"][0]["data"], "zeros");
  EXPECT_EQ(j["outputs"][0]["max"], 10.0);
}

TEST(RunCommand, NanAndInfPropagate) {
  TempDir dir;
  std::string model = SimpleModel(dir);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::string x = dir.File("x.npy");
  ASSERT_TRUE(
      WriteNpy(x, Tensor::FromVector<float>(DataType::kFloat, {1, 4}, {nan, inf, -inf, 1})).ok());
  auto r = EdgefitRun({model, "--input", "X=" + x, "--json", "--output-dir", dir.File("out")});
  if (r.exit_code == kUnsupported) GTEST_SKIP() << "no Relu/Add kernel yet: " << r.err;
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto j = nlohmann::json::parse(r.out);
  const auto& out = j["outputs"][0];
  EXPECT_EQ(out["nan"], 1);
  EXPECT_EQ(out["inf"], 1);
  EXPECT_EQ(out["min"], 3.0);  // relu(-inf) + 3
  EXPECT_EQ(out["max"], 5.0);  // relu(1) + 4
  auto y = ReadNpy(dir.File("out/Y.npy"));
  ASSERT_TRUE(y.ok());
  auto v = Floats(*y);
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], inf);
  // The text form shows the counts too.
  auto text = EdgefitRun({model, "--input", "X=" + x});
  EXPECT_NE(text.out.find("nan 1  inf 1"), std::string::npos) << text.out;
}

TEST(RunCommand, OutputFilesAndLimits) {
  TempDir dir;
  std::string model = SimpleModel(dir, "y/out:0");
  std::string x = dir.File("x.npy");
  ASSERT_TRUE(WriteNpy(x, Tensor::FromVector<float>(DataType::kFloat, {1, 4}, {1, 2, 3, 4})).ok());
  auto r = EdgefitRun({model, "--input", "X=" + x, "--output-dir", dir.File("out")});
  if (r.exit_code == kUnsupported) GTEST_SKIP() << "no Relu/Add kernel yet: " << r.err;
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(fs::exists(dir.File("out/y_out_0.npy")));
  // The same input twice; an output file that would replace an input file.
  ExpectError(EdgefitRun({model, "--input", "X=" + x, "--input", "X=" + x}), kUsage, "", {"twice"});
  std::string model2 = SimpleModel(dir, "X2");
  std::string x2 = dir.File("X2.npy");
  ASSERT_TRUE(WriteNpy(x2, Tensor::FromVector<float>(DataType::kFloat, {1, 4}, {1, 2, 3, 4})).ok());
  ExpectError(EdgefitRun({model2, "--input", "X=" + x2, "--output-dir", dir.path()}),
              kOutputRefused, x2, {"input file"});
  // Memory limits: a malformed value is a usage error; a plan above it is refused.
  ExpectError(EdgefitRun({kMobilenet, "--random", "--max-memory", "12X"}), kUsage, "",
              {"--max-memory"});
  ExpectError(
      EdgefitRun({kMobilenet, "--input", "input=" + kMobilenetInput, "--max-memory", "20K"}),
      kUnsupported, kMobilenet, {"20480"});
}

}  // namespace
}  // namespace edgefit
