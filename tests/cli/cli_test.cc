// The edgefit binary: exit codes from tools/edgefit/cli.h, output, and one-line error messages
// "edgefit <command>: error: <file>: <problem>" on stderr.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "onnx/model_io.h"
#include "onnx/onnx_pb.h"
#include "testing/onnx_builders.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;

// Exit codes, as documented in docs/cli.md (tools/edgefit/cli.h).
constexpr int kOk = 0;
constexpr int kUsage = 2;
constexpr int kInvalidModel = 3;
constexpr int kOutputRefused = 4;

CommandResult Edgefit(std::vector<std::string> args) {
  args.insert(args.begin(), EDGEFIT_BINARY);
  return testing::RunCommand(args);
}

std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + " signal " + std::to_string(r.signal) +
         "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// Exit code `code`, nothing on stdout, and stderr is exactly one line:
// "edgefit <command>: error: <file>: ..." containing every one of `words`.
void ExpectError(const CommandResult& r, int code, const std::string& command,
                 const std::string& file, std::initializer_list<std::string> words = {}) {
  EXPECT_EQ(r.signal, 0) << Describe(r);
  EXPECT_EQ(r.exit_code, code) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.back(), '\n');
  std::string line = r.err.substr(0, r.err.size() - 1);
  EXPECT_TRUE(testing::IsOneLine(line)) << "stderr is not one line:\n" << r.err;
  std::string prefix = "edgefit " + command + ": error: " + file + ": ";
  EXPECT_EQ(line.rfind(prefix, 0), 0u) << "expected prefix '" << prefix << "':\n" << r.err;
  for (const auto& w : words) EXPECT_NE(line.find(w), std::string::npos) << w << "\n" << r.err;
}

class CliTest : public ::testing::Test {
 protected:
  // A writable copy of a fixture.
  std::string Copy(const std::string& fixture) {
    std::string path = dir_.File(fixture);
    fs::copy_file(testing::FixturePath(fixture), path, fs::copy_options::overwrite_existing);
    return path;
  }
  std::string Write(const std::string& name, const onnx::ModelProto& m) {
    std::string path = dir_.File(name);
    testing::WriteModel(path, m);
    return path;
  }
  testing::TempDir dir_;
};

// ---------------------------------------------------------------------------- usage

TEST_F(CliTest, HelpAndVersion) {
  CommandResult help = Edgefit({"--help"});
  EXPECT_EQ(help.exit_code, kOk) << Describe(help);
  EXPECT_NE(help.out.find("inspect"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("copy"), std::string::npos) << help.out;
  CommandResult version = Edgefit({"--version"});
  EXPECT_EQ(version.exit_code, kOk) << Describe(version);
  EXPECT_NE(version.out.find(EDGEFIT_EXPECTED_VERSION), std::string::npos) << version.out;
  CommandResult sub_help = Edgefit({"copy", "--help"});
  EXPECT_EQ(sub_help.exit_code, kOk);
  EXPECT_NE(sub_help.out.find("--in-place"), std::string::npos) << sub_help.out;
}

TEST_F(CliTest, UsageErrorsExit2) {
  std::string model = testing::FixturePath("rppg_clean_op14.onnx");
  const std::vector<std::vector<std::string>> cases = {
      {},                                    // no subcommand
      {"frobnicate"},                        // unknown subcommand
      {"inspect"},                           // missing model
      {"inspect", model, "--no-such-flag"},  // unknown option
      {"copy", model},                       // missing -o
      {"copy", model, "-o"},                 // -o without value
      {"copy", model, "-o", dir_.File("x.onnx"), "--external-threshold", "lots"},
  };
  for (const auto& args : cases) {
    CommandResult r = Edgefit(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, kUsage) << joined << "\n" << Describe(r);
    EXPECT_EQ(r.signal, 0);
    EXPECT_FALSE(r.err.empty()) << joined;
  }
}

// ---------------------------------------------------------------------------- inspect

TEST_F(CliTest, InspectText) {
  std::string model = testing::FixturePath("rppg_dyn_op14.onnx");
  CommandResult r = Edgefit({"inspect", model});
  ASSERT_EQ(r.exit_code, kOk) << Describe(r);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind(model + "\n", 0), 0u) << r.out;
  for (const char* expected :
       {"input: float32 [batch,72,36,36]  DYNAMIC", "dim[0]: batch (DYNAMIC)", "Max tensor rank: 6",
        "/Reshape_output_0 [batch,8,3,3,36,36] from Reshape '/Reshape'",
        "/Transpose_output_0 [batch,8,3,36,36,3] from Transpose '/Transpose'"})
    EXPECT_NE(r.out.find(expected), std::string::npos) << expected << "\n" << r.out;
}

