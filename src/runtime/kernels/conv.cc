// Kernel family: Conv and ConvTranspose (float32, any number of spatial axes).
//
// Conv picks one of three paths per node and run:
//   - depthwise (one input channel per group, 1-D/2-D; the MobileNet case): per output plane,
//     the input plane is copied into a zero-padded buffer and blocks of 16 (then 8) output
//     columns accumulate every tap in vector registers;
//   - tiny (few multiply-adds per image and group) and N-D depthwise: a plain direct loop;
//   - otherwise im2col into ctx.Scratch (skipped for 1x1 stride-1 unpadded kernels, where the
//     input already is the column matrix) and blas::Sgemm per image, group and column tile, with
//     the bias written into the output first (beta = 1).
// A Relu/Clip the session fused into the node (ctx.activation()) clamps each part of the output
// right after it is written (GEMM tile, depthwise plane), while it is still in cache.
// Threads (one pool, see gemm_impl.h): whole (image, group) items per thread when there are
// enough, else column tiles of one item (im2col + Sgemm of a tile on one thread), else the
// output channels of one product.
// ConvTranspose is the adjoint: Sgemm W^T * X into a column buffer, then col2im adds the columns
// into the output (initialized with the bias).
// Hot loops are compiled for AVX-512/AVX2 as well (EDGEFIT_VECTORIZE) and use GCC vector types.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/blas.h"
#include "runtime/kernels/conv_impl.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/gemm_impl.h"
#include "runtime/kernels/packed_gemm.h"

