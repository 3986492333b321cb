// Kernel family: normalization (float32). BatchNormalization (inference), InstanceNormalization,
// LayerNormalization, LRN, MeanVarianceNormalization, LpNormalization.
//
// Statistics are accumulated in double and variances computed as the mean of squared deviations
// (two passes), so large or offset inputs do not lose precision.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/kernels/broadcast.h"
#include "runtime/kernels/conv_impl.h"
#include "runtime/kernels/families.h"

namespace edgefit {
namespace {

// ------------------------------------------------------------------------- vector helpers

// Mean and (biased) variance of x[0, n), accumulated in double over 8 lanes, two passes.
EDGEFIT_VECTORIZE
void MeanVariance(const float* __restrict x, int64_t n, double* mean, double* var) {
  using F = FloatVector<8>::type;
  typedef double D __attribute__((vector_size(8 * sizeof(double))));
  if (n <= 0) {
    *mean = 0;
    *var = 0;
    return;
  }
  D acc = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    F v;
    std::memcpy(&v, x + i, sizeof v);
    acc += __builtin_convertvector(v, D);
  }
  double sum = 0;
  for (int j = 0; j < 8; ++j) sum += acc[j];
  for (; i < n; ++i) sum += x[i];
  const double m = sum / static_cast<double>(n);
  D sq = {};
  i = 0;
  for (; i + 8 <= n; i += 8) {
    F v;
    std::memcpy(&v, x + i, sizeof v);
    const D d = __builtin_convertvector(v, D) - m;
    sq += d * d;
  }
  double total = 0;
  for (int j = 0; j < 8; ++j) total += sq[j];
  for (; i < n; ++i) total += (x[i] - m) * (x[i] - m);
  *mean = m;
  *var = total / static_cast<double>(n);
}

// y = (x - m) * a + b.
EDGEFIT_VECTORIZE
void Affine(const float* __restrict x, int64_t n, float m, float a, float b, float* __restrict y) {
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) * a + b;
}

// y = (x - m[i]) * a[i] + b[i] (b may be null: 0).
EDGEFIT_VECTORIZE
void AffineEach(const float* __restrict x, int64_t n, const float* __restrict m, float m0,
                const float* __restrict a, float a0, const float* __restrict b,
                float* __restrict y) {
  if (m && b) {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m[i]) * a[i] + b[i];
  } else if (b) {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m0) * a0 * a[i] + b[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m0) * a0 * a[i];
  }
}

std::string Join(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

Status CheckFloatInputs(const KernelInit& init, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (!init.has_input(i)) continue;
    DataType t = init.input_types[i]->elem_type;
    if (t != DataType::kUndefined && t != DataType::kFloat)
      return init.Unsupported("input " + std::to_string(i) + " of type " + DataTypeName(t) +
                              " (only float32 is implemented)");
  }
  return Status::Ok();
}

Status CheckFloatTensors(const KernelContext& ctx) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor* t = ctx.input(i);
    if (t && t->dtype() != DataType::kFloat)
      return Unsupported(ctx.node_description() + ": input " + std::to_string(i) + " of type " +
                         DataTypeName(t->dtype()) + " (only float32 is implemented)");
  }
  return Status::Ok();
}

Status NeedInputs(const KernelInit& init, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (!init.has_input(i))
      return init.Invalid("needs " + std::to_string(count) + " inputs, input " + std::to_string(i) +
                          " is missing");
  return Status::Ok();
}

// ------------------------------------------------------------------------- BatchNormalization

// Inference: y = (x - mean) * scale / sqrt(var + epsilon) + B, per channel (axis 1). With
// spatial = 0 (versions 7-8) the parameters may also hold one value per (channel, spatial
// position).
class BatchNormKernel : public Kernel {
 public:
  explicit BatchNormKernel(float epsilon) : epsilon_(epsilon) {}

  // A following Relu/Clip (fused by the session) is applied to each plane as it is written.
  bool FusesActivation() const override { return true; }

