// Kernel family: Resize (opset 10, 11, 13, 18, 19) and Upsample (opset 7, 9).
//
// Every resized axis gets a sampling table: for each output coordinate, `taps` input indices
// (already clamped to the axis, which is ONNX's edge padding) and their weights, plus an
// "outside" flag for tf_crop_and_resize's extrapolation. Interpolation is separable, so:
//   - only the last two axes resized (NCHW, HRNet-style 2x up-sampling): a 2-D loop over rows,
//     parallel over N*C*out_H; nearest is a gather (rows that repeat are copied), linear/cubic
//     interpolate each needed input row horizontally once (cached) and blend rows vertically;
//   - any other set of axes: nearest gathers through per-axis offset tables; linear/cubic run
//     1-D passes along each resized axis in turn (the plain reference path).
// Upsample and Resize-10 use the legacy rules: asymmetric coordinates, and "nearest" takes
// floor(x) when up-sampling an axis and ceil(x) when down-sampling it.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/kernels/families.h"

namespace edgefit {
namespace {

enum class Mode { kNearest, kLinear, kCubic };
enum class Ctm {
  kHalfPixel,
  kHalfPixelSymmetric,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNn,
  kTfCropAndResize,
};
enum class NearestMode { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kLegacy };
enum class Aspect { kStretch, kNotLarger, kNotSmaller };

struct Params {
  Mode mode = Mode::kNearest;
  Ctm ctm = Ctm::kHalfPixel;
  NearestMode nearest = NearestMode::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0.0;
  bool antialias = false;
  Aspect aspect = Aspect::kStretch;
  bool has_axes = false;
  std::vector<int64_t> axes;
  int roi_input = -1, scales_input = -1, sizes_input = -1;
  bool has_scales_attr = false;  // Upsample-7
  std::vector<float> scales_attr;
};

// ------------------------------------------------------------------------- sampling tables

struct AxisMap {
  int64_t in = 1, out = 1;
  int taps = 1;
  std::vector<int64_t> index;    // out * taps, within [0, in)
  std::vector<double> weight;    // out * taps
  std::vector<uint8_t> outside;  // out: tf_crop_and_resize sample outside the input
  bool any_outside = false;
  bool identity = true;
};

double CubicCoeff(double x, double a) {  // Keys' cubic convolution kernel
  x = std::fabs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0.0;
}

// The coordinate in the input of output coordinate j. `scale` is the axis' scale, `out_w` the
// real-valued resized length (scale * in when scales are given), `out` the integer one.
double SourceCoordinate(const Params& p, int64_t j, int64_t in, int64_t out, double scale,
                        double out_w, double roi_start, double roi_end) {
  const double jj = static_cast<double>(j);
  switch (p.ctm) {
    case Ctm::kHalfPixel: return (jj + 0.5) / scale - 0.5;
    case Ctm::kHalfPixelSymmetric: {
      const double adjustment = static_cast<double>(out) / out_w;
      const double center = static_cast<double>(in) / 2;
      return center * (1 - adjustment) + (jj + 0.5) / scale - 0.5;
    }
    case Ctm::kPytorchHalfPixel: return out_w > 1 ? (jj + 0.5) / scale - 0.5 : 0.0;
    case Ctm::kAlignCorners:
      return out_w == 1 ? 0.0 : jj * static_cast<double>(in - 1) / (out_w - 1);
    case Ctm::kAsymmetric: return jj / scale;
    case Ctm::kTfHalfPixelForNn: return (jj + 0.5) / scale;
    case Ctm::kTfCropAndResize:
      return out_w > 1 ? roi_start * static_cast<double>(in - 1) +
                             jj * (roi_end - roi_start) * static_cast<double>(in - 1) / (out_w - 1)
                       : 0.5 * (roi_start + roi_end) * static_cast<double>(in - 1);
  }
  return 0.0;
}

AxisMap BuildAxisMap(const Params& p, int64_t in, int64_t out, double scale, double out_w,
                     double roi_start, double roi_end) {
  AxisMap m;
  m.in = in;
  m.out = out;
  // Antialiasing stretches the linear/cubic filter by 1/scale when down-sampling.
  const bool aa = p.antialias && p.mode != Mode::kNearest && scale < 1;
  int64_t first_tap = 0;  // offset of the first tap from base = ceil(x) - 1
  if (p.mode == Mode::kNearest) {
    m.taps = 1;
  } else if (p.mode == Mode::kLinear) {
    first_tap = aa ? static_cast<int64_t>(std::floor(-1 / scale)) + 1 : 0;
    m.taps = static_cast<int>(2 - 2 * first_tap);
  } else {
    first_tap = aa ? static_cast<int64_t>(std::floor(-2 / scale)) + 1 : -1;
    m.taps = static_cast<int>(2 - 2 * first_tap);
  }
  const int taps = m.taps;
  m.index.assign(static_cast<size_t>(out * taps), 0);
  m.weight.assign(static_cast<size_t>(out * taps), 0.0);
  m.outside.assign(static_cast<size_t>(out), 0);
  std::vector<double> w(static_cast<size_t>(taps));
  const double aa_scale = std::min(scale, 1.0);
  for (int64_t j = 0; j < out; ++j) {
    const double x = SourceCoordinate(p, j, in, out, scale, out_w, roi_start, roi_end);
    int64_t* idx = &m.index[j * taps];
    double* wt = &m.weight[j * taps];
    if (p.ctm == Ctm::kTfCropAndResize && (x < 0 || x > static_cast<double>(in - 1))) {
      m.outside[j] = 1;
      m.any_outside = true;
      continue;
    }
    if (!std::isfinite(x)) {  // degenerate scales; sample the first element
      wt[0] = 1;
      continue;
    }
    // ONNX picks the neighbours left of x first: base = ceil(x) - 1, ratio in (0, 1].
    const double base_f = std::ceil(x) - 1;
    const int64_t base = static_cast<int64_t>(base_f);
    const double ratio = x - base_f;
    if (p.mode == Mode::kNearest) {
      int64_t i;
      switch (p.nearest) {
        case NearestMode::kRoundPreferFloor: i = ratio <= 0.5 ? base : base + 1; break;
        case NearestMode::kRoundPreferCeil: i = ratio < 0.5 ? base : base + 1; break;
        case NearestMode::kFloor: i = ratio == 1 ? base + 1 : base; break;
        case NearestMode::kCeil: i = base + 1; break;
        default:  // legacy (Upsample, Resize-10)
          i = static_cast<int64_t>(scale < 1 ? std::ceil(x) : std::floor(x));
          break;
      }
      idx[0] = i;
      w[0] = 1;
    } else {
      for (int t = 0; t < taps; ++t) idx[t] = base + first_tap + t;
      if (p.mode == Mode::kLinear && !aa) {
        w[0] = 1 - ratio;
        w[1] = ratio;
      } else if (p.mode == Mode::kCubic && !aa) {
        const double a = p.cubic_a;
        w[0] = ((a * (ratio + 1) - 5 * a) * (ratio + 1) + 8 * a) * (ratio + 1) - 4 * a;
        w[1] = ((a + 2) * ratio - (a + 3)) * ratio * ratio + 1;
        w[2] = ((a + 2) * (1 - ratio) - (a + 3)) * (1 - ratio) * (1 - ratio) + 1;
        w[3] = ((a * (2 - ratio) - 5 * a) * (2 - ratio) + 8 * a) * (2 - ratio) - 4 * a;
      } else {
        double sum = 0;
        for (int t = 0; t < taps; ++t) {
          const double arg = (static_cast<double>(first_tap + t) - ratio) * aa_scale;
          w[t] = p.mode == Mode::kLinear ? std::clamp(1 - std::fabs(arg), 0.0, 1.0)
                                         : CubicCoeff(arg, p.cubic_a);
          sum += w[t];
        }
        if (sum != 0)
          for (int t = 0; t < taps; ++t) w[t] /= sum;
      }
      if (p.exclude_outside) {
        double sum = 0;
        for (int t = 0; t < taps; ++t) {
          if (idx[t] < 0 || idx[t] >= in) w[t] = 0;
          sum += w[t];
        }
        if (sum != 0)
          for (int t = 0; t < taps; ++t) w[t] /= sum;
      }
    }
    for (int t = 0; t < taps; ++t) {
      idx[t] = std::clamp<int64_t>(idx[t], 0, in - 1);
      wt[t] = w[t];
    }
  }
  // Identity: same length, every output takes exactly its own element.
  m.identity = in == out && !m.any_outside;
  for (int64_t j = 0; j < out && m.identity; ++j)
    for (int t = 0; t < taps; ++t) {
      const double wv = m.weight[j * taps + t];
      if (wv != 0 && !(wv == 1 && m.index[j * taps + t] == j)) m.identity = false;
    }
  return m;
}

AxisMap IdentityMap(int64_t n) {
  AxisMap m;
  m.in = m.out = n;
  m.taps = 1;
  m.index.resize(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) m.index[j] = j;
  m.weight.assign(static_cast<size_t>(n), 1.0);
  m.outside.assign(static_cast<size_t>(n), 0);
  return m;
}

// ------------------------------------------------------------------------- element types

struct Half {
  uint16_t bits;
};

// How linear/cubic read and write an element: math in float (float, float16) or double.
template <typename T>
struct Sample {
  using Acc = std::conditional_t<std::is_same_v<T, float>, float, double>;
  static Acc Load(T v) { return static_cast<Acc>(v); }
  static T Store(Acc v) {
    if constexpr (std::is_floating_point_v<T>) {
      return static_cast<T>(v);
    } else {  // integers: round half to even, saturate; NaN -> 0
      if (std::isnan(v)) return T(0);
      v = std::nearbyint(v);
      if (v <= static_cast<Acc>(std::numeric_limits<T>::lowest()))
        return std::numeric_limits<T>::lowest();
      if (v >= static_cast<Acc>(std::numeric_limits<T>::max()))
        return std::numeric_limits<T>::max();
      return static_cast<T>(v);
    }
  }
};
template <>
struct Sample<Half> {
  using Acc = float;
  static float Load(Half v) { return HalfToFloat(v.bits); }
  static Half Store(float v) { return Half{FloatToHalf(v)}; }
};

template <typename T>
struct Tag {
  using type = T;
};

bool IsInterpolatable(DataType dt) {
  switch (dt) {
    case DataType::kFloat:
    case DataType::kDouble:
    case DataType::kFloat16:
    case DataType::kInt8:
    case DataType::kUint8:
    case DataType::kInt16:
    case DataType::kUint16:
    case DataType::kInt32:
    case DataType::kUint32:
    case DataType::kInt64:
    case DataType::kUint64: return true;
    default: return false;
  }
}

template <typename Fn>
void VisitInterpolatable(DataType dt, Fn&& fn) {
  switch (dt) {
    case DataType::kFloat: fn(Tag<float>{}); break;
    case DataType::kDouble: fn(Tag<double>{}); break;
    case DataType::kFloat16: fn(Tag<Half>{}); break;
    case DataType::kInt8: fn(Tag<int8_t>{}); break;
    case DataType::kUint8: fn(Tag<uint8_t>{}); break;
    case DataType::kInt16: fn(Tag<int16_t>{}); break;
    case DataType::kUint16: fn(Tag<uint16_t>{}); break;
    case DataType::kInt32: fn(Tag<int32_t>{}); break;
    case DataType::kUint32: fn(Tag<uint32_t>{}); break;
    case DataType::kInt64: fn(Tag<int64_t>{}); break;
    case DataType::kUint64: fn(Tag<uint64_t>{}); break;
    default: break;
  }
}

// Nearest only moves elements: any fixed-size type of 1, 2, 4 or 8 bytes.
bool IsMovable(DataType dt) {
  if (dt == DataType::kString || dt == DataType::kUndefined) return false;
  size_t s = DataTypeSize(dt);
  return s == 1 || s == 2 || s == 4 || s == 8;
}

// The extrapolation value as one element of `dt` (bytes written to `out`).
void EncodeValue(DataType dt, double v, void* out) {
  auto put = [out](auto x) { std::memcpy(out, &x, sizeof(x)); };
  auto sat = [v](auto tag) {
    using T = typename decltype(tag)::type;
    return Sample<T>::Store(static_cast<typename Sample<T>::Acc>(v));
  };
  switch (dt) {
    case DataType::kFloat: put(static_cast<float>(v)); break;
    case DataType::kDouble: put(v); break;
    case DataType::kFloat16: put(FloatToHalf(static_cast<float>(v))); break;
    case DataType::kBfloat16: put(FloatToBfloat16(static_cast<float>(v))); break;
    case DataType::kBool: put(static_cast<uint8_t>(v != 0)); break;
    case DataType::kInt8: put(sat(Tag<int8_t>{})); break;
    case DataType::kUint8: put(sat(Tag<uint8_t>{})); break;
    case DataType::kInt16: put(sat(Tag<int16_t>{})); break;
    case DataType::kUint16: put(sat(Tag<uint16_t>{})); break;
    case DataType::kInt32: put(sat(Tag<int32_t>{})); break;
    case DataType::kUint32: put(sat(Tag<uint32_t>{})); break;
    case DataType::kInt64: put(sat(Tag<int64_t>{})); break;
    case DataType::kUint64: put(sat(Tag<uint64_t>{})); break;
    default: std::memset(out, 0, DataTypeSize(dt)); break;
  }
}

void Parallel(KernelContext& ctx, int64_t n, int64_t work,
              const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (ctx.num_threads() <= 1 || work < (int64_t{1} << 14) || n == 1) {
    fn(0, n);
    return;
  }
  ctx.ParallelFor(n, fn);
}

// ------------------------------------------------------------------------- nearest

// 2-D: y[b, oy, ox] = x[b, ih[oy], iw[ox]]. A row that reads the same input row as the previous
// one is a copy of it.
template <typename E>
void Nearest2D(const E* x, E* y, int64_t batch, const AxisMap& mh, const AxisMap& mw, E extrap,
               KernelContext& ctx) {
  const int64_t ih = mh.in, oh = mh.out, iw = mw.in, ow = mw.out;
  const int64_t* col = mw.index.data();
  const bool cols_outside = mw.any_outside;
  // Columns that repeat each input element `repeat` times (1: a copy; 2: 2x up-sampling with
  // asymmetric/floor and similar) take a gather-free loop; 0 = a general gather.
  int64_t repeat = iw > 0 && ow % iw == 0 ? ow / iw : 0;
  for (int64_t ox = 0; ox < ow && repeat; ++ox)
    if (col[ox] != ox / repeat) repeat = 0;
  Parallel(ctx, batch * oh, batch * oh * ow, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t b = t / oh, oy = t % oh;
      E* dst = y + t * ow;
      if (mh.outside[oy]) {
        std::fill(dst, dst + ow, extrap);
        continue;
      }
      if (t > begin && oy > 0 && !mh.outside[oy - 1] && mh.index[oy] == mh.index[oy - 1]) {
        std::memcpy(dst, dst - ow, static_cast<size_t>(ow) * sizeof(E));
        continue;
      }
      const E* src = x + (b * ih + mh.index[oy]) * iw;
      if (cols_outside) {
        for (int64_t ox = 0; ox < ow; ++ox) dst[ox] = mw.outside[ox] ? extrap : src[col[ox]];
      } else if (repeat == 1) {
        std::memcpy(dst, src, static_cast<size_t>(ow) * sizeof(E));
      } else if (repeat == 2) {
        for (int64_t i = 0; i < iw; ++i) {
          const E v = src[i];
          dst[2 * i] = v;
          dst[2 * i + 1] = v;
        }
      } else if (repeat > 2) {
        for (int64_t i = 0; i < iw; ++i)
          for (int64_t r = 0; r < repeat; ++r) dst[i * repeat + r] = src[i];
      } else {
        for (int64_t ox = 0; ox < ow; ++ox) dst[ox] = src[col[ox]];
      }
    }
  });
}

