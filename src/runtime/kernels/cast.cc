// Kernel family: Cast and CastLike.
//
// Every numeric type and bool converts to every other. Float -> integer truncates toward zero
// (out-of-range values: see FloatToInt); float -> float16 rounds to nearest even; float ->
// bfloat16 truncates, as ONNX's reference implementation and test data do. Casts from and to
// string follow the spec: numbers print in their shortest round-trip form ("0.6048455"), and
// strings parse as decimal or scientific numbers with "NaN", "INF", "+INF", "-INF" recognized
// case-insensitively. Cast-1 names the target type with a string ("FLOAT"); later versions with
// the TensorProto enum. The float8 and 4-bit types of opset 19+ are not supported (the `saturate`
// attribute only concerns them).
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/families.h"

namespace edgefit {
namespace {

using namespace elementwise;

using CastTypes = NumericAndBoolTypes;

template <class To, class From>
inline To CastElem(From x) {
  const auto v = Elem<From>::Load(x);
  using V = std::remove_const_t<decltype(v)>;
  if constexpr (std::is_same_v<To, Bool8>) {
    return Bool8{static_cast<uint8_t>(v != V(0) ? 1 : 0)};
  } else if constexpr (std::is_same_v<To, BFloat16>) {
    const float f = static_cast<float>(v);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    uint16_t b = static_cast<uint16_t>(bits >> 16);
    if (std::isnan(f)) b |= 0x40;  // keep NaN a NaN when its payload was in the low bits
    return BFloat16{b};
  } else if constexpr (std::is_same_v<To, Half>) {
    return Half{FloatToHalf(static_cast<float>(v))};
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<V>) {
    return FloatToInt<To>(static_cast<double>(v));
  } else {
    return static_cast<To>(v);
  }
}

// out[k] = CastElem<To>(in[k]) for k in [0, n). Float -> integer first checks (in a loop that
// vectorizes) that every value is in the target's range, so that a plain conversion gives the
// same result as the careful one.
template <class To, class From>
void CastRange(const From* in, To* out, int64_t n) {
  if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    const From hi = static_cast<From>(std::ldexp(1.0, std::numeric_limits<To>::digits));
    const From lo = std::is_signed_v<To> ? -hi : From(0);
    int bad = 0;
    for (int64_t k = 0; k < n; ++k) bad |= !(in[k] >= lo && in[k] < hi);  // NaN is bad
    if (!bad) {
      for (int64_t k = 0; k < n; ++k) out[k] = static_cast<To>(in[k]);
      return;
    }
  }
  for (int64_t k = 0; k < n; ++k) out[k] = CastElem<To>(in[k]);
}

// ------------------------------------------------------------------------------ strings

template <class T>
std::string ToString(T x) {
  const auto v = Elem<T>::Load(x);
  using V = std::remove_const_t<decltype(v)>;
  if constexpr (std::is_same_v<V, bool>) {
    return v ? "True" : "False";
  } else if constexpr (std::is_integral_v<V>) {
    return std::to_string(v);
  } else {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "INF" : "-INF";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), v);
    std::string s(buf, res.ptr);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
  }
}

bool EqualsIgnoreCase(const std::string& a, const char* b) {
  if (a.size() != std::strlen(b)) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Parses s as a number; false when it is not one.
bool ParseNumber(const std::string& s, double* d, int64_t* i, bool* is_int) {
  if (EqualsIgnoreCase(s, "NaN")) {
    *d = std::numeric_limits<double>::quiet_NaN();
    *is_int = false;
    return true;
  }
  if (EqualsIgnoreCase(s, "INF") || EqualsIgnoreCase(s, "+INF")) {
    *d = std::numeric_limits<double>::infinity();
    *is_int = false;
    return true;
  }
  if (EqualsIgnoreCase(s, "-INF")) {
    *d = -std::numeric_limits<double>::infinity();
    *is_int = false;
    return true;
  }
  if (s.empty()) return false;
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  long long ll = std::strtoll(begin, &end, 10);
  if (end == begin + s.size() && errno == 0) {
    *i = ll;
    *d = static_cast<double>(ll);
    *is_int = true;
    return true;
  }
  *d = std::strtod(begin, &end);
  *is_int = false;
  return end == begin + s.size() && end != begin;
}

template <class To>
To FromParsed(double d, int64_t i, bool is_int) {
  if constexpr (std::is_same_v<To, Bool8>) {
    return Bool8{static_cast<uint8_t>((is_int ? i != 0 : d != 0) ? 1 : 0)};
  } else if constexpr (std::is_integral_v<To>) {
    return is_int ? static_cast<To>(i) : FloatToInt<To>(d);
  } else {
    return CastElem<To>(d);
  }
}

// ------------------------------------------------------------------------------ the kernel

class CastKernel final : public Kernel {
 public:
  // to == kUndefined: CastLike (the type of input 1).
  explicit CastKernel(DataType to) : to_(to) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    DataType to = to_;
    if (to == DataType::kUndefined) {
      if (!ctx.input(1)) return ctx.Error("target_type is missing");
      to = ctx.input(1)->dtype();
    }
    if (x.dtype() == to) return ctx.OutputView(0, 0, x.shape());
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, to, x.shape()));
    const int64_t n = x.numel();
    const std::string& who = ctx.node_description();
    if (x.dtype() == DataType::kString) {
      const auto& in = x.strings();
      return Visit(CastTypes{}, to, who, [&](auto to_tag) -> Status {
        using To = typename decltype(to_tag)::type;
        To* out = y->data<To>();
        for (int64_t k = 0; k < n; ++k) {
          double d = 0;
          int64_t i = 0;
          bool is_int = false;
          if (!ParseNumber(in[k], &d, &i, &is_int))
            return ctx.Error("cannot cast the string \"" + in[k] + "\" (element " +
                             std::to_string(k) + ") to a number");
          out[k] = FromParsed<To>(d, i, is_int);
        }
        return Status::Ok();
      });
    }
    return Visit(CastTypes{}, x.dtype(), who, [&](auto from_tag) -> Status {
      using From = typename decltype(from_tag)::type;
      const From* in = x.data<From>();
      if (to == DataType::kString) {
        auto& out = y->strings();
        for (int64_t k = 0; k < n; ++k) out[k] = ToString(in[k]);
        return Status::Ok();
      }
      return Visit(CastTypes{}, to, who, [&](auto to_tag) -> Status {
        using To = typename decltype(to_tag)::type;
        To* out = y->data<To>();
        ParallelRange(ctx, n, kParallelMin, [&](int64_t begin, int64_t end) {
          CastRange(in + begin, out + begin, end - begin);
        });
        return Status::Ok();
      });
    });
  }

 private:
  DataType to_;
};