  Status Run(KernelContext& ctx) override {
    RETURN_IF_ERROR(CheckFloatTensors(ctx));
    const Tensor& X = *ctx.input(0);
    if (X.rank() < 2)
      return ctx.Error("X " + ShapeToString(X.shape()) + " must have rank >= 2 (N, C, ...)");
    const int64_t N = X.dim(0), C = X.dim(1);
    const int64_t S = N * C != 0 ? X.numel() / (N * C) : 0;
    // Per parameter: one value per channel, or one per (channel, position) (spatial = 0).
    bool elementwise = false;
    for (size_t i = 1; i <= 4; ++i) {
      const Tensor& p = *ctx.input(i);
      if (p.numel() == C) continue;
      if (p.numel() == C * S) {
        elementwise = true;
        continue;
      }
      return ctx.Error("parameter " + std::to_string(i) + " " + ShapeToString(p.shape()) +
                       " must have " + std::to_string(C) + " elements (channels of X " +
                       ShapeToString(X.shape()) + ")");
    }
    const int64_t per = elementwise ? S : 1;
    ASSIGN_OR_RETURN(Tensor * Y, ctx.Output(0, DataType::kFloat, X.shape()));
    // a = scale / sqrt(var + eps), b = B, m = mean; expanded to C * per entries.
    const int64_t P = C * per;
    std::vector<float> a(P), b(P), m(P);
    auto at = [&](size_t input, int64_t i) {
      const Tensor& t = *ctx.input(input);
      return t.data<float>()[t.numel() == C ? i / per : i];
    };
    for (int64_t i = 0; i < P; ++i) {
      a[i] = at(1, i) / std::sqrt(at(4, i) + epsilon_);
      b[i] = at(2, i);
      m[i] = at(3, i);
    }
    const float* x = X.data<float>();
    float* y = Y->data<float>();
    const FusedActivation& act = ctx.activation();
    ParallelForCost(ctx, N * C, S, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const int64_t c = p % C;
        if (per == 1)
          Affine(x + p * S, S, m[c], a[c], b[c], y + p * S);
        else
          AffineEach(x + p * S, S, m.data() + c * S, 0.f, a.data() + c * S, 0.f, b.data() + c * S,
                     y + p * S);
        act.Apply(y + p * S, S);
      }
    });
    return Status::Ok();
  }

 private:
  float epsilon_;
};

StatusOr<std::unique_ptr<Kernel>> MakeBatchNorm(const KernelInit& init) {
  RETURN_IF_ERROR(NeedInputs(init, 5));
  RETURN_IF_ERROR(CheckFloatInputs(init, 5));
  const Node& n = init.node;
  bool extra_outputs = false;
  for (size_t i = 1; i < n.num_outputs(); ++i) extra_outputs = extra_outputs || n.output(i);
  if (init.opset >= 14) {
    int64_t training = n.GetInt("training_mode", 0);
    if (training != 0)
      return init.Unsupported("training_mode=" + std::to_string(training) +
                              " (only inference is implemented)");
    if (extra_outputs)
      return init.Invalid("running_mean/running_var outputs exist only with training_mode=1");
  } else {
    if (extra_outputs)
      return init.Unsupported(
          "mean/var/saved outputs (training mode; only inference is implemented)");
    if (init.opset < 7 && n.GetInt("is_test", 0) == 0)
      return init.Unsupported("is_test=0 (training mode; only inference is implemented)");
  }
  return std::unique_ptr<Kernel>(new BatchNormKernel(n.GetFloat("epsilon", 1e-5f)));
}

// ------------------------------------------------------------------------- InstanceNormalization

class InstanceNormKernel : public Kernel {
 public:
  explicit InstanceNormKernel(float epsilon) : epsilon_(epsilon) {}

