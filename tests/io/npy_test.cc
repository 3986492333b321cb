// .npy reading and writing: files built byte by byte here, plus reference files written by
// Debian's numpy (tests/io/data, see make_data.py).
#include "io/npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "testing/test_util.h"

namespace edgefit {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::SourcePath;
using testing::TempDir;
using testing::WriteFile;

std::string DataPath(const std::string& name) { return SourcePath("tests/io/data/" + name); }

// An .npy file: magic, version, little-endian header length, `dict` padded with spaces and a
// newline to a multiple of 64 (unless `raw_header`), then `data`.
std::string Npy(const std::string& dict, const std::string& data, int major = 1,
                bool raw_header = false) {
  std::string out = "\x93NUMPY";
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  if (!raw_header) {
    header += "\n";
    while ((prefix + header.size()) % 64) header.insert(header.size() - 1, " ");
  }
  uint32_t len = static_cast<uint32_t>(header.size());
  for (size_t i = 0; i < prefix - 8; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  return out + header + data;
}

template <typename T>
std::string Bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

StatusOr<Tensor> Parse(const std::string& bytes, const NpyReadOptions& options = {}) {
  return ParseNpy(bytes.data(), bytes.size(), "x.npy", options);
}

// Expects an error of `code` whose message names the origin and contains `text`.
void ExpectError(const StatusOr<Tensor>& r, StatusCode code, const std::string& text,
                 const std::string& origin = "x.npy") {
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << text << "'";
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().rfind(origin, 0), 0u) << r.status().message();
  EXPECT_TRUE(testing::IsOneLine(r.status().message())) << r.status().message();
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  const T* p = t.data<T>();
  return std::vector<T>(p, p + t.numel());
}

// ------------------------------------------------------------------ hand-built files

TEST(NpyRead, AllDtypesByHand) {
  struct Case {
    const char* descr;
    DataType type;
  };
  const Case cases[] = {
      {"<f2", DataType::kFloat16}, {"<f4", DataType::kFloat},  {"<f8", DataType::kDouble},
      {"|i1", DataType::kInt8},    {"|u1", DataType::kUint8},  {"<i2", DataType::kInt16},
      {"<u2", DataType::kUint16},  {"<i4", DataType::kInt32},  {"<u4", DataType::kUint32},
      {"<i8", DataType::kInt64},   {"<u8", DataType::kUint64}, {"|b1", DataType::kBool},
      {"=f4", DataType::kFloat},   {"<i1", DataType::kInt8},   {">u1", DataType::kUint8},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.descr);
    size_t elem = DataTypeSize(c.type);
    std::string data;
    for (size_t i = 0; i < 6 * elem; ++i) data.push_back(static_cast<char>(i % 2));
    auto t = Parse(
        Npy(std::string("{'descr': '") + c.descr + "', 'fortran_order': False, 'shape': (2, 3), }",
            data));
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t->dtype(), c.type);
    EXPECT_EQ(t->shape(), (Shape{2, 3}));
    ASSERT_EQ(t->nbytes(), data.size());
    EXPECT_EQ(std::memcmp(t->raw(), data.data(), data.size()), 0);
  }
}

TEST(NpyRead, HeaderVariants) {
  std::string f4 = Bytes<float>({1.5f, -2.0f});
  // Versions 2.0 and 3.0 (4-byte header length).
  for (int major : {2, 3}) {
    auto t = Parse(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4, major));
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(Values<float>(*t), (std::vector<float>{1.5f, -2.0f}));
  }
  // Key order, double quotes, no trailing comma, list shape, Python 2 long, odd spacing,
  // unpadded header without newline.
  const char* dicts[] = {
      "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
      "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": [2]}",
      "{'descr':'<f4','fortran_order':False,'shape':(2L,),}",
      "  {  'descr' : '<f4' ,\n 'fortran_order' : False , 'shape' : ( 2 , ) }  ",
  };
  for (const char* d : dicts) {
    SCOPED_TRACE(d);
    auto t = Parse(Npy(d, f4));
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t->shape(), (Shape{2}));
    auto raw = Parse(Npy(d, f4, 1, /*raw_header=*/true));
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  }
}