TEST_F(CliTest, InspectJson) {
  std::string model = testing::FixturePath("rppg_dyn_op14.onnx");
  CommandResult r = Edgefit({"inspect", model, "--json"});
  ASSERT_EQ(r.exit_code, kOk) << Describe(r);
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["schema"], "edgefit-inspect/1");
  EXPECT_EQ(j["file"], model);
  EXPECT_EQ(j["max_rank"], 6);
  EXPECT_EQ(j["inputs"][0]["shape"][0]["param"], "batch");
  EXPECT_EQ(j["parameters"]["count"], 6673);
}

TEST_F(CliTest, InspectJsonWithNonUtf8Names) {
  // Names are arbitrary bytes in the file; JSON output must not fail on them.
  onnx::ModelProto m = testing::SimpleModel();
  m.mutable_graph()->mutable_node(0)->set_name("relu\xff\xfe");
  m.set_producer_name("\xc3(");
  std::string path = Write("latin1.onnx", m);
  CommandResult r = Edgefit({"inspect", path, "--json"});
  ASSERT_EQ(r.exit_code, kOk) << Describe(r);
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["producer"]["name"], "\xef\xbf\xbd(");  // U+FFFD
}

TEST_F(CliTest, InspectEveryFixture) {
  for (const auto& e : fs::directory_iterator(testing::SourcePath("tests/fixtures"))) {
    if (e.path().extension() != ".onnx") continue;
    CommandResult r = Edgefit({"inspect", e.path().string()});
    EXPECT_EQ(r.exit_code, kOk) << e.path() << "\n" << Describe(r);
    EXPECT_EQ(r.err, "") << e.path();
  }
}

// ---------------------------------------------------------------------------- invalid models

TEST_F(CliTest, MissingFileAndDirectory) {
  std::string missing = dir_.File("no_such_model.onnx");
  ExpectError(Edgefit({"inspect", missing}), kInvalidModel, "inspect", missing, {"no such file"});
  ExpectError(Edgefit({"copy", missing, "-o", dir_.File("out.onnx")}), kInvalidModel, "copy",
              missing, {"no such file"});
  ExpectError(Edgefit({"inspect", dir_.path()}), kInvalidModel, "inspect", dir_.path(),
              {"directory"});
}

TEST_F(CliTest, NotAModel) {
  std::string empty = dir_.File("empty.onnx");
  testing::WriteFile(empty, "");
  ExpectError(Edgefit({"inspect", empty}), kInvalidModel, "inspect", empty, {"empty"});

  std::string text = dir_.File("notes.txt");
  testing::WriteFile(text, "this is not a model\n");
  ExpectError(Edgefit({"inspect", text}), kInvalidModel, "inspect", text, {"ONNX"});

  std::string bytes = testing::ReadFile(testing::FixturePath("rppg_dyn_op14.onnx"));
  std::string truncated = dir_.File("truncated.onnx");
  testing::WriteFile(truncated, bytes.substr(0, bytes.size() / 2));
  ExpectError(Edgefit({"inspect", truncated}), kInvalidModel, "inspect", truncated, {"truncated"});
  ExpectError(Edgefit({"copy", truncated, "-o", dir_.File("out.onnx")}), kInvalidModel, "copy",
              truncated, {"truncated"});
  EXPECT_FALSE(fs::exists(dir_.File("out.onnx")));

  std::string tensor = dir_.File("tensor.pb");
  testing::WriteFile(tensor, testing::MakeFloatTensor("t", {2}, {1, 2}).SerializeAsString());
  ExpectError(Edgefit({"inspect", tensor}), kInvalidModel, "inspect", tensor,
              {"not an ONNX model"});
}

