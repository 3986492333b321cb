// .npz reading and writing: zip archives built byte by byte here (stored members and deflate
// "stored blocks"), plus np.savez / np.savez_compressed files from Debian's numpy.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "io/npy.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::SourcePath;
using testing::TempDir;
using testing::WriteFile;

std::string DataPath(const std::string& name) { return SourcePath("tests/io/data/" + name); }

uint32_t Crc32(const std::string& s) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

void Put16(std::string* s, uint32_t v) {
  s->push_back(static_cast<char>(v & 0xff));
  s->push_back(static_cast<char>((v >> 8) & 0xff));
}
void Put32(std::string* s, uint32_t v) {
  Put16(s, v & 0xffff);
  Put16(s, v >> 16);
}

struct Member {
  std::string name;
  std::string data;            // uncompressed bytes
  bool deflate = false;        // wrap the data in deflate stored blocks (method 8)
  int64_t declared_size = -1;  // uncompressed size written in the headers (-1: the real one)
  int64_t declared_crc = -1;
};

// A zip archive with local headers, central directory and end record.
std::string Zip(const std::vector<Member>& members) {
  std::string out, central;
  for (const Member& m : members) {
    std::string payload = m.data;
    if (m.deflate) {
      // Deflate "stored" blocks: BFINAL/BTYPE=00 byte, LEN, NLEN, raw bytes (max 65535 each).
      payload.clear();
      size_t pos = 0;
      do {
        size_t n = std::min<size_t>(65535, m.data.size() - pos);
        payload.push_back(pos + n == m.data.size() ? 1 : 0);
        Put16(&payload, static_cast<uint32_t>(n));
        Put16(&payload, static_cast<uint32_t>(~n & 0xffff));
        payload += m.data.substr(pos, n);
        pos += n;
      } while (pos < m.data.size());
    }
    uint32_t crc = m.declared_crc >= 0 ? static_cast<uint32_t>(m.declared_crc) : Crc32(m.data);
    uint32_t usize = m.declared_size >= 0 ? static_cast<uint32_t>(m.declared_size)
                                          : static_cast<uint32_t>(m.data.size());
    uint32_t offset = static_cast<uint32_t>(out.size());
    uint16_t method = m.deflate ? 8 : 0;
    Put32(&out, 0x04034b50);
    Put16(&out, 20);
    Put16(&out, 0);  // flags
    Put16(&out, method);
    Put16(&out, 0);     // time
    Put16(&out, 0x21);  // date 1980-01-01
    Put32(&out, crc);
    Put32(&out, static_cast<uint32_t>(payload.size()));
    Put32(&out, usize);
    Put16(&out, static_cast<uint32_t>(m.name.size()));
    Put16(&out, 0);
    out += m.name + payload;

    Put32(&central, 0x02014b50);
    Put16(&central, 20);
    Put16(&central, 20);
    Put16(&central, 0);
    Put16(&central, method);
    Put16(&central, 0);
    Put16(&central, 0x21);
    Put32(&central, crc);
    Put32(&central, static_cast<uint32_t>(payload.size()));
    Put32(&central, usize);
    Put16(&central, static_cast<uint32_t>(m.name.size()));
    Put16(&central, 0);  // extra
    Put16(&central, 0);  // comment
    Put16(&central, 0);  // disk
    Put16(&central, 0);  // internal attributes
    Put32(&central, 0);  // external attributes
    Put32(&central, offset);
    central += m.name;
  }
  uint32_t cd_offset = static_cast<uint32_t>(out.size());
  out += central;
  Put32(&out, 0x06054b50);
  Put16(&out, 0);
  Put16(&out, 0);
  Put16(&out, static_cast<uint32_t>(members.size()));
  Put16(&out, static_cast<uint32_t>(members.size()));
  Put32(&out, static_cast<uint32_t>(central.size()));
  Put32(&out, cd_offset);
  Put16(&out, 0);
  return out;
}

std::string NpyBytes(const Tensor& t) {
  auto b = EncodeNpy(t);
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : std::string();
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  const T* p = t.data<T>();
  return std::vector<T>(p, p + t.numel());
}

StatusOr<std::vector<NpzEntry>> ReadBytes(const TempDir& dir, const std::string& bytes,
                                          const NpyReadOptions& options = {}) {
  std::string path = dir.File("in.npz");
  WriteFile(path, bytes);
  return ReadNpz(path, options);
}

void ExpectError(const StatusOr<std::vector<NpzEntry>>& r, const std::string& text) {
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << text << "'";
  EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("in.npz"), std::string::npos) << r.status().message();
  EXPECT_TRUE(testing::IsOneLine(r.status().message())) << r.status().message();
}

const Tensor kA = Tensor::FromVector<float>(DataType::kFloat, {2, 2}, {1, 2, 3, 4});
const Tensor kB = Tensor::FromVector<int64_t>(DataType::kInt64, {3}, {7, 8, 9});