TEST(NpyRead, ScalarEmptyAndBool) {
  auto s =
      Parse(Npy("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", Bytes<int64_t>({-7})));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->rank(), 0u);
  EXPECT_EQ(Values<int64_t>(*s), (std::vector<int64_t>{-7}));

  auto e = Parse(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 0, 2), }", ""));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->shape(), (Shape{3, 0, 2}));
  EXPECT_EQ(e->numel(), 0);

  // Any non-zero byte is true; stored as 1 so kernels can trust bool bytes.
  auto b = Parse(Npy("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }",
                     std::string("\x00\x01\x02\xff", 4)));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(Values<uint8_t>(*b), (std::vector<uint8_t>{0, 1, 1, 1}));
}

TEST(NpyRead, RejectsWhatNumpyWritesButEdgefitDoesNotTake) {
  const std::string d4(16, '\0');
  ExpectError(Parse(Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", d4)),
              StatusCode::kUnsupported, "fortran_order=True");
  ExpectError(Parse(Npy("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", d4)),
              StatusCode::kUnsupported, "big-endian");
  ExpectError(Parse(Npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", d4)),
              StatusCode::kUnsupported, "object arrays");
  ExpectError(Parse(Npy("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", d4)),
              StatusCode::kUnsupported, "dtype '<c8' is not supported");
  ExpectError(Parse(Npy("{'descr': '<U4', 'fortran_order': False, 'shape': (1,), }", d4)),
              StatusCode::kUnsupported, "'<U4'");
  ExpectError(Parse(Npy("{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, "
                        "'shape': (2,), }",
                        d4)),
              StatusCode::kUnsupported, "structured");
  ExpectError(Parse(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", d4, 4)),
              StatusCode::kUnsupported, "format version 4.0");
}

TEST(NpyRead, RejectsMalformedHeaders) {
  const std::string d8(8, '\0');
  struct Case {
    std::string dict;
    std::string error;
  };
  const Case cases[] = {
      {"{'descr': '<f4', 'shape': (2,), }", "lacks 'fortran_order'"},
      {"{'fortran_order': False, 'shape': (2,), }", "lacks 'descr'"},
      {"{'descr': '<f4', 'fortran_order': False, }", "lacks 'shape'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", "unexpected key 'x'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", "twice"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", "'fortran_order' is not"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': 2}", "'shape' is not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", "negative"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': ('2',)}", "non-integer"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}", "malformed header"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", "malformed header"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", "malformed header"},
      {"{'descr': 4, 'fortran_order': False, 'shape': (2,)}", "'descr' is not a string"},
      {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,)}", "malformed header"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", "malformed header"},
      {"['descr']", "malformed header"},
      {"{'descr': '<\\x66', 'fortran_order': False, 'shape': (2,)}", "malformed header"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (((((((((((((2,),),),),),),),),),),),)}",
       "nesting too deep"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
       "above 2^62"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, \x01)}", "malformed header"},
      {"", "malformed header"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.dict);
    auto r = Parse(Npy(c.dict, d8));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(c.error), std::string::npos) << r.status().message();
    EXPECT_TRUE(r.status().code() == StatusCode::kInvalidArgument ||
                r.status().code() == StatusCode::kUnsupported);
    EXPECT_EQ(r.status().message().rfind("x.npy: ", 0), 0u);
    EXPECT_TRUE(testing::IsOneLine(r.status().message())) << r.status().message();
  }
  ExpectError(
      Parse(Npy(std::string("{'descr': '<f4'\0, 'fortran_order': False, 'shape': (2,)}", 55), d8)),
      StatusCode::kInvalidArgument, "NUL");
}

