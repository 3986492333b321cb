#include "ir/tensor.h"

#include <cmath>
#include <new>
#include <sstream>

namespace edgefit {

bool IsKnownDataType(int32_t value) { return value >= 1 && value <= 16; }

const char* DataTypeName(DataType type) {
  switch (type) {
    case DataType::kUndefined: return "undefined";
    case DataType::kFloat: return "float32";
    case DataType::kUint8: return "uint8";
    case DataType::kInt8: return "int8";
    case DataType::kUint16: return "uint16";
    case DataType::kInt16: return "int16";
    case DataType::kInt32: return "int32";
    case DataType::kInt64: return "int64";
    case DataType::kString: return "string";
    case DataType::kBool: return "bool";
    case DataType::kFloat16: return "float16";
    case DataType::kDouble: return "float64";
    case DataType::kUint32: return "uint32";
    case DataType::kUint64: return "uint64";
    case DataType::kComplex64: return "complex64";
    case DataType::kComplex128: return "complex128";
    case DataType::kBfloat16: return "bfloat16";
  }
  return "unknown";
}

size_t DataTypeSize(DataType type) {
  switch (type) {
    case DataType::kFloat: return 4;
    case DataType::kUint8: return 1;
    case DataType::kInt8: return 1;
    case DataType::kUint16: return 2;
    case DataType::kInt16: return 2;
    case DataType::kInt32: return 4;
    case DataType::kInt64: return 8;
    case DataType::kBool: return 1;
    case DataType::kFloat16: return 2;
    case DataType::kDouble: return 8;
    case DataType::kUint32: return 4;
    case DataType::kUint64: return 8;
    case DataType::kComplex64: return 8;
    case DataType::kComplex128: return 16;
    case DataType::kBfloat16: return 2;
    case DataType::kString:
    case DataType::kUndefined: return 0;
  }
  return 0;
}

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > (int64_t{1} << 62) / d) return -1;
    n *= d;
  }
  return n;
}

std::string ShapeToString(const Shape& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? "," : "") << shape[i];
  os << "]";
  return os.str();
}

namespace {
constexpr size_t kAlignment = 64;

std::shared_ptr<uint8_t> AllocateZeroed(size_t nbytes) {
  size_t rounded = ((nbytes + kAlignment - 1) / kAlignment) * kAlignment;
  if (rounded == 0) rounded = kAlignment;
  auto* p = static_cast<uint8_t*>(::operator new(rounded, std::align_val_t(kAlignment)));
  std::memset(p, 0, rounded);
  return std::shared_ptr<uint8_t>(
      p, [](uint8_t* q) { ::operator delete(q, std::align_val_t(kAlignment)); });
}
}  // namespace

Tensor::Tensor(DataType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  numel_ = NumElements(shape_);
  if (numel_ < 0) numel_ = 0;
  if (dtype_ == DataType::kString) {
    strings_ = std::make_shared<std::vector<std::string>>(numel_);
    return;
  }
  nbytes_ = static_cast<size_t>(numel_) * DataTypeSize(dtype_);
  storage_ = AllocateZeroed(nbytes_);
  data_ = storage_.get();
}

StatusOr<Tensor> Tensor::Create(DataType dtype, Shape shape, size_t max_bytes) {
  int64_t n = NumElements(shape);
  if (n < 0) return InvalidArgument("tensor shape " + ShapeToString(shape) + " is invalid");
  size_t elem = dtype == DataType::kString ? sizeof(std::string) : DataTypeSize(dtype);
  if (elem != 0 && static_cast<uint64_t>(n) > max_bytes / elem) {
    return ResourceExhausted("tensor of shape " + ShapeToString(shape) + " (" +
                             DataTypeName(dtype) + ") needs more than the allowed " +
                             std::to_string(max_bytes) + " bytes");
  }
  try {
    return Tensor(dtype, std::move(shape));
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory allocating tensor of shape " + ShapeToString(shape));
  }
}