// N-D: every output row (last axis) gathers through per-axis offset tables.
template <typename E>
void NearestND(const E* x, E* y, const std::vector<AxisMap>& maps, E extrap, KernelContext& ctx) {
  const size_t rank = maps.size();
  std::vector<int64_t> stride(rank, 1);
  for (size_t d = rank; d-- > 1;) stride[d - 1] = stride[d] * maps[d].in;
  std::vector<std::vector<int64_t>> offset(rank);
  for (size_t d = 0; d < rank; ++d) {
    offset[d].resize(static_cast<size_t>(maps[d].out));
    for (int64_t j = 0; j < maps[d].out; ++j) offset[d][j] = maps[d].index[j] * stride[d];
  }
  const AxisMap& last = maps[rank - 1];
  const int64_t ow = last.out;
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < rank; ++d) rows *= maps[d].out;
  Parallel(ctx, rows, rows * ow, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      int64_t base = 0, rem = row;
      bool outside = false;
      for (size_t d = rank - 1; d-- > 0;) {
        const int64_t j = rem % maps[d].out;
        rem /= maps[d].out;
        base += offset[d][j];
        outside = outside || maps[d].outside[j];
      }
      E* dst = y + row * ow;
      if (outside) {
        std::fill(dst, dst + ow, extrap);
        continue;
      }
      const E* src = x + base;
      for (int64_t ox = 0; ox < ow; ++ox)
        dst[ox] = last.outside[ox] ? extrap : src[offset[rank - 1][ox]];
    }
  });
}