TEST(NpyRead, RejectsLyingSizes) {
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  ExpectError(Parse(Npy(dict, std::string(23, '\0'))), StatusCode::kInvalidArgument,
              "truncated data: shape [2,3] of float32 needs 24 bytes, the file has 23");
  ExpectError(Parse(Npy(dict, std::string(25, '\0'))), StatusCode::kInvalidArgument,
              "1 unexpected bytes after the data");
  ExpectError(Parse(Npy(dict, "")), StatusCode::kInvalidArgument, "truncated data");
  // Header length beyond the end of the file.
  std::string f = Npy(dict, "");
  f[8] = '\xff';
  f[9] = '\x7f';
  ExpectError(Parse(f), StatusCode::kInvalidArgument, "truncated .npy header");
  // A 4 GB header length in a 2.0 file.
  std::string v2 = Npy(dict, std::string(24, '\0'), 2);
  v2[8] = v2[9] = v2[10] = v2[11] = '\xff';
  ExpectError(Parse(v2), StatusCode::kInvalidArgument, "header length 4294967295");
  // Absurd shapes are refused before anything is allocated.
  ExpectError(
      Parse(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048577), }", "")),
      StatusCode::kInvalidArgument, "above the limit of 1099511627776");
  ExpectError(
      Parse(
          Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", "")),
      StatusCode::kInvalidArgument, "overflows");
  ExpectError(
      Parse(Npy("{'descr': '<u8', 'fortran_order': False, 'shape': (4611686018427387904,), }", ""),
            {.max_elements = int64_t{1} << 62}),
      StatusCode::kInvalidArgument, "overflows");
  // A caller-set byte limit.
  ExpectError(Parse(Npy(dict, std::string(24, '\0')), {.max_bytes = 16}),
              StatusCode::kResourceExhausted, "above the limit of 16 bytes");
  ExpectError(Parse(Npy(dict, std::string(24, '\0')), {.max_elements = 5}),
              StatusCode::kInvalidArgument, "6 elements, above the limit of 5");
}

TEST(NpyRead, RejectsNonNpy) {
  ExpectError(Parse(""), StatusCode::kInvalidArgument, "not an .npy file");
  ExpectError(Parse("PK\x03\x04 this is a zip"), StatusCode::kInvalidArgument, "magic");
  ExpectError(Parse("\x93NUMPY\x01"), StatusCode::kInvalidArgument, "truncated .npy header");
  ExpectError(Parse(std::string("\x93NUMPY\x02\x00\x10\x00", 10)), StatusCode::kInvalidArgument,
              "truncated .npy header");
}

// Every prefix of a valid file and many random corruptions: errors, never crashes.
TEST(NpyRead, TruncationsAndCorruptionsNeverCrash) {
  std::string good =
      Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", std::string(24, '\x01'));
  ASSERT_TRUE(Parse(good).ok());
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = Parse(good.substr(0, n));
    EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes was accepted";
  }
  std::mt19937 rng(1234);
  int accepted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string bad = good;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k)
      bad[rng() % 80] =
          static_cast<char>(rng() % 4 == 0 ? rng() % 256 : "0123456789(),'<>|"[rng() % 17]);
    auto r = Parse(bad, {.max_elements = 1 << 20});
    if (r.ok()) {
      ++accepted;
      EXPECT_EQ(r->nbytes(), 24u);  // only a header equivalent to the original can pass
    }
  }
  EXPECT_GT(accepted, 0);
}

// ------------------------------------------------------------------ numpy's own files

