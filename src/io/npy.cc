#include "io/npy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>

namespace edgefit {

namespace fs = std::filesystem;

namespace {

constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
// numpy refuses headers above 10000 bytes by default; we allow more (rank-heavy shapes) but
// bound what an untrusted length field can make us read.
constexpr uint32_t kMaxHeaderBytes = 1u << 20;
constexpr int kMaxNesting = 8;
// Largest dim we parse: NumElements works up to 2^62.
constexpr uint64_t kMaxDim = uint64_t{1} << 62;

struct DtypeInfo {
  const char* code;  // kind + itemsize, as in a descr without the byte-order character
  DataType type;
};
constexpr DtypeInfo kDtypes[] = {
    {"f2", DataType::kFloat16}, {"f4", DataType::kFloat},  {"f8", DataType::kDouble},
    {"i1", DataType::kInt8},    {"u1", DataType::kUint8},  {"i2", DataType::kInt16},
    {"u2", DataType::kUint16},  {"i4", DataType::kInt32},  {"u4", DataType::kUint32},
    {"i8", DataType::kInt64},   {"u8", DataType::kUint64}, {"b1", DataType::kBool},
};

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "'";
}

// ---------------------------------------------------------------- header literal

// The subset of Python literals a .npy header uses.
struct PyValue {
  enum class Kind { kStr, kInt, kBool, kNone, kTuple, kList };
  Kind kind = Kind::kNone;
  std::string str;
  uint64_t num = 0;
  bool negative = false;
  bool overflow = false;
  bool flag = false;
  std::vector<PyValue> items;
};

class HeaderParser {
 public:
  explicit HeaderParser(const std::string& text) : t_(text) {}

  Status ParseDict(std::vector<std::pair<std::string, PyValue>>* out) {
    SkipSpace();
    if (!Eat('{')) return Fail("expected '{'");
    for (;;) {
      SkipSpace();
      if (Eat('}')) break;
      PyValue key;
      RETURN_IF_ERROR(ParseValue(&key, 0));
      if (key.kind != PyValue::Kind::kStr) return Fail("dictionary key is not a string");
      SkipSpace();
      if (!Eat(':')) return Fail("expected ':'");
      PyValue value;
      RETURN_IF_ERROR(ParseValue(&value, 0));
      out->emplace_back(key.str, std::move(value));
      SkipSpace();
      if (Eat(',')) continue;
      if (Eat('}')) break;
      return Fail("expected ',' or '}'");
    }
    SkipSpace();
    if (i_ != t_.size()) return Fail("unexpected characters after the dictionary");
    return Status::Ok();
  }

 private:
  Status Fail(const std::string& what) {
    return InvalidArgument("malformed header (" + what + " at offset " + std::to_string(i_) + ")");
  }
  void SkipSpace() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r'))
      ++i_;
  }
  bool Eat(char c) {
    if (i_ < t_.size() && t_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool EatWord(const char* w) {
    size_t n = std::strlen(w);
    if (t_.compare(i_, n, w) != 0) return false;
    // A word must not run into an identifier character ("Truex").
    if (i_ + n < t_.size() &&
        (std::isalnum(static_cast<unsigned char>(t_[i_ + n])) || t_[i_ + n] == '_'))
      return false;
    i_ += n;
    return true;
  }

  Status ParseValue(PyValue* v, int depth) {
    if (depth > kMaxNesting) return Fail("nesting too deep");
    SkipSpace();
    if (i_ >= t_.size()) return Fail("unexpected end");
    char c = t_[i_];
    if (c == '\'' || c == '"') {
      size_t end = t_.find(c, i_ + 1);
      if (end == std::string::npos) return Fail("unterminated string");
      v->kind = PyValue::Kind::kStr;
      v->str = t_.substr(i_ + 1, end - i_ - 1);
      if (v->str.find('\\') != std::string::npos) return Fail("escape sequence in string");
      i_ = end + 1;
      return Status::Ok();
    }
    if (c == '(' || c == '[') {
      char close = c == '(' ? ')' : ']';
      v->kind = c == '(' ? PyValue::Kind::kTuple : PyValue::Kind::kList;
      ++i_;
      for (;;) {
        SkipSpace();
        if (Eat(close)) return Status::Ok();
        PyValue item;
        RETURN_IF_ERROR(ParseValue(&item, depth + 1));
        v->items.push_back(std::move(item));
        SkipSpace();
        if (Eat(',')) continue;
        if (Eat(close)) return Status::Ok();
        return Fail(std::string("expected ',' or '") + close + "'");
      }
    }
    if (EatWord("True")) {
      v->kind = PyValue::Kind::kBool;
      v->flag = true;
      return Status::Ok();
    }
    if (EatWord("False")) {
      v->kind = PyValue::Kind::kBool;
      v->flag = false;
      return Status::Ok();
    }
    if (EatWord("None")) {
      v->kind = PyValue::Kind::kNone;
      return Status::Ok();
    }
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      v->kind = PyValue::Kind::kInt;
      if (c == '-') {
        v->negative = true;
        ++i_;
      }
      size_t start = i_;
      while (i_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[i_]))) {
        unsigned d = static_cast<unsigned>(t_[i_] - '0');
        if (v->num > (kMaxDim - d) / 10)
          v->overflow = true;
        else
          v->num = v->num * 10 + d;
        ++i_;
      }
      if (i_ == start) return Fail("expected a digit");
      Eat('L');  // Python 2 long literal
      return Status::Ok();
    }
    return Fail("unexpected character " + Quote(std::string(1, c)));
  }

  const std::string& t_;
  size_t i_ = 0;
};