template <typename Fn>
void VisitElementSize(size_t size, Fn&& fn) {
  switch (size) {
    case 1: fn(Tag<uint8_t>{}); break;
    case 2: fn(Tag<uint16_t>{}); break;
    case 4: fn(Tag<uint32_t>{}); break;
    case 8: fn(Tag<uint64_t>{}); break;
    default: break;
  }
}

// ------------------------------------------------------------------------- linear / cubic

// 2-D separable: each needed input row is interpolated along W once (kept in a small cache),
// then output rows blend those along H. Rows are processed in order within a thread, so the
// cache (taps_h + 1 rows) holds every row a following output row can reuse.
template <typename T>
void Interpolate2D(const T* x, T* y, int64_t batch, const AxisMap& mh, const AxisMap& mw,
                   double extrapolation, KernelContext& ctx) {
  using S = Sample<T>;
  using Acc = typename S::Acc;
  const int64_t ih = mh.in, oh = mh.out, iw = mw.in, ow = mw.out;
  const int th = mh.taps, tw = mw.taps;
  std::vector<Acc> ww(mw.weight.begin(), mw.weight.end());
  std::vector<Acc> wh(mh.weight.begin(), mh.weight.end());
  const Acc extrap = static_cast<Acc>(extrapolation);
  const T extrap_t = S::Store(extrap);
  Parallel(ctx, batch * oh, batch * oh * ow * (th + tw), [&](int64_t begin, int64_t end) {
    // Least recently used rows are evicted, so the rows of the current output row stay.
    const int slots = th + 1;
    std::vector<Acc> cache(static_cast<size_t>(slots * ow));
    std::vector<int64_t> tag(static_cast<size_t>(slots), -1);
    std::vector<int64_t> last_use(static_cast<size_t>(slots), -1);
    int64_t clock = 0;
    std::vector<Acc> acc(static_cast<size_t>(ow));
    auto row = [&](int64_t b, int64_t iy) -> const Acc* {
      const int64_t key = b * ih + iy;
      ++clock;
      int s = 0;
      for (int k = 0; k < slots; ++k) {
        if (tag[k] == key) {
          last_use[k] = clock;
          return &cache[k * ow];
        }
        if (last_use[k] < last_use[s]) s = k;
      }
      tag[s] = key;
      last_use[s] = clock;
      Acc* h = &cache[s * ow];
      const T* src = x + key * iw;
      const int64_t* ix = mw.index.data();
      const Acc* w = ww.data();
      if (tw == 2) {
        for (int64_t ox = 0; ox < ow; ++ox)
          h[ox] =
              w[2 * ox] * S::Load(src[ix[2 * ox]]) + w[2 * ox + 1] * S::Load(src[ix[2 * ox + 1]]);
      } else if (tw == 4) {
        for (int64_t ox = 0; ox < ow; ++ox) {
          const int64_t* i4 = ix + 4 * ox;
          const Acc* w4 = w + 4 * ox;
          h[ox] = w4[0] * S::Load(src[i4[0]]) + w4[1] * S::Load(src[i4[1]]) +
                  w4[2] * S::Load(src[i4[2]]) + w4[3] * S::Load(src[i4[3]]);
        }
      } else {
        for (int64_t ox = 0; ox < ow; ++ox) {
          Acc v = 0;
          for (int t = 0; t < tw; ++t) v += w[ox * tw + t] * S::Load(src[ix[ox * tw + t]]);
          h[ox] = v;
        }
      }
      return h;
    };
    for (int64_t t = begin; t < end; ++t) {
      const int64_t b = t / oh, oy = t % oh;
      T* dst = y + t * ow;
      if (mh.outside[oy]) {
        std::fill(dst, dst + ow, extrap_t);
        continue;
      }
      if constexpr (std::is_same_v<T, Acc>) {
        if (th == 2 && !mw.any_outside) {  // linear: blend two rows straight into the output
          const Acc w0 = wh[2 * oy], w1 = wh[2 * oy + 1];
          const Acc* h0 = row(b, mh.index[2 * oy]);
          const Acc* h1 = row(b, mh.index[2 * oy + 1]);
          for (int64_t ox = 0; ox < ow; ++ox) dst[ox] = w0 * h0[ox] + w1 * h1[ox];
          continue;
        }
      }
      std::fill(acc.begin(), acc.end(), Acc(0));
      for (int k = 0; k < th; ++k) {
        const Acc w = wh[oy * th + k];
        if (w == 0) continue;
        const Acc* h = row(b, mh.index[oy * th + k]);
        Acc* a = acc.data();
        for (int64_t ox = 0; ox < ow; ++ox) a[ox] += w * h[ox];
      }
      if (mw.any_outside) {
        for (int64_t ox = 0; ox < ow; ++ox) dst[ox] = mw.outside[ox] ? extrap_t : S::Store(acc[ox]);
      } else {
        for (int64_t ox = 0; ox < ow; ++ox) dst[ox] = S::Store(acc[ox]);
      }
    }
  });
}

