// Dataset: sample data from .npy/.npz files, images and random data (docs/data.md). Every file
// is written here into a temporary folder; image values are worked out by hand in comments.
#include "data/dataset.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>

#include "io/npy.h"
#include "testing/test_util.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace edgefit {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::WriteFile;

// A float32 array whose element i is base + i.
Tensor Iota(const Shape& shape, float base = 0) {
  Tensor t(DataType::kFloat, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = base + static_cast<float>(i);
  return t;
}

std::vector<float> Floats(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DataType::kFloat);
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

void Write(const std::string& path, const Tensor& t) { EDGEFIT_ASSERT_OK(WriteNpy(path, t)); }

StatusOr<Dataset> OpenFiles(std::vector<std::string> sources, std::vector<InputSpec> inputs,
                            int64_t max_samples = 0) {
  DatasetOptions o;
  o.sources = std::move(sources);
  o.max_samples = max_samples;
  return Dataset::Open(o, std::move(inputs));
}

InputSpec FloatInput(const std::string& name, Shape shape) {
  return {name, DataType::kFloat, std::move(shape)};
}

// The status must be an error whose one-line message holds every one of `parts`.
template <typename T>
void ExpectError(const StatusOr<T>& r, const std::vector<std::string>& parts) {
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << parts[0] << "'";
  const std::string& m = r.status().message();
  for (const std::string& p : parts) EXPECT_NE(m.find(p), std::string::npos) << m;
  EXPECT_TRUE(testing::IsOneLine(m)) << m;
}

// ------------------------------------------------------------------------------ InputSpecsOf

TEST(InputSpecsOf, StaticInputsWithoutInitializers) {
  Model model;
  Graph& g = *model.graph;
  Value* x = *g.CreateValue("x");
  x->type() = TypeInfo::Tensor(DataType::kFloat, {1, 3, 8, 8});
  g.AddInput(x);
  Value* w = *g.CreateValue("w");  // an initializer listed as graph input: not fed
  w->type() = TypeInfo::Tensor(DataType::kFloat, {3});
  g.SetInitializer(w, Tensor(DataType::kFloat, {3}));
  g.AddInput(w);
  Value* ids = *g.CreateValue("ids");
  ids->type() = TypeInfo::Tensor(DataType::kInt64, {1, 5});
  g.AddInput(ids);
  auto specs = InputSpecsOf(model);
  EDGEFIT_ASSERT_OK(specs);
  ASSERT_EQ(specs->size(), 2u);
  EXPECT_EQ((*specs)[0].name, "x");
  EXPECT_EQ((*specs)[0].dtype, DataType::kFloat);
  EXPECT_EQ((*specs)[0].shape, (Shape{1, 3, 8, 8}));
  EXPECT_EQ((*specs)[1].name, "ids");
  EXPECT_EQ((*specs)[1].dtype, DataType::kInt64);
  EXPECT_EQ((*specs)[1].shape, (Shape{1, 5}));
}

TEST(InputSpecsOf, DynamicDimTellsToFixShapes) {
  Model model;
  Value* x = *model.graph->CreateValue("input");
  x->type() = TypeInfo::Tensor(DataType::kFloat, {1, 72, 36, 36});
  x->type().dims[0] = Dim::Symbolic("batch");
  model.graph->AddInput(x);
  auto specs = InputSpecsOf(model);
  EXPECT_EQ(specs.status().code(), StatusCode::kFailedPrecondition);
  ExpectError(specs, {"input 'input' [batch,72,36,36]", "dynamic",
                      "edgefit fix MODEL --input-shape input=1,72,36,36"});
}

// ------------------------------------------------------------------------------ .npy

TEST(DatasetNpy, DirectoryOfOneSampleFilesSortedByName) {
  TempDir dir;
  std::string calib = dir.File("calib");
  fs::create_directory(calib);
  Write(calib + "/b.npy", Iota({1, 3}, 10));
  Write(calib + "/a.npy", Iota({1, 3}, 0));
  Write(calib + "/c.NPY", Iota({1, 3}, 20));  // extensions are matched case-insensitively
  WriteFile(calib + "/notes.txt", "ignored");
  fs::create_directory(calib + "/sub.npy");  // not a file: ignored
  auto ds = OpenFiles({calib}, {FloatInput("x", {1, 3})});
  EDGEFIT_ASSERT_OK(ds);
  ASSERT_EQ(ds->size(), 3);
  EXPECT_EQ(ds->total_size(), 3);
  EXPECT_FALSE(ds->is_random());
  EXPECT_EQ(ds->Describe(0), calib + "/a.npy");
  EXPECT_EQ(ds->Describe(2), calib + "/c.NPY");
  auto s1 = ds->Get(1);
  EDGEFIT_ASSERT_OK(s1);
  ASSERT_EQ(s1->size(), 1u);
  EXPECT_EQ((*s1)[0].name, "x");
  EXPECT_EQ((*s1)[0].tensor.shape(), (Shape{1, 3}));
  EXPECT_EQ(Floats((*s1)[0].tensor), (std::vector<float>{10, 11, 12}));
  ExpectError(ds->Get(3), {"sample 3 is out of range"});
  ExpectError(ds->Get(-1), {"out of range"});
}

TEST(DatasetNpy, NSampleArraysAreSplitOnAxis0) {
  TempDir dir;
  // Input [1,3]: [5,3] holds 5 samples; [4,1,3] holds 4; [1,3] is one sample.
  Write(dir.File("a.npy"), Iota({5, 3}));
  Write(dir.File("b.npy"), Iota({4, 1, 3}, 100));
  Write(dir.File("c.npy"), Iota({1, 3}, 200));
  auto ds = OpenFiles({dir.File("a.npy"), dir.File("b.npy"), dir.File("c.npy")},
                      {FloatInput("x", {1, 3})});
  EDGEFIT_ASSERT_OK(ds);
  ASSERT_EQ(ds->size(), 10);
  auto s3 = ds->Get(3);
  EDGEFIT_ASSERT_OK(s3);
  EXPECT_EQ((*s3)[0].tensor.shape(), (Shape{1, 3}));
  EXPECT_EQ(Floats((*s3)[0].tensor), (std::vector<float>{9, 10, 11}));
  EXPECT_EQ(ds->Describe(3), dir.File("a.npy") + "[3]");
  auto s6 = ds->Get(6);  // b.npy row 1
  EDGEFIT_ASSERT_OK(s6);
  EXPECT_EQ(Floats((*s6)[0].tensor), (std::vector<float>{103, 104, 105}));
  EXPECT_EQ(ds->Describe(6), dir.File("b.npy") + "[1]");
  auto s9 = ds->Get(9);
  EDGEFIT_ASSERT_OK(s9);
  EXPECT_EQ(Floats((*s9)[0].tensor), (std::vector<float>{200, 201, 202}));
  EXPECT_EQ(ds->Describe(9), dir.File("c.npy"));

  // An input whose batch is not 1: only [N, *shape] splits.
  Write(dir.File("d.npy"), Iota({3, 2, 2}));
  auto b2 = OpenFiles({dir.File("d.npy")}, {FloatInput("x", {2, 2})});
  EDGEFIT_ASSERT_OK(b2);
  ASSERT_EQ(b2->size(), 3);
  EXPECT_EQ(Floats((*b2->Get(2))[0].tensor), (std::vector<float>{8, 9, 10, 11}));
  auto exact = OpenFiles({dir.File("d.npy")}, {FloatInput("x", {3, 2, 2})});
  EDGEFIT_ASSERT_OK(exact);
  EXPECT_EQ(exact->size(), 1);
  EXPECT_EQ(Floats((*exact->Get(0))[0].tensor), Floats(Iota({3, 2, 2})));
}

TEST(DatasetNpy, MaxSamplesSelectsEvenlySpreadIndices) {
  TempDir dir;
  Write(dir.File("a.npy"), Iota({10, 1}));  // sample k holds the value k
  for (auto [n, expected] : {std::pair<int64_t, std::vector<float>>{4, {0, 2, 5, 7}},
                             {3, {0, 3, 6}},
                             {1, {0}},
                             {10, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
                             {25, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
                             {0, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}}) {
    SCOPED_TRACE(n);
    auto ds = OpenFiles({dir.File("a.npy")}, {FloatInput("x", {1, 1})}, n);
    EDGEFIT_ASSERT_OK(ds);
    EXPECT_EQ(ds->total_size(), 10);
    ASSERT_EQ(ds->size(), static_cast<int64_t>(expected.size()));
    for (int64_t i = 0; i < ds->size(); ++i) {
      auto s = ds->Get(i);
      EDGEFIT_ASSERT_OK(s);
      EXPECT_EQ((*s)[0].tensor.data<float>()[0], expected[i]) << "sample " << i;
      EXPECT_EQ(ds->Describe(i),
                dir.File("a.npy") + "[" + std::to_string(static_cast<int>(expected[i])) + "]");
    }
  }
  ExpectError(OpenFiles({dir.File("a.npy")}, {FloatInput("x", {1, 1})}, -2),
              {"sample count must be positive"});
}

TEST(DatasetNpy, ShapeOrDtypeMismatchNamesFileAndExpectation) {
  TempDir dir;
  Write(dir.File("wide.npy"), Iota({2, 4}));
  ExpectError(OpenFiles({dir.File("wide.npy")}, {FloatInput("x", {1, 3})}),
              {dir.File("wide.npy"), "shape [2,4] (float32)", "input 'x' (float32 [1,3])",
               "expected [1,3] (one sample) or [N,3] or [N,1,3]"});
  Write(dir.File("ints.npy"), Tensor(DataType::kInt64, {1, 3}));
  auto ints = OpenFiles({dir.File("ints.npy")}, {FloatInput("x", {1, 3})});
  ExpectError(ints, {dir.File("ints.npy"), "dtype int64", "input 'x' (float32 [1,3])",
                     "save the array as float32"});
  Write(dir.File("double.npy"), Tensor(DataType::kDouble, {1, 3}));
  ExpectError(OpenFiles({dir.File("double.npy")}, {FloatInput("x", {1, 3})}),
              {dir.File("double.npy"), "dtype float64"});
  Write(dir.File("none.npy"), Iota({0, 3}));
  ExpectError(OpenFiles({dir.File("none.npy")}, {FloatInput("x", {1, 3})}),
              {dir.File("none.npy"), "holds no samples"});
  WriteFile(dir.File("broken.npy"), "\x93NUMPY garbage");
  ExpectError(OpenFiles({dir.File("broken.npy")}, {FloatInput("x", {1, 3})}),
              {dir.File("broken.npy")});
}

TEST(DatasetNpy, NanOrInfIsRejectedWhenTheSampleIsRead) {
  TempDir dir;
  Tensor t = Iota({4, 3});
  t.data<float>()[2 * 3 + 1] = std::numeric_limits<float>::quiet_NaN();
  t.data<float>()[3 * 3 + 2] = -std::numeric_limits<float>::infinity();
  Write(dir.File("bad.npy"), t);
  auto ds = OpenFiles({dir.File("bad.npy")}, {FloatInput("x", {1, 3})});
  EDGEFIT_ASSERT_OK(ds);  // headers only: values are checked by Get
  EDGEFIT_EXPECT_OK(ds->Get(1));
  auto nan = ds->Get(2);
  EXPECT_EQ(nan.status().code(), StatusCode::kInvalidArgument);
  ExpectError(nan, {dir.File("bad.npy") + "[2] (sample 2, input 'x')", "element 1 is NaN",
                    "must be finite"});
  ExpectError(ds->Get(3), {dir.File("bad.npy") + "[3]", "element 2 is -Inf"});
  // float16 too.
  Tensor h(DataType::kFloat16, {1, 2});
  h.data<uint16_t>()[0] = FloatToHalf(1.0f);
  h.data<uint16_t>()[1] = 0x7c00;  // +Inf
  Write(dir.File("half.npy"), h);
  auto hds = OpenFiles({dir.File("half.npy")}, {{"h", DataType::kFloat16, {1, 2}}});
  EDGEFIT_ASSERT_OK(hds);
  ExpectError(hds->Get(0), {dir.File("half.npy"), "input 'h'", "element 1 is +Inf"});
}

TEST(DatasetNpy, FileChangedAfterOpenIsAnError) {
  TempDir dir;
  Write(dir.File("a.npy"), Iota({4, 3}));
  auto ds = OpenFiles({dir.File("a.npy")}, {FloatInput("x", {1, 3})});
  EDGEFIT_ASSERT_OK(ds);
  Write(dir.File("a.npy"), Iota({2, 3}));
  EDGEFIT_EXPECT_OK(ds->Get(1));
  ExpectError(ds->Get(3), {dir.File("a.npy") + "[3] (sample 3, input 'x')", "rows [3, 4)"});
  Write(dir.File("a.npy"), Tensor(DataType::kInt32, {4, 3}));
  ExpectError(ds->Get(0), {dir.File("a.npy"), "changed since the data set was opened"});
  fs::remove(dir.File("a.npy"));
  ExpectError(ds->Get(0), {dir.File("a.npy"), "no such file"});
}

// A sparse 3 GiB .npy of 2^28 samples: Open reads the header, Get one row at its offset. A
// reader that loaded the whole array would need 3 GiB of memory (and minutes) here.
TEST(DatasetNpy, HugeArrayIsReadOneRowAtATime) {
  TempDir dir;
  const int64_t n = int64_t{1} << 28;
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(n) + ", 3), }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  const uint64_t data_offset = bytes.size();
  const float last[3] = {1.5f, -2.5f, 3.5f};
  std::string path = dir.File("huge.npy");
  WriteFile(path, bytes);
  fs::resize_file(path, data_offset + static_cast<uint64_t>(n) * 12);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(data_offset + static_cast<uint64_t>(n - 1) * 12));
    f.write(reinterpret_cast<const char*>(last), sizeof last);
    ASSERT_TRUE(f.good());
  }
  auto ds = OpenFiles({path}, {FloatInput("x", {1, 3})}, 4);
  EDGEFIT_ASSERT_OK(ds);
  EXPECT_EQ(ds->total_size(), n);
  ASSERT_EQ(ds->size(), 4);
  EXPECT_EQ(ds->Describe(3), path + "[" + std::to_string(3 * n / 4) + "]");
  auto all = OpenFiles({path}, {FloatInput("x", {1, 3})});
  EDGEFIT_ASSERT_OK(all);
  auto s = all->Get(n - 1);
  EDGEFIT_ASSERT_OK(s);
  EXPECT_EQ(Floats((*s)[0].tensor), (std::vector<float>{1.5f, -2.5f, 3.5f}));
  auto zero = all->Get(n / 2);
  EDGEFIT_ASSERT_OK(zero);
  EXPECT_EQ(Floats((*zero)[0].tensor), (std::vector<float>{0, 0, 0}));
}

// ------------------------------------------------------------------------------ sources

TEST(DatasetSources, BadSourcesAreClearErrors) {
  TempDir dir;
  std::vector<InputSpec> x = {FloatInput("x", {1, 3})};
  fs::create_directory(dir.File("empty"));
  ExpectError(OpenFiles({dir.File("empty")}, x), {dir.File("empty"), "no usable files"});
  fs::create_directory(dir.File("text"));
  WriteFile(dir.File("text/a.txt"), "x");
  WriteFile(dir.File("text/b.csv"), "x");
  ExpectError(OpenFiles({dir.File("text")}, x), {dir.File("text"), "no usable files", ".npy"});
  auto missing = OpenFiles({dir.File("missing.npy")}, x);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ExpectError(missing, {dir.File("missing.npy"), "no such file or directory"});
  WriteFile(dir.File("a.csv"), "1,2,3");
  ExpectError(OpenFiles({dir.File("a.csv")}, x), {dir.File("a.csv"), "unsupported file type"});
  ExpectError(OpenFiles({}, x), {"no sample data given"});
  ExpectError(OpenFiles({dir.File("a.csv")}, {}), {"no inputs"});
}

TEST(DatasetSources, BindingsPairSamplesByPosition) {
  TempDir dir;
  fs::create_directory(dir.File("a"));
  Write(dir.File("a/0.npy"), Iota({1, 2}, 0));
  Write(dir.File("a/1.npy"), Iota({1, 2}, 10));
  Tensor ids(DataType::kInt64, {2, 1});
  ids.data<int64_t>()[0] = 7;
  ids.data<int64_t>()[1] = 8;
  Write(dir.File("ids.npy"), ids);
  std::vector<InputSpec> inputs = {FloatInput("a", {1, 2}), {"ids", DataType::kInt64, {1, 1}}};
  // Bindings may come in any order; samples keep the model's input order.
  auto ds = OpenFiles({"ids=" + dir.File("ids.npy"), "a=" + dir.File("a")}, inputs);
  EDGEFIT_ASSERT_OK(ds);
  ASSERT_EQ(ds->size(), 2);
  auto s1 = ds->Get(1);
  EDGEFIT_ASSERT_OK(s1);
  ASSERT_EQ(s1->size(), 2u);
  EXPECT_EQ((*s1)[0].name, "a");
  EXPECT_EQ(Floats((*s1)[0].tensor), (std::vector<float>{10, 11}));
  EXPECT_EQ((*s1)[1].name, "ids");
  EXPECT_EQ((*s1)[1].tensor.data<int64_t>()[0], 8);
  EXPECT_EQ(ds->Describe(1), "a: " + dir.File("a") + "/1.npy, ids: " + dir.File("ids.npy") + "[1]");

  // One input short of samples, an input without data, an unbound file, an unknown name.
  Write(dir.File("ids3.npy"), Tensor(DataType::kInt64, {3, 1}));
  ExpectError(OpenFiles({"a=" + dir.File("a"), "ids=" + dir.File("ids3.npy")}, inputs),
              {"different numbers of samples", "a: 2", "ids: 3", dir.File("ids3.npy")});
  ExpectError(OpenFiles({"a=" + dir.File("a")}, inputs), {"no data for input 'ids'", "ids=PATH"});
  ExpectError(OpenFiles({dir.File("a")}, inputs),
              {dir.File("a") + "/0.npy", "the model has 2 inputs (a, ids)", "NAME=PATH", ".npz"});
  ExpectError(OpenFiles({"b=" + dir.File("a")}, inputs),
              {"'b' is not an input of the model (inputs: a, ids)"});
  // A single-input model takes a bound or unbound source alike; '=' in a real path is a path.
  Write(dir.File("k=v.npy"), Iota({1, 2}));
  auto eq = OpenFiles({dir.File("k=v.npy")}, {FloatInput("a", {1, 2})});
  EDGEFIT_ASSERT_OK(eq);
  EXPECT_EQ(eq->size(), 1);
  auto bound = OpenFiles({"a=" + dir.File("a")}, {FloatInput("a", {1, 2})});
  EDGEFIT_ASSERT_OK(bound);
  EXPECT_EQ(bound->size(), 2);
}

// ------------------------------------------------------------------------------ .npz

TEST(DatasetNpz, MultiInputArchiveKeyedByInputName) {
  TempDir dir;
  Tensor ids(DataType::kInt64, {3, 1});
  for (int i = 0; i < 3; ++i) ids.data<int64_t>()[i] = 40 + i;
  EDGEFIT_ASSERT_OK(
      WriteNpz(dir.File("d.npz"),
               {{"ids", ids}, {"a", Iota({3, 2})}, {"label", Iota({3})}}));  // extra keys: ignored
  std::vector<InputSpec> inputs = {FloatInput("a", {1, 2}), {"ids", DataType::kInt64, {1, 1}}};
  auto ds = OpenFiles({dir.File("d.npz")}, inputs);
  EDGEFIT_ASSERT_OK(ds);
  ASSERT_EQ(ds->size(), 3);
  auto s2 = ds->Get(2);
  EDGEFIT_ASSERT_OK(s2);
  EXPECT_EQ(Floats((*s2)[0].tensor), (std::vector<float>{4, 5}));
  EXPECT_EQ((*s2)[1].tensor.shape(), (Shape{1, 1}));
  EXPECT_EQ((*s2)[1].tensor.data<int64_t>()[0], 42);
  EXPECT_EQ(ds->Describe(2), dir.File("d.npz") + "[2]");

  // A directory of one-sample archives works the same way.
  fs::create_directory(dir.File("many"));
  for (int i = 0; i < 2; ++i)
    EDGEFIT_ASSERT_OK(
        WriteNpz(dir.File("many/" + std::to_string(i) + ".npz"),
                 {{"a", Iota({1, 2}, 10.0f * i)}, {"ids", Tensor(DataType::kInt64, {1, 1})}}));
  auto many = OpenFiles({dir.File("many")}, inputs);
  EDGEFIT_ASSERT_OK(many);
  ASSERT_EQ(many->size(), 2);
  EXPECT_EQ(Floats((*many->Get(1))[0].tensor), (std::vector<float>{10, 11}));
  EXPECT_EQ(many->Describe(1), dir.File("many/1.npz"));

  EDGEFIT_ASSERT_OK(WriteNpz(dir.File("noids.npz"), {{"a", Iota({3, 2})}}));
  ExpectError(OpenFiles({dir.File("noids.npz")}, inputs),
              {dir.File("noids.npz"), "no array for input 'ids'", "arrays: a"});
  EDGEFIT_ASSERT_OK(WriteNpz(dir.File("uneven.npz"),
                             {{"a", Iota({3, 2})}, {"ids", Tensor(DataType::kInt64, {2, 1})}}));
  ExpectError(OpenFiles({dir.File("uneven.npz")}, inputs),
              {dir.File("uneven.npz"), "array 'ids' holds 2 samples", "array 'a' 3"});
  EDGEFIT_ASSERT_OK(WriteNpz(dir.File("wrong.npz"),
                             {{"a", Iota({3, 5})}, {"ids", Tensor(DataType::kInt64, {3, 1})}}));
  ExpectError(OpenFiles({dir.File("wrong.npz")}, inputs),
              {dir.File("wrong.npz") + " (array 'a')", "shape [3,5]"});
}

TEST(DatasetNpz, SingleInputTakesTheNamedOrTheOnlyArray) {
  TempDir dir;
  EDGEFIT_ASSERT_OK(WriteNpz(dir.File("arr0.npz"), {{"arr_0", Iota({2, 3})}}));
  auto ds = OpenFiles({dir.File("arr0.npz")}, {FloatInput("x", {1, 3})});
  EDGEFIT_ASSERT_OK(ds);
  ASSERT_EQ(ds->size(), 2);
  EXPECT_EQ(Floats((*ds->Get(1))[0].tensor), (std::vector<float>{3, 4, 5}));
  EDGEFIT_ASSERT_OK(WriteNpz(dir.File("two.npz"), {{"y", Iota({1, 3})}, {"x", Iota({1, 3}, 9)}}));
  auto named = OpenFiles({dir.File("two.npz")}, {FloatInput("x", {1, 3})});
  EDGEFIT_ASSERT_OK(named);
  EXPECT_EQ(Floats((*named->Get(0))[0].tensor), (std::vector<float>{9, 10, 11}));
  ExpectError(OpenFiles({dir.File("two.npz")}, {FloatInput("z", {1, 3})}),
              {dir.File("two.npz"), "no array named 'z'", "arrays: y, x"});
  // NaN inside an archive names the archive, the sample and the input.
  Tensor t = Iota({2, 3});
  t.data<float>()[4] = std::numeric_limits<float>::quiet_NaN();
  EDGEFIT_ASSERT_OK(WriteNpz(dir.File("nan.npz"), {{"x", t}}));
  auto nan = OpenFiles({dir.File("nan.npz")}, {FloatInput("x", {1, 3})});
  EDGEFIT_ASSERT_OK(nan);
  ExpectError(nan->Get(1), {dir.File("nan.npz") + "[1] (sample 1, input 'x')", "NaN"});
}

// ------------------------------------------------------------------------------ images

// The 2x2 RGB test image:   (10,20,30)   (40,50,60)
//                           (70,80,90)   (100,110,120)
void WritePng(const std::string& path) {
  const unsigned char px[12] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120};
  ASSERT_NE(stbi_write_png(path.c_str(), 2, 2, 3, px, 2 * 3), 0);
}