struct Header {
  DataType dtype = DataType::kUndefined;
  Shape shape;
};

Status ParseDescr(const PyValue& v, DataType* type) {
  if (v.kind == PyValue::Kind::kList || v.kind == PyValue::Kind::kTuple)
    return Unsupported("structured arrays (record dtypes) are not supported");
  if (v.kind != PyValue::Kind::kStr) return InvalidArgument("'descr' is not a string");
  const std::string& d = v.str;
  std::string body = d;
  char order = 0;
  if (!body.empty() && (body[0] == '<' || body[0] == '>' || body[0] == '|' || body[0] == '=')) {
    order = body[0];
    body = body.substr(1);
  }
  const std::string supported = " (supported: f2 f4 f8 i1 u1 i2 u2 i4 u4 i8 u8 b1, little-endian)";
  if (!body.empty() && body[0] == 'O')
    return Unsupported("object arrays (dtype " + Quote(d) +
                       ", pickled Python objects) are not supported" + supported);
  for (const DtypeInfo& info : kDtypes) {
    if (body != info.code) continue;
    if (order == '>' && body[1] != '1')
      return Unsupported("big-endian dtype " + Quote(d) +
                         " is not supported; save it little-endian, e.g. "
                         "a.astype(a.dtype.newbyteorder('<'))");
    *type = info.type;
    return Status::Ok();
  }
  return Unsupported("dtype " + Quote(d) + " is not supported" + supported);
}

Status ParseHeaderText(const std::string& text, const NpyReadOptions& options, Header* h) {
  std::vector<std::pair<std::string, PyValue>> dict;
  RETURN_IF_ERROR(HeaderParser(text).ParseDict(&dict));
  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape = nullptr;
  for (const auto& [key, value] : dict) {
    const PyValue** slot = key == "descr"           ? &descr
                           : key == "fortran_order" ? &fortran
                           : key == "shape"         ? &shape
                                                    : nullptr;
    if (!slot) return InvalidArgument("header has an unexpected key " + Quote(key));
    if (*slot) return InvalidArgument("header has the key " + Quote(key) + " twice");
    *slot = &value;
  }
  if (!descr) return InvalidArgument("header lacks 'descr'");
  if (!fortran) return InvalidArgument("header lacks 'fortran_order'");
  if (!shape) return InvalidArgument("header lacks 'shape'");
  RETURN_IF_ERROR(ParseDescr(*descr, &h->dtype));
  if (fortran->kind != PyValue::Kind::kBool)
    return InvalidArgument("'fortran_order' is not True or False");
  if (fortran->flag)
    return Unsupported(
        "fortran_order=True (column-major) arrays are not supported; save a C-order array, "
        "e.g. np.ascontiguousarray(a)");
  if (shape->kind != PyValue::Kind::kTuple && shape->kind != PyValue::Kind::kList)
    return InvalidArgument("'shape' is not a tuple");
  for (const PyValue& d : shape->items) {
    if (d.kind != PyValue::Kind::kInt) return InvalidArgument("'shape' holds a non-integer");
    if (d.negative && d.num != 0) return InvalidArgument("'shape' has a negative dimension");
    if (d.overflow) return InvalidArgument("'shape' has a dimension above 2^62");
    h->shape.push_back(static_cast<int64_t>(d.num));
  }
  int64_t n = NumElements(h->shape);
  if (n < 0) return InvalidArgument("shape " + ShapeToString(h->shape) + " overflows");
  if (n > options.max_elements)
    return InvalidArgument("shape " + ShapeToString(h->shape) + " has " + std::to_string(n) +
                           " elements, above the limit of " + std::to_string(options.max_elements));
  return Status::Ok();
}