// One 1-D pass along `axis` of a [outer, in, inner] buffer into [outer, out, inner].
template <typename Acc>
void Interpolate1D(const std::vector<Acc>& src, std::vector<Acc>* dst, int64_t outer, int64_t inner,
                   const AxisMap& m, Acc extrap, KernelContext& ctx) {
  const int taps = m.taps;
  dst->assign(static_cast<size_t>(outer * m.out * inner), Acc(0));
  Acc* out = dst->data();
  const Acc* in = src.data();
  Parallel(ctx, outer * m.out, outer * m.out * inner * taps, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t o = t / m.out, j = t % m.out;
      Acc* d = out + t * inner;
      if (m.outside[j]) {
        std::fill(d, d + inner, extrap);
        continue;
      }
      for (int k = 0; k < taps; ++k) {
        const Acc w = static_cast<Acc>(m.weight[j * taps + k]);
        if (w == 0) continue;
        const Acc* s = in + (o * m.in + m.index[j * taps + k]) * inner;
        for (int64_t i = 0; i < inner; ++i) d[i] += w * s[i];
      }
    }
  });
}

template <typename T>
void InterpolateND(const T* x, T* y, const std::vector<AxisMap>& maps, double extrapolation,
                   KernelContext& ctx) {
  using S = Sample<T>;
  using Acc = typename S::Acc;
  int64_t n = 1;
  for (const AxisMap& m : maps) n *= m.in;
  std::vector<Acc> cur(static_cast<size_t>(n)), next;
  for (int64_t i = 0; i < n; ++i) cur[i] = S::Load(x[i]);
  Shape dims;
  for (const AxisMap& m : maps) dims.push_back(m.in);
  for (size_t a = 0; a < maps.size(); ++a) {
    if (maps[a].identity) continue;
    int64_t outer = 1, inner = 1;
    for (size_t d = 0; d < a; ++d) outer *= dims[d];
    for (size_t d = a + 1; d < dims.size(); ++d) inner *= dims[d];
    Interpolate1D<Acc>(cur, &next, outer, inner, maps[a], static_cast<Acc>(extrapolation), ctx);
    cur.swap(next);
    dims[a] = maps[a].out;
  }
  for (size_t i = 0; i < cur.size(); ++i) y[i] = S::Store(cur[i]);
}

