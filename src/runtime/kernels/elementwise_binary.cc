// Kernel family: elementwise binary and variadic ops with NumPy broadcasting.
//
//   Add Sub Mul Div Pow Mod Min Max Sum Mean Equal Less LessOrEqual Greater GreaterOrEqual
//   And Or Xor BitShift Where
//
// Equal (opset 19) and Where also take strings.
//
// Opset < 7 (< 8 for the variadic ops) had no multidirectional broadcasting: two-input ops took
// `broadcast` (0: equal shapes) and `axis` (where B's dims align in A) attributes; both are
// honoured. Integers wrap on overflow; integer Div truncates toward zero (C) and Mod follows the
// divisor's sign unless fmod=1 (then the dividend's, like C fmod); an integer division by zero is
// a runtime error. Float Min/Max propagate NaN.
#include <cmath>
#include <cstring>
#include <optional>

#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/families.h"

namespace edgefit {
namespace {

using namespace elementwise;

// ------------------------------------------------------------------------------ the functors

struct BinaryOpBase {
  static constexpr bool kBoolOut = false;      // the output is bool
  static constexpr bool kIntDivision = false;  // an integer zero divisor is an error
};
struct CompareOpBase : BinaryOpBase {
  static constexpr bool kBoolOut = true;
};

struct AddOp : BinaryOpBase {
  template <class C>
  C operator()(C a, C b) const {
    return WrapAdd(a, b);
  }
};
struct SubOp : BinaryOpBase {
  template <class C>
  C operator()(C a, C b) const {
    return WrapSub(a, b);
  }
};
struct MulOp : BinaryOpBase {
  template <class C>
  C operator()(C a, C b) const {
    return WrapMul(a, b);
  }
};
struct DivOp : BinaryOpBase {
  static constexpr bool kIntDivision = true;
  template <class C>
  C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) {
      if constexpr (std::is_signed_v<C>)
        if (b == C(-1)) return WrapNeg(a);  // INT_MIN / -1 wraps instead of trapping
      return static_cast<C>(a / b);
    } else {
      return a / b;
    }
  }
};
struct ModOp : BinaryOpBase {
  static constexpr bool kIntDivision = true;
  bool fmod = false;
  template <class C>
  C operator()(C a, C b) const {
    if constexpr (std::is_floating_point_v<C>) {
      C r = std::fmod(a, b);
      if (!fmod && r != C(0) && ((r < C(0)) != (b < C(0)))) r += b;
      return r;
    } else if constexpr (std::is_unsigned_v<C>) {
      return static_cast<C>(a % b);
    } else {
      if (b == C(-1)) return C(0);
      C r = static_cast<C>(a % b);  // C: sign of the dividend
      if (!fmod && r != C(0) && ((r < C(0)) != (b < C(0)))) r = static_cast<C>(r + b);
      return r;
    }
  }
};
struct MaxNanOp : BinaryOpBase {
  template <class C>
  C operator()(C a, C b) const {
    if constexpr (std::is_floating_point_v<C>) {
      if (std::isnan(a) || std::isnan(b)) return a + b;
    }
    return a < b ? b : a;
  }
};
struct MinNanOp : BinaryOpBase {
  template <class C>
  C operator()(C a, C b) const {
    if constexpr (std::is_floating_point_v<C>) {
      if (std::isnan(a) || std::isnan(b)) return a + b;
    }
    return b < a ? b : a;
  }
};
struct EqualOp : CompareOpBase {
  template <class C>
  bool operator()(C a, C b) const {
    return a == b;
  }
};
struct LessOp : CompareOpBase {
  template <class C>
  bool operator()(C a, C b) const {
    return a < b;
  }
};
struct LessOrEqualOp : CompareOpBase {
  template <class C>
  bool operator()(C a, C b) const {
    return a <= b;
  }
};
struct GreaterOp : CompareOpBase {
  template <class C>
  bool operator()(C a, C b) const {
    return a > b;
  }
};
struct GreaterOrEqualOp : CompareOpBase {
  template <class C>
  bool operator()(C a, C b) const {
    return a >= b;
  }
};
struct AndOp : BinaryOpBase {
  bool operator()(bool a, bool b) const { return a && b; }
};
struct OrOp : BinaryOpBase {
  bool operator()(bool a, bool b) const { return a || b; }
};
struct XorOp : BinaryOpBase {
  bool operator()(bool a, bool b) const { return a != b; }
};
struct BitShiftOp : BinaryOpBase {
  bool left = true;
  template <class C>
  C operator()(C a, C b) const {
    if (b >= C(sizeof(C) * 8)) return C(0);
    return left ? static_cast<C>(a << b) : static_cast<C>(a >> b);
  }
};