  Status Run(KernelContext& ctx) override {
    RETURN_IF_ERROR(CheckFloatTensors(ctx));
    const Tensor& X = *ctx.input(0);
    const Tensor& scale = *ctx.input(1);
    const Tensor& B = *ctx.input(2);
    if (X.rank() < 3)
      return ctx.Error("X " + ShapeToString(X.shape()) + " must have rank >= 3 (N, C, D1, ...)");
    const int64_t N = X.dim(0), C = X.dim(1);
    if (scale.numel() != C || B.numel() != C)
      return ctx.Error("scale " + ShapeToString(scale.shape()) + " and B " +
                       ShapeToString(B.shape()) + " must have " + std::to_string(C) + " elements");
    const int64_t S = N * C != 0 ? X.numel() / (N * C) : 0;
    ASSIGN_OR_RETURN(Tensor * Y, ctx.Output(0, DataType::kFloat, X.shape()));
    const float* x = X.data<float>();
    const float* sc = scale.data<float>();
    const float* b = B.data<float>();
    float* y = Y->data<float>();
    const double eps = epsilon_;
    ParallelForCost(ctx, N * C, 3 * S, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const int64_t c = p % C;
        double mean, var;
        MeanVariance(x + p * S, S, &mean, &var);
        const float a = static_cast<float>(sc[c] / std::sqrt(var + eps));
        Affine(x + p * S, S, static_cast<float>(mean), a, b[c], y + p * S);
      }
    });
    return Status::Ok();
  }

 private:
  float epsilon_;
};

StatusOr<std::unique_ptr<Kernel>> MakeInstanceNorm(const KernelInit& init) {
  RETURN_IF_ERROR(NeedInputs(init, 3));
  RETURN_IF_ERROR(CheckFloatInputs(init, 3));
  return std::unique_ptr<Kernel>(new InstanceNormKernel(init.node.GetFloat("epsilon", 1e-5f)));
}

// ------------------------------------------------------------------------- LayerNormalization

// Normalizes over the axes [axis, rank): y = (x - mean) / sqrt(var + epsilon) * Scale + B,
// Scale and B broadcast to X (unidirectionally). Optional outputs Mean and InvStdDev have X's
// shape with the normalized axes set to 1, of the stash type (float).
class LayerNormKernel : public Kernel {
 public:
  LayerNormKernel(int64_t axis, float epsilon) : axis_(axis), epsilon_(epsilon) {}

