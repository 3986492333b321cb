// Tensor: a dense, typed, n-dimensional array. Used for initializers in the IR and for the
// executor's inputs, outputs and intermediates. Storage is reference counted so that copying a
// Tensor is cheap (both copies see the same bytes); use Clone() for an independent copy.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "edgefit/status.h"

namespace edgefit {

// Element types, numbered exactly as onnx.TensorProto.DataType.
enum class DataType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUint8 = 2,
  kInt8 = 3,
  kUint16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUint32 = 12,
  kUint64 = 13,
  kComplex64 = 14,
  kComplex128 = 15,
  kBfloat16 = 16,
};

// True for the values ONNX 1.12 defines (1..16).
bool IsKnownDataType(int32_t value);
// "float32", "int64", ... (NumPy-style names, used in messages and JSON).
const char* DataTypeName(DataType type);
// Size in bytes of one element; 0 for kString and kUndefined.
size_t DataTypeSize(DataType type);

using Shape = std::vector<int64_t>;

// Number of elements of a shape, or -1 if a dim is negative or the product overflows 2^62.
int64_t NumElements(const Shape& shape);
std::string ShapeToString(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  // Allocates zero-filled storage for `shape`.
  Tensor(DataType dtype, Shape shape);

  // Checked allocation: fails on negative dims, overflow, or more than `max_bytes`.
  static StatusOr<Tensor> Create(DataType dtype, Shape shape, size_t max_bytes = SIZE_MAX);
  // A tensor that does not own its bytes; `data` must outlive every copy of it.
  static Tensor Wrap(DataType dtype, Shape shape, void* data);

  template <typename T>
  static Tensor FromVector(DataType dtype, Shape shape, const std::vector<T>& values) {
    Tensor t(dtype, std::move(shape));
    if (t.nbytes() > 0) std::memcpy(t.raw(), values.data(), t.nbytes());  // data() may be null
    return t;
  }
  static Tensor Scalar(float v) { return FromVector<float>(DataType::kFloat, {}, {v}); }

  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_[i]; }
  size_t rank() const { return shape_.size(); }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return nbytes_; }
  bool empty() const { return dtype_ == DataType::kUndefined; }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <typename T>
  T* data() {
    return static_cast<T*>(data_);
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(data_);
  }

  // Only for kString tensors.
  std::vector<std::string>& strings() { return *strings_; }
  const std::vector<std::string>& strings() const { return *strings_; }

  // Same bytes, new shape with the same element count (a view, like Reshape).
  Tensor Reshaped(Shape shape) const;
  Tensor Clone() const;
  bool SameStorage(const Tensor& other) const { return data_ == other.data_ && data_ != nullptr; }

  // Values of an integer tensor widened to int64 (for shapes, axes, indices). Fails on
  // non-integer dtypes.
  StatusOr<std::vector<int64_t>> ToInt64Vector() const;
  // Values converted to double (any numeric dtype).
  std::vector<double> ToDoubleVector() const;

 private:
  DataType dtype_ = DataType::kUndefined;
  Shape shape_;
  int64_t numel_ = 0;
  size_t nbytes_ = 0;
  std::shared_ptr<uint8_t> storage_;
  void* data_ = nullptr;
  std::shared_ptr<std::vector<std::string>> strings_;
};

// float <-> IEEE half and bfloat16, round to nearest even.
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);
uint16_t FloatToBfloat16(float f);
float Bfloat16ToFloat(uint16_t b);

}  // namespace edgefit