// ------------------------------------------------------------------------------ two-input ops

// The opset < 7 broadcasting attributes.
struct LegacyBroadcast {
  bool active = false;  // opset < 7
  bool broadcast = false;
  std::optional<int64_t> axis;

  static LegacyBroadcast From(const KernelInit& init) {
    LegacyBroadcast l;
    l.active = init.opset < 7;
    if (!l.active) return l;
    l.broadcast = init.node.GetInt("broadcast", 0) != 0;
    if (init.node.HasAttribute("axis")) l.axis = init.node.GetInt("axis", 0);
    return l;
  }

  // The plan for A and B under these rules (multidirectional when not active).
  StatusOr<BroadcastPlan> Plan(KernelContext& ctx, const Shape& a, const Shape& b) const {
    if (!active) return PlanBroadcast(ctx, {a, b});
    if (!broadcast) {
      if (a != b)
        return ctx.Error("shapes " + ShapeToString(a) + " and " + ShapeToString(b) +
                         " differ and broadcast=0");
      return MakePlan({a, b}, a);
    }
    Shape bb;  // B's shape aligned to A's rank
    if (NumElements(b) != 1) {
      const int64_t ra = static_cast<int64_t>(a.size()), rb = static_cast<int64_t>(b.size());
      int64_t ax = axis ? *axis : ra - rb;
      if (ax < 0) ax += ra;
      if (rb > ra || ax < 0 || ax + rb > ra)
        return ctx.Error("B of shape " + ShapeToString(b) + " cannot broadcast to A of shape " +
                         ShapeToString(a) + " at axis " + std::to_string(ax));
      bb.assign(a.size(), 1);
      for (int64_t i = 0; i < rb; ++i) bb[ax + i] = b[i];
    }
    auto out = BroadcastShapes({a, bb});
    if (!out.ok() || *out != a)
      return ctx.Error("B of shape " + ShapeToString(b) + " cannot broadcast to A of shape " +
                       ShapeToString(a));
    return MakePlan({a, bb}, a);
  }
};

// Equal on strings (opset 19).
Status StringEqual(KernelContext& ctx, const BroadcastPlan& plan, const Tensor& a,
                   const Tensor& b) {
  ASSIGN_OR_RETURN(Tensor * o, ctx.Output(0, DataType::kBool, plan.out));
  const int64_t sa = plan.inner_stride(0), sb = plan.inner_stride(1);
  const auto& as = a.strings();
  const auto& bs = b.strings();
  uint8_t* od = o->data<uint8_t>();
  ForEachRun(plan, 0, plan.numel, [&](int64_t pos, int64_t len, const int64_t* off) {
    for (int64_t i = 0; i < len; ++i) od[pos + i] = as[off[0] + i * sa] == bs[off[1] + i * sb];
  });
  return Status::Ok();
}

template <class Op, class List>
class BinaryKernel final : public Kernel {
 public:
  BinaryKernel(Op op, LegacyBroadcast legacy) : op_(op), legacy_(legacy) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    if (a.dtype() != b.dtype())
      return ctx.Error(std::string("inputs have different element types ") +
                       DataTypeName(a.dtype()) + " and " + DataTypeName(b.dtype()));
    ASSIGN_OR_RETURN(BroadcastPlan plan, legacy_.Plan(ctx, a.shape(), b.shape()));
    if constexpr (std::is_same_v<Op, EqualOp>) {
      if (a.dtype() == DataType::kString) return StringEqual(ctx, plan, a, b);
    }
    return Visit(List{}, a.dtype(), ctx.node_description(), [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      using TO = std::conditional_t<Op::kBoolOut, Bool8, T>;
      if constexpr (Op::kIntDivision && std::is_integral_v<T>) {
        const T* d = b.data<T>();
        for (int64_t i = 0; i < b.numel(); ++i)
          if (d[i] == T(0))
            return ctx.Error("integer division by zero (divisor element " + std::to_string(i) +
                             ")");
      }
      ASSIGN_OR_RETURN(Tensor * o, ctx.Output(0, DataTypeOf<TO>(), plan.out));
      MapBinary(ctx, plan, a.data<T>(), b.data<T>(), o->data<TO>(), kParallelMin, op_);
      return Status::Ok();
    });
  }

 private:
  Op op_;
  LegacyBroadcast legacy_;
};