ImagePreprocess Plain() {
  ImagePreprocess p;
  p.scale = 1.0f;
  return p;
}

StatusOr<Dataset> OpenImage(const std::string& path, InputSpec input,
                            std::optional<ImagePreprocess> pre) {
  DatasetOptions o;
  o.sources = {path};
  o.image = std::move(pre);
  return Dataset::Open(o, {std::move(input)});
}

std::vector<float> ImageValues(const std::string& path, InputSpec input,
                               const ImagePreprocess& pre) {
  auto ds = OpenImage(path, std::move(input), pre);
  EXPECT_TRUE(ds.ok()) << ds.status().ToString();
  if (!ds.ok()) return {};
  auto s = ds->Get(0);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return {};
  return Floats((*s)[0].tensor);
}

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-4f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

TEST(DatasetImage, NchwRgbMeanStd) {
  TempDir dir;
  WritePng(dir.File("img.png"));
  ImagePreprocess p = Plain();
  p.mean = {10, 20, 30};
  p.std = {2, 4, 5};
  // R: (R-10)/2 = 0 15 30 45; G: (G-20)/4 = 0 7.5 15 22.5; B: (B-30)/5 = 0 6 12 18.
  ExpectNear(ImageValues(dir.File("img.png"), FloatInput("x", {1, 3, 2, 2}), p),
             {0, 15, 30, 45, 0, 7.5, 15, 22.5, 0, 6, 12, 18});
  // scale 1/255 and the default mean 0, std 1: R of pixel (1,1) is 100/255.
  auto defaults = ImageValues(dir.File("img.png"), FloatInput("x", {1, 3, 2, 2}), {});
  ASSERT_EQ(defaults.size(), 12u);
  EXPECT_NEAR(defaults[3], 100.0f / 255.0f, 1e-6f);
}