// ------------------------------------------------------------------------- the kernel

class ResizeKernel final : public Kernel {
 public:
  explicit ResizeKernel(Params p) : p_(std::move(p)) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    const int64_t rank = static_cast<int64_t>(x.rank());
    if (p_.mode == Mode::kNearest ? !IsMovable(x.dtype()) : !IsInterpolatable(x.dtype()))
      return ctx.Error(std::string("input type ") + DataTypeName(x.dtype()) +
                       " is not supported by this mode");

    // Axes the scales/sizes/roi refer to.
    std::vector<int64_t> axes;
    if (p_.has_axes) {
      std::vector<bool> seen(static_cast<size_t>(rank), false);
      for (int64_t a : p_.axes) {
        int64_t d = a < 0 ? a + rank : a;
        if (d < 0 || d >= rank || seen[d])
          return ctx.Error("'axes' value " + std::to_string(a) +
                           " is out of range or repeated for rank " + std::to_string(rank));
        seen[d] = true;
        axes.push_back(d);
      }
    } else {
      for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
    }
    const size_t na = axes.size();

    std::vector<double> scales;
    bool have_scales = false;
    if (p_.has_scales_attr) {
      scales.assign(p_.scales_attr.begin(), p_.scales_attr.end());
      have_scales = true;
    } else if (const Tensor* s = ctx.input(p_.scales_input); s && s->numel() > 0) {
      scales = s->ToDoubleVector();
      have_scales = true;
    }
    std::vector<int64_t> sizes;
    bool have_sizes = false;
    if (const Tensor* s = p_.sizes_input >= 0 ? ctx.input(p_.sizes_input) : nullptr;
        s && s->numel() > 0) {
      auto v = s->ToInt64Vector();
      if (!v.ok()) return ctx.Error("'sizes' must be an integer tensor");
      sizes = std::move(v).value();
      have_sizes = true;
    }
    if (have_scales && have_sizes)
      return ctx.Error("only one of 'scales' and 'sizes' may be given");
    if (!have_scales && !have_sizes) return ctx.Error("one of 'scales' and 'sizes' must be given");
    if (have_scales && scales.size() != na)
      return ctx.Error("'scales' has " + std::to_string(scales.size()) + " values, expected " +
                       std::to_string(na) + " (input shape " + ShapeToString(x.shape()) + ")");
    if (have_sizes && sizes.size() != na)
      return ctx.Error("'sizes' has " + std::to_string(sizes.size()) + " values, expected " +
                       std::to_string(na) + " (input shape " + ShapeToString(x.shape()) + ")");