Status CheckBinaryInputs(const KernelInit& init, bool same_types = true) {
  if (!init.has_input(0) || !init.has_input(1)) return init.Invalid("needs two inputs");
  return same_types ? CheckSameDeclaredTypes(init, {0, 1}) : Status::Ok();
}

// A factory for BinaryKernel<Op, List>; make_op(init) reads the attributes into an Op.
template <class Op, class List, class MakeOp>
KernelFactory Binary(MakeOp make_op) {
  return [make_op](const KernelInit& init) -> StatusOr<std::unique_ptr<Kernel>> {
    RETURN_IF_ERROR(CheckBinaryInputs(init));
    RETURN_IF_ERROR(CheckDeclaredType(init, 0, List{}));
    ASSIGN_OR_RETURN(Op op, make_op(init));
    return std::unique_ptr<Kernel>(new BinaryKernel<Op, List>(op, LegacyBroadcast::From(init)));
  };
}
template <class Op, class List>
KernelFactory Binary() {
  return Binary<Op, List>([](const KernelInit&) -> StatusOr<Op> { return Op{}; });
}

StatusOr<std::unique_ptr<Kernel>> MakeEqual(const KernelInit& init) {
  RETURN_IF_ERROR(CheckBinaryInputs(init));
  if (DeclaredType(init, 0) != DataType::kString)
    RETURN_IF_ERROR(CheckDeclaredType(init, 0, NumericAndBoolTypes{}));
  return std::unique_ptr<Kernel>(
      new BinaryKernel<EqualOp, NumericAndBoolTypes>(EqualOp{}, LegacyBroadcast::From(init)));
}

// ------------------------------------------------------------------------------ Pow

// Integer power with wrapping; negative exponents truncate 1/base^-e toward zero (0 for base 0).
template <class C>
C IntPow(C base, int64_t e) {
  if (e < 0) {
    if (base == C(1)) return C(1);
    if constexpr (std::is_signed_v<C>)
      if (base == C(-1)) return (e & 1) ? C(-1) : C(1);
    return C(0);
  }
  C r = 1;
  while (e) {
    if (e & 1) r = WrapMul(r, base);
    base = WrapMul(base, base);
    e >>= 1;
  }
  return r;
}