  Status Run(KernelContext& ctx) override {
    RETURN_IF_ERROR(CheckFloatTensors(ctx));
    const Tensor& X = *ctx.input(0);
    const Tensor& scale = *ctx.input(1);
    const Tensor* B = ctx.input(2);
    const int64_t rank = static_cast<int64_t>(X.rank());
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    if (axis < 0 || axis >= rank)
      return ctx.Error("axis " + std::to_string(axis_) + " is out of range for X " +
                       ShapeToString(X.shape()));
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d) (d < axis ? outer : inner) *= X.dim(d);
    ASSIGN_OR_RETURN(std::vector<float> sc, Expand(ctx, scale, X, axis, "Scale"));
    std::vector<float> bias;
    if (B) {
      ASSIGN_OR_RETURN(bias, Expand(ctx, *B, X, axis, "B"));
    }
    // Expanded parameters hold `inner` values, or X.numel() when they vary along outer axes.
    const bool sc_full = static_cast<int64_t>(sc.size()) != inner;
    const bool b_full = B && static_cast<int64_t>(bias.size()) != inner;
    ASSIGN_OR_RETURN(Tensor * Y, ctx.Output(0, DataType::kFloat, X.shape()));
    Shape stat_shape = X.shape();
    for (int64_t d = axis; d < rank; ++d) stat_shape[d] = 1;
    float* mean_out = nullptr;
    float* inv_out = nullptr;
    if (ctx.num_outputs() > 1 && ctx.output_wanted(1)) {
      ASSIGN_OR_RETURN(Tensor * t, ctx.Output(1, DataType::kFloat, stat_shape));
      mean_out = t->data<float>();
    }
    if (ctx.num_outputs() > 2 && ctx.output_wanted(2)) {
      ASSIGN_OR_RETURN(Tensor * t, ctx.Output(2, DataType::kFloat, stat_shape));
      inv_out = t->data<float>();
    }
    const float* x = X.data<float>();
    float* y = Y->data<float>();
    const double eps = epsilon_;
    ParallelForCost(ctx, outer, 3 * inner, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        double mean, var;
        MeanVariance(x + o * inner, inner, &mean, &var);
        const float mf = static_cast<float>(mean);
        const float invf = static_cast<float>(1.0 / std::sqrt(var + eps));
        const float* s = sc.data() + (sc_full ? o * inner : 0);
        const float* b = B ? bias.data() + (b_full ? o * inner : 0) : nullptr;
        AffineEach(x + o * inner, inner, nullptr, mf, s, invf, b, y + o * inner);
        if (mean_out) mean_out[o] = mf;
        if (inv_out) inv_out[o] = invf;
      }
    });
    return Status::Ok();
  }

 private:
  // p broadcast to X's trailing axes [axis, rank) (inner values), or to all of X when it varies
  // along leading axes.
  static StatusOr<std::vector<float>> Expand(const KernelContext& ctx, const Tensor& p,
                                             const Tensor& X, int64_t axis, const char* name) {
    const Shape& xs = X.shape();
    bool ok = p.rank() <= xs.size();
    bool outer_varies = false;
    for (size_t i = 0; ok && i < p.rank(); ++i) {
      size_t d = xs.size() - p.rank() + i;
      if (p.dim(i) != xs[d] && p.dim(i) != 1) ok = false;
      if (static_cast<int64_t>(d) < axis && p.dim(i) != 1) outer_varies = true;
    }
    if (!ok)
      return ctx.Error(std::string(name) + " " + ShapeToString(p.shape()) +
                       " does not broadcast to X " + ShapeToString(xs));
    Shape target = outer_varies ? xs : Shape(xs.begin() + axis, xs.end());
    Shape src = p.shape();
    if (!outer_varies && src.size() > target.size())
      src.erase(src.begin(), src.begin() + (src.size() - target.size()));
    const int64_t n = NumElements(target);
    std::vector<float> out(n);
    if (src == target || p.numel() == n) {
      std::memcpy(out.data(), p.data<float>(), n * sizeof(float));
      return out;
    }
    std::vector<std::vector<int64_t>> strides = {BroadcastStrides(src, target)};
    const float* v = p.data<float>();
    ForEachBroadcast(target, strides, 0, n,
                     [&](int64_t i, const std::vector<int64_t>& off) { out[i] = v[off[0]]; });
    return out;
  }

  int64_t axis_;
  float epsilon_;
};

StatusOr<std::unique_ptr<Kernel>> MakeLayerNorm(const KernelInit& init) {
  RETURN_IF_ERROR(NeedInputs(init, 2));
  RETURN_IF_ERROR(CheckFloatInputs(init, 3));
  int64_t stash = init.node.GetInt("stash_type", 1);
  if (stash != 1)
    return init.Unsupported("stash_type " + std::to_string(stash) + " (only 1 = float32)");
  return std::unique_ptr<Kernel>(
      new LayerNormKernel(init.node.GetInt("axis", -1), init.node.GetFloat("epsilon", 1e-5f)));
}

// ------------------------------------------------------------------------- LRN

class LrnKernel : public Kernel {
 public:
  LrnKernel(int64_t size, float alpha, float beta, float bias)
      : size_(size), alpha_(alpha), beta_(beta), bias_(bias) {}

  Status Run(KernelContext& ctx) override {
    RETURN_IF_ERROR(CheckFloatTensors(ctx));
    const Tensor& X = *ctx.input(0);
    if (X.rank() < 2)
      return ctx.Error("X " + ShapeToString(X.shape()) + " must have rank >= 2 (N, C, ...)");
    const int64_t N = X.dim(0), C = X.dim(1);
    const int64_t S = N * C != 0 ? X.numel() / (N * C) : 0;
    ASSIGN_OR_RETURN(Tensor * Y, ctx.Output(0, DataType::kFloat, X.shape()));
    const float* x = X.data<float>();
    float* y = Y->data<float>();
    const int64_t before = (size_ - 1) / 2, after = size_ - 1 - before;
    const float coeff = alpha_ / static_cast<float>(size_);
    ParallelForCost(ctx, N * C, S * size_, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const int64_t n = p / C, c = p % C;
        const int64_t c0 = std::max<int64_t>(0, c - before), c1 = std::min(C - 1, c + after);
        const float* xp = x + p * S;
        float* yp = y + p * S;
        for (int64_t i = 0; i < S; ++i) {
          float sq = 0.f;
          for (int64_t k = c0; k <= c1; ++k) {
            float v = x[(n * C + k) * S + i];
            sq += v * v;
          }
          yp[i] = xp[i] / std::pow(bias_ + coeff * sq, beta_);
        }
      }
    });
    return Status::Ok();
  }

 private:
  int64_t size_;
  float alpha_, beta_, bias_;
};

