// Kernel family: elementwise unary math and activations.
//
//   Abs Neg Sqrt Exp Log Reciprocal Floor Ceil Round Sign Erf Sin Cos Tan Asin Acos Atan Sinh Cosh
//   Asinh Acosh Atanh IsNaN IsInf Not Relu LeakyRelu PRelu Elu Selu Sigmoid HardSigmoid HardSwish
//   Tanh Softplus Softsign Clip ThresholdedRelu Celu Shrink
//
// Each op is a small functor applied by one tight (parallel for large tensors) loop. Float16 and
// bfloat16 compute in float. Versions only widened the accepted types (plus Clip's attribute ->
// input change at 11 and PRelu's broadcasting at 7), so one functor serves every version range.
// The legacy `consumed_inputs` attribute of opset < 6 is ignored.
#include <cmath>
#include <limits>

#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/families.h"

namespace edgefit {
namespace {

using namespace elementwise;

// ------------------------------------------------------------------------------ the functors

// Each functor maps a compute value (float, double, an integer or bool) to its result.
// kBoolOut: the output is bool. kExpensive: a transcendental call per element.
struct OpBase {
  static constexpr bool kBoolOut = false;
  static constexpr bool kExpensive = false;
};
struct ExpensiveOp : OpBase {
  static constexpr bool kExpensive = true;
};

struct AbsOp : OpBase {
  template <class C>
  C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>)
      return x;
    else if constexpr (std::is_integral_v<C>)
      return x < 0 ? WrapNeg(x) : x;
    else
      return std::fabs(x);
  }
};
struct NegOp : OpBase {
  template <class C>
  C operator()(C x) const {
    return WrapNeg(x);
  }
};
struct SignOp : OpBase {
  template <class C>
  C operator()(C x) const {
    if (x > C(0)) return C(1);
    if constexpr (std::is_signed_v<C>)
      if (x < C(0)) return C(-1);
    return x;  // 0 stays 0, NaN stays NaN
  }
};
struct FloorOp : OpBase {
  template <class C>
  C operator()(C x) const {
    return std::floor(x);
  }
};
struct CeilOp : OpBase {
  template <class C>
  C operator()(C x) const {
    return std::ceil(x);
  }
};
struct RoundOp : OpBase {  // half to even (the default rounding mode)
  template <class C>
  C operator()(C x) const {
    return std::nearbyint(x);
  }
};
struct ReciprocalOp : OpBase {
  template <class C>
  C operator()(C x) const {
    return C(1) / x;
  }
};
struct SqrtOp : OpBase {
  template <class C>
  C operator()(C x) const {
    return std::sqrt(x);
  }
};

#define EDGEFIT_MATH_OP(Name, fn) \
  struct Name : ExpensiveOp {     \
    template <class C>            \
    C operator()(C x) const {     \
      return fn(x);               \
    }                             \
  };
EDGEFIT_MATH_OP(ExpOp, std::exp)
EDGEFIT_MATH_OP(LogOp, std::log)
EDGEFIT_MATH_OP(ErfOp, std::erf)
EDGEFIT_MATH_OP(SinOp, std::sin)
EDGEFIT_MATH_OP(CosOp, std::cos)
EDGEFIT_MATH_OP(TanOp, std::tan)
EDGEFIT_MATH_OP(AsinOp, std::asin)
EDGEFIT_MATH_OP(AcosOp, std::acos)
EDGEFIT_MATH_OP(AtanOp, std::atan)
EDGEFIT_MATH_OP(SinhOp, std::sinh)
EDGEFIT_MATH_OP(CoshOp, std::cosh)
EDGEFIT_MATH_OP(AsinhOp, std::asinh)
EDGEFIT_MATH_OP(AcoshOp, std::acosh)
EDGEFIT_MATH_OP(AtanhOp, std::atanh)
EDGEFIT_MATH_OP(TanhOp, std::tanh)
#undef EDGEFIT_MATH_OP