    std::vector<double> roi_start(static_cast<size_t>(rank), 0.0),
        roi_end(static_cast<size_t>(rank), 1.0);
    if (p_.ctm == Ctm::kTfCropAndResize) {
      const Tensor* r = p_.roi_input >= 0 ? ctx.input(p_.roi_input) : nullptr;
      if (!r || r->numel() != static_cast<int64_t>(2 * na))
        return ctx.Error("tf_crop_and_resize needs 'roi' with " + std::to_string(2 * na) +
                         " values, got " + (r ? std::to_string(r->numel()) : std::string("none")));
      std::vector<double> v = r->ToDoubleVector();
      for (size_t i = 0; i < na; ++i) {
        roi_start[axes[i]] = v[i];
        roi_end[axes[i]] = v[na + i];
      }
    }

    // Per axis: scale, integer and real output lengths.
    std::vector<double> scale(static_cast<size_t>(rank), 1.0), out_w(static_cast<size_t>(rank));
    Shape out_shape = x.shape();
    for (int64_t d = 0; d < rank; ++d) out_w[d] = static_cast<double>(x.dim(d));
    if (have_scales) {
      for (size_t i = 0; i < na; ++i) {
        const int64_t d = axes[i];
        if (!(scales[i] > 0) || !std::isfinite(scales[i]))
          return ctx.Error("scale " + std::to_string(scales[i]) + " for axis " + std::to_string(d) +
                           " must be a positive number");
        scale[d] = scales[i];
        out_w[d] = static_cast<double>(x.dim(d)) * scales[i];
        out_shape[d] = static_cast<int64_t>(std::floor(out_w[d]));
      }
    } else {
      for (size_t i = 0; i < na; ++i)
        if (sizes[i] < 0)
          return ctx.Error("size " + std::to_string(sizes[i]) + " for axis " +
                           std::to_string(axes[i]) + " is negative");
      if (p_.aspect == Aspect::kStretch) {
        for (size_t i = 0; i < na; ++i) {
          const int64_t d = axes[i];
          out_shape[d] = sizes[i];
          out_w[d] = static_cast<double>(sizes[i]);
          scale[d] = x.dim(d) ? static_cast<double>(sizes[i]) / static_cast<double>(x.dim(d)) : 1.0;
        }
      } else {
        double s = p_.aspect == Aspect::kNotLarger ? std::numeric_limits<double>::infinity() : 0.0;
        for (size_t i = 0; i < na; ++i) {
          const int64_t d = axes[i];
          if (x.dim(d) == 0) continue;
          const double r = static_cast<double>(sizes[i]) / static_cast<double>(x.dim(d));
          s = p_.aspect == Aspect::kNotLarger ? std::min(s, r) : std::max(s, r);
        }
        if (!std::isfinite(s) || s <= 0) s = 1.0;
        for (size_t i = 0; i < na; ++i) {
          const int64_t d = axes[i];
          scale[d] = s;
          out_w[d] = s * static_cast<double>(x.dim(d));
          out_shape[d] = static_cast<int64_t>(out_w[d] + 0.5);  // round half up
        }
      }
    }
    for (int64_t d = 0; d < rank; ++d)
      if (x.dim(d) == 0 && out_shape[d] > 0)
        return ctx.Error("cannot resize axis " + std::to_string(d) + " of length 0 to " +
                         std::to_string(out_shape[d]));