Status ReadExact(npy_internal::Stream& in, void* dst, size_t n, const char* what) {
  auto* p = static_cast<uint8_t*>(dst);
  size_t done = 0;
  while (done < n) {
    ASSIGN_OR_RETURN(size_t got, in.Read(p + done, n - done));
    if (got == 0)
      return InvalidArgument(std::string("truncated ") + what + " (" + std::to_string(done) +
                             " of " + std::to_string(n) + " bytes)");
    done += got;
  }
  return Status::Ok();
}

class MemoryStream final : public npy_internal::Stream {
 public:
  MemoryStream(const void* data, size_t size)
      : p_(static_cast<const uint8_t*>(data)), left_(size) {}
  StatusOr<size_t> Read(void* dst, size_t n) override {
    size_t k = std::min(n, left_);
    if (k) std::memcpy(dst, p_, k);
    p_ += k;
    left_ -= k;
    return k;
  }

 private:
  const uint8_t* p_;
  size_t left_;
};

class FileStream final : public npy_internal::Stream {
 public:
  explicit FileStream(int fd) : fd_(fd) {}
  StatusOr<size_t> Read(void* dst, size_t n) override {
    for (;;) {
      ssize_t got = ::read(fd_, dst, std::min<size_t>(n, size_t{1} << 30));
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EINTR) continue;
      return IoError(std::string("read failed: ") + std::strerror(errno));
    }
  }

 private:
  int fd_;
};

std::string ShapeRepr(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

std::atomic<uint64_t> g_temp_counter{0};

}  // namespace

// ------------------------------------------------------------------------------- reading