Tensor Tensor::Wrap(DataType dtype, Shape shape, void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.numel_ = std::max<int64_t>(0, NumElements(t.shape_));
  t.nbytes_ = static_cast<size_t>(t.numel_) * DataTypeSize(dtype);
  t.data_ = data;
  return t;
}

Tensor Tensor::Reshaped(Shape shape) const {
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::Clone() const {
  Tensor t(dtype_, shape_);
  if (dtype_ == DataType::kString) {
    *t.strings_ = *strings_;
  } else if (nbytes_ > 0) {
    std::memcpy(t.data_, data_, nbytes_);
  }
  return t;
}

StatusOr<std::vector<int64_t>> Tensor::ToInt64Vector() const {
  std::vector<int64_t> out(static_cast<size_t>(numel_));
  switch (dtype_) {
    case DataType::kInt64:
      if (numel_) std::memcpy(out.data(), data_, nbytes_);
      break;
    case DataType::kInt32:
      for (int64_t i = 0; i < numel_; ++i) out[i] = data<int32_t>()[i];
      break;
    case DataType::kInt16:
      for (int64_t i = 0; i < numel_; ++i) out[i] = data<int16_t>()[i];
      break;
    case DataType::kInt8:
      for (int64_t i = 0; i < numel_; ++i) out[i] = data<int8_t>()[i];
      break;
    case DataType::kUint8:
    case DataType::kBool:
      for (int64_t i = 0; i < numel_; ++i) out[i] = data<uint8_t>()[i];
      break;
    case DataType::kUint16:
      for (int64_t i = 0; i < numel_; ++i) out[i] = data<uint16_t>()[i];
      break;
    case DataType::kUint32:
      for (int64_t i = 0; i < numel_; ++i) out[i] = data<uint32_t>()[i];
      break;
    case DataType::kUint64:
      for (int64_t i = 0; i < numel_; ++i) out[i] = static_cast<int64_t>(data<uint64_t>()[i]);
      break;
    default:
      return InvalidArgument(std::string("expected an integer tensor, got ") +
                             DataTypeName(dtype_));
  }
  return out;
}

std::vector<double> Tensor::ToDoubleVector() const {
  std::vector<double> out(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) {
    switch (dtype_) {
      case DataType::kFloat: out[i] = data<float>()[i]; break;
      case DataType::kDouble: out[i] = data<double>()[i]; break;
      case DataType::kFloat16: out[i] = HalfToFloat(data<uint16_t>()[i]); break;
      case DataType::kBfloat16: out[i] = Bfloat16ToFloat(data<uint16_t>()[i]); break;
      case DataType::kInt64: out[i] = static_cast<double>(data<int64_t>()[i]); break;
      case DataType::kInt32: out[i] = data<int32_t>()[i]; break;
      case DataType::kInt16: out[i] = data<int16_t>()[i]; break;
      case DataType::kInt8: out[i] = data<int8_t>()[i]; break;
      case DataType::kUint8:
      case DataType::kBool: out[i] = data<uint8_t>()[i]; break;
      case DataType::kUint16: out[i] = data<uint16_t>()[i]; break;
      case DataType::kUint32: out[i] = data<uint32_t>()[i]; break;
      case DataType::kUint64: out[i] = static_cast<double>(data<uint64_t>()[i]); break;
      default: out[i] = 0; break;
    }
  }
  return out;
}

uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mant = x & 0x7fffffu;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xffu);
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0u));
  int32_t e = exp - 127 + 15;
  if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);
  if (e <= 0) {
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) ++half;
  return static_cast<uint16_t>(half);
}

float HalfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      x = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

uint16_t FloatToBfloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if (std::isnan(f)) return static_cast<uint16_t>((x >> 16) | 0x40u);
  uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

float Bfloat16ToFloat(uint16_t b) {
  uint32_t x = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

}  // namespace edgefit