TEST(NpyNumpyFiles, ReadValues) {
  auto f4 = ReadNpy(DataPath("f4.npy"));
  ASSERT_TRUE(f4.ok()) << f4.status().ToString();
  EXPECT_EQ(f4->shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>(*f4), (std::vector<float>{0, 0.25f, -0.5f, 0.75f, -1, 1.25f}));
  auto f2 = ReadNpy(DataPath("f2.npy"));
  ASSERT_TRUE(f2.ok());
  std::vector<float> half;
  for (uint16_t h : Values<uint16_t>(*f2)) half.push_back(HalfToFloat(h));
  EXPECT_EQ(half, (std::vector<float>{0, 0.25f, -0.5f, 0.75f, -1, 1.25f}));
  auto i8 = ReadNpy(DataPath("i8.npy"));
  ASSERT_TRUE(i8.ok());
  EXPECT_EQ(Values<int64_t>(*i8)[4], -4 * 1000000000000000LL);
  auto u8 = ReadNpy(DataPath("u8.npy"));
  ASSERT_TRUE(u8.ok());
  EXPECT_EQ(Values<uint64_t>(*u8)[5], (uint64_t{1} << 63) + 5);
  auto b1 = ReadNpy(DataPath("b1.npy"));
  ASSERT_TRUE(b1.ok());
  EXPECT_EQ(b1->dtype(), DataType::kBool);
  EXPECT_EQ(Values<uint8_t>(*b1), (std::vector<uint8_t>{0, 1, 0, 1, 0, 1}));
  auto u1 = ReadNpy(DataPath("long_dim_u1.npy"));
  ASSERT_TRUE(u1.ok());
  EXPECT_EQ(u1->shape(), (Shape{1000}));
  EXPECT_EQ(Values<uint8_t>(*u1)[999], 999 % 251);
  auto scalar = ReadNpy(DataPath("scalar_f4.npy"));
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ(scalar->rank(), 0u);
  EXPECT_EQ(Values<float>(*scalar), (std::vector<float>{2.5f}));
  auto rank5 = ReadNpy(DataPath("rank5_i8.npy"));
  ASSERT_TRUE(rank5.ok());
  EXPECT_EQ(rank5->shape(), (Shape{2, 2, 2, 2, 2}));
  EXPECT_EQ(Values<int64_t>(*rank5)[31], 31);
  for (const char* v : {"v2_f4.npy", "v3_f4.npy"}) {
    auto t = ReadNpy(DataPath(v));
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(Values<float>(*t), Values<float>(*f4));
  }
}

TEST(NpyNumpyFiles, RefusedFilesNameTheFile) {
  ExpectError(ReadNpy(DataPath("fortran_f4.npy")), StatusCode::kUnsupported, "fortran_order",
              DataPath("fortran_f4.npy"));
  ExpectError(ReadNpy(DataPath("bigendian_f4.npy")), StatusCode::kUnsupported, "'>f4'",
              DataPath("bigendian_f4.npy"));
  ExpectError(ReadNpy(DataPath("object.npy")), StatusCode::kUnsupported, "object arrays",
              DataPath("object.npy"));
  auto missing = ReadNpy(DataPath("no_such.npy"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no_such.npy"), std::string::npos);
  auto dir = ReadNpy(SourcePath("tests/io/data"));
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kIoError);
}

// What edgefit writes is byte-identical to numpy.save (numpy 1.24) for every dtype.
TEST(NpyWrite, ByteIdenticalToNumpy) {
  for (const char* name : {"f2.npy", "f4.npy", "f8.npy", "i1.npy", "u1.npy", "i2.npy", "u2.npy",
                           "i4.npy", "u4.npy", "i8.npy", "u8.npy", "b1.npy", "scalar_f4.npy",
                           "empty_f4.npy", "rank5_i8.npy", "long_dim_u1.npy"}) {
    SCOPED_TRACE(name);
    std::string want = ReadFile(DataPath(name));
    auto t = ParseNpy(want.data(), want.size(), name);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    auto got = EncodeNpy(*t);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, want);
  }
}

TEST(NpyWrite, RoundTripAndLargeHeader) {
  Tensor t = Tensor::FromVector<int32_t>(DataType::kInt32, {3, 1}, {1, -2, 3});
  auto bytes = EncodeNpy(t);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size() % 64, 12u);  // 64-byte aligned header + 12 bytes of data
  auto back = Parse(*bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->shape(), t.shape());
  EXPECT_EQ(Values<int32_t>(*back), (std::vector<int32_t>{1, -2, 3}));

  // A rank so high that the header needs format 2.0.
  Shape many(30000, 1);
  Tensor big(DataType::kUint8, many);
  auto v2 = EncodeNpy(big);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ((*v2)[6], 2);
  auto big_back = Parse(*v2);
  ASSERT_TRUE(big_back.ok()) << big_back.status().ToString();
  EXPECT_EQ(big_back->shape(), many);

  EXPECT_EQ(EncodeNpy(Tensor(DataType::kBfloat16, {2})).status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(EncodeNpy(Tensor(DataType::kString, {2})).status().code(), StatusCode::kUnsupported);
}