StatusOr<std::unique_ptr<Kernel>> MakeLrn(const KernelInit& init) {
  RETURN_IF_ERROR(NeedInputs(init, 1));
  RETURN_IF_ERROR(CheckFloatInputs(init, 1));
  const Node& n = init.node;
  if (!n.HasAttribute("size")) return init.Invalid("the size attribute is required");
  int64_t size = n.GetInt("size", 0);
  if (size <= 0) return init.Invalid("size " + std::to_string(size) + " must be positive");
  return std::unique_ptr<Kernel>(new LrnKernel(size, n.GetFloat("alpha", 1e-4f),
                                               n.GetFloat("beta", 0.75f), n.GetFloat("bias", 1.f)));
}

// -------------------------------------------------------------------------
// MeanVarianceNormalization

// y = (x - mean) / (sqrt(var) + 1e-9), statistics over `axes` (as ONNX's function body).
class MvnKernel : public Kernel {
 public:
  explicit MvnKernel(std::vector<int64_t> axes) : axes_(std::move(axes)) {}

  Status Run(KernelContext& ctx) override {
    RETURN_IF_ERROR(CheckFloatTensors(ctx));
    const Tensor& X = *ctx.input(0);
    const int64_t rank = static_cast<int64_t>(X.rank());
    std::vector<bool> reduced(rank, false);
    for (int64_t a : axes_) {
      int64_t d = a < 0 ? a + rank : a;
      if (d < 0 || d >= rank)
        return ctx.Error("axes " + Join(axes_) + " are out of range for X " +
                         ShapeToString(X.shape()));
      reduced[d] = true;
    }
    ASSIGN_OR_RETURN(Tensor * Y, ctx.Output(0, DataType::kFloat, X.shape()));
    const int64_t total = X.numel();
    if (total == 0) return Status::Ok();
    // Group index of each element: its coordinates on the kept axes.
    Shape kept_shape(rank);
    int64_t groups = 1;
    for (int64_t d = 0; d < rank; ++d) {
      kept_shape[d] = reduced[d] ? 1 : X.dim(d);
      groups *= kept_shape[d];
    }
    const int64_t count = total / groups;
    std::vector<std::vector<int64_t>> strides = {BroadcastStrides(kept_shape, X.shape())};
    std::vector<int64_t> group_of(total);
    ForEachBroadcast(X.shape(), strides, 0, total,
                     [&](int64_t i, const std::vector<int64_t>& off) { group_of[i] = off[0]; });
    const float* x = X.data<float>();
    float* y = Y->data<float>();
    std::vector<double> mean(groups, 0.0), sq(groups, 0.0);
    for (int64_t i = 0; i < total; ++i) mean[group_of[i]] += x[i];
    for (double& m : mean) m /= count;
    for (int64_t i = 0; i < total; ++i) {
      double d = x[i] - mean[group_of[i]];
      sq[group_of[i]] += d * d;
    }
    std::vector<float> meanf(groups), denom(groups);
    for (int64_t g = 0; g < groups; ++g) {
      meanf[g] = static_cast<float>(mean[g]);
      denom[g] = static_cast<float>(std::sqrt(sq[g] / count) + 1e-9);
    }
    for (int64_t i = 0; i < total; ++i) y[i] = (x[i] - meanf[group_of[i]]) / denom[group_of[i]];
    return Status::Ok();
  }

 private:
  std::vector<int64_t> axes_;
};