TEST_F(CliTest, BrokenGraphs) {
  onnx::ModelProto cycle = testing::SimpleModel();
  cycle.mutable_graph()->mutable_node(0)->set_input(0, "Y");  // relu reads add's output
  std::string path = Write("cycle.onnx", cycle);
  ExpectError(Edgefit({"inspect", path}), kInvalidModel, "inspect", path, {"cycle"});

  onnx::ModelProto dangling = testing::SimpleModel();
  dangling.mutable_graph()->mutable_node(1)->set_input(1, "ghost");
  path = Write("dangling.onnx", dangling);
  ExpectError(Edgefit({"inspect", path}), kInvalidModel, "inspect", path, {"'ghost'"});

  onnx::ModelProto dup = testing::SimpleModel();
  *dup.mutable_graph()->add_initializer() = testing::MakeFloatTensor("W", {1}, {0});
  path = Write("dup.onnx", dup);
  ExpectError(Edgefit({"inspect", path}), kInvalidModel, "inspect", path, {"'W'", "twice"});

  onnx::ModelProto dtype = testing::SimpleModel();
  dtype.mutable_graph()->mutable_initializer(0)->set_data_type(42);
  path = Write("dtype.onnx", dtype);
  ExpectError(Edgefit({"inspect", path}), kInvalidModel, "inspect", path, {"unknown data type"});

  onnx::ModelProto huge = testing::SimpleModel();
  *huge.mutable_graph()->mutable_input(0) =
      testing::MakeValueInfo("X", onnx::TensorProto::FLOAT, {int64_t{1} << 32, int64_t{1} << 32});
  path = Write("huge.onnx", huge);
  ExpectError(Edgefit({"inspect", path}), kInvalidModel, "inspect", path, {"2^40"});

  onnx::ModelProto raw = testing::SimpleModel();
  raw.mutable_graph()->mutable_initializer(0)->set_raw_data("abc");
  path = Write("raw.onnx", raw);
  ExpectError(Edgefit({"copy", path, "-o", dir_.File("out.onnx")}), kInvalidModel, "copy", path,
              {"raw_data"});
}

TEST_F(CliTest, ExternalDataOutsideTheFolder) {
  onnx::ModelProto m = testing::SimpleModel();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_raw_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* e = w->add_external_data();
  e->set_key("location");
  e->set_value("../../../../../../etc/passwd");
  std::string path = Write("escape.onnx", m);
  ExpectError(Edgefit({"inspect", path}), kInvalidModel, "inspect", path,
              {"outside the model's folder"});
}

// ---------------------------------------------------------------------------- copy

TEST_F(CliTest, CopyWritesAnEquivalentModel) {
  std::string in = Copy("hrnet_like_op12_dyn.onnx");
  std::string out = dir_.File("copy.onnx");
  CommandResult r = Edgefit({"copy", in, "-o", out});
  ASSERT_EQ(r.exit_code, kOk) << Describe(r);
  EXPECT_EQ(r.out, "wrote " + out + "\n");
  EXPECT_EQ(r.err, "");
  auto a = LoadModel(in);
  auto b = LoadModel(out);
  EDGEFIT_ASSERT_OK(a);
  EDGEFIT_ASSERT_OK(b);
  EXPECT_EQ(a->graph->num_nodes(), b->graph->num_nodes());
  EXPECT_EQ(a->graph->initializers().size(), b->graph->initializers().size());
}