    std::vector<AxisMap> maps;
    bool all_identity = true;
    for (int64_t d = 0; d < rank; ++d) {
      maps.push_back(
          BuildAxisMap(p_, x.dim(d), out_shape[d], scale[d], out_w[d], roi_start[d], roi_end[d]));
      all_identity = all_identity && maps.back().identity;
    }
    if (all_identity) return ctx.OutputView(0, 0, out_shape);
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, x.dtype(), out_shape));
    if (y->numel() == 0) return Status::Ok();

    // 2-D path when every resized axis is one of the last two.
    int64_t first_resized = rank;
    for (int64_t d = 0; d < rank && first_resized == rank; ++d)
      if (!maps[d].identity) first_resized = d;
    const bool two_d = first_resized >= rank - 2;
    int64_t batch = 1;
    for (int64_t d = 0; d < rank - 2; ++d) batch *= x.dim(d);
    const AxisMap h_map = rank >= 2 ? maps[rank - 2] : IdentityMap(1);
    const AxisMap& w_map = maps[rank - 1];

    if (p_.mode == Mode::kNearest) {
      uint64_t extrap_bits = 0;
      EncodeValue(x.dtype(), p_.extrapolation, &extrap_bits);
      VisitElementSize(DataTypeSize(x.dtype()), [&](auto tag) {
        using E = typename decltype(tag)::type;
        E extrap;
        std::memcpy(&extrap, &extrap_bits, sizeof(E));
        if (two_d)
          Nearest2D<E>(x.data<E>(), y->data<E>(), batch, h_map, w_map, extrap, ctx);
        else
          NearestND<E>(x.data<E>(), y->data<E>(), maps, extrap, ctx);
      });
      return Status::Ok();
    }
    VisitInterpolatable(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (two_d)
        Interpolate2D<T>(x.data<T>(), y->data<T>(), batch, h_map, w_map, p_.extrapolation, ctx);
      else
        InterpolateND<T>(x.data<T>(), y->data<T>(), maps, p_.extrapolation, ctx);
    });
    return Status::Ok();
  }

 private:
  Params p_;
};

// Parses the attributes shared by Resize-10 and Upsample.
Status ParseLegacyMode(const KernelInit& init, Params* p) {
  const std::string mode = init.node.GetString("mode", "nearest");
  if (mode == "nearest")
    p->mode = Mode::kNearest;
  else if (mode == "linear")
    p->mode = Mode::kLinear;
  else
    return init.Invalid("mode '" + mode + "' is not one of nearest, linear");
  p->ctm = Ctm::kAsymmetric;
  p->nearest = NearestMode::kLegacy;
  return Status::Ok();
}

Status CheckInputType(const KernelInit& init, const Params& p) {
  if (!init.has_input(0)) return init.Invalid("input 'X' is missing");
  const DataType dt = init.input_types[0]->elem_type;
  if (dt == DataType::kUndefined) return Status::Ok();
  if (p.mode == Mode::kNearest ? !IsMovable(dt) : !IsInterpolatable(dt))
    return init.Unsupported(std::string("input type ") + DataTypeName(dt) + " is not supported" +
                            (p.mode == Mode::kNearest ? "" : " by linear/cubic interpolation"));
  return Status::Ok();
}

// Build-time checks of constant scales/sizes.
Status CheckConstantScalesSizes(const KernelInit& init, const Params& p) {
  const Tensor* scales = p.scales_input >= 0 ? init.constant(p.scales_input) : nullptr;
  const Tensor* sizes = p.sizes_input >= 0 ? init.constant(p.sizes_input) : nullptr;
  if (scales) {
    if (scales->dtype() != DataType::kFloat) return init.Invalid("'scales' must be float32");
    for (double s : scales->ToDoubleVector())
      if (!(s > 0) || !std::isfinite(s))
        return init.Invalid("scale " + std::to_string(s) + " must be a positive number");
  }
  if (sizes) {
    auto v = sizes->ToInt64Vector();
    if (!v.ok()) return init.Invalid("'sizes' must be int64");
    for (int64_t s : *v)
      if (s < 0) return init.Invalid("size " + std::to_string(s) + " is negative");
  }
  if (scales && sizes && scales->numel() > 0 && sizes->numel() > 0)
    return init.Invalid("only one of 'scales' and 'sizes' may be given");
  return Status::Ok();
}