TEST(NpzRead, StoredAndDeflateByHand) {
  TempDir dir;
  for (bool deflate : {false, true}) {
    SCOPED_TRACE(deflate ? "deflate" : "stored");
    auto r = ReadBytes(
        dir, Zip({{"a.npy", NpyBytes(kA), deflate}, {"in:0.npy", NpyBytes(kB), deflate}}));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].name, "a");
    EXPECT_EQ(Values<float>((*r)[0].tensor), (std::vector<float>{1, 2, 3, 4}));
    EXPECT_EQ((*r)[1].name, "in:0");
    EXPECT_EQ(Values<int64_t>((*r)[1].tensor), (std::vector<int64_t>{7, 8, 9}));
  }
  auto empty = ReadBytes(dir, Zip({}));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());
}

TEST(NpzRead, RejectsBadArchives) {
  TempDir dir;
  std::string a = NpyBytes(kA);
  ExpectError(ReadBytes(dir, Zip({{"a.txt", a}})), "not an .npy member");
  ExpectError(ReadBytes(dir, Zip({{"a.npy", a}, {"a.npy", a}})), "two members with the same name");
  ExpectError(ReadBytes(dir, Zip({{"a.npy", a, false, -1, 0x12345678}})), "a.npy");
  ExpectError(ReadBytes(dir, Zip({{"a.npy", a, true, -1, 0x12345678}})), "a.npy");
  // The declared size disagrees with the data (both ways), stored and deflated.
  for (bool deflate : {false, true}) {
    auto shorter = ReadBytes(dir, Zip({{"a.npy", a, deflate, static_cast<int64_t>(a.size()) - 4}}));
    EXPECT_FALSE(shorter.ok());
    auto longer = ReadBytes(dir, Zip({{"a.npy", a, deflate, static_cast<int64_t>(a.size()) + 4}}));
    EXPECT_FALSE(longer.ok());
  }
  // A member whose .npy is broken: the message names the archive and the member.
  std::string broken = a.substr(0, a.size() - 1);
  ExpectError(ReadBytes(dir, Zip({{"x.npy", broken}})), "(member 'x.npy'): truncated data");
  ExpectError(ReadBytes(dir, "definitely not a zip file, just some text"), "not an .npz file");
  ExpectError(ReadBytes(dir, ""), "in.npz");
  auto missing = ReadNpz(dir.File("missing.npz"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  // Limits apply per member.
  ExpectError(ReadBytes(dir, Zip({{"a.npy", a}}), {.max_bytes = 8}), "above the limit of 8 bytes");
}

TEST(NpzRead, TruncationsAndCorruptionsNeverCrash) {
  TempDir dir;
  std::string good = Zip({{"a.npy", NpyBytes(kA), false}, {"b.npy", NpyBytes(kB), true}});
  ASSERT_TRUE(ReadBytes(dir, good).ok());
  for (size_t n = 0; n < good.size(); n += 3) EXPECT_FALSE(ReadBytes(dir, good.substr(0, n)).ok());
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    auto r = ReadBytes(dir, bad);  // may or may not pass (e.g. a flip in a date); must not crash
    if (r.ok()) {
      EXPECT_EQ(r->size(), 2u);
    }
  }
}

TEST(NpzRead, NumpyFiles) {
  for (const char* name : {"stored.npz", "deflate.npz"}) {
    SCOPED_TRACE(name);
    auto r = ReadNpz(DataPath(name));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].name, "x");
    EXPECT_EQ((*r)[0].tensor.shape(), (Shape{2, 3, 4}));
    auto x = Values<float>((*r)[0].tensor);
    EXPECT_FLOAT_EQ(x.front(), -1.0f);
    EXPECT_FLOAT_EQ(x.back(), 1.0f);
    EXPECT_EQ((*r)[1].name, "ids");
    EXPECT_EQ(Values<int64_t>((*r)[1].tensor), (std::vector<int64_t>{1, 2, 3}));
  }
}

TEST(NpzWrite, RoundTripStoredDeterministicAtomic) {
  TempDir dir;
  std::string path = dir.File("out.npz");
  std::vector<NpzEntry> entries = {{"a", kA}, {"input:0", kB}};
  EDGEFIT_ASSERT_OK(WriteNpz(path, entries));
  std::string first = ReadFile(path);
  ASSERT_GT(first.size(), 30u);
  EXPECT_EQ(first.substr(0, 4), std::string("PK\x03\x04", 4));
  EXPECT_EQ(first[8], 0);  // method: stored, like np.savez
  EXPECT_EQ(first[9], 0);
  auto back = ReadNpz(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].name, "input:0");
  EXPECT_EQ(Values<int64_t>((*back)[1].tensor), (std::vector<int64_t>{7, 8, 9}));
  EDGEFIT_ASSERT_OK(WriteNpz(path, entries));
  EXPECT_EQ(ReadFile(path), first);

  // Errors leave the existing file untouched.
  EXPECT_EQ(WriteNpz(path, {{"a", kA}, {"a", kB}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteNpz(path, {{"", kA}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteNpz(path, {{"s", Tensor(DataType::kString, {1})}}).code(),
            StatusCode::kUnsupported);
  EXPECT_EQ(ReadFile(path), first);
  EXPECT_EQ(WriteNpz(dir.File("nope/out.npz"), entries).code(), StatusCode::kIoError);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);

  // No arrays: an empty archive, as np.savez() writes.
  EDGEFIT_ASSERT_OK(WriteNpz(dir.File("empty.npz"), {}));
  auto none = ReadNpz(dir.File("empty.npz"));
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace edgefit