struct IsNaNOp : OpBase {
  static constexpr bool kBoolOut = true;
  template <class C>
  bool operator()(C x) const {
    return std::isnan(x);
  }
};
struct IsInfOp : OpBase {
  static constexpr bool kBoolOut = true;
  bool negative = true, positive = true;
  template <class C>
  bool operator()(C x) const {
    return std::isinf(x) && (x > 0 ? positive : negative);
  }
};
struct NotOp : OpBase {
  bool operator()(bool x) const { return !x; }
};

struct ReluOp : OpBase {
  template <class C>
  C operator()(C x) const {
    return x < C(0) ? C(0) : x;  // NaN stays NaN
  }
};
struct LeakyReluOp : OpBase {
  float alpha = 0.01f;
  template <class C>
  C operator()(C x) const {
    return x < C(0) ? static_cast<C>(alpha) * x : x;
  }
};
struct EluOp : ExpensiveOp {
  float alpha = 1.0f;
  template <class C>
  C operator()(C x) const {
    return x < C(0) ? static_cast<C>(alpha) * std::expm1(x) : x;
  }
};
struct SeluOp : ExpensiveOp {
  float alpha = 1.67326319217681884765625f;
  float gamma = 1.05070102214813232421875f;
  template <class C>
  C operator()(C x) const {
    const C a = static_cast<C>(alpha), g = static_cast<C>(gamma);
    return x > C(0) ? g * x : g * (a * std::exp(x) - a);
  }
};
struct CeluOp : ExpensiveOp {
  float alpha = 1.0f;
  template <class C>
  C operator()(C x) const {
    const C a = static_cast<C>(alpha);
    return x > C(0) ? x : a * std::expm1(x / a);
  }
};
struct SigmoidOp : ExpensiveOp {
  template <class C>
  C operator()(C x) const {
    if (x >= C(0)) return C(1) / (C(1) + std::exp(-x));
    const C e = std::exp(x);  // also NaN -> NaN
    return e / (C(1) + e);
  }
};
struct HardSigmoidOp : OpBase {
  float alpha = 0.2f, beta = 0.5f;
  template <class C>
  C operator()(C x) const {
    const C v = static_cast<C>(alpha) * x + static_cast<C>(beta);
    return v < C(0) ? C(0) : (v > C(1) ? C(1) : v);
  }
};
struct HardSwishOp : OpBase {
  template <class C>
  C operator()(C x) const {
    const C v = x / C(6) + C(0.5);
    return x * (v < C(0) ? C(0) : (v > C(1) ? C(1) : v));
  }
};
struct SoftplusOp : ExpensiveOp {  // log(1 + exp(x)) without overflow
  template <class C>
  C operator()(C x) const {
    return x > C(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  }
};
struct SoftsignOp : OpBase {
  template <class C>
  C operator()(C x) const {
    return x / (C(1) + std::fabs(x));
  }
};
struct ThresholdedReluOp : OpBase {
  float alpha = 1.0f;
  template <class C>
  C operator()(C x) const {
    return x > static_cast<C>(alpha) ? x : (std::isnan(x) ? x : C(0));
  }
};
struct ShrinkOp : OpBase {
  float bias = 0.0f, lambd = 0.5f;
  template <class C>
  C operator()(C x) const {
    if constexpr (std::is_integral_v<C>) {
      const double v = static_cast<double>(x);
      const double r = v < -lambd ? v + bias : (v > lambd ? v - bias : 0.0);
      return static_cast<C>(static_cast<int64_t>(r));
    } else {
      const C l = static_cast<C>(lambd), b = static_cast<C>(bias);
      return x < -l ? x + b : (x > l ? x - b : (std::isnan(x) ? x : C(0)));
    }
  }
};

// ------------------------------------------------------------------------------ the kernels

template <class Op, class List>
class UnaryKernel final : public Kernel {
 public:
  explicit UnaryKernel(Op op) : op_(op) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    return Visit(List{}, x.dtype(), ctx.node_description(), [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      using TO = std::conditional_t<Op::kBoolOut, Bool8, T>;
      ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, DataTypeOf<TO>(), x.shape()));
      MapUnary(ctx, x.data<T>(), y->data<TO>(), x.numel(),
               Op::kExpensive ? kParallelMinExpensive : kParallelMin,
               [op = op_](auto v) { return op(v); });
      return Status::Ok();
    });
  }

 private:
  Op op_;
};