bool CastSupports(DataType t) { return t == DataType::kString || Contains(CastTypes{}, t); }

// Cast-1's string names of the target type.
std::optional<DataType> TypeFromName(const std::string& name) {
  static const std::pair<const char*, DataType> kNames[] = {
      {"FLOAT", DataType::kFloat},         {"UINT8", DataType::kUint8},
      {"INT8", DataType::kInt8},           {"UINT16", DataType::kUint16},
      {"INT16", DataType::kInt16},         {"INT32", DataType::kInt32},
      {"INT64", DataType::kInt64},         {"STRING", DataType::kString},
      {"BOOL", DataType::kBool},           {"FLOAT16", DataType::kFloat16},
      {"DOUBLE", DataType::kDouble},       {"UINT32", DataType::kUint32},
      {"UINT64", DataType::kUint64},       {"BFLOAT16", DataType::kBfloat16},
      {"COMPLEX64", DataType::kComplex64}, {"COMPLEX128", DataType::kComplex128}};
  for (const auto& [n, t] : kNames)
    if (EqualsIgnoreCase(name, n)) return t;
  return std::nullopt;
}

StatusOr<std::unique_ptr<Kernel>> MakeCast(const KernelInit& init) {
  if (!init.has_input(0)) return init.Invalid("input 0 is required");
  const Attribute* a = init.node.FindAttribute("to");
  if (!a) return init.Invalid("attribute 'to' is required");
  DataType to;
  if (a->type == AttrType::kString) {
    auto t = TypeFromName(a->s);
    if (!t) return init.Invalid("attribute 'to' names an unknown type \"" + a->s + "\"");
    to = *t;
  } else {
    if (a->type != AttrType::kInt) return init.Invalid("attribute 'to' must be an int");
    if (a->i < 1 || a->i > 0x7fffffff || !IsKnownDataType(static_cast<int32_t>(a->i)))
      return init.Unsupported("cast to element type " + std::to_string(a->i) + " is not supported");
    to = static_cast<DataType>(a->i);
  }
  if (!CastSupports(to))
    return init.Unsupported(std::string("cast to ") + DataTypeName(to) + " is not supported");
  DataType from = DeclaredType(init, 0);
  if (from != DataType::kUndefined && !CastSupports(from))
    return init.Unsupported(std::string("cast from ") + DataTypeName(from) + " is not supported");
  return std::unique_ptr<Kernel>(new CastKernel(to));
}

StatusOr<std::unique_ptr<Kernel>> MakeCastLike(const KernelInit& init) {
  if (!init.has_input(0) || !init.has_input(1)) return init.Invalid("needs input and target_type");
  for (size_t i = 0; i < 2; ++i) {
    DataType t = DeclaredType(init, i);
    if (t != DataType::kUndefined && !CastSupports(t))
      return init.Unsupported(std::string("element type ") + DataTypeName(t) + " is not supported");
  }
  return std::unique_ptr<Kernel>(new CastKernel(DataType::kUndefined));
}

}  // namespace

void RegisterCastKernels(KernelRegistry& r) {
  AddVersions(r, "Cast", {1, 6, 9, 13, 19, 21}, MakeCast);
  AddVersions(r, "CastLike", {15, 19, 21}, MakeCastLike);
}

}  // namespace edgefit