TEST(DatasetImage, NhwcBgr) {
  TempDir dir;
  WritePng(dir.File("img.png"));
  ImagePreprocess p = Plain();
  p.layout = ImageLayout::kNhwc;
  p.color = ColorOrder::kBgr;
  p.mean = {30, 20, 10};  // in the tensor's channel order: B, G, R
  p.std = {5, 4, 2};
  // Pixel by pixel (B, G, R): (0,0,0) (6,7.5,15) (12,15,30) (18,22.5,45).
  ExpectNear(ImageValues(dir.File("img.png"), FloatInput("x", {1, 2, 2, 3}), p),
             {0, 0, 0, 6, 7.5, 15, 12, 15, 30, 18, 22.5, 45});
}

TEST(DatasetImage, BilinearResizeWithHalfPixelCentres) {
  TempDir dir;
  WritePng(dir.File("img.png"));
  // 2 -> 4: source positions (o + 0.5) / 2 - 0.5 clamped = 0, 0.25, 0.75, 1 on both axes.
  // R = 10 + 30 * fx + 60 * fy.
  auto up = ImageValues(dir.File("img.png"), FloatInput("x", {1, 3, 4, 4}), Plain());
  ASSERT_EQ(up.size(), 48u);
  std::vector<float> red(up.begin(), up.begin() + 16);
  ExpectNear(red,
             {10, 17.5, 32.5, 40, 25, 32.5, 47.5, 55, 55, 62.5, 77.5, 85, 70, 77.5, 92.5, 100});
  // 2 -> 1: position 0.5 on both axes, the mean of the four pixels.
  ExpectNear(ImageValues(dir.File("img.png"), FloatInput("x", {1, 3, 1, 1}), Plain()),
             {55, 65, 75});
  // Non-square: 2x2 -> 1x2 (rows averaged, columns kept).
  ExpectNear(ImageValues(dir.File("img.png"), FloatInput("x", {1, 1, 1, 2}), Plain()),
             {0.299f * 40 + 0.587f * 50 + 0.114f * 60, 0.299f * 70 + 0.587f * 80 + 0.114f * 90});
}