// A factory for UnaryKernel<Op, List>; make_op(init) reads the attributes into an Op.
template <class Op, class List, class MakeOp>
KernelFactory Unary(MakeOp make_op) {
  return [make_op](const KernelInit& init) -> StatusOr<std::unique_ptr<Kernel>> {
    if (!init.has_input(0)) return init.Invalid("input 0 is required");
    RETURN_IF_ERROR(CheckDeclaredType(init, 0, List{}));
    ASSIGN_OR_RETURN(Op op, make_op(init));
    return std::unique_ptr<Kernel>(new UnaryKernel<Op, List>(op));
  };
}
template <class Op, class List>
KernelFactory Unary() {
  return Unary<Op, List>([](const KernelInit&) -> StatusOr<Op> { return Op{}; });
}

// Clip: bounds from attributes (opset < 11) or from optional scalar inputs 1 and 2 (opset >= 11).
class ClipKernel final : public Kernel {
 public:
  ClipKernel(bool from_inputs, float min, float max)
      : from_inputs_(from_inputs), min_(min), max_(max) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    return Visit(NumericTypes{}, x.dtype(), ctx.node_description(), [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      using C = Compute<T>;
      C lo, hi;
      if (from_inputs_) {
        lo = std::numeric_limits<C>::has_infinity ? -std::numeric_limits<C>::infinity()
                                                  : std::numeric_limits<C>::lowest();
        hi = std::numeric_limits<C>::has_infinity ? std::numeric_limits<C>::infinity()
                                                  : std::numeric_limits<C>::max();
        const char* names[] = {"", "min", "max"};
        for (size_t i = 1; i <= 2; ++i) {
          const Tensor* b = ctx.input(i);
          if (!b) continue;
          if (b->dtype() != x.dtype())
            return ctx.Error(std::string(names[i]) + " has element type " +
                             DataTypeName(b->dtype()) + ", input has " + DataTypeName(x.dtype()));
          if (b->numel() != 1)
            return ctx.Error(std::string(names[i]) + " must be a scalar, got shape " +
                             ShapeToString(b->shape()));
          (i == 1 ? lo : hi) = Elem<T>::Load(b->data<T>()[0]);
        }
      } else {
        lo = static_cast<C>(min_);
        hi = static_cast<C>(max_);
      }
      ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.dtype(), x.shape()));
      // min(max(x, lo), hi): when lo > hi every element becomes hi. NaN stays NaN.
      if (lo > hi) lo = hi;
      MapUnary(ctx, x.data<T>(), y->data<T>(), x.numel(), kParallelMin,
               [lo, hi](C v) { return v < lo ? lo : (v > hi ? hi : v); });
      return Status::Ok();
    });
  }

 private:
  bool from_inputs_;
  float min_, max_;
};

StatusOr<std::unique_ptr<Kernel>> MakeClip(const KernelInit& init) {
  if (!init.has_input(0)) return init.Invalid("input 0 is required");
  RETURN_IF_ERROR(CheckDeclaredType(init, 0, NumericTypes{}));
  if (init.opset >= 11) {
    RETURN_IF_ERROR(CheckSameDeclaredTypes(init, {0, 1, 2}));
    for (size_t i = 1; i <= 2; ++i) {
      const Tensor* c = init.constant(i);
      if (c && c->numel() != 1)
        return init.Invalid(std::string(i == 1 ? "min" : "max") + " must be a scalar, got shape " +
                            ShapeToString(c->shape()));
    }
    return std::unique_ptr<Kernel>(new ClipKernel(true, 0, 0));
  }
  float lo = init.node.GetFloat("min", std::numeric_limits<float>::lowest());
  float hi = init.node.GetFloat("max", std::numeric_limits<float>::max());
  return std::unique_ptr<Kernel>(new ClipKernel(false, lo, hi));
}

