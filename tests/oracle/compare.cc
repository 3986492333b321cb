#include "oracle/compare.h"

#include <cmath>
#include <cstring>
#include <sstream>

namespace edgefit::oracle {

namespace {

bool IsFloat(DataType t) {
  return t == DataType::kFloat || t == DataType::kDouble || t == DataType::kFloat16 ||
         t == DataType::kBfloat16;
}

// "[1,0,3]" for flat index i of `shape`.
std::string IndexOf(int64_t i, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] == 0) break;
    idx[d] = i % shape[d];
    i /= shape[d];
  }
  return ShapeToString(idx);
}

std::string Fmt(double v) {
  std::ostringstream os;
  os.precision(9);
  os << v;
  return os.str();
}

}  // namespace

Tolerance ToleranceFor(DataType type) {
  switch (type) {
    case DataType::kFloat:
    case DataType::kDouble: return {1e-4, 1e-5};
    case DataType::kFloat16: return {1.0 / 1024, 1e-5};
    case DataType::kBfloat16: return {1.0 / 128, 1e-5};
    default: return {0, 0};
  }
}

std::string Compare(const Tensor& got, const Tensor& want) {
  if (got.dtype() != want.dtype())
    return std::string("dtype ") + DataTypeName(got.dtype()) + ", ORT has " +
           DataTypeName(want.dtype());
  if (got.shape() != want.shape())
    return "shape " + ShapeToString(got.shape()) + ", ORT has " + ShapeToString(want.shape());
  if (got.dtype() == DataType::kString)
    return got.strings() == want.strings() ? "" : "string values differ";
  if (!IsFloat(got.dtype())) {
    if (got.nbytes() == 0 || std::memcmp(got.raw(), want.raw(), got.nbytes()) == 0) return "";
  }
  Tolerance tol = ToleranceFor(got.dtype());
  std::vector<double> a = got.ToDoubleVector(), e = want.ToDoubleVector();
  int64_t bad = 0, first = -1;
  double max_diff = 0;
  for (size_t i = 0; i < e.size(); ++i) {
    bool ok;
    if (std::isnan(e[i]) || std::isnan(a[i]))
      ok = std::isnan(e[i]) && std::isnan(a[i]);
    else if (std::isinf(e[i]) || std::isinf(a[i]))
      ok = a[i] == e[i];
    else {
      double diff = std::fabs(a[i] - e[i]);
      ok = IsFloat(got.dtype()) ? diff <= tol.atol + tol.rtol * std::fabs(e[i]) : diff == 0;
      if (!ok) max_diff = std::max(max_diff, diff);
    }
    if (!ok && bad++ == 0) first = static_cast<int64_t>(i);
  }
  if (bad == 0) {
    // Integers whose bytes differ but whose doubles agree (e.g. int64 beyond 2^53).
    if (!IsFloat(got.dtype()) && got.nbytes() && std::memcmp(got.raw(), want.raw(), got.nbytes()))
      return "integer values differ beyond double precision";
    return "";
  }
  std::ostringstream os;
  os << "element " << IndexOf(first, got.shape()) << " is " << Fmt(a[first]) << ", ORT has "
     << Fmt(e[first]) << "; " << bad << " of " << e.size() << " elements differ";
  if (max_diff > 0) os << ", max |diff| " << Fmt(max_diff);
  if (IsFloat(got.dtype())) os << " (atol " << tol.atol << ", rtol " << tol.rtol << ")";
  return os.str();
}

}  // namespace edgefit::oracle