TEST(DatasetImage, GreyForOneChannelInput) {
  TempDir dir;
  WritePng(dir.File("img.png"));
  // 0.299 R + 0.587 G + 0.114 B: 18.15, 48.15, 78.15, 108.15; the default mean/std lists
  // ({0,0,0}, {1,1,1}) fit a 1-channel input.
  ExpectNear(ImageValues(dir.File("img.png"), FloatInput("x", {1, 1, 2, 2}), Plain()),
             {18.15f, 48.15f, 78.15f, 108.15f});
  ImagePreprocess p = Plain();
  p.layout = ImageLayout::kNhwc;
  p.mean = {0.15f};
  p.std = {2};
  ExpectNear(ImageValues(dir.File("img.png"), FloatInput("x", {1, 2, 2, 1}), p), {9, 24, 39, 54});
}

TEST(DatasetImage, JpegDecodes) {
  TempDir dir;
  std::vector<unsigned char> px(16 * 16 * 3);
  for (size_t i = 0; i < px.size(); i += 3) {
    px[i] = 200;
    px[i + 1] = 100;
    px[i + 2] = 50;
  }
  ASSERT_NE(stbi_write_jpg(dir.File("flat.jpg").c_str(), 16, 16, 3, px.data(), 95), 0);
  auto v = ImageValues(dir.File("flat.jpg"), FloatInput("x", {1, 3, 4, 4}), Plain());
  ASSERT_EQ(v.size(), 48u);
  for (int i = 0; i < 16; ++i) {
    EXPECT_NEAR(v[i], 200, 3);  // lossy, but a flat colour survives almost exactly
    EXPECT_NEAR(v[16 + i], 100, 3);
    EXPECT_NEAR(v[32 + i], 50, 3);
  }
}

