// Kernel family: recurrent layers. RNN, GRU and LSTM (opset 7; 14 adds `layout`; 22 only adds
// bfloat16), float32.
//
// Each direction first projects the whole input sequence at once (X * W^T over all time steps,
// one Sgemm, with the biases folded in), then runs the recurrence one step at a time: one Sgemm
// H_{t-1} * R^T for the batch, then the gate arithmetic per batch row.
//
// Choices where the spec is silent (following ONNX Runtime, the project's oracle):
//  * sequence_lens: a batch entry of length L runs steps 0..L-1 (reverse: L-1..0); Y is 0 at
//    its steps >= L; Y_h / Y_c hold its state after its last step, or 0 when L == 0.
//  * clip bounds the gate pre-activations (i, o, f, c / z, r, h / the RNN's) before their
//    activation, not the cell state given to LSTM's h().
//  * activation names are case-insensitive; activation_alpha / activation_beta values are
//    consumed in order by the functions that take them; missing ones default to the ONNX
//    operators' defaults (LeakyRelu 0.01, ThresholdedRelu 1, HardSigmoid 0.2/0.5, Elu 1,
//    Affine 1/0, ScaledTanh 1/1). A bidirectional node must list the functions of both
//    directions.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/blas.h"
#include "runtime/kernels/families.h"

namespace edgefit {
namespace {

// ---------------------------------------------------------------------------- activations

enum class ActKind {
  kRelu,
  kTanh,
  kSigmoid,
  kAffine,
  kLeakyRelu,
  kThresholdedRelu,
  kScaledTanh,
  kHardSigmoid,
  kElu,
  kSoftsign,
  kSoftplus,
};

struct Activation {
  ActKind kind = ActKind::kTanh;
  float alpha = 0, beta = 0;