namespace npy_internal {

StatusOr<NpyHeader> ReadNpyStreamHeader(Stream& in, uint64_t size, const std::string& origin,
                                        const NpyReadOptions& options) {
  auto fail = [&](const Status& st) { return st.WithContext(origin); };
  uint8_t prefix[12];
  if (size < 10) {
    if (size >= 6) {
      Status st = ReadExact(in, prefix, 6, "header");
      if (!st.ok()) return fail(st);
      if (std::memcmp(prefix, kMagic, 6) == 0)
        return fail(InvalidArgument("truncated .npy header (" + std::to_string(size) + " bytes)"));
    }
    return fail(
        InvalidArgument("not an .npy file (too short: " + std::to_string(size) + " bytes)"));
  }
  Status st = ReadExact(in, prefix, 10, "header");
  if (!st.ok()) return fail(st);
  if (std::memcmp(prefix, kMagic, 6) != 0)
    return fail(InvalidArgument("not an .npy file (no \\x93NUMPY magic)"));
  int major = prefix[6], minor = prefix[7];
  uint64_t header_len;
  uint64_t header_start;
  if (major == 1 && minor == 0) {
    header_len = prefix[8] | (uint32_t{prefix[9]} << 8);
    header_start = 10;
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (size < 12) return fail(InvalidArgument("truncated .npy header"));
    st = ReadExact(in, prefix + 10, 2, "header");
    if (!st.ok()) return fail(st);
    header_len = prefix[8] | (uint32_t{prefix[9]} << 8) | (uint32_t{prefix[10]} << 16) |
                 (uint32_t{prefix[11]} << 24);
    header_start = 12;
  } else {
    return fail(Unsupported("unsupported .npy format version " + std::to_string(major) + "." +
                            std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)"));
  }
  if (header_len > kMaxHeaderBytes)
    return fail(InvalidArgument("header length " + std::to_string(header_len) +
                                " is above the limit of " + std::to_string(kMaxHeaderBytes)));
  if (header_start + header_len > size)
    return fail(InvalidArgument("truncated .npy header: it declares " + std::to_string(header_len) +
                                " bytes, the file has " + std::to_string(size - header_start) +
                                " after the prefix"));
  std::string text(header_len, '\0');
  st = ReadExact(in, text.data(), text.size(), "header");
  if (!st.ok()) return fail(st);
  if (text.find('\0') != std::string::npos)
    return fail(InvalidArgument("malformed header (NUL byte)"));
  Header h;
  st = ParseHeaderText(text, options, &h);
  if (!st.ok()) return fail(st);

  size_t elem = DataTypeSize(h.dtype);
  uint64_t count = static_cast<uint64_t>(NumElements(h.shape));
  // count <= 2^62 but count * 8 may still overflow 64 bits.
  if (count > (UINT64_MAX / elem))
    return fail(InvalidArgument("shape " + ShapeToString(h.shape) + " overflows"));
  uint64_t nbytes = count * elem;
  uint64_t have = size - header_start - header_len;
  if (have < nbytes)
    return fail(InvalidArgument("truncated data: shape " + ShapeToString(h.shape) + " of " +
                                DataTypeName(h.dtype) + " needs " + std::to_string(nbytes) +
                                " bytes, the file has " + std::to_string(have)));
  if (have > nbytes)
    return fail(InvalidArgument(std::to_string(have - nbytes) +
                                " unexpected bytes after the data of shape " +
                                ShapeToString(h.shape) + " of " + DataTypeName(h.dtype)));
  NpyHeader result;
  result.dtype = h.dtype;
  result.shape = std::move(h.shape);
  result.data_offset = header_start + header_len;
  return result;
}

StatusOr<Tensor> ReadNpyStream(Stream& in, uint64_t size, const std::string& origin,
                               const NpyReadOptions& options) {
  auto fail = [&](const Status& st) { return st.WithContext(origin); };
  ASSIGN_OR_RETURN(NpyHeader h, ReadNpyStreamHeader(in, size, origin, options));
  uint64_t nbytes = h.data_bytes();
  Status st;
  if (nbytes > options.max_bytes)
    return fail(ResourceExhausted("array of shape " + ShapeToString(h.shape) + " (" +
                                  DataTypeName(h.dtype) + ", " + std::to_string(nbytes) +
                                  " bytes) is above the limit of " +
                                  std::to_string(options.max_bytes) + " bytes"));
  auto tensor = Tensor::Create(h.dtype, h.shape, options.max_bytes);
  if (!tensor.ok()) return fail(tensor.status());
  if (nbytes) {
    st = ReadExact(in, tensor->raw(), nbytes, "data");
    if (!st.ok()) return fail(st);
  }
  // Anything still readable means the stream was longer than declared.
  uint8_t extra;
  auto more = in.Read(&extra, 1);
  if (!more.ok()) return fail(more.status());
  if (*more != 0) return fail(InvalidArgument("unexpected bytes after the array data"));
  if (h.dtype == DataType::kBool) {
    auto* b = tensor->data<uint8_t>();
    for (uint64_t i = 0; i < nbytes; ++i) b[i] = b[i] != 0;
  }
  return tensor;
}

}  // namespace npy_internal

StatusOr<Tensor> ParseNpy(const void* data, size_t size, const std::string& origin,
                          const NpyReadOptions& options) {
  MemoryStream in(data, size);
  return npy_internal::ReadNpyStream(in, size, origin, options);
}

StatusOr<Tensor> ReadNpy(const std::string& path, const NpyReadOptions& options) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) return NotFound(path + ": no such file");
    return IoError(path + ": cannot open: " + std::strerror(e));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return IoError(path + ": not a regular file");
  }
  FileStream in(fd);
  auto result = npy_internal::ReadNpyStream(in, static_cast<uint64_t>(st.st_size), path, options);
  ::close(fd);
  return result;
}