// Pow(X: T, Y: T1) -> T. Y may have any numeric type (opset >= 12; before, T1 = T).
class PowKernel final : public Kernel {
 public:
  explicit PowKernel(LegacyBroadcast legacy) : legacy_(legacy) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    const Tensor& y = *ctx.input(1);
    ASSIGN_OR_RETURN(BroadcastPlan plan, legacy_.Plan(ctx, x.shape(), y.shape()));
    using BaseTypes = TypeList<float, double, Half, BFloat16, int32_t, int64_t, int8_t, int16_t,
                               uint8_t, uint16_t, uint32_t, uint64_t>;
    if (!Contains(NumericTypes{}, y.dtype()))
      return Unsupported(ctx.node_description() + ": exponent element type " +
                         DataTypeName(y.dtype()) + " is not supported");
    return Visit(BaseTypes{}, x.dtype(), ctx.node_description(), [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * o, ctx.Output(0, x.dtype(), plan.out));
      if constexpr (std::is_same_v<T, float>) {
        if (y.dtype() == DataType::kFloat) {
          const float* yd = y.data<float>();
          if (y.numel() == 1 && yd[0] == 2.0f) {  // x^2 is exact as x * x
            MapUnary(ctx, x.data<float>(), o->data<float>(), o->numel(), kParallelMin,
                     [](float v) { return v * v; });
            return Status::Ok();
          }
          MapBinary(ctx, plan, x.data<float>(), yd, o->data<float>(), kParallelMinExpensive,
                    [](float a, float b) { return std::pow(a, b); });
          return Status::Ok();
        }
      }
      if (y.dtype() == DataType::kInt64 || y.dtype() == DataType::kInt32 ||
          y.dtype() == DataType::kInt8 || y.dtype() == DataType::kInt16 ||
          y.dtype() == DataType::kUint8 || y.dtype() == DataType::kUint16 ||
          y.dtype() == DataType::kUint32 || y.dtype() == DataType::kUint64) {
        auto e = y.ToInt64Vector();
        if (!e.ok()) return ctx.Error(e.status().message());
        MapBinary(ctx, plan, x.data<T>(), e->data(), o->data<T>(), kParallelMinExpensive,
                  [](auto a, int64_t b) -> Compute<T> {
                    if constexpr (std::is_integral_v<Compute<T>>)
                      return IntPow(a, b);
                    else
                      return static_cast<Compute<T>>(std::pow(double(a), double(b)));
                  });
        return Status::Ok();
      }
      std::vector<double> e = y.ToDoubleVector();
      MapBinary(ctx, plan, x.data<T>(), e.data(), o->data<T>(), kParallelMinExpensive,
                [](auto a, double b) -> Compute<T> {
                  const double r = std::pow(double(a), b);
                  if constexpr (std::is_integral_v<Compute<T>>)
                    return FloatToInt<Compute<T>>(r);
                  else
                    return static_cast<Compute<T>>(r);
                });
      return Status::Ok();
    });
  }

 private:
  LegacyBroadcast legacy_;
};

StatusOr<std::unique_ptr<Kernel>> MakePow(const KernelInit& init) {
  RETURN_IF_ERROR(CheckBinaryInputs(init, /*same_types=*/init.opset < 12));
  RETURN_IF_ERROR(CheckDeclaredType(init, 0, NumericTypes{}));
  RETURN_IF_ERROR(CheckDeclaredType(init, 1, NumericTypes{}));
  return std::unique_ptr<Kernel>(new PowKernel(LegacyBroadcast::From(init)));
}

// ------------------------------------------------------------------------------ variadic ops

// Sum / Mean / Max / Min over one or more inputs broadcast together (opset >= 8; before, the
// inputs had equal shapes, which broadcasting covers).
template <class Op, class List>
class VariadicKernel final : public Kernel {
 public:
  explicit VariadicKernel(bool mean) : mean_(mean) {}

  Status Run(KernelContext& ctx) override {
    std::vector<const Tensor*> in;
    std::vector<Shape> shapes;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      if (!ctx.input(i)) continue;
      in.push_back(ctx.input(i));
      shapes.push_back(ctx.input(i)->shape());
      if (in.back()->dtype() != in[0]->dtype())
        return ctx.Error(std::string("inputs have different element types ") +
                         DataTypeName(in[0]->dtype()) + " and " + DataTypeName(in.back()->dtype()));
    }
    if (in.empty()) return ctx.Error("needs at least one input");
    auto out_shape = BroadcastShapes(shapes);
    if (!out_shape.ok()) return ctx.Error(out_shape.status().message());
    return Visit(List{}, in[0]->dtype(), ctx.node_description(), [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * o, ctx.Output(0, in[0]->dtype(), *out_shape));
      T* od = o->data<T>();
      if (in.size() == 1) {
        BroadcastPlan plan = MakePlan({shapes[0], shapes[0]}, *out_shape);
        MapBinary(ctx, plan, in[0]->data<T>(), in[0]->data<T>(), od, kParallelMin,
                  [](auto a, auto) { return a; });
      } else {
        BroadcastPlan plan = MakePlan({shapes[0], shapes[1]}, *out_shape);
        MapBinary(ctx, plan, in[0]->data<T>(), in[1]->data<T>(), od, kParallelMin, Op{});
        for (size_t k = 2; k < in.size(); ++k) {
          plan = MakePlan({*out_shape, shapes[k]}, *out_shape);
          MapBinary(ctx, plan, od, in[k]->data<T>(), od, kParallelMin, Op{});
        }
      }
      if (mean_ && in.size() > 1) {
        const Compute<T> n = static_cast<Compute<T>>(in.size());
        MapUnary(ctx, od, od, o->numel(), kParallelMin, [n](auto v) { return v / n; });
      }
      return Status::Ok();
    });
  }

 private:
  bool mean_;
};