namespace edgefit {

// ------------------------------------------------------------------------- spatial helpers

namespace spatial {

std::string Join(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

StatusOr<Attrs> ParseAttrs(const KernelInit& init, bool kernel_required) {
  Attrs a;
  const Node& n = init.node;
  std::string pad = n.GetString("auto_pad", "NOTSET");
  if (pad == "NOTSET" || pad.empty())
    a.auto_pad = AutoPad::kNotSet;
  else if (pad == "SAME_UPPER")
    a.auto_pad = AutoPad::kSameUpper;
  else if (pad == "SAME_LOWER")
    a.auto_pad = AutoPad::kSameLower;
  else if (pad == "VALID")
    a.auto_pad = AutoPad::kValid;
  else
    return init.Invalid("auto_pad '" + pad + "' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID");
  a.kernel_shape = n.GetInts("kernel_shape");
  a.strides = n.GetInts("strides");
  a.dilations = n.GetInts("dilations");
  a.pads = n.GetInts("pads");
  if (kernel_required && a.kernel_shape.empty())
    return init.Invalid("the kernel_shape attribute is required");
  for (int64_t k : a.kernel_shape)
    if (k <= 0) return init.Invalid("kernel_shape " + Join(a.kernel_shape) + " must be positive");
  for (int64_t s : a.strides)
    if (s <= 0) return init.Invalid("strides " + Join(a.strides) + " must be positive");
  for (int64_t d : a.dilations)
    if (d <= 0) return init.Invalid("dilations " + Join(a.dilations) + " must be positive");
  for (int64_t p : a.pads)
    if (p < 0) return init.Unsupported("negative pads " + Join(a.pads));
  if (a.pads.size() % 2) return init.Invalid("pads " + Join(a.pads) + " must have an even length");
  // Lengths must agree with each other (and with kernel_shape when given).
  size_t rank = a.kernel_shape.size();
  auto check = [&](const std::vector<int64_t>& v, size_t per_axis, const char* name) -> Status {
    if (v.empty()) return Status::Ok();
    if (rank == 0) rank = v.size() / per_axis;
    if (v.size() != rank * per_axis)
      return init.Invalid(std::string(name) + " " + Join(v) + " does not match " +
                          std::to_string(rank) + " spatial axes");
    return Status::Ok();
  };
  RETURN_IF_ERROR(check(a.strides, 1, "strides"));
  RETURN_IF_ERROR(check(a.dilations, 1, "dilations"));
  RETURN_IF_ERROR(check(a.pads, 2, "pads"));
  return a;
}

int64_t Geometry::in_size() const {
  int64_t n = 1;
  for (int64_t v : in) n *= v;
  return n;
}
int64_t Geometry::out_size() const {
  int64_t n = 1;
  for (int64_t v : out) n *= v;
  return n;
}
int64_t Geometry::kernel_size() const {
  int64_t n = 1;
  for (int64_t v : kernel) n *= v;
  return n;
}

StatusOr<Geometry> ForwardGeometry(const Attrs& a, const std::vector<int64_t>& in,
                                   const std::vector<int64_t>& kernel) {
  Geometry g;
  g.rank = in.size();
  const size_t r = g.rank;
  if (kernel.size() != r)
    return InvalidArgument("kernel " + Join(kernel) + " does not match the input's " +
                           std::to_string(r) + " spatial axes " + Join(in));
  auto sized = [&](const std::vector<int64_t>& v, size_t n, const char* name) -> Status {
    if (!v.empty() && v.size() != n)
      return InvalidArgument(std::string(name) + " " + Join(v) + " does not match the input's " +
                             std::to_string(r) + " spatial axes " + Join(in));
    return Status::Ok();
  };
  RETURN_IF_ERROR(sized(a.kernel_shape, r, "kernel_shape"));
  RETURN_IF_ERROR(sized(a.strides, r, "strides"));
  RETURN_IF_ERROR(sized(a.dilations, r, "dilations"));
  RETURN_IF_ERROR(sized(a.pads, 2 * r, "pads"));
  g.in = in;
  g.kernel = kernel;
  g.stride = a.strides.empty() ? std::vector<int64_t>(r, 1) : a.strides;
  g.dilation = a.dilations.empty() ? std::vector<int64_t>(r, 1) : a.dilations;
  g.pad_begin.assign(r, 0);
  g.pad_end.assign(r, 0);
  g.out.assign(r, 0);
  for (size_t i = 0; i < r; ++i) {
    const int64_t s = g.stride[i], eff = g.effective_kernel(i);
    if (a.auto_pad == AutoPad::kSameUpper || a.auto_pad == AutoPad::kSameLower) {
      g.out[i] = (in[i] + s - 1) / s;
      int64_t total = std::max<int64_t>(0, (g.out[i] - 1) * s + eff - in[i]);
      int64_t small = total / 2, big = total - small;
      g.pad_begin[i] = a.auto_pad == AutoPad::kSameUpper ? small : big;
      g.pad_end[i] = a.auto_pad == AutoPad::kSameUpper ? big : small;
      continue;
    }
    if (a.auto_pad == AutoPad::kNotSet && !a.pads.empty()) {
      g.pad_begin[i] = a.pads[i];
      g.pad_end[i] = a.pads[i + r];
    }
    int64_t avail = in[i] + g.pad_begin[i] + g.pad_end[i] - eff;
    if (avail < 0)
      return InvalidArgument("spatial axis " + std::to_string(i) + " of size " +
                             std::to_string(in[i]) + " (pads " + std::to_string(g.pad_begin[i]) +
                             "+" + std::to_string(g.pad_end[i]) + ") is smaller than the kernel (" +
                             std::to_string(eff) + " with dilation)");
    if (a.ceil_mode) {
      g.out[i] = (avail + s - 1) / s + 1;
      // A last window that would start in the end padding is dropped.
      if ((g.out[i] - 1) * s >= in[i] + g.pad_begin[i]) --g.out[i];
    } else {
      g.out[i] = avail / s + 1;
    }
  }
  return g;
}

}  // namespace spatial

PlaneWindow PlaneWindowOf(const spatial::Geometry& g) {
  const bool one_d = g.rank == 1;
  const size_t l = g.rank - 1;
  PlaneWindow w;
  w.H = one_d ? 1 : g.in[0];
  w.W = g.in[l];
  w.OH = one_d ? 1 : g.out[0];
  w.OW = g.out[l];
  w.KH = one_d ? 1 : g.kernel[0];
  w.KW = g.kernel[l];
  w.SH = one_d ? 1 : g.stride[0];
  w.SW = g.stride[l];
  w.DH = one_d ? 1 : g.dilation[0];
  w.DW = g.dilation[l];
  w.PH = one_d ? 0 : g.pad_begin[0];
  w.PW = g.pad_begin[l];
  return w;
}

namespace {

using spatial::AutoPad;
using spatial::Geometry;
using spatial::Join;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

// The range [lo, hi) of j in [0, count) for which (pos0 + j) * stride + offset is in [0, size).
void ValidRange(int64_t pos0, int64_t count, int64_t stride, int64_t offset, int64_t size,
                int64_t* lo, int64_t* hi) {
  *lo = std::max<int64_t>(0, CeilDiv(-offset, stride) - pos0);
  *hi = std::min<int64_t>(count, FloorDiv(size - 1 - offset, stride) - pos0 + 1);
  if (*hi < *lo) *hi = *lo;
}

Status CheckFloatInputs(const KernelInit& init, std::initializer_list<size_t> inputs) {
  for (size_t i : inputs) {
    if (!init.has_input(i)) continue;
    DataType t = init.input_types[i]->elem_type;
    if (t != DataType::kUndefined && t != DataType::kFloat)
      return init.Unsupported(std::string("input ") + std::to_string(i) + " of type " +
                              DataTypeName(t) + " (only float32 is implemented)");
  }
  return Status::Ok();
}

Status CheckFloatTensors(const KernelContext& ctx, std::initializer_list<size_t> inputs) {
  for (size_t i : inputs) {
    const Tensor* t = ctx.input(i);
    if (t && t->dtype() != DataType::kFloat)
      return Unsupported(ctx.node_description() + ": input " + std::to_string(i) + " of type " +
                         DataTypeName(t->dtype()) + " (only float32 is implemented)");
  }
  return Status::Ok();
}

// ------------------------------------------------------------------------- im2col / col2im
//
// Both work on one image and group: `image` is [channels, g.in...], and the columns are the
// output positions [s0, s0 + count) of the grid g.out (row r = (channel, kernel tap) of the
// column matrix holds `count` entries). Image coordinate = position * stride - pad + tap *
// dilation.

// Calls line(channel, tap coords, image line offset or -1 when out of range, pos along the last
// axis, count along it, column offset) for every row and run of positions along the last axis.
template <typename LineFn>
void ForEachLine(const Geometry& g, int64_t row, int64_t s0, int64_t count,
                 std::vector<int64_t>& tap, std::vector<int64_t>& pos, LineFn&& line) {
  const size_t r = g.rank;
  const size_t last = r - 1;
  int64_t k = row % g.kernel_size();
  for (size_t d = r; d-- > 0;) {
    tap[d] = k % g.kernel[d];
    k /= g.kernel[d];
  }
  int64_t rem = s0;
  for (size_t d = r; d-- > 0;) {
    pos[d] = rem % g.out[d];
    rem /= g.out[d];
  }
  int64_t done = 0;
  while (done < count) {
    int64_t n = std::min(g.out[last] - pos[last], count - done);
    int64_t base = 0;
    bool inside = true;
    for (size_t d = 0; d < last; ++d) {
      int64_t i = pos[d] * g.stride[d] - g.pad_begin[d] + tap[d] * g.dilation[d];
      if (i < 0 || i >= g.in[d]) {
        inside = false;
        break;
      }
      base = base * g.in[d] + i;
    }
    line(inside ? base * g.in[last] : -1, pos[last], n, done);
    done += n;
    pos[last] = 0;
    for (size_t d = last; d-- > 0;) {
      if (++pos[d] < g.out[d]) break;
      pos[d] = 0;
    }
  }
}

// 1-D/2-D geometry (1-D as H = 1) for im2col.
struct Im2ColGeometry : PlaneWindow {
  int64_t rows, wp;  // the zero-padded plane: rows x wp, pad[r][c] = x[r - PH][c - PW]
};

Im2ColGeometry MakeIm2ColGeometry(const Geometry& g) {
  Im2ColGeometry m;
  static_cast<PlaneWindow&>(m) = PlaneWindowOf(g);
  m.rows = (m.OH - 1) * m.SH + (m.KH - 1) * m.DH + 1;
  m.wp = (m.OW - 1) * m.SW + (m.KW - 1) * m.DW + 1;
  return m;
}

// The KH * KW column-matrix rows of one input channel plane `src`, output positions
// [s0, s0 + count): the plane is copied into the zero-padded `pad` first, so the row copies need
// no bounds checks. Stride-1 row copies move whole blocks of 8 floats (narrow outputs such as
// 6 or 12 columns would otherwise run scalar loop tails): a block's extra floats land where the
// next row or tap is written afterwards, so they are only used while that stays inside this
// channel's rows (`dst` to dst + taps * count); `pad` must have 8 floats of slack at its end.
EDGEFIT_INLINE_COPIES EDGEFIT_VECTORIZE void Im2ColChannel2D(const float* __restrict src,
                                                             const Im2ColGeometry& g, int64_t s0,
                                                             int64_t count, float* __restrict dst,
                                                             float* __restrict pad) {
  for (int64_t r = 0; r < g.rows; ++r) {
    float* row = pad + r * g.wp;
    const int64_t ih = r - g.PH;
    if (ih < 0 || ih >= g.H) {
      std::fill(row, row + g.wp, 0.f);
      continue;
    }
    const int64_t c0 = std::min(g.wp, std::max<int64_t>(0, g.PW));
    const int64_t c1 = std::max(c0, std::min(g.wp, g.PW + g.W));
    const float* in = src + ih * g.W - g.PW;
    for (int64_t c = 0; c < c0; ++c) row[c] = 0.f;
    for (int64_t c = c0; c < c1; ++c) row[c] = in[c];
    for (int64_t c = c1; c < g.wp; ++c) row[c] = 0.f;
  }
  const int64_t oh_first = s0 / g.OW, ow_first = s0 % g.OW;
  const float* const dst_end = dst + g.KH * g.KW * count;
  for (int64_t kh = 0; kh < g.KH; ++kh) {
    for (int64_t kw = 0; kw < g.KW; ++kw, dst += count) {
      int64_t oh = oh_first, ow0 = ow_first;
      for (int64_t done = 0; done < count; ++oh, ow0 = 0) {
        const int64_t n = std::min(g.OW - ow0, count - done);
        const float* in = pad + (oh * g.SH + kh * g.DH) * g.wp + kw * g.DW + ow0 * g.SW;
        float* out = dst + done;
        if (g.SW == 1) {
          const int64_t blocks = (n + 7) / 8;
          if (out + blocks * 8 <= dst_end) {
            for (int64_t b = 0; b < blocks; ++b)
              std::memcpy(out + 8 * b, in + 8 * b, 8 * sizeof(float));
          } else {
            for (int64_t j = 0; j < n; ++j) out[j] = in[j];
          }
        } else if (g.SW == 2) {
          for (int64_t j = 0; j < n; ++j) out[j] = in[2 * j];
        } else {
          for (int64_t j = 0; j < n; ++j) out[j] = in[j * g.SW];
        }
        done += n;
      }
    }
  }
}

void Im2Col(const float* image, int64_t channels, const Geometry& g, int64_t s0, int64_t count,
            float* col, KernelContext& ctx, bool parallel) {
  const int64_t taps = g.kernel_size(), in_size = g.in_size();
  const size_t last = g.rank - 1;
  if (g.rank <= 2) {
    const Im2ColGeometry m = MakeIm2ColGeometry(g);
    ParallelForCost(ctx, channels, parallel ? taps * count : 0, [&](int64_t begin, int64_t end) {
      thread_local std::vector<float> pad;
      pad.resize(m.rows * m.wp + 8);  // + 8: slack for the 8-float blocks
      for (int64_t c = begin; c < end; ++c)
        Im2ColChannel2D(image + c * in_size, m, s0, count, col + c * taps * count, pad.data());
    });
    return;
  }
  const int64_t width = g.in[last], stride = g.stride[last];
  ParallelForCost(ctx, channels * taps, parallel ? count : 0, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> tap(g.rank), pos(g.rank);
    for (int64_t row = begin; row < end; ++row) {
      const float* src = image + (row / taps) * in_size;
      float* dst = col + row * count;
      ForEachLine(g, row, s0, count, tap, pos,
                  [&](int64_t line, int64_t p0, int64_t n, int64_t at) {
                    float* out = dst + at;
                    if (line < 0) {
                      std::fill(out, out + n, 0.f);
                      return;
                    }
                    const float* in = src + line;
                    const int64_t off = tap[last] * g.dilation[last] - g.pad_begin[last];
                    int64_t lo, hi;
                    ValidRange(p0, n, stride, off, width, &lo, &hi);
                    std::fill(out, out + lo, 0.f);
                    if (stride == 1) {
                      std::memcpy(out + lo, in + p0 + lo + off, (hi - lo) * sizeof(float));
                    } else {
                      for (int64_t j = lo; j < hi; ++j) out[j] = in[(p0 + j) * stride + off];
                    }
                    std::fill(out + hi, out + n, 0.f);
                  });
    }
  });
}

// The adjoint: image[channel][coord] += col[row][position]. Parallel over channels (each
// channel's rows write only that channel's plane).
void Col2Im(const float* col, int64_t channels, const Geometry& g, int64_t s0, int64_t count,
            float* image, KernelContext& ctx) {
  const int64_t taps = g.kernel_size(), in_size = g.in_size();
  const size_t last = g.rank - 1;
  const int64_t width = g.in[last], stride = g.stride[last];
  ParallelForCost(ctx, channels, taps * count, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> tap(g.rank), pos(g.rank);
    for (int64_t c = begin; c < end; ++c) {
      float* plane = image + c * in_size;
      for (int64_t row = c * taps; row < (c + 1) * taps; ++row) {
        const float* src = col + row * count;
        ForEachLine(g, row, s0, count, tap, pos,
                    [&](int64_t line, int64_t p0, int64_t n, int64_t at) {
                      if (line < 0) return;
                      float* out = plane + line;
                      const float* in = src + at;
                      const int64_t off = tap[last] * g.dilation[last] - g.pad_begin[last];
                      int64_t lo, hi;
                      ValidRange(p0, n, stride, off, width, &lo, &hi);
                      for (int64_t j = lo; j < hi; ++j) out[(p0 + j) * stride + off] += in[j];
                    });
      }
    }
  });
}

// ------------------------------------------------------------------------- direct loops

// Any conv, as a plain loop over output elements (for tiny convs and N-D depthwise).
void DirectConv(const float* x, const float* w, const float* bias, float* y, int64_t batch,
                int64_t C, int64_t M, int64_t group, const Geometry& g, const FusedActivation& act,
                KernelContext& ctx) {
  const int64_t cg = C / group, mg = M / group, taps = g.kernel_size();
  const int64_t in_size = g.in_size(), out_size = g.out_size();
  const size_t r = g.rank;
  ParallelForCost(ctx, batch * M, out_size * cg * taps, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> pos(r), tap(r);
    // Per tap: image offset relative to the window origin, and per-axis tap offsets.
    for (int64_t p = begin; p < end; ++p) {
      const int64_t n = p / M, m = p % M, gi = m / mg;
      const float* xg = x + (n * C + gi * cg) * in_size;
      const float* wm = w + m * cg * taps;
      float* yp = y + p * out_size;
      std::fill(pos.begin(), pos.end(), 0);
      for (int64_t s = 0; s < out_size; ++s) {
        float sum = bias ? bias[m] : 0.f;
        std::fill(tap.begin(), tap.end(), 0);
        for (int64_t t = 0; t < taps; ++t) {
          int64_t off = 0;
          bool inside = true;
          for (size_t d = 0; d < r; ++d) {
            int64_t i = pos[d] * g.stride[d] - g.pad_begin[d] + tap[d] * g.dilation[d];
            if (i < 0 || i >= g.in[d]) {
              inside = false;
              break;
            }
            off = off * g.in[d] + i;
          }
          if (inside)
            for (int64_t c = 0; c < cg; ++c) sum += xg[c * in_size + off] * wm[c * taps + t];
          for (size_t d = r; d-- > 0;) {
            if (++tap[d] < g.kernel[d]) break;
            tap[d] = 0;
          }
        }
        yp[s] = sum;
        for (size_t d = r; d-- > 0;) {
          if (++pos[d] < g.out[d]) break;
          pos[d] = 0;
        }
      }
      act.Apply(yp, out_size);
    }
  });
}