TEST(DatasetImage, Errors) {
  TempDir dir;
  WritePng(dir.File("img.png"));
  std::string img = dir.File("img.png");
  ExpectError(OpenImage(img, FloatInput("x", {1, 3, 2, 2}), std::nullopt),
              {img, "image files need a preprocessing spec", "pass one"});
  ExpectError(OpenImage(img, {"x", DataType::kUint8, {1, 3, 2, 2}}, Plain()),
              {img, "float32", "input 'x' (uint8 [1,3,2,2]) is not float32"});
  ExpectError(OpenImage(img, FloatInput("x", {2, 3, 2, 2}), Plain()), {img, "batch 1"});
  ExpectError(OpenImage(img, FloatInput("x", {1, 3, 4}), Plain()), {img, "not 4-D"});
  ExpectError(OpenImage(img, FloatInput("x", {1, 8, 8, 3}), Plain()),
              {img, "has 8 channels", "is it NHWC?"});
  ImagePreprocess two = Plain();
  two.mean = {1, 2};
  ExpectError(OpenImage(img, FloatInput("x", {1, 3, 2, 2}), two),
              {img, "'mean' has 2 values", "3 channels"});
  WriteFile(dir.File("fake.png"), "not a png at all");
  ExpectError(OpenImage(dir.File("fake.png"), FloatInput("x", {1, 3, 2, 2}), Plain()),
              {dir.File("fake.png"), "not a readable JPEG or PNG image"});
  // A directory mixing images and arrays feeds the same input.
  fs::create_directory(dir.File("mixed"));
  WritePng(dir.File("mixed/a.png"));
  Write(dir.File("mixed/b.npy"), Iota({2, 3, 2, 2}));
  auto mixed = OpenImage(dir.File("mixed"), FloatInput("x", {1, 3, 2, 2}), Plain());
  EDGEFIT_ASSERT_OK(mixed);
  EXPECT_EQ(mixed->size(), 3);
  EXPECT_EQ(mixed->Describe(0), dir.File("mixed/a.png"));
  EXPECT_EQ(mixed->Describe(2), dir.File("mixed/b.npy") + "[1]");
  // An image replaced by garbage after Open fails in Get, naming it.
  WriteFile(dir.File("mixed/a.png"), "gone");
  ExpectError(mixed->Get(0), {dir.File("mixed/a.png") + " (sample 0, input 'x')"});
}