template <class Op, class List>
KernelFactory Variadic(bool mean) {
  return [mean](const KernelInit& init) -> StatusOr<std::unique_ptr<Kernel>> {
    std::vector<size_t> idx;
    for (size_t i = 0; i < init.input_types.size(); ++i)
      if (init.has_input(i)) idx.push_back(i);
    if (idx.empty()) return init.Invalid("needs at least one input");
    RETURN_IF_ERROR(CheckSameDeclaredTypes(init, idx));
    RETURN_IF_ERROR(CheckDeclaredType(init, idx[0], List{}));
    return std::unique_ptr<Kernel>(new VariadicKernel<Op, List>(mean));
  };
}

// ------------------------------------------------------------------------------ Where

template <class T>
void WhereRun(const BroadcastPlan& plan, const uint8_t* c, const T* x, const T* y, T* o,
              int64_t begin, int64_t end) {
  const int64_t sc = plan.inner_stride(0), sx = plan.inner_stride(1), sy = plan.inner_stride(2);
  ForEachRun(plan, begin, end, [&](int64_t pos, int64_t len, const int64_t* off) {
    const uint8_t* cc = c + off[0];
    const T* xx = x + off[1];
    const T* yy = y + off[2];
    T* oo = o + pos;
    if (sc && sx && sy) {
      for (int64_t i = 0; i < len; ++i) oo[i] = cc[i] ? xx[i] : yy[i];
    } else {
      for (int64_t i = 0; i < len; ++i) oo[i] = cc[i * sc] ? xx[i * sx] : yy[i * sy];
    }
  });
}

class WhereKernel final : public Kernel {
 public:
  Status Run(KernelContext& ctx) override {
    const Tensor& c = *ctx.input(0);
    const Tensor& x = *ctx.input(1);
    const Tensor& y = *ctx.input(2);
    if (c.dtype() != DataType::kBool)
      return ctx.Error(std::string("condition must be bool, got ") + DataTypeName(c.dtype()));
    if (x.dtype() != y.dtype())
      return ctx.Error(std::string("X and Y have different element types ") +
                       DataTypeName(x.dtype()) + " and " + DataTypeName(y.dtype()));
    const size_t size = DataTypeSize(x.dtype());
    if (x.dtype() != DataType::kString && size != 1 && size != 2 && size != 4 && size != 8)
      return Unsupported(ctx.node_description() + ": element type " + DataTypeName(x.dtype()) +
                         " is not supported");
    ASSIGN_OR_RETURN(BroadcastPlan plan, PlanBroadcast(ctx, {c.shape(), x.shape(), y.shape()}));
    ASSIGN_OR_RETURN(Tensor * o, ctx.Output(0, x.dtype(), plan.out));
    const uint8_t* cd = c.data<uint8_t>();
    if (x.dtype() == DataType::kString) {
      const int64_t sc = plan.inner_stride(0), sx = plan.inner_stride(1), sy = plan.inner_stride(2);
      const auto& xs = x.strings();
      const auto& ys = y.strings();
      auto& os = o->strings();
      ForEachRun(plan, 0, plan.numel, [&](int64_t pos, int64_t len, const int64_t* off) {
        for (int64_t i = 0; i < len; ++i)
          os[pos + i] = cd[off[0] + i * sc] ? xs[off[1] + i * sx] : ys[off[2] + i * sy];
      });
      return Status::Ok();
    }
    ParallelRange(ctx, plan.numel, kParallelMin, [&](int64_t begin, int64_t end) {
      switch (size) {
        case 1:
          WhereRun(plan, cd, x.data<uint8_t>(), y.data<uint8_t>(), o->data<uint8_t>(), begin, end);
          break;
        case 2:
          WhereRun(plan, cd, x.data<uint16_t>(), y.data<uint16_t>(), o->data<uint16_t>(), begin,
                   end);
          break;
        case 4:
          WhereRun(plan, cd, x.data<uint32_t>(), y.data<uint32_t>(), o->data<uint32_t>(), begin,
                   end);
          break;
        default:
          WhereRun(plan, cd, x.data<uint64_t>(), y.data<uint64_t>(), o->data<uint64_t>(), begin,
                   end);
          break;
      }
    });
    return Status::Ok();
  }
};