// ---------------------------------------------------------------- headers and row slices
//
// The .npz half of this section would sit more naturally in npz.cc; it is here because the
// data-set work that needed it owned only npy.{h,cc}. Moving it is a pure cut and paste.

namespace {

// Opens a regular file for reading; *size receives its size.
Status OpenForReading(const std::string& path, int* fd, uint64_t* size) {
  *fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (*fd < 0) {
    int e = errno;
    if (e == ENOENT) return NotFound(path + ": no such file");
    return IoError(path + ": cannot open: " + std::strerror(e));
  }
  struct stat st;
  if (::fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(*fd);
    *fd = -1;
    return IoError(path + ": not a regular file");
  }
  *size = static_cast<uint64_t>(st.st_size);
  return Status::Ok();
}

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// Checks rows [first, first + count) of an array with header `h` and allocates them; *skip
// receives the byte offset of the first row from the start of the data.
StatusOr<Tensor> AllocateRows(const NpyHeader& h, int64_t first, int64_t count,
                              const NpyReadOptions& options, uint64_t* skip) {
  if (h.shape.empty())
    return InvalidArgument("cannot read rows of a 0-d array (shape " + ShapeToString(h.shape) +
                           ")");
  if (first < 0 || count < 0 || first > h.shape[0] || count > h.shape[0] - first)
    return InvalidArgument("rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                           ") are outside shape " + ShapeToString(h.shape));
  Shape rows = h.shape;
  rows[0] = count;
  Shape row = h.shape;
  row[0] = 1;
  // The whole array's byte size fits in 64 bits (checked with the header), so rows do too.
  uint64_t row_bytes = static_cast<uint64_t>(NumElements(row)) * DataTypeSize(h.dtype);
  uint64_t nbytes = row_bytes * static_cast<uint64_t>(count);
  if (nbytes > options.max_bytes)
    return ResourceExhausted("rows of shape " + ShapeToString(rows) + " (" + DataTypeName(h.dtype) +
                             ", " + std::to_string(nbytes) + " bytes) are above the limit of " +
                             std::to_string(options.max_bytes) + " bytes");
  *skip = row_bytes * static_cast<uint64_t>(first);
  return Tensor::Create(h.dtype, rows, options.max_bytes);
}

void NormalizeBools(Tensor* t) {
  if (t->dtype() != DataType::kBool) return;
  auto* b = t->data<uint8_t>();
  for (size_t i = 0; i < t->nbytes(); ++i) b[i] = b[i] != 0;
}

}  // namespace

namespace npy_internal {

Status ReadBytes(Stream& in, void* dst, size_t n, const char* what) {
  return ReadExact(in, dst, n, what);
}

StatusOr<Tensor> AllocateRowRange(const NpyHeader& header, int64_t first, int64_t count,
                                  const NpyReadOptions& options, uint64_t* skip_bytes) {
  return AllocateRows(header, first, count, options, skip_bytes);
}

void NormalizeBoolValues(Tensor* tensor) { NormalizeBools(tensor); }

}  // namespace npy_internal

StatusOr<NpyHeader> ReadNpyHeader(const std::string& path, const NpyReadOptions& options) {
  int fd;
  uint64_t size;
  RETURN_IF_ERROR(OpenForReading(path, &fd, &size));
  FdCloser closer{fd};
  FileStream in(fd);
  return npy_internal::ReadNpyStreamHeader(in, size, path, options);
}