// PRelu: y = x < 0 ? slope * x : x, with slope broadcast to x's shape (unidirectionally from
// opset 7; before 7, a 1-D slope of x's channel count applies along axis 1, as the exporters of
// that time produced).
class PReluKernel final : public Kernel {
 public:
  explicit PReluKernel(bool legacy) : legacy_(legacy) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    const Tensor& slope = *ctx.input(1);
    if (slope.dtype() != x.dtype())
      return ctx.Error(std::string("slope has element type ") + DataTypeName(slope.dtype()) +
                       ", X has " + DataTypeName(x.dtype()));
    Shape slope_shape = slope.shape();
    if (legacy_ && slope.numel() != 1 && slope.rank() == 1 && x.rank() >= 2 &&
        slope.dim(0) == x.dim(1)) {
      slope_shape.assign(x.rank() - 1, 1);
      slope_shape[0] = slope.dim(0);
    }
    auto out = BroadcastShapes({x.shape(), slope_shape});
    if (!out.ok() || *out != x.shape())
      return ctx.Error("slope of shape " + ShapeToString(slope.shape()) +
                       " does not broadcast to X of shape " + ShapeToString(x.shape()));
    BroadcastPlan plan = MakePlan({x.shape(), slope_shape}, x.shape());
    return Visit(NumericTypes{}, x.dtype(), ctx.node_description(), [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.dtype(), x.shape()));
      MapBinary(ctx, plan, x.data<T>(), slope.data<T>(), y->data<T>(), kParallelMin,
                [](auto v, auto s) { return v < decltype(v)(0) ? WrapMul(v, s) : v; });
      return Status::Ok();
    });
  }

 private:
  bool legacy_;
};

StatusOr<std::unique_ptr<Kernel>> MakePRelu(const KernelInit& init) {
  if (!init.has_input(0) || !init.has_input(1)) return init.Invalid("needs inputs X and slope");
  RETURN_IF_ERROR(CheckDeclaredType(init, 0, NumericTypes{}));
  RETURN_IF_ERROR(CheckSameDeclaredTypes(init, {0, 1}));
  return std::unique_ptr<Kernel>(new PReluKernel(init.opset < 7));
}

}  // namespace