  void Apply(float* x, int64_t n) const {
    switch (kind) {
      case ActKind::kRelu:
        for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 0 ? x[i] : (x[i] < 0 ? 0.0f : x[i]);
        break;
      case ActKind::kTanh:
        for (int64_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
        break;
      case ActKind::kSigmoid:
        for (int64_t i = 0; i < n; ++i) x[i] = 1.0f / (1.0f + std::exp(-x[i]));
        break;
      case ActKind::kAffine:
        for (int64_t i = 0; i < n; ++i) x[i] = alpha * x[i] + beta;
        break;
      case ActKind::kLeakyRelu:
        for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= 0 ? x[i] : alpha * x[i];
        break;
      case ActKind::kThresholdedRelu:
        for (int64_t i = 0; i < n; ++i) x[i] = x[i] > alpha ? x[i] : (x[i] <= alpha ? 0.0f : x[i]);
        break;
      case ActKind::kScaledTanh:
        for (int64_t i = 0; i < n; ++i) x[i] = alpha * std::tanh(beta * x[i]);
        break;
      case ActKind::kHardSigmoid:
        for (int64_t i = 0; i < n; ++i) {
          float v = alpha * x[i] + beta;
          x[i] = std::isnan(v) ? v : std::min(1.0f, std::max(0.0f, v));
        }
        break;
      case ActKind::kElu:
        for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= 0 ? x[i] : alpha * (std::exp(x[i]) - 1.0f);
        break;
      case ActKind::kSoftsign:
        for (int64_t i = 0; i < n; ++i) x[i] = x[i] / (1.0f + std::fabs(x[i]));
        break;
      case ActKind::kSoftplus:
        // log(1 + e^x), without overflow for large x.
        for (int64_t i = 0; i < n; ++i)
          x[i] = x[i] > 0 ? x[i] + std::log1p(std::exp(-x[i])) : std::log1p(std::exp(x[i]));
        break;
    }
  }
};

struct ActSpec {
  const char* name;  // lower case
  ActKind kind;
  bool uses_alpha, uses_beta;
  float alpha, beta;  // defaults
};

constexpr ActSpec kActSpecs[] = {
    {"relu", ActKind::kRelu, false, false, 0, 0},
    {"tanh", ActKind::kTanh, false, false, 0, 0},
    {"sigmoid", ActKind::kSigmoid, false, false, 0, 0},
    {"affine", ActKind::kAffine, true, true, 1.0f, 0.0f},
    {"leakyrelu", ActKind::kLeakyRelu, true, false, 0.01f, 0},
    {"thresholdedrelu", ActKind::kThresholdedRelu, true, false, 1.0f, 0},
    {"scaledtanh", ActKind::kScaledTanh, true, true, 1.0f, 1.0f},
    {"hardsigmoid", ActKind::kHardSigmoid, true, true, 0.2f, 0.5f},
    {"elu", ActKind::kElu, true, false, 1.0f, 0},
    {"softsign", ActKind::kSoftsign, false, false, 0, 0},
    {"softplus", ActKind::kSoftplus, false, false, 0, 0},
};

// The activation functions of every direction: `per_direction` of them for each.
StatusOr<std::vector<Activation>> ParseActivations(const KernelInit& init, int per_direction,
                                                   int num_directions,
                                                   const std::vector<std::string>& defaults) {
  const Attribute* attr = init.node.FindAttribute("activations");
  std::vector<std::string> names = attr ? attr->strings : std::vector<std::string>{};
  if (names.empty()) {
    for (int d = 0; d < num_directions; ++d)
      names.insert(names.end(), defaults.begin(), defaults.end());
  }
  std::vector<float> alphas = init.node.GetFloats("activation_alpha");
  std::vector<float> betas = init.node.GetFloats("activation_beta");
  size_t next_alpha = 0, next_beta = 0;
  std::vector<Activation> acts;
  for (const std::string& name : names) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const ActSpec* spec = nullptr;
    for (const ActSpec& s : kActSpecs)
      if (lower == s.name) spec = &s;
    if (!spec) return init.Unsupported("activation function '" + name + "'");
    Activation a;
    a.kind = spec->kind;
    a.alpha = spec->alpha;
    a.beta = spec->beta;
    if (spec->uses_alpha && next_alpha < alphas.size()) a.alpha = alphas[next_alpha++];
    if (spec->uses_beta && next_beta < betas.size()) a.beta = betas[next_beta++];
    acts.push_back(a);
  }
  const size_t want = static_cast<size_t>(per_direction * num_directions);
  if (acts.size() != want)
    return init.Invalid("activations lists " + std::to_string(names.size()) +
                        " functions, expected " + std::to_string(want));
  return acts;
}

// --------------------------------------------------------------------------------- kernel

enum class CellKind { kRnn, kGru, kLstm };

class RecurrentKernel final : public Kernel {
 public:
  static StatusOr<std::unique_ptr<Kernel>> Create(const KernelInit& init, CellKind cell) {
    auto k = std::make_unique<RecurrentKernel>();
    const Node& n = init.node;
    k->cell_ = cell;
    k->gates_ = cell == CellKind::kRnn ? 1 : cell == CellKind::kGru ? 3 : 4;
    const std::string direction = n.GetString("direction", "forward");
    if (direction == "forward") {
      k->num_directions_ = 1;
    } else if (direction == "reverse") {
      k->num_directions_ = 1;
      k->reverse_only_ = true;
    } else if (direction == "bidirectional") {
      k->num_directions_ = 2;
    } else {
      return init.Invalid("direction '" + direction + "'");
    }
    k->hidden_size_ = n.GetInt("hidden_size", 0);
    if (n.HasAttribute("hidden_size") && k->hidden_size_ <= 0)
      return init.Invalid("hidden_size must be > 0, got " + std::to_string(k->hidden_size_));
    if (init.opset >= 14) {
      k->layout_ = n.GetInt("layout", 0);
      if (k->layout_ != 0 && k->layout_ != 1)
        return init.Invalid("layout must be 0 or 1, got " + std::to_string(k->layout_));
    }
    if (n.HasAttribute("clip")) {
      k->has_clip_ = true;
      k->clip_ = n.GetFloat("clip", 0);
      if (!(k->clip_ >= 0)) return init.Invalid("clip must be >= 0");
    }
    if (cell == CellKind::kGru) k->linear_before_reset_ = n.GetInt("linear_before_reset", 0) != 0;
    if (cell == CellKind::kLstm) k->input_forget_ = n.GetInt("input_forget", 0) != 0;

    // Types: X, W, R, B, initial_h, initial_c, P float32; sequence_lens int32.
    for (size_t i = 0; i < init.input_types.size(); ++i) {
      if (!init.has_input(i)) continue;
      DataType t = init.input_types[i]->elem_type;
      if (t == DataType::kUndefined) continue;
      DataType want = i == 4 ? DataType::kInt32 : DataType::kFloat;
      if (t != want)
        return init.Unsupported("input " + std::to_string(i) + " of type " + DataTypeName(t) +
                                " (only float32 sequences and int32 sequence_lens)");
    }
    if (!init.has_input(0) || !init.has_input(1) || !init.has_input(2))
      return init.Invalid("X, W and R are required");

    std::vector<std::string> defaults;
    switch (cell) {
      case CellKind::kRnn: defaults = {"Tanh"}; break;
      case CellKind::kGru: defaults = {"Sigmoid", "Tanh"}; break;
      case CellKind::kLstm: defaults = {"Sigmoid", "Tanh", "Tanh"}; break;
    }
    ASSIGN_OR_RETURN(k->acts_, ParseActivations(init, static_cast<int>(defaults.size()),
                                                k->num_directions_, defaults));
    return std::unique_ptr<Kernel>(std::move(k));
  }