// p[i] = clamp(p[i] + bias, lo, hi) (lo/hi = -+inf: no clamp), as ClampFloats: NaN stays NaN.
EDGEFIT_VECTORIZE void AddBiasAndClamp(float* __restrict p, int64_t n, float bias, float lo,
                                       float hi) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = p[i] + bias;
    p[i] = v < lo ? lo : (v > hi ? hi : v);
  }
}

// Whether PackedGemm (weights packed once, bias and activation applied in the kernel) should
// replace blas::Sgemm for an (M x K) * (K x N) conv product. Measured per node with
// executor_bench --profile (1 thread, AVX-512) on mobilenet_v2, resnet18 and ResNet-50-shaped
// single 1x1 convs: for pointwise convs it is 0.65-0.95x the Sgemm path (OpenBLAS packs both
// factors on every call, and writes the output three times: zeroed, accumulated, then bias and
// activation) except for deep reductions that narrow the channels (M < K, K > 256: up to 1.1x,
// where OpenBLAS's deeper blocking wins); on im2col products it wins only for small depths
// (K < 32: a first conv on 3 channels, 0.9x) and loses ~4% on 3x3 convs of 64+ channels.
bool PackedGemmPays(int64_t M, int64_t K, bool im2col) {
  return im2col ? K < 32 : (M >= K || K <= 256);
}