TEST_F(CliTest, CopyWithExternalData) {
  std::string in = Copy("mobilenet_like_op13.onnx");
  std::string out = dir_.File("ext.onnx");
  CommandResult r =
      Edgefit({"copy", in, "-o", out, "--external-data", "--external-threshold", "0"});
  ASSERT_EQ(r.exit_code, kOk) << Describe(r);
  ASSERT_TRUE(fs::exists(out + ".data"));
  EXPECT_LT(fs::file_size(out), fs::file_size(in));
  CommandResult inspect = Edgefit({"inspect", out});
  ASSERT_EQ(inspect.exit_code, kOk) << Describe(inspect);
  EXPECT_NE(inspect.out.find("External data:"), std::string::npos) << inspect.out;

  // Copying that copy again, with its data, into another folder.
  fs::create_directory(dir_.File("elsewhere"));
  std::string again = dir_.File("elsewhere/again.onnx");
  r = Edgefit({"copy", out, "-o", again, "--external-data", "--external-data-name", "w.bin"});
  ASSERT_EQ(r.exit_code, kOk) << Describe(r);
  EXPECT_TRUE(fs::exists(dir_.File("elsewhere/w.bin")));
  EXPECT_EQ(Edgefit({"inspect", again}).exit_code, kOk);

  // An external data name outside the output folder is a usage error.
  r = Edgefit({"copy", in, "-o", dir_.File("bad.onnx"), "--external-data", "--external-data-name",
               "../w.bin"});
  ExpectError(r, kUsage, "copy", dir_.File("bad.onnx"), {"'../w.bin'"});
}

TEST_F(CliTest, CopyOverItsInputIsRefused) {
  std::string in = Copy("rppg_dyn_op14.onnx");
  std::string before = testing::ReadFile(in);
  ExpectError(Edgefit({"copy", in, "-o", in}), kOutputRefused, "copy", in, {"--in-place"});
  // The same file under another spelling.
  std::string other = dir_.path() + "/./rppg_dyn_op14.onnx";
  ExpectError(Edgefit({"copy", in, "-o", other}), kOutputRefused, "copy", other, {"--in-place"});
  EXPECT_EQ(testing::ReadFile(in), before);

  CommandResult r = Edgefit({"copy", in, "-o", in, "--in-place"});
  EXPECT_EQ(r.exit_code, kOk) << Describe(r);
  EXPECT_EQ(Edgefit({"inspect", in}).exit_code, kOk);
}

TEST_F(CliTest, CopyOverItsExternalDataIsRefused) {
  std::string in = Copy("mobilenet_like_op13.onnx");
  std::string ext = dir_.File("ext.onnx");
  ASSERT_EQ(Edgefit({"copy", in, "-o", ext, "--external-data"}).exit_code, kOk);
  std::string data = testing::ReadFile(ext + ".data");
  CommandResult r = Edgefit({"copy", ext, "-o", dir_.File("other.onnx"), "--external-data",
                             "--external-data-name", "ext.onnx.data"});
  EXPECT_EQ(r.exit_code, kOutputRefused) << Describe(r);
  EXPECT_NE(r.err.find("ext.onnx.data"), std::string::npos) << r.err;
  EXPECT_EQ(testing::ReadFile(ext + ".data"), data);
  r = Edgefit({"copy", ext, "-o", ext, "--external-data", "--in-place"});
  EXPECT_EQ(r.exit_code, kOk) << Describe(r);
  EXPECT_EQ(Edgefit({"inspect", ext}).exit_code, kOk);
}

TEST_F(CliTest, CopyToAMissingFolderFails) {
  std::string in = testing::FixturePath("rppg_clean_op14.onnx");
  std::string out = dir_.File("no/such/folder/out.onnx");
  ExpectError(Edgefit({"copy", in, "-o", out}), kOutputRefused, "copy", out, {"does not exist"});
}

}  // namespace
}  // namespace edgefit