TEST(NpyWrite, AtomicFiles) {
  TempDir dir;
  std::string path = dir.File("out.npy");
  Tensor a = Tensor::FromVector<float>(DataType::kFloat, {2}, {1, 2});
  EDGEFIT_ASSERT_OK(WriteNpy(path, a));
  Tensor b = Tensor::FromVector<float>(DataType::kFloat, {3}, {4, 5, 6});
  EDGEFIT_ASSERT_OK(WriteNpy(path, b));  // replaces
  auto back = ReadNpy(path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Values<float>(*back), (std::vector<float>{4, 5, 6}));
  // A failed write leaves the old file as it was, and no temporary file behind.
  Status st = WriteNpy(path, Tensor(DataType::kBfloat16, {2}));
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find(path), std::string::npos);
  EXPECT_EQ(ReadFile(path), *EncodeNpy(b));
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(e.path().filename(), "out.npy");
  }
  EXPECT_EQ(files, 1u);
  Status nodir = WriteNpy(dir.File("missing/out.npy"), a);
  EXPECT_EQ(nodir.code(), StatusCode::kIoError);
  EXPECT_NE(nodir.message().find("missing/out.npy"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.File("missing")));
  // Writing into a directory path fails cleanly, too.
  EXPECT_FALSE(WriteNpy(dir.path(), a).ok());
}

// ---------------------------------------------------------------- headers and row slices