// Columns per im2col tile: keep a column buffer around 1 MB (cache-resident for the Sgemm that
// follows), with at least 64 columns. `out_rows`: rows of the output tile the Sgemm writes; with
// it, the output tile stays around 256 KB, so that the bias written first, the Sgemm and a fused
// activation work on cached memory (pointwise convs have no column buffer but large outputs).
int64_t ColumnTile(int64_t rows, int64_t columns, int64_t out_rows = 0) {
  constexpr int64_t kBudget = int64_t{1} << 18;     // floats
  constexpr int64_t kOutBudget = int64_t{1} << 16;  // floats
  int64_t tile = columns;
  if (rows * tile > kBudget) tile = kBudget / std::max<int64_t>(rows, 1) / 16 * 16;
  if (out_rows * tile > kOutBudget) tile = kOutBudget / out_rows / 16 * 16;
  return std::min(std::max<int64_t>(64, tile), columns);
}

constexpr int64_t kTinyMacs = 2048;  // per image and group

// ------------------------------------------------------------------------- Conv

class ConvKernel : public Kernel {
 public:
  ConvKernel(spatial::Attrs attrs, int64_t group) : attrs_(std::move(attrs)), group_(group) {}

  // Constant weights (an initializer) of a shape PackedGemmPays may pick: packed once per group.
  void PackWeights(const Tensor& w) {
    if (w.dtype() != DataType::kFloat || w.rank() < 3 || w.numel() == 0 || w.dim(0) % group_ != 0 ||
        w.dim(1) == 1)  // one input channel per group: depthwise/direct
      return;
    const int64_t mg = w.dim(0) / group_, depth = w.numel() / w.dim(0);
    // Pointwise when every tap is one input element: a 1x1 kernel, stride 1, no explicit pads
    // (any auto_pad then pads nothing; the run re-checks this on the actual geometry).
    bool pointwise = depth == w.dim(1);
    for (int64_t v : attrs_.strides) pointwise = pointwise && v == 1;
    for (int64_t v : attrs_.pads) pointwise = pointwise && v == 0;
    if (!PackedGemmPays(mg, depth, !pointwise)) return;
    for (int64_t gi = 0; gi < group_; ++gi)
      packed_.emplace_back(w.data<float>() + gi * mg * depth, mg, depth, depth);
    packed_from_ = w.data<float>();
    packed_shape_ = w.shape();
  }