  Status Run(KernelContext& ctx) override;

 private:
  struct Dims {
    int64_t seq = 0, batch = 0, input = 0, hidden = 0, dirs = 1, gh = 0;
  };

  Status CheckShapes(KernelContext& ctx, Dims* d) const;
  // Offsets (in floats) of row b at time t in X, of Y[t, dir, b], and of state [dir, b].
  int64_t XRow(const Dims& d, int64_t t, int64_t b) const {
    return layout_ == 0 ? t * d.batch + b : b * d.seq + t;
  }
  int64_t YOffset(const Dims& d, int64_t t, int64_t dir, int64_t b) const {
    return (layout_ == 0 ? (t * d.dirs + dir) * d.batch + b : (b * d.seq + t) * d.dirs + dir) *
           d.hidden;
  }
  int64_t StateOffset(const Dims& d, int64_t dir, int64_t b) const {
    return (layout_ == 0 ? dir * d.batch + b : b * d.dirs + dir) * d.hidden;
  }
  void Clip(float* x, int64_t n) const {
    if (!has_clip_) return;
    for (int64_t i = 0; i < n; ++i) x[i] = x[i] > clip_ ? clip_ : (x[i] < -clip_ ? -clip_ : x[i]);
  }

  CellKind cell_ = CellKind::kRnn;
  int gates_ = 1;
  int num_directions_ = 1;
  bool reverse_only_ = false;
  int64_t hidden_size_ = 0;
  int64_t layout_ = 0;
  bool has_clip_ = false;
  float clip_ = 0;
  bool linear_before_reset_ = false;
  bool input_forget_ = false;
  std::vector<Activation> acts_;
};

Status RecurrentKernel::CheckShapes(KernelContext& ctx, Dims* d) const {
  const Tensor& x = *ctx.input(0);
  const Tensor& w = *ctx.input(1);
  const Tensor& r = *ctx.input(2);
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor* t = ctx.input(i);
    if (t && t->dtype() != (i == 4 ? DataType::kInt32 : DataType::kFloat))
      return ctx.Error("input " + std::to_string(i) + " of type " + DataTypeName(t->dtype()));
  }
  if (x.rank() != 3) return ctx.Error("X must have rank 3, got " + ShapeToString(x.shape()));
  d->seq = layout_ == 0 ? x.dim(0) : x.dim(1);
  d->batch = layout_ == 0 ? x.dim(1) : x.dim(0);
  d->input = x.dim(2);
  d->dirs = num_directions_;
  if (r.rank() != 3) return ctx.Error("R must have rank 3, got " + ShapeToString(r.shape()));
  d->hidden = hidden_size_ > 0 ? hidden_size_ : r.dim(2);
  d->gh = gates_ * d->hidden;
  auto expect = [&](const Tensor* t, const Shape& shape, const char* name) -> Status {
    if (t && t->shape() != shape)
      return ctx.Error(std::string(name) + " has shape " + ShapeToString(t->shape()) +
                       ", expected " + ShapeToString(shape));
    return Status::Ok();
  };
  const Shape state =
      layout_ == 0 ? Shape{d->dirs, d->batch, d->hidden} : Shape{d->batch, d->dirs, d->hidden};
  RETURN_IF_ERROR(expect(&w, {d->dirs, d->gh, d->input}, "W"));
  RETURN_IF_ERROR(expect(&r, {d->dirs, d->gh, d->hidden}, "R"));
  RETURN_IF_ERROR(expect(ctx.input(3), {d->dirs, 2 * d->gh}, "B"));
  RETURN_IF_ERROR(expect(ctx.input(4), {d->batch}, "sequence_lens"));
  RETURN_IF_ERROR(expect(ctx.input(5), state, "initial_h"));
  if (cell_ == CellKind::kLstm) {
    RETURN_IF_ERROR(expect(ctx.input(6), state, "initial_c"));
    RETURN_IF_ERROR(expect(ctx.input(7), {d->dirs, 3 * d->hidden}, "P"));
  }
  if (const Tensor* lens = ctx.input(4)) {
    for (int64_t b = 0; b < d->batch; ++b) {
      int32_t len = lens->data<int32_t>()[b];
      if (len < 0 || len > d->seq)
        return ctx.Error("sequence_lens[" + std::to_string(b) + "] = " + std::to_string(len) +
                         " is outside [0, " + std::to_string(d->seq) + "]");
    }
  }
  return Status::Ok();
}

Status RecurrentKernel::Run(KernelContext& ctx) {
  Dims d;
  RETURN_IF_ERROR(CheckShapes(ctx, &d));
  const Tensor& x = *ctx.input(0);
  const Tensor& w = *ctx.input(1);
  const Tensor& r = *ctx.input(2);
  const Tensor* bias = ctx.input(3);
  const Tensor* lens = ctx.input(4);
  const Tensor* h0 = ctx.input(5);
  const Tensor* c0 = cell_ == CellKind::kLstm ? ctx.input(6) : nullptr;
  const Tensor* peep = cell_ == CellKind::kLstm ? ctx.input(7) : nullptr;
  const bool lstm = cell_ == CellKind::kLstm, gru = cell_ == CellKind::kGru;
  const int64_t H = d.hidden, B = d.batch, S = d.seq, GH = d.gh;

  const Shape y_shape = layout_ == 0 ? Shape{S, d.dirs, B, H} : Shape{B, S, d.dirs, H};
  const Shape state_shape = layout_ == 0 ? Shape{d.dirs, B, H} : Shape{B, d.dirs, H};
  float* y = nullptr;
  float* y_h = nullptr;
  float* y_c = nullptr;
  if (ctx.output_wanted(0)) {
    ASSIGN_OR_RETURN(Tensor * t, ctx.Output(0, DataType::kFloat, y_shape));
    y = t->data<float>();
    std::fill(y, y + t->numel(), 0.0f);  // steps past a sequence's length stay 0
  }
  if (ctx.output_wanted(1)) {
    ASSIGN_OR_RETURN(Tensor * t, ctx.Output(1, DataType::kFloat, state_shape));
    y_h = t->data<float>();
  }
  if (lstm && ctx.output_wanted(2)) {
    ASSIGN_OR_RETURN(Tensor * t, ctx.Output(2, DataType::kFloat, state_shape));
    y_c = t->data<float>();
  }

  std::vector<int64_t> len(static_cast<size_t>(B), S);
  int64_t max_len = 0;
  for (int64_t b = 0; b < B; ++b) {
    if (lens) len[b] = lens->data<int32_t>()[b];
    max_len = std::max(max_len, len[b]);
  }

  // Work buffers: the projected inputs of every step, H * R^T of one step, the state.
  std::vector<float> xw(static_cast<size_t>(S * B * GH));
  std::vector<float> hr(static_cast<size_t>(B * GH));
  std::vector<float> h(static_cast<size_t>(B * H)), c(lstm ? static_cast<size_t>(B * H) : 0);
  std::vector<float> rh(gru ? static_cast<size_t>(B * H) : 0);  // GRU: r (.) H_{t-1}
  std::vector<float> gate(static_cast<size_t>(GH));
  const int per_dir = static_cast<int>(acts_.size()) / d.dirs;

  for (int64_t dir = 0; dir < d.dirs; ++dir) {
    const bool reverse = reverse_only_ || dir == 1;
    const float* wd = w.data<float>() + dir * GH * d.input;
    const float* rd = r.data<float>() + dir * GH * H;
    const float* wb = bias ? bias->data<float>() + dir * 2 * GH : nullptr;
    const float* rb = wb ? wb + GH : nullptr;
    const Activation* act = acts_.data() + dir * per_dir;

    // X * W^T for all steps at once, rows in X's order; then the biases. GRU with
    // linear_before_reset keeps Rbh apart: it goes inside r (.) (H R_h^T + Rbh).
    const int64_t rows = S * B;
    if (rows > 0 && GH > 0) {
      if (d.input > 0) {
        blas::Sgemm(false, true, static_cast<int>(rows), static_cast<int>(GH),
                    static_cast<int>(d.input), 1.0f, x.data<float>(), static_cast<int>(d.input), wd,
                    static_cast<int>(d.input), 0.0f, xw.data(), static_cast<int>(GH));
      } else {
        std::fill(xw.begin(), xw.end(), 0.0f);
      }
    }
    if (wb) {
      std::vector<float> sum(static_cast<size_t>(GH));
      for (int64_t j = 0; j < GH; ++j)
        sum[j] = wb[j] + ((gru && linear_before_reset_ && j >= 2 * H) ? 0.0f : rb[j]);
      for (int64_t row = 0; row < rows; ++row) {
        float* p = xw.data() + row * GH;
        for (int64_t j = 0; j < GH; ++j) p[j] += sum[j];
      }
    }

    // Initial state.
    for (int64_t b = 0; b < B; ++b) {
      const int64_t so = StateOffset(d, dir, b);
      for (int64_t j = 0; j < H; ++j) {
        h[b * H + j] = h0 ? h0->data<float>()[so + j] : 0.0f;
        if (lstm) c[b * H + j] = c0 ? c0->data<float>()[so + j] : 0.0f;
      }
    }
    const float* pi = peep ? peep->data<float>() + dir * 3 * H : nullptr;  // P[i, o, f]
    const float* po = pi ? pi + H : nullptr;
    const float* pf = pi ? pi + 2 * H : nullptr;

    for (int64_t step = 0; step < max_len; ++step) {
      // H_{t-1} * R^T (GRU without linear_before_reset: only the z and r rows for now).
      const int64_t hr_cols = (gru && !linear_before_reset_) ? 2 * H : GH;
      if (B > 0 && H > 0)
        blas::Sgemm(false, true, static_cast<int>(B), static_cast<int>(hr_cols),
                    static_cast<int>(H), 1.0f, h.data(), static_cast<int>(H), rd,
                    static_cast<int>(H), 0.0f, hr.data(), static_cast<int>(GH));
      else
        std::fill(hr.begin(), hr.end(), 0.0f);

      if (gru && !linear_before_reset_) {
        // z and r for every active row, then (r (.) H_{t-1}) * R_h^T for the batch.
        std::fill(rh.begin(), rh.end(), 0.0f);
        for (int64_t b = 0; b < B; ++b) {
          if (step >= len[b]) continue;
          const int64_t t = reverse ? len[b] - 1 - step : step;
          const float* xr = xw.data() + XRow(d, t, b) * GH;
          float* hb = hr.data() + b * GH;
          for (int64_t j = 0; j < 2 * H; ++j) hb[j] += xr[j];
          Clip(hb, 2 * H);
          act[0].Apply(hb, 2 * H);  // z, r in place
          for (int64_t j = 0; j < H; ++j) rh[b * H + j] = hb[H + j] * h[b * H + j];
        }
        if (B > 0 && H > 0)
          blas::Sgemm(false, true, static_cast<int>(B), static_cast<int>(H), static_cast<int>(H),
                      1.0f, rh.data(), static_cast<int>(H), rd + 2 * H * H, static_cast<int>(H),
                      0.0f, hr.data() + 2 * H, static_cast<int>(GH));
      }

      for (int64_t b = 0; b < B; ++b) {
        if (step >= len[b]) continue;
        const int64_t t = reverse ? len[b] - 1 - step : step;
        const float* xr = xw.data() + XRow(d, t, b) * GH;
        const float* hb = hr.data() + b * GH;
        float* hs = h.data() + b * H;
        float* g = gate.data();
        switch (cell_) {
          case CellKind::kRnn: {
            for (int64_t j = 0; j < H; ++j) g[j] = xr[j] + hb[j];
            Clip(g, H);
            act[0].Apply(g, H);
            std::copy(g, g + H, hs);
            break;
          }
          case CellKind::kGru: {
            float* z = g;
            float* rg = g + H;
            float* hh = g + 2 * H;
            if (linear_before_reset_) {
              for (int64_t j = 0; j < 2 * H; ++j) g[j] = xr[j] + hb[j];
              Clip(g, 2 * H);
              act[0].Apply(g, 2 * H);
              const float* rbh = rb ? rb + 2 * H : nullptr;
              for (int64_t j = 0; j < H; ++j)
                hh[j] = xr[2 * H + j] + rg[j] * (hb[2 * H + j] + (rbh ? rbh[j] : 0.0f));
            } else {
              std::copy(hb, hb + 2 * H, g);  // z, r computed above
              for (int64_t j = 0; j < H; ++j) hh[j] = xr[2 * H + j] + hb[2 * H + j];
            }
            Clip(hh, H);
            act[1].Apply(hh, H);
            for (int64_t j = 0; j < H; ++j) hs[j] = (1.0f - z[j]) * hh[j] + z[j] * hs[j];
            break;
          }
          case CellKind::kLstm: {
            float* cs = c.data() + b * H;
            float* gi = g;
            float* go = g + H;
            float* gf = g + 2 * H;
            float* gc = g + 3 * H;
            for (int64_t j = 0; j < GH; ++j) g[j] = xr[j] + hb[j];
            if (pi)
              for (int64_t j = 0; j < H; ++j) gi[j] += pi[j] * cs[j];
            Clip(gi, H);
            act[0].Apply(gi, H);
            if (input_forget_) {
              for (int64_t j = 0; j < H; ++j) gf[j] = 1.0f - gi[j];
            } else {
              if (pf)
                for (int64_t j = 0; j < H; ++j) gf[j] += pf[j] * cs[j];
              Clip(gf, H);
              act[0].Apply(gf, H);
            }
            Clip(gc, H);
            act[1].Apply(gc, H);
            for (int64_t j = 0; j < H; ++j) cs[j] = gf[j] * cs[j] + gi[j] * gc[j];
            if (po)
              for (int64_t j = 0; j < H; ++j) go[j] += po[j] * cs[j];
            Clip(go, H);
            act[0].Apply(go, H);
            std::copy(cs, cs + H, gc);
            act[2].Apply(gc, H);
            for (int64_t j = 0; j < H; ++j) hs[j] = go[j] * gc[j];
            break;
          }
        }
        if (y) std::copy(hs, hs + H, y + YOffset(d, t, dir, b));
      }
    }

    for (int64_t b = 0; b < B; ++b) {
      const int64_t so = StateOffset(d, dir, b);
      const bool empty = len[b] == 0;
      for (int64_t j = 0; j < H; ++j) {
        if (y_h) y_h[so + j] = empty ? 0.0f : h[b * H + j];
        if (y_c) y_c[so + j] = empty ? 0.0f : c[b * H + j];
      }
    }
  }
  return Status::Ok();
}

KernelFactory Factory(CellKind cell) {
  return [cell](const KernelInit& init) { return RecurrentKernel::Create(init, cell); };
}

}  // namespace

void RegisterRecurrentKernels(KernelRegistry& r) {
  const std::initializer_list<std::pair<int, int>> ranges = {{7, 13}, {14, 21}, {22, 25}};
  for (auto [since, until] : ranges) {
    r.Add("RNN", since, until, Factory(CellKind::kRnn));
    r.Add("GRU", since, until, Factory(CellKind::kGru));
    r.Add("LSTM", since, until, Factory(CellKind::kLstm));
  }
}

}  // namespace edgefit