TEST(NpyRows, HeaderWithoutData) {
  TempDir dir;
  std::string path = dir.File("a.npy");
  std::vector<float> v(5 * 2 * 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  EDGEFIT_ASSERT_OK(WriteNpy(path, Tensor::FromVector<float>(DataType::kFloat, {5, 2, 3}, v)));
  auto h = ReadNpyHeader(path);
  EDGEFIT_ASSERT_OK(h);
  EXPECT_EQ(h->dtype, DataType::kFloat);
  EXPECT_EQ(h->shape, (Shape{5, 2, 3}));
  EXPECT_EQ(h->data_offset, 128u);  // numpy's header padded to a multiple of 64
  EXPECT_EQ(h->data_bytes(), 120u);
  EXPECT_EQ(ReadNpyHeader(dir.File("none.npy")).status().code(), StatusCode::kNotFound);
  // A truncated file is refused at the header already.
  WriteFile(dir.File("short.npy"), ReadFile(path).substr(0, 200));
  auto bad = ReadNpyHeader(dir.File("short.npy"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("short.npy: truncated data"), std::string::npos)
      << bad.status().message();
}

TEST(NpyRows, ReadsOnlyTheRowsAsked) {
  TempDir dir;
  std::string path = dir.File("a.npy");
  std::vector<int16_t> v(4 * 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int16_t>(100 + i);
  EDGEFIT_ASSERT_OK(WriteNpy(path, Tensor::FromVector<int16_t>(DataType::kInt16, {4, 3}, v)));
  auto rows = ReadNpyRows(path, 1, 2);
  EDGEFIT_ASSERT_OK(rows);
  EXPECT_EQ(rows->shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<int16_t>(*rows), (std::vector<int16_t>{103, 104, 105, 106, 107, 108}));
  auto last = ReadNpyRows(path, 3, 1);
  EDGEFIT_ASSERT_OK(last);
  EXPECT_EQ(Values<int16_t>(*last), (std::vector<int16_t>{109, 110, 111}));
  auto none = ReadNpyRows(path, 4, 0);
  EDGEFIT_ASSERT_OK(none);
  EXPECT_EQ(none->shape(), (Shape{0, 3}));
  // Rows of a reference file from numpy, and of a bool array (normalized to 0/1).
  auto f4 = ReadNpyRows(DataPath("f4.npy"), 1, 1);
  EDGEFIT_ASSERT_OK(f4);
  EXPECT_EQ(Values<float>(*f4), (std::vector<float>{0.75f, -1.0f, 1.25f}));
  auto b1 = ReadNpyRows(DataPath("b1.npy"), 0, 1);
  EDGEFIT_ASSERT_OK(b1);
  EXPECT_EQ(Values<uint8_t>(*b1), (std::vector<uint8_t>{0, 1, 0}));
}

TEST(NpyRows, Errors) {
  TempDir dir;
  std::string path = dir.File("a.npy");
  EDGEFIT_ASSERT_OK(WriteNpy(path, Tensor(DataType::kFloat, {4, 3})));
  for (auto [first, count] : {std::pair<int64_t, int64_t>{3, 2}, {-1, 1}, {0, -1}, {5, 0}}) {
    auto r = ReadNpyRows(path, first, count);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind(path + ": rows [", 0), 0u) << r.status().message();
  }
  auto scalar = ReadNpyRows(DataPath("scalar_f4.npy"), 0, 1);
  ASSERT_FALSE(scalar.ok());
  EXPECT_NE(scalar.status().message().find("0-d array"), std::string::npos);
  NpyReadOptions small;
  small.max_bytes = 12;
  EDGEFIT_EXPECT_OK(ReadNpyRows(path, 0, 1, small));
  EXPECT_EQ(ReadNpyRows(path, 0, 2, small).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ReadNpyRows(dir.File("none.npy"), 0, 1).status().code(), StatusCode::kNotFound);
}

TEST(NpzRows, HeadersAndRowsOfStoredAndDeflatedMembers) {
  // Both files hold x = linspace(-1, 1, 24).reshape(2, 3, 4) (float32) and ids = [[1, 2, 3]].
  for (const char* name : {"stored.npz", "deflate.npz"}) {
    SCOPED_TRACE(name);
    std::string path = DataPath(name);
    auto headers = ReadNpzHeaders(path);
    EDGEFIT_ASSERT_OK(headers);
    ASSERT_EQ(headers->size(), 2u);
    EXPECT_EQ((*headers)[0].name, "x");
    EXPECT_EQ((*headers)[0].header.shape, (Shape{2, 3, 4}));
    EXPECT_EQ((*headers)[0].header.dtype, DataType::kFloat);
    EXPECT_EQ((*headers)[1].name, "ids");
    EXPECT_EQ((*headers)[1].header.dtype, DataType::kInt64);
    auto row = ReadNpzRows(path, "x", 1, 1);
    EDGEFIT_ASSERT_OK(row);
    EXPECT_EQ(row->shape(), (Shape{1, 3, 4}));
    const float* x = row->data<float>();
    for (int i = 0; i < 12; ++i) EXPECT_NEAR(x[i], -1.0f + 2.0f * (12 + i) / 23.0f, 1e-6f);
    auto ids = ReadNpzRows(path, "ids", 0, 1);
    EDGEFIT_ASSERT_OK(ids);
    EXPECT_EQ(Values<int64_t>(*ids), (std::vector<int64_t>{1, 2, 3}));
    auto missing = ReadNpzRows(path, "y", 0, 1);
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    EXPECT_NE(missing.status().message().find("no member named 'y.npy'"), std::string::npos);
    auto outside = ReadNpzRows(path, "x", 2, 1);
    ASSERT_FALSE(outside.ok());
    EXPECT_NE(outside.status().message().find("(member 'x.npy'): rows [2, 3)"), std::string::npos)
        << outside.status().message();
  }
  TempDir dir;
  WriteFile(dir.File("bad.npz"), "not a zip");
  auto bad = ReadNpzHeaders(dir.File("bad.npz"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.npz"), std::string::npos);
}

}  // namespace
}  // namespace edgefit