  bool FusesActivation() const override { return true; }

  Status Run(KernelContext& ctx) override {
    RETURN_IF_ERROR(CheckFloatTensors(ctx, {0, 1, 2}));
    const Tensor& X = *ctx.input(0);
    const Tensor& Wt = *ctx.input(1);
    const Tensor* B = ctx.input(2);
    if (X.rank() < 3)
      return ctx.Error("X must have rank >= 3 (N, C, spatial...), got " + ShapeToString(X.shape()));
    if (Wt.rank() != X.rank())
      return ctx.Error("W " + ShapeToString(Wt.shape()) + " must have the rank of X " +
                       ShapeToString(X.shape()));
    const int64_t N = X.dim(0), C = X.dim(1), M = Wt.dim(0), cg = Wt.dim(1);
    if (C != cg * group_)
      return ctx.Error("X has " + std::to_string(C) + " channels but W " +
                       ShapeToString(Wt.shape()) + " with group " + std::to_string(group_) +
                       " expects " + std::to_string(cg * group_));
    if (M % group_ != 0)
      return ctx.Error("W's " + std::to_string(M) + " output channels are not divisible by group " +
                       std::to_string(group_));
    if (B && B->numel() != M)
      return ctx.Error("B " + ShapeToString(B->shape()) + " must have " + std::to_string(M) +
                       " elements");
    std::vector<int64_t> in(X.shape().begin() + 2, X.shape().end());
    std::vector<int64_t> kernel(Wt.shape().begin() + 2, Wt.shape().end());
    if (!attrs_.kernel_shape.empty() && attrs_.kernel_shape != kernel)
      return ctx.Error("kernel_shape " + Join(attrs_.kernel_shape) + " does not match W " +
                       ShapeToString(Wt.shape()));
    auto geometry = spatial::ForwardGeometry(attrs_, in, kernel);
    if (!geometry.ok()) return ctx.Error(geometry.status().message());
    const Geometry& g = *geometry;
    Shape yshape = {N, M};
    yshape.insert(yshape.end(), g.out.begin(), g.out.end());
    ASSIGN_OR_RETURN(Tensor * Y, ctx.Output(0, DataType::kFloat, yshape));
    if (Y->numel() == 0) return Status::Ok();
    const float* x = X.data<float>();
    const float* w = Wt.data<float>();
    const float* bias = B ? B->data<float>() : nullptr;
    float* y = Y->data<float>();
    const int64_t mg = M / group_, taps = g.kernel_size();
    const int64_t S = g.out_size(), in_size = g.in_size(), rows = cg * taps;

    // A fused Relu/Clip: applied to each part of y right after it is computed.
    const FusedActivation& act = ctx.activation();
    constexpr float kInf = std::numeric_limits<float>::infinity();
    const float lo = act.active ? act.lo : -kInf, hi = act.active ? act.hi : kInf;
    if (cg == 0 || taps == 0) {  // nothing to sum: the bias alone
      for (int64_t p = 0; p < N * M; ++p)
        std::fill(y + p * S, y + (p + 1) * S, bias ? bias[p % M] : 0.f);
      act.Apply(y, N * M * S);
      return Status::Ok();
    }
    if (cg == 1 && g.rank <= 2) {
      DepthwiseConv2D(x, w, bias, y, N, C, mg, g, act, ctx);
      return Status::Ok();
    }
    if (FewChannelConvApplies(C, group_, g)) {
      FewChannelConv2D(x, w, bias, y, N, C, M, g, act, ctx);
      return Status::Ok();
    }
    if (cg == 1 || mg * rows * S <= kTinyMacs) {
      DirectConv(x, w, bias, y, N, C, M, group_, g, act, ctx);
      return Status::Ok();
    }
    bool pointwise = true;
    for (size_t d = 0; d < g.rank; ++d)
      pointwise = pointwise && g.kernel[d] == 1 && g.stride[d] == 1 && g.pad_begin[d] == 0 &&
                  g.pad_end[d] == 0;
    // The packed weights, when they are this run's W (same initializer, same shape) and the
    // product is of a shape where they beat Sgemm.
    const PackedWeights* packed = !packed_.empty() && w == packed_from_ &&
                                          Wt.shape() == packed_shape_ &&
                                          PackedGemmPays(mg, rows, !pointwise)
                                      ? packed_.data()
                                      : nullptr;

    // Columns [s0, s0 + cnt) of one (image, group) item, output channels [m0, m1): bias,
    // im2col of those columns into `col` unless `filled` (the input itself is the column matrix
    // when pointwise), one Sgemm.
    auto tile_of = [&](int64_t item, int64_t s0, int64_t cnt, float* col, bool filled, int64_t m0,
                       int64_t m1) {
      const int64_t n = item / group_, gi = item % group_;
      const float* xg = x + (n * C + gi * cg) * in_size;
      float* yg = y + (n * M + gi * mg) * S;
      const float* b = xg + s0;
      int64_t ldb = S;
      if (!pointwise) {
        if (!filled) Im2Col(xg, cg, g, s0, cnt, col, ctx, false);
        b = col;
        ldb = cnt;
      }
      if (packed) {
        PackedGemm(packed[gi], m0, m1, b, ldb, cnt, bias ? bias + gi * mg : nullptr, lo, hi,
                   yg + m0 * S + s0, S);
        return;
      }
      blas::Sgemm(false, false, static_cast<int>(m1 - m0), static_cast<int>(cnt),
                  static_cast<int>(rows), 1.f, w + (gi * mg + m0) * rows, static_cast<int>(rows), b,
                  static_cast<int>(ldb), 0.f, yg + m0 * S + s0, static_cast<int>(S));
      // One pass over the (cache-resident) tile: + bias, then the fused Relu/Clip.
      if (bias || act.active)
        for (int64_t m = m0; m < m1; ++m)
          AddBiasAndClamp(yg + m * S + s0, cnt, bias ? bias[gi * mg + m] : 0.f, lo, hi);
    };
    auto scratch = [&](int64_t floats) -> float* {
      if (pointwise) return nullptr;
      return static_cast<float*>(ctx.Scratch(static_cast<size_t>(floats) * sizeof(float)));
    };
    const int64_t T = ctx.num_threads(), items = N * group_, item_macs = mg * rows * S;
    const bool parallel = T > 1 && items * item_macs >= kMinParallelMacs;
    if (parallel && items >= T && (items >= 4 * T || items % T == 0)) {
      // Whole items per thread, each with its own column buffer.
      const int64_t tile = ColumnTile(rows, S, mg);
      float* col = scratch(T * rows * tile);
      if (!pointwise && !col)
        return ResourceExhausted(ctx.node_description() + ": no memory for im2col");
      ParallelItems(ctx, items, item_macs, [&](int64_t slot, int64_t begin, int64_t end) {
        for (int64_t item = begin; item < end; ++item)
          for (int64_t s0 = 0; s0 < S; s0 += tile)
            tile_of(item, s0, std::min(tile, S - s0), col ? col + slot * rows * tile : nullptr,
                    false, 0, mg);
      });
      return Status::Ok();
    }
    for (int64_t item = 0; item < items; ++item) {
      if (parallel && S >= 64 * T) {
        // Column tiles spread over the threads (im2col and Sgemm of a tile on one thread).
        const int64_t tile = std::min(ColumnTile(rows, S, mg), (S + T - 1) / T);
        const int64_t tiles = (S + tile - 1) / tile;
        float* col = scratch(T * rows * tile);
        if (!pointwise && !col)
          return ResourceExhausted(ctx.node_description() + ": no memory for im2col");
        ParallelItems(ctx, tiles, mg * rows * tile, [&](int64_t slot, int64_t begin, int64_t end) {
          for (int64_t t = begin; t < end; ++t)
            tile_of(item, t * tile, std::min(tile, S - t * tile),
                    col ? col + slot * rows * tile : nullptr, false, 0, mg);
        });
      } else if (parallel) {
        // Few columns: im2col them all, then spread output channels over the threads.
        float* col = scratch(rows * S);
        if (!pointwise && !col)
          return ResourceExhausted(ctx.node_description() + ": no memory for im2col");
        const int64_t n = item / group_, gi = item % group_;
        if (col) Im2Col(x + (n * C + gi * cg) * in_size, cg, g, 0, S, col, ctx, true);
        const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(T, mg / 16));
        // Row ranges start on a panel of the packed weights.
        auto split = [&](int64_t p) {
          const int64_t m = mg * p / parts;
          return p == parts || !packed ? m : m / kPackedRows * kPackedRows;
        };
        ParallelItems(ctx, parts, item_macs / parts, [&](int64_t, int64_t begin, int64_t end) {
          for (int64_t p = begin; p < end; ++p)
            tile_of(item, 0, S, col, true, split(p), split(p + 1));
        });
      } else {
        const int64_t tile = ColumnTile(rows, S, mg);
        float* col = scratch(rows * tile);
        if (!pointwise && !col)
          return ResourceExhausted(ctx.node_description() + ": no memory for im2col");
        for (int64_t s0 = 0; s0 < S; s0 += tile)
          tile_of(item, s0, std::min(tile, S - s0), col, false, 0, mg);
      }
    }
    return Status::Ok();
  }

 private:
  spatial::Attrs attrs_;
  int64_t group_;
  std::vector<PackedWeights> packed_;  // per group; empty when W is not a float initializer
  const float* packed_from_ = nullptr;
  Shape packed_shape_;
};