StatusOr<std::unique_ptr<Kernel>> MakeResize(const KernelInit& init) {
  Params p;
  if (init.opset < 11) {
    RETURN_IF_ERROR(ParseLegacyMode(init, &p));
    if (!init.has_input(1)) return init.Invalid("input 'scales' is missing");
    p.scales_input = 1;
  } else {
    const std::string mode = init.node.GetString("mode", "nearest");
    if (mode == "nearest")
      p.mode = Mode::kNearest;
    else if (mode == "linear")
      p.mode = Mode::kLinear;
    else if (mode == "cubic")
      p.mode = Mode::kCubic;
    else
      return init.Invalid("mode '" + mode + "' is not one of nearest, linear, cubic");

    const std::string ctm = init.node.GetString("coordinate_transformation_mode", "half_pixel");
    if (ctm == "half_pixel")
      p.ctm = Ctm::kHalfPixel;
    else if (ctm == "half_pixel_symmetric" && init.opset >= 19)
      p.ctm = Ctm::kHalfPixelSymmetric;
    else if (ctm == "pytorch_half_pixel")
      p.ctm = Ctm::kPytorchHalfPixel;
    else if (ctm == "align_corners")
      p.ctm = Ctm::kAlignCorners;
    else if (ctm == "asymmetric")
      p.ctm = Ctm::kAsymmetric;
    else if (ctm == "tf_half_pixel_for_nn")
      p.ctm = Ctm::kTfHalfPixelForNn;  // opset 11 (kept later)
    else if (ctm == "tf_crop_and_resize")
      p.ctm = Ctm::kTfCropAndResize;
    else
      return init.Invalid("coordinate_transformation_mode '" + ctm +
                          "' is not valid at this opset");

    const std::string nm = init.node.GetString("nearest_mode", "round_prefer_floor");
    if (nm == "round_prefer_floor")
      p.nearest = NearestMode::kRoundPreferFloor;
    else if (nm == "round_prefer_ceil")
      p.nearest = NearestMode::kRoundPreferCeil;
    else if (nm == "floor")
      p.nearest = NearestMode::kFloor;
    else if (nm == "ceil")
      p.nearest = NearestMode::kCeil;
    else
      return init.Invalid("nearest_mode '" + nm + "' is not valid");

    p.cubic_a = init.node.GetFloat("cubic_coeff_a", -0.75f);
    p.exclude_outside = init.node.GetInt("exclude_outside", 0) != 0;
    p.extrapolation = init.node.GetFloat("extrapolation_value", 0.0f);
    p.roi_input = 1;
    p.scales_input = 2;
    p.sizes_input = 3;
    if (init.opset >= 18) {
      p.antialias = init.node.GetInt("antialias", 0) != 0;
      if (const Attribute* a = init.node.FindAttribute("axes")) {
        p.has_axes = true;
        p.axes = a->ints;
      }
      const std::string policy = init.node.GetString("keep_aspect_ratio_policy", "stretch");
      if (policy == "stretch")
        p.aspect = Aspect::kStretch;
      else if (policy == "not_larger")
        p.aspect = Aspect::kNotLarger;
      else if (policy == "not_smaller")
        p.aspect = Aspect::kNotSmaller;
      else
        return init.Invalid("keep_aspect_ratio_policy '" + policy + "' is not valid");
    }
    if (init.opset == 11 && !init.has_input(2))
      return init.Invalid("input 'scales' is required at opset 11 (may be empty)");
  }
  RETURN_IF_ERROR(CheckInputType(init, p));
  RETURN_IF_ERROR(CheckConstantScalesSizes(init, p));
  if (p.has_axes && init.has_input(0) && init.input_types[0]->rank() >= 0) {
    const int64_t rank = init.input_types[0]->rank();
    std::vector<bool> seen(static_cast<size_t>(rank), false);
    for (int64_t a : p.axes) {
      int64_t d = a < 0 ? a + rank : a;
      if (d < 0 || d >= rank || seen[d])
        return init.Invalid("'axes' value " + std::to_string(a) +
                            " is out of range or repeated for rank " + std::to_string(rank));
      seen[d] = true;
    }
  }
  return std::unique_ptr<Kernel>(new ResizeKernel(std::move(p)));
}

StatusOr<std::unique_ptr<Kernel>> MakeUpsample(const KernelInit& init) {
  Params p;
  RETURN_IF_ERROR(ParseLegacyMode(init, &p));
  if (init.opset < 9) {
    const Attribute* a = init.node.FindAttribute("scales");
    if (!a || a->type != AttrType::kFloats) return init.Invalid("attribute 'scales' is required");
    for (float s : a->floats)
      if (!(s > 0) || !std::isfinite(s))
        return init.Invalid("scale " + std::to_string(s) + " must be a positive number");
    p.has_scales_attr = true;
    p.scales_attr = a->floats;
  } else {
    if (!init.has_input(1)) return init.Invalid("input 'scales' is missing");
    p.scales_input = 1;
  }
  RETURN_IF_ERROR(CheckInputType(init, p));
  RETURN_IF_ERROR(CheckConstantScalesSizes(init, p));
  return std::unique_ptr<Kernel>(new ResizeKernel(std::move(p)));
}

}  // namespace

void RegisterResizeKernels(KernelRegistry& r) {
  r.Add("Resize", 10, 1000, MakeResize);
  // Upsample is deprecated from opset 10 (models importing 10+ must use Resize).
  r.Add("Upsample", 7, 9, MakeUpsample);
}

}  // namespace edgefit