StatusOr<std::unique_ptr<Kernel>> MakeWhere(const KernelInit& init) {
  if (!init.has_input(0) || !init.has_input(1) || !init.has_input(2))
    return init.Invalid("needs inputs condition, X and Y");
  RETURN_IF_ERROR(CheckDeclaredType(init, 0, BoolTypes{}));
  RETURN_IF_ERROR(CheckSameDeclaredTypes(init, {1, 2}));
  DataType t = DeclaredType(init, 1);
  if (t == DataType::kComplex128)
    return init.Unsupported(std::string("element type ") + DataTypeName(t) + " is not supported");
  return std::unique_ptr<Kernel>(new WhereKernel());
}

}  // namespace

void RegisterElementwiseBinaryKernels(KernelRegistry& r) {
  AddVersions(r, "Add", {1, 6, 7, 13, 14}, Binary<AddOp, NumericTypes>());
  AddVersions(r, "Sub", {1, 6, 7, 13, 14}, Binary<SubOp, NumericTypes>());
  AddVersions(r, "Mul", {1, 6, 7, 13, 14}, Binary<MulOp, NumericTypes>());
  AddVersions(r, "Div", {1, 6, 7, 13, 14}, Binary<DivOp, NumericTypes>());
  AddVersions(r, "Pow", {1, 7, 12, 13, 15}, MakePow);
  AddVersions(r, "Mod", {10, 13},
              Binary<ModOp, NumericTypes>([](const KernelInit& init) -> StatusOr<ModOp> {
                ModOp op;
                int64_t fmod = init.node.GetInt("fmod", 0);
                if (fmod != 0 && fmod != 1)
                  return init.Invalid("fmod must be 0 or 1, got " + std::to_string(fmod));
                op.fmod = fmod == 1;
                if (!op.fmod && Contains(FloatTypes{}, DeclaredType(init, 0)))
                  return init.Invalid("fmod must be 1 for floating-point inputs");
                return op;
              }));
  AddVersions(r, "Max", {1, 6, 8, 12, 13}, Variadic<MaxNanOp, NumericTypes>(false));
  AddVersions(r, "Min", {1, 6, 8, 12, 13}, Variadic<MinNanOp, NumericTypes>(false));
  AddVersions(r, "Sum", {1, 6, 8, 13}, Variadic<AddOp, NumericTypes>(false));
  AddVersions(r, "Mean", {1, 6, 8, 13}, Variadic<AddOp, FloatTypes>(true));
  AddVersions(r, "Equal", {1, 7, 11, 13, 19}, MakeEqual);
  AddVersions(r, "Less", {1, 7, 9, 13}, Binary<LessOp, NumericTypes>());
  AddVersions(r, "LessOrEqual", {12, 16}, Binary<LessOrEqualOp, NumericTypes>());
  AddVersions(r, "Greater", {1, 7, 9, 13}, Binary<GreaterOp, NumericTypes>());
  AddVersions(r, "GreaterOrEqual", {12, 16}, Binary<GreaterOrEqualOp, NumericTypes>());
  AddVersions(r, "And", {1, 7}, Binary<AndOp, BoolTypes>());
  AddVersions(r, "Or", {1, 7}, Binary<OrOp, BoolTypes>());
  AddVersions(r, "Xor", {1, 7}, Binary<XorOp, BoolTypes>());
  AddVersions(
      r, "BitShift", {11},
      Binary<BitShiftOp, UnsignedIntTypes>([](const KernelInit& init) -> StatusOr<BitShiftOp> {
        BitShiftOp op;
        std::string dir = init.node.GetString("direction", "");
        if (dir != "LEFT" && dir != "RIGHT")
          return init.Invalid("direction must be \"LEFT\" or \"RIGHT\", got \"" + dir + "\"");
        op.left = dir == "LEFT";
        return op;
      }));
  AddVersions(r, "Where", {9, 16}, MakeWhere);
}

}  // namespace edgefit