StatusOr<std::unique_ptr<Kernel>> MakeConv(const KernelInit& init) {
  RETURN_IF_ERROR(CheckFloatInputs(init, {0, 1, 2}));
  ASSIGN_OR_RETURN(spatial::Attrs attrs, spatial::ParseAttrs(init, false));
  int64_t group = init.node.GetInt("group", 1);
  if (group <= 0) return init.Invalid("group " + std::to_string(group) + " must be positive");
  if (init.node.num_inputs() < 2 || !init.has_input(0) || !init.has_input(1))
    return init.Invalid("needs inputs X and W");
  auto kernel = std::make_unique<ConvKernel>(std::move(attrs), group);
  if (const Tensor* w = init.constant(1)) kernel->PackWeights(*w);
  return std::unique_ptr<Kernel>(std::move(kernel));
}

// ------------------------------------------------------------------------- ConvTranspose

class ConvTransposeKernel : public Kernel {
 public:
  ConvTransposeKernel(spatial::Attrs attrs, int64_t group, std::vector<int64_t> output_padding,
                      std::vector<int64_t> output_shape)
      : attrs_(std::move(attrs)),
        group_(group),
        output_padding_(std::move(output_padding)),
        output_shape_(std::move(output_shape)) {}

  Status Run(KernelContext& ctx) override {
    RETURN_IF_ERROR(CheckFloatTensors(ctx, {0, 1, 2}));
    const Tensor& X = *ctx.input(0);
    const Tensor& Wt = *ctx.input(1);
    const Tensor* B = ctx.input(2);
    if (X.rank() < 3)
      return ctx.Error("X must have rank >= 3 (N, C, spatial...), got " + ShapeToString(X.shape()));
    if (Wt.rank() != X.rank())
      return ctx.Error("W " + ShapeToString(Wt.shape()) + " must have the rank of X " +
                       ShapeToString(X.shape()));
    const int64_t N = X.dim(0), C = X.dim(1), mg = Wt.dim(1), M = mg * group_;
    if (Wt.dim(0) != C || C % group_ != 0)
      return ctx.Error("W " + ShapeToString(Wt.shape()) + " must have X's " + std::to_string(C) +
                       " channels first, divisible by group " + std::to_string(group_));
    if (B && B->numel() != M)
      return ctx.Error("B " + ShapeToString(B->shape()) + " must have " + std::to_string(M) +
                       " elements");
    const size_t r = X.rank() - 2;
    const int64_t cg = C / group_;
    std::vector<int64_t> in(X.shape().begin() + 2, X.shape().end());
    std::vector<int64_t> kernel(Wt.shape().begin() + 2, Wt.shape().end());
    ASSIGN_OR_RETURN(Geometry g, TransposedGeometry(ctx, in, kernel));
    Shape yshape = {N, M};
    yshape.insert(yshape.end(), g.in.begin(), g.in.end());
    ASSIGN_OR_RETURN(Tensor * Y, ctx.Output(0, DataType::kFloat, yshape));
    if (Y->numel() == 0) return Status::Ok();
    const float* x = X.data<float>();
    const float* w = Wt.data<float>();
    const float* bias = B ? B->data<float>() : nullptr;
    float* y = Y->data<float>();
    const int64_t S_out = g.in_size(), S_in = g.out_size(), taps = g.kernel_size();
    const int64_t rows = mg * taps;
    for (int64_t p = 0; p < N * M; ++p)
      std::fill(y + p * S_out, y + (p + 1) * S_out, bias ? bias[p % M] : 0.f);
    if (S_in == 0 || cg == 0 || taps == 0) return Status::Ok();
    bool pointwise = true;
    for (size_t d = 0; d < r; ++d)
      pointwise = pointwise && g.kernel[d] == 1 && g.stride[d] == 1 && g.pad_begin[d] == 0 &&
                  g.in[d] == g.out[d];
    const int64_t tile = pointwise ? S_in : ColumnTile(rows, S_in);
    float* col = nullptr;
    if (!pointwise) {
      col = static_cast<float*>(ctx.Scratch(static_cast<size_t>(rows * tile) * sizeof(float)));
      if (!col) return ResourceExhausted(ctx.node_description() + ": no memory for col2im");
    }
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t gi = 0; gi < group_; ++gi) {
        const float* xg = x + (n * C + gi * cg) * S_in;
        const float* wg = w + gi * cg * rows;  // [cg, mg * taps]
        float* yg = y + (n * M + gi * mg) * S_out;
        if (pointwise) {
          ParallelSgemm(ctx, true, false, mg, S_in, cg, 1.f, wg, rows, xg, S_in, 1.f, yg, S_out);
          continue;
        }
        for (int64_t s0 = 0; s0 < S_in; s0 += tile) {
          const int64_t cnt = std::min(tile, S_in - s0);
          ParallelSgemm(ctx, true, false, rows, cnt, cg, 1.f, wg, rows, xg + s0, S_in, 0.f, col,
                        cnt);
          Col2Im(col, mg, g, s0, cnt, yg, ctx);
        }
      }
    }
    return Status::Ok();
  }

 private:
  // The geometry seen from the output: g.in = Y's spatial dims, g.out = X's (the positions the
  // columns run over), so that col2im is the adjoint of the forward conv's im2col.
  StatusOr<Geometry> TransposedGeometry(const KernelContext& ctx, const std::vector<int64_t>& in,
                                        const std::vector<int64_t>& kernel) const {
    const size_t r = in.size();
    const spatial::Attrs& a = attrs_;
    auto sized = [&](const std::vector<int64_t>& v, size_t n, const char* name) -> Status {
      if (!v.empty() && v.size() != n)
        return ctx.Error(std::string(name) + " " + Join(v) + " does not match X's " +
                         std::to_string(r) + " spatial axes " + Join(in));
      return Status::Ok();
    };
    RETURN_IF_ERROR(sized(a.kernel_shape, r, "kernel_shape"));
    RETURN_IF_ERROR(sized(a.strides, r, "strides"));
    RETURN_IF_ERROR(sized(a.dilations, r, "dilations"));
    RETURN_IF_ERROR(sized(a.pads, 2 * r, "pads"));
    RETURN_IF_ERROR(sized(output_padding_, r, "output_padding"));
    if (!a.kernel_shape.empty() && a.kernel_shape != kernel)
      return ctx.Error("kernel_shape " + Join(a.kernel_shape) + " does not match W's " +
                       Join(kernel));
    std::vector<int64_t> out_shape = output_shape_;
    if (out_shape.size() == r + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
    RETURN_IF_ERROR(sized(out_shape, r, "output_shape"));
    Geometry g;
    g.rank = r;
    g.out = in;
    g.kernel = kernel;
    g.stride = a.strides.empty() ? std::vector<int64_t>(r, 1) : a.strides;
    g.dilation = a.dilations.empty() ? std::vector<int64_t>(r, 1) : a.dilations;
    g.pad_begin.assign(r, 0);
    g.pad_end.assign(r, 0);
    g.in.assign(r, 0);
    for (size_t i = 0; i < r; ++i) {
      const int64_t op = output_padding_.empty() ? 0 : output_padding_[i];
      const int64_t full = g.stride[i] * (in[i] - 1) + op + g.effective_kernel(i);
      const bool same = a.auto_pad == AutoPad::kSameUpper || a.auto_pad == AutoPad::kSameLower;
      if (!out_shape.empty() || same) {
        g.in[i] = !out_shape.empty() ? out_shape[i] : in[i] * g.stride[i];
        int64_t total = std::max<int64_t>(0, full - g.in[i]);
        int64_t small = total / 2, big = total - small;
        g.pad_begin[i] = a.auto_pad == AutoPad::kSameUpper ? small : big;
        g.pad_end[i] = a.auto_pad == AutoPad::kSameUpper ? big : small;
      } else {
        if (a.auto_pad == AutoPad::kNotSet && !a.pads.empty()) {
          g.pad_begin[i] = a.pads[i];
          g.pad_end[i] = a.pads[i + r];
        }
        g.in[i] = full - g.pad_begin[i] - g.pad_end[i];
      }
      if (g.in[i] < 0 || (g.in[i] == 0 && in[i] > 0))
        return ctx.Error("output spatial axis " + std::to_string(i) + " would have size " +
                         std::to_string(g.in[i]) + " (input " + std::to_string(in[i]) + ", pads " +
                         std::to_string(g.pad_begin[i]) + "+" + std::to_string(g.pad_end[i]) + ")");
    }
    return g;
  }

  spatial::Attrs attrs_;
  int64_t group_;
  std::vector<int64_t> output_padding_;
  std::vector<int64_t> output_shape_;
};