// ------------------------------------------------------------------------------ preprocess JSON

TEST(ImagePreprocessJson, ParsesEveryKey) {
  auto p = ParseImagePreprocess(R"({"layout": "NHWC", "color": "bgr", "scale": 0.00392156862,
      "mean": [0.406, 0.456, 0.485], "std": [0.225, 0.224, 0.229]})",
                                "--preprocess");
  EDGEFIT_ASSERT_OK(p);
  EXPECT_EQ(p->layout, ImageLayout::kNhwc);
  EXPECT_EQ(p->color, ColorOrder::kBgr);
  EXPECT_FLOAT_EQ(p->scale, 0.00392156862f);
  EXPECT_EQ(p->mean, (std::vector<float>{0.406f, 0.456f, 0.485f}));
  EXPECT_EQ(p->std, (std::vector<float>{0.225f, 0.224f, 0.229f}));
  auto d = ParseImagePreprocess("{}", "x");
  EDGEFIT_ASSERT_OK(d);
  EXPECT_EQ(d->layout, ImageLayout::kNchw);
  EXPECT_EQ(d->color, ColorOrder::kRgb);
  EXPECT_FLOAT_EQ(d->scale, 1.0f / 255.0f);
  auto one = ParseImagePreprocess(R"({"mean": 0.5, "std": [0.25]})", "x");
  EDGEFIT_ASSERT_OK(one);
  EXPECT_EQ(one->mean, (std::vector<float>{0.5f}));
  EXPECT_EQ(one->std, (std::vector<float>{0.25f}));
}