StatusOr<std::unique_ptr<Kernel>> MakeMvn(const KernelInit& init) {
  RETURN_IF_ERROR(NeedInputs(init, 1));
  RETURN_IF_ERROR(CheckFloatInputs(init, 1));
  std::vector<int64_t> axes = init.node.GetInts("axes", {0, 2, 3});
  return std::unique_ptr<Kernel>(new MvnKernel(std::move(axes)));
}

// ------------------------------------------------------------------------- LpNormalization

// y = x / ||x||_p along `axis` (p = 1 or 2); an all-zero vector stays zero.
class LpNormKernel : public Kernel {
 public:
  LpNormKernel(int64_t axis, int64_t p) : axis_(axis), p_(p) {}

  Status Run(KernelContext& ctx) override {
    RETURN_IF_ERROR(CheckFloatTensors(ctx));
    const Tensor& X = *ctx.input(0);
    const int64_t rank = static_cast<int64_t>(X.rank());
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    if (axis < 0 || axis >= rank)
      return ctx.Error("axis " + std::to_string(axis_) + " is out of range for X " +
                       ShapeToString(X.shape()));
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= X.dim(d);
    for (int64_t d = axis + 1; d < rank; ++d) inner *= X.dim(d);
    const int64_t n = X.dim(axis);
    ASSIGN_OR_RETURN(Tensor * Y, ctx.Output(0, DataType::kFloat, X.shape()));
    const float* x = X.data<float>();
    float* y = Y->data<float>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const float* xv = x + o * n * inner + i;
        float* yv = y + o * n * inner + i;
        double norm = 0;
        for (int64_t k = 0; k < n; ++k) {
          double v = xv[k * inner];
          norm += p_ == 1 ? std::fabs(v) : v * v;
        }
        if (p_ == 2) norm = std::sqrt(norm);
        const float nf = static_cast<float>(norm);
        for (int64_t k = 0; k < n; ++k) yv[k * inner] = nf != 0.f ? xv[k * inner] / nf : 0.f;
      }
    }
    return Status::Ok();
  }

 private:
  int64_t axis_, p_;
};

StatusOr<std::unique_ptr<Kernel>> MakeLpNorm(const KernelInit& init) {
  RETURN_IF_ERROR(NeedInputs(init, 1));
  RETURN_IF_ERROR(CheckFloatInputs(init, 1));
  int64_t p = init.node.GetInt("p", 2);
  if (p != 1 && p != 2) return init.Invalid("p " + std::to_string(p) + " must be 1 or 2");
  return std::unique_ptr<Kernel>(new LpNormKernel(init.node.GetInt("axis", -1), p));
}

}  // namespace

// Versions: BatchNormalization 1 and 6 (is_test; consumed_inputs in 1), 7 (spatial, no
// is_test), 9 (no spatial), 14 (training_mode, running stats outputs), 15 (separate parameter
// types) — inference only; InstanceNormalization 1, 6; LayerNormalization 17; LRN 1, 13;
// MeanVarianceNormalization 9, 13; LpNormalization 1.
void RegisterNormalizationKernels(KernelRegistry& r) {
  r.Add("BatchNormalization", 1, 5, MakeBatchNorm);
  r.Add("BatchNormalization", 6, 6, MakeBatchNorm);
  r.Add("BatchNormalization", 7, 8, MakeBatchNorm);
  r.Add("BatchNormalization", 9, 13, MakeBatchNorm);
  r.Add("BatchNormalization", 14, 14, MakeBatchNorm);
  r.Add("BatchNormalization", 15, 1000, MakeBatchNorm);
  r.Add("InstanceNormalization", 1, 5, MakeInstanceNorm);
  r.Add("InstanceNormalization", 6, 1000, MakeInstanceNorm);
  r.Add("LayerNormalization", 17, 1000, MakeLayerNorm);
  r.Add("LRN", 1, 12, MakeLrn);
  r.Add("LRN", 13, 1000, MakeLrn);
  r.Add("MeanVarianceNormalization", 9, 12, MakeMvn);
  r.Add("MeanVarianceNormalization", 13, 1000, MakeMvn);
  r.Add("LpNormalization", 1, 1000, MakeLpNorm);
}

}  // namespace edgefit