StatusOr<Tensor> ReadNpyRows(const std::string& path, int64_t first, int64_t count,
                             const NpyReadOptions& options) {
  int fd;
  uint64_t size;
  RETURN_IF_ERROR(OpenForReading(path, &fd, &size));
  FdCloser closer{fd};
  FileStream in(fd);
  ASSIGN_OR_RETURN(NpyHeader h, npy_internal::ReadNpyStreamHeader(in, size, path, options));
  uint64_t skip = 0;
  auto rows = AllocateRows(h, first, count, options, &skip);
  if (!rows.ok()) return rows.status().WithContext(path);
  auto* dst = static_cast<uint8_t*>(rows->raw());
  uint64_t offset = h.data_offset + skip;
  size_t done = 0;
  while (done < rows->nbytes()) {
    size_t want = std::min<size_t>(rows->nbytes() - done, size_t{1} << 30);
    ssize_t got = ::pread(fd, dst + done, want, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return IoError(path + ": read failed: " + std::strerror(errno));
    if (got == 0)
      return InvalidArgument(path + ": truncated data (the file shrank while being read)");
    done += static_cast<size_t>(got);
  }
  NormalizeBools(&*rows);
  return rows;
}

// ------------------------------------------------------------------------------- writing

const char* NpyDescr(DataType type) {
  switch (type) {
    case DataType::kFloat16: return "<f2";
    case DataType::kFloat: return "<f4";
    case DataType::kDouble: return "<f8";
    case DataType::kInt8: return "|i1";
    case DataType::kUint8: return "|u1";
    case DataType::kInt16: return "<i2";
    case DataType::kUint16: return "<u2";
    case DataType::kInt32: return "<i4";
    case DataType::kUint32: return "<u4";
    case DataType::kInt64: return "<i8";
    case DataType::kUint64: return "<u8";
    case DataType::kBool: return "|b1";
    default: return nullptr;
  }
}

StatusOr<std::string> EncodeNpy(const Tensor& tensor) {
  const char* descr = NpyDescr(tensor.dtype());
  if (!descr)
    return Unsupported(std::string("dtype ") + DataTypeName(tensor.dtype()) +
                       " cannot be written to .npy");
  const Shape& shape = tensor.shape();
  if (NumElements(shape) < 0) return InvalidArgument("invalid shape " + ShapeToString(shape));
  // Exactly numpy 1.24's format._write_array_header: sorted keys, repr() values, room for the
  // first dim to grow to 21 digits, then padding so the data starts at a multiple of 64.
  std::string dict = std::string("{'descr': '") + descr +
                     "', 'fortran_order': False, 'shape': " + ShapeRepr(shape) + ", }";
  if (!shape.empty()) {
    size_t digits = std::to_string(shape[0]).size();
    if (digits < 21) dict.append(21 - digits, ' ');
  }
  std::string out;
  size_t prefix = 10;
  int major = 1;
  size_t hlen = dict.size() + 1;
  size_t pad = 64 - (prefix + hlen) % 64;
  if (hlen + pad > 0xffff) {
    major = 2;
    prefix = 12;
    pad = 64 - (prefix + hlen) % 64;
  }
  size_t total_header = hlen + pad;
  out.reserve(prefix + total_header + tensor.nbytes());
  out.append(reinterpret_cast<const char*>(kMagic), 6);
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  for (size_t i = 0; i < prefix - 8; ++i)
    out.push_back(static_cast<char>((total_header >> (8 * i)) & 0xff));
  out += dict;
  out.append(pad, ' ');
  out.push_back('\n');
  size_t data_start = out.size();
  if (tensor.nbytes()) out.append(static_cast<const char*>(tensor.raw()), tensor.nbytes());
  if (tensor.dtype() == DataType::kBool)
    for (size_t i = data_start; i < out.size(); ++i) out[i] = out[i] != 0;
  return out;
}

Status WriteFileAtomic(const std::string& path, const std::string& bytes) {
  fs::path target(path);
  if (target.filename().empty()) return InvalidArgument(path + ": not a file name");
  fs::path dir = target.parent_path();
  std::random_device rd;
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = (dir / ("." + target.filename().string() + ".tmp" + std::to_string(::getpid()) + "_" +
                  std::to_string(g_temp_counter++) + "_" + std::to_string(rd() & 0xffff)))
              .string();
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST)
      return IoError(path + ": cannot create a temporary file in " +
                     (dir.empty() ? std::string(".") : dir.string()) + ": " + std::strerror(errno));
  }
  if (fd < 0) return IoError(path + ": cannot create a temporary file");
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, std::min<size_t>(left, size_t{1} << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return IoError(path + ": write failed: " + std::strerror(e));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return IoError(path + ": write failed: " + std::strerror(e));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return IoError(path + ": cannot replace the file: " + std::strerror(e));
  }
  return Status::Ok();
}

Status WriteNpy(const std::string& path, const Tensor& tensor) {
  auto bytes = EncodeNpy(tensor);
  if (!bytes.ok()) return bytes.status().WithContext(path);
  return WriteFileAtomic(path, *bytes);
}

}  // namespace edgefit