TEST(ImagePreprocessJson, Errors) {
  ExpectError(ParseImagePreprocess(R"({"layout": "NCHW", "size": 224})", "pre.json"),
              {"pre.json: unknown key 'size'", "known: layout, color, scale, mean, std"});
  ExpectError(ParseImagePreprocess(R"({"layout": "CHW"})", "pre.json"),
              {"pre.json: 'layout' must be \"NCHW\" or \"NHWC\""});
  ExpectError(ParseImagePreprocess(R"({"color": 3})", "pre.json"), {"'color' must be"});
  ExpectError(ParseImagePreprocess(R"({"mean": [1, 2]})", "pre.json"),
              {"pre.json: 'mean' has 2 values"});
  ExpectError(ParseImagePreprocess(R"({"std": [1, 0, 1]})", "pre.json"),
              {"'std' must be", "positive"});
  ExpectError(ParseImagePreprocess(R"({"mean": "0.5"})", "pre.json"), {"'mean' must be"});
  ExpectError(ParseImagePreprocess(R"({"scale": -1})", "pre.json"), {"'scale' must be"});
  ExpectError(ParseImagePreprocess(R"({"scale": 1,})", "pre.json"), {"pre.json: invalid JSON"});
  ExpectError(ParseImagePreprocess("[1]", "pre.json"), {"pre.json: expected a JSON object"});
}