void RegisterElementwiseUnaryKernels(KernelRegistry& r) {
  // Math. Versions differ only in the accepted types.
  AddVersions(r, "Abs", {1, 6, 13}, Unary<AbsOp, NumericTypes>());
  AddVersions(r, "Neg", {1, 6, 13}, Unary<NegOp, SignedTypes>());
  AddVersions(r, "Sign", {9, 13}, Unary<SignOp, NumericTypes>());
  AddVersions(r, "Floor", {1, 6, 13}, Unary<FloorOp, FloatTypes>());
  AddVersions(r, "Ceil", {1, 6, 13}, Unary<CeilOp, FloatTypes>());
  AddVersions(r, "Round", {11}, Unary<RoundOp, FloatTypes>());
  AddVersions(r, "Reciprocal", {1, 6, 13}, Unary<ReciprocalOp, FloatTypes>());
  AddVersions(r, "Sqrt", {1, 6, 13}, Unary<SqrtOp, FloatTypes>());
  AddVersions(r, "Exp", {1, 6, 13}, Unary<ExpOp, FloatTypes>());
  AddVersions(r, "Log", {1, 6, 13}, Unary<LogOp, FloatTypes>());
  AddVersions(r, "Erf", {9, 13}, Unary<ErfOp, FloatTypes>());
  AddVersions(r, "Sin", {7}, Unary<SinOp, FloatTypes>());
  AddVersions(r, "Cos", {7}, Unary<CosOp, FloatTypes>());
  AddVersions(r, "Tan", {7}, Unary<TanOp, FloatTypes>());
  AddVersions(r, "Asin", {7}, Unary<AsinOp, FloatTypes>());
  AddVersions(r, "Acos", {7}, Unary<AcosOp, FloatTypes>());
  AddVersions(r, "Atan", {7}, Unary<AtanOp, FloatTypes>());
  AddVersions(r, "Sinh", {9}, Unary<SinhOp, FloatTypes>());
  AddVersions(r, "Cosh", {9}, Unary<CoshOp, FloatTypes>());
  AddVersions(r, "Asinh", {9}, Unary<AsinhOp, FloatTypes>());
  AddVersions(r, "Acosh", {9}, Unary<AcoshOp, FloatTypes>());
  AddVersions(r, "Atanh", {9}, Unary<AtanhOp, FloatTypes>());
  AddVersions(r, "IsNaN", {9, 13, 20}, Unary<IsNaNOp, FloatTypes>());
  AddVersions(r, "IsInf", {10, 20},
              Unary<IsInfOp, FloatTypes>([](const KernelInit& init) -> StatusOr<IsInfOp> {
                IsInfOp op;
                op.negative = init.node.GetInt("detect_negative", 1) != 0;
                op.positive = init.node.GetInt("detect_positive", 1) != 0;
                return op;
              }));
  AddVersions(r, "Not", {1}, Unary<NotOp, BoolTypes>());

  // Activations.
  AddVersions(r, "Relu", {1, 6, 13, 14}, Unary<ReluOp, SignedTypes>());
  AddVersions(r, "LeakyRelu", {1, 6, 16},
              Unary<LeakyReluOp, FloatTypes>([](const KernelInit& init) -> StatusOr<LeakyReluOp> {
                LeakyReluOp op;
                op.alpha = init.node.GetFloat("alpha", 0.01f);
                return op;
              }));
  AddVersions(r, "PRelu", {1, 6, 7, 9, 16}, MakePRelu);
  AddVersions(r, "Elu", {1, 6},
              Unary<EluOp, FloatTypes>([](const KernelInit& init) -> StatusOr<EluOp> {
                EluOp op;
                op.alpha = init.node.GetFloat("alpha", 1.0f);
                return op;
              }));
  AddVersions(r, "Selu", {1, 6},
              Unary<SeluOp, FloatTypes>([](const KernelInit& init) -> StatusOr<SeluOp> {
                SeluOp op;
                op.alpha = init.node.GetFloat("alpha", op.alpha);
                op.gamma = init.node.GetFloat("gamma", op.gamma);
                return op;
              }));
  AddVersions(r, "Celu", {12},
              Unary<CeluOp, FloatTypes>([](const KernelInit& init) -> StatusOr<CeluOp> {
                CeluOp op;
                op.alpha = init.node.GetFloat("alpha", 1.0f);
                if (op.alpha == 0) return init.Invalid("alpha must not be 0");
                return op;
              }));
  AddVersions(r, "Sigmoid", {1, 6, 13}, Unary<SigmoidOp, FloatTypes>());
  AddVersions(
      r, "HardSigmoid", {1, 6},
      Unary<HardSigmoidOp, FloatTypes>([](const KernelInit& init) -> StatusOr<HardSigmoidOp> {
        HardSigmoidOp op;
        op.alpha = init.node.GetFloat("alpha", 0.2f);
        op.beta = init.node.GetFloat("beta", 0.5f);
        return op;
      }));
  AddVersions(r, "HardSwish", {14}, Unary<HardSwishOp, FloatTypes>());
  AddVersions(r, "Tanh", {1, 6, 13}, Unary<TanhOp, FloatTypes>());
  AddVersions(r, "Softplus", {1}, Unary<SoftplusOp, FloatTypes>());
  AddVersions(r, "Softsign", {1}, Unary<SoftsignOp, FloatTypes>());
  AddVersions(r, "Clip", {1, 6, 11, 12, 13}, MakeClip);
  AddVersions(r, "ThresholdedRelu", {10},
              Unary<ThresholdedReluOp, FloatTypes>(
                  [](const KernelInit& init) -> StatusOr<ThresholdedReluOp> {
                    ThresholdedReluOp op;
                    op.alpha = init.node.GetFloat("alpha", 1.0f);
                    return op;
                  }));
  AddVersions(r, "Shrink", {9},
              Unary<ShrinkOp, NumericTypes>([](const KernelInit& init) -> StatusOr<ShrinkOp> {
                ShrinkOp op;
                op.bias = init.node.GetFloat("bias", 0.0f);
                op.lambd = init.node.GetFloat("lambd", 0.5f);
                return op;
              }));
}

}  // namespace edgefit