StatusOr<std::unique_ptr<Kernel>> MakeConvTranspose(const KernelInit& init) {
  RETURN_IF_ERROR(CheckFloatInputs(init, {0, 1, 2}));
  ASSIGN_OR_RETURN(spatial::Attrs attrs, spatial::ParseAttrs(init, false));
  int64_t group = init.node.GetInt("group", 1);
  if (group <= 0) return init.Invalid("group " + std::to_string(group) + " must be positive");
  if (init.node.num_inputs() < 2 || !init.has_input(0) || !init.has_input(1))
    return init.Invalid("needs inputs X and W");
  std::vector<int64_t> output_padding = init.node.GetInts("output_padding");
  std::vector<int64_t> output_shape = init.node.GetInts("output_shape");
  for (int64_t v : output_padding)
    if (v < 0) return init.Invalid("output_padding " + Join(output_padding) + " must be >= 0");
  for (int64_t v : output_shape)
    if (v < 0) return init.Invalid("output_shape " + Join(output_shape) + " must be >= 0");
  return std::unique_ptr<Kernel>(new ConvTransposeKernel(
      std::move(attrs), group, std::move(output_padding), std::move(output_shape)));
}

}  // namespace

// Conv and ConvTranspose: version 1 and 11 differ only in documentation and in the default of
// pads/kernel_shape (inferred from W), which this kernel handles for every version.
void RegisterConvKernels(KernelRegistry& r) {
  r.Add("Conv", 1, 10, MakeConv);
  r.Add("Conv", 11, 1000, MakeConv);
  r.Add("ConvTranspose", 1, 10, MakeConvTranspose);
  r.Add("ConvTranspose", 11, 1000, MakeConvTranspose);
}

}  // namespace edgefit