TEST(ImagePreprocessJson, LoadsAFile) {
  TempDir dir;
  WriteFile(dir.File("pre.json"), R"({"mean": [1, 2, 3]})");
  auto p = LoadImagePreprocess(dir.File("pre.json"));
  EDGEFIT_ASSERT_OK(p);
  EXPECT_EQ(p->mean, (std::vector<float>{1, 2, 3}));
  WriteFile(dir.File("bad.json"), R"({"mean": [1, 2]})");
  ExpectError(LoadImagePreprocess(dir.File("bad.json")), {dir.File("bad.json") + ": 'mean'"});
  auto missing = LoadImagePreprocess(dir.File("none.json"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ExpectError(missing, {dir.File("none.json")});
}

// ------------------------------------------------------------------------------ random

TEST(DatasetRandom, SeededAndMarked) {
  DatasetOptions o;
  o.random = true;
  o.random_count = 5;
  o.seed = 42;
  std::vector<InputSpec> inputs = {FloatInput("x", {1, 64}), {"ids", DataType::kInt32, {1, 64}}};
  auto ds = Dataset::Open(o, inputs);
  EDGEFIT_ASSERT_OK(ds);
  EXPECT_TRUE(ds->is_random());
  ASSERT_EQ(ds->size(), 5);
  EXPECT_EQ(ds->Describe(3), "random #3");
  auto a = ds->Get(3);
  EDGEFIT_ASSERT_OK(a);
  ASSERT_EQ(a->size(), 2u);
  std::vector<float> x = Floats((*a)[0].tensor);
  for (float v : x) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LT(v, 1.0f);
  }
  EXPECT_NE(x[0], x[1]);
  const int32_t* ids = (*a)[1].tensor.data<int32_t>();
  std::set<int32_t> seen(ids, ids + 64);
  EXPECT_GE(*seen.begin(), 0);
  EXPECT_LE(*seen.rbegin(), 9);
  EXPECT_GT(seen.size(), 5u);
  // Same seed and index: same data, however often and in whatever order it is read.
  auto again = Dataset::Open(o, inputs);
  EDGEFIT_ASSERT_OK(again);
  EDGEFIT_ASSERT_OK(again->Get(0));
  EXPECT_EQ(Floats((*again->Get(3))[0].tensor), x);
  EXPECT_NE(Floats((*ds->Get(2))[0].tensor), x);
  o.seed = 43;
  auto other = Dataset::Open(o, inputs);
  EDGEFIT_ASSERT_OK(other);
  EXPECT_NE(Floats((*other->Get(3))[0].tensor), x);

  o.random_count = 0;
  ExpectError(Dataset::Open(o, inputs), {"positive sample count"});
  o.random_count = 2;
  o.sources = {"calib"};
  ExpectError(Dataset::Open(o, inputs), {"exclusive"});
}

}  // namespace
}  // namespace edgefit
