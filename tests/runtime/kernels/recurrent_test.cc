// Recurrent family: RNN, GRU, LSTM. Small cases are worked out by hand (values from the
// equations of the ONNX spec, evaluated in double precision); the rest compares the kernel with a
// plain reference written here from the spec's equations: per time step, per batch row, dot
// products straight from W, R, B and P in double precision (no input projection, no BLAS).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernel_test_util.h"

namespace edgefit {
namespace {

using testing::F32;
using testing::I32;
using testing::NodeSpec;
using testing::RunNode;

Attribute Strings(std::string name, std::vector<std::string> v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kStrings;
  a.strings = std::move(v);
  return a;
}

std::vector<Tensor> RunAll(const NodeSpec& spec, int threads = 1) {
  auto out = RunNode(spec, threads);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : std::vector<Tensor>(spec.num_outputs);
}

NodeSpec Spec(std::string op, std::vector<testing::NodeInput> inputs, size_t num_outputs) {
  NodeSpec s;
  s.op_type = std::move(op);
  s.inputs = std::move(inputs);
  s.num_outputs = num_outputs;
  return s;
}

StatusCode RunCode(const NodeSpec& spec) {
  auto out = RunNode(spec);
  return out.ok() ? StatusCode::kOk : out.status().code();
}

NodeSpec SmallRnn() {
  NodeSpec s = Spec("RNN",
                    {{"X", F32({2, 1, 1}, {1, 2})},
                     {"W", F32({1, 1, 1}, {1}), true},
                     {"R", F32({1, 1, 1}, {0.5f}), true}},
                    2);
  s.attributes.push_back(Attribute::Int("hidden_size", 1));
  return s;
}

// -------------------------------------------------------------------------- hand examples

TEST(RecurrentTest, RnnHandExample) {
  // H = I = 1, W = 1, R = 0.5, X = [1, 2]: h1 = tanh(1), h2 = tanh(2 + 0.5 h1).
  NodeSpec s = Spec("RNN",
                    {{"X", F32({2, 1, 1}, {1, 2})},
                     {"W", F32({1, 1, 1}, {1}), true},
                     {"R", F32({1, 1, 1}, {0.5f}), true}},
                    2);
  s.attributes.push_back(Attribute::Int("hidden_size", 1));
  for (int64_t opset : {7, 14, 22}) {
    s.opset = opset;
    auto out = RunAll(s);
    testing::ExpectNear(out[0], {2, 1, 1, 1}, {0.7615941559557649f, 0.9830411011980433f});
    testing::ExpectNear(out[1], {1, 1, 1}, {0.9830411011980433f});
  }
}

TEST(RecurrentTest, GruHandExampleBothResetModes) {
  // H = I = 1. W = [z, r, h] = [0.5, -0.5, 1], R = [0.1, 0.2, 0.3], Rbh = 0.2, x = 1, h0 = 0.5.
  // z = sigmoid(0.5 + 0.05), r = sigmoid(-0.5 + 0.1);
  // default:             h~ = tanh(1 + (r * 0.5) * 0.3 + 0.2)
  // linear_before_reset: h~ = tanh(1 + r * (0.5 * 0.3 + 0.2));  H = (1 - z) h~ + z * 0.5.
  NodeSpec s = Spec("GRU",
                    {{"X", F32({1, 1, 1}, {1})},
                     {"W", F32({1, 3, 1}, {0.5f, -0.5f, 1}), true},
                     {"R", F32({1, 3, 1}, {0.1f, 0.2f, 0.3f}), true},
                     {"B", F32({1, 6}, {0, 0, 0, 0, 0, 0.2f}), true},
                     {"", Tensor()},
                     {"h0", F32({1, 1, 1}, {0.5f})}},
                    2);
  s.attributes.push_back(Attribute::Int("hidden_size", 1));
  auto out = RunAll(s);
  testing::ExpectNear(out[1], {1, 1, 1}, {0.6284617150719947f});
  s.attributes.push_back(Attribute::Int("linear_before_reset", 1));
  out = RunAll(s);
  testing::ExpectNear(out[1], {1, 1, 1}, {0.6150894923344388f});
}

TEST(RecurrentTest, LstmHandExampleWithPeepholes) {
  // H = I = 1. W = [i, o, f, c] = [0.1, 0.2, 0.3, 0.4], R = [0.5, 0.6, 0.7, 0.8],
  // P = [i, o, f] = [0.9, 1.0, 1.1], h0 = 0.5, c0 = -0.5, X = [1, -1]:
  // i = s(0.1x + 0.5h + 0.9C), f = s(0.3x + 0.7h + 1.1C), c = tanh(0.4x + 0.8h),
  // C' = fC + ic, o = s(0.2x + 0.6h + 1.0C'), H = o tanh(C').
  NodeSpec s = Spec("LSTM",
                    {{"X", F32({2, 1, 1}, {1, -1})},
                     {"W", F32({1, 4, 1}, {0.1f, 0.2f, 0.3f, 0.4f}), true},
                     {"R", F32({1, 4, 1}, {0.5f, 0.6f, 0.7f, 0.8f}), true},
                     {"", Tensor()},
                     {"", Tensor()},
                     {"h0", F32({1, 1, 1}, {0.5f})},
                     {"c0", F32({1, 1, 1}, {-0.5f})},
                     {"P", F32({1, 3}, {0.9f, 1.0f, 1.1f}), true}},
                    3);
  s.attributes.push_back(Attribute::Int("hidden_size", 1));
  auto out = RunAll(s);
  testing::ExpectNear(out[0], {2, 1, 1, 1}, {0.03357696534465676f, -0.06287150430814395f});
  testing::ExpectNear(out[1], {1, 1, 1}, {-0.06287150430814395f});
  testing::ExpectNear(out[2], {1, 1, 1}, {-0.15160202575867365f});
}

// ------------------------------------------------------------------------------ reference

struct RefAct {
  std::string name;
  float alpha = 0, beta = 0;
  bool uses_alpha = false, uses_beta = false;
};

RefAct A(std::string name) { return {std::move(name)}; }
RefAct A(std::string name, float alpha) { return {std::move(name), alpha, 0, true, false}; }
RefAct A(std::string name, float alpha, float beta) {
  return {std::move(name), alpha, beta, true, true};
}

double Activate(const RefAct& a, double x) {
  const std::string& n = a.name;
  if (n == "Sigmoid") return 1.0 / (1.0 + std::exp(-x));
  if (n == "Tanh") return std::tanh(x);
  if (n == "Relu") return std::max(0.0, x);
  if (n == "Affine") return a.alpha * x + a.beta;
  if (n == "LeakyRelu") return x >= 0 ? x : a.alpha * x;
  if (n == "ThresholdedRelu") return x > a.alpha ? x : 0.0;
  if (n == "ScaledTanh") return a.alpha * std::tanh(a.beta * x);
  if (n == "HardSigmoid") return std::min(1.0, std::max(0.0, a.alpha * x + a.beta));
  if (n == "Elu") return x >= 0 ? x : a.alpha * (std::exp(x) - 1.0);
  if (n == "Softsign") return x / (1.0 + std::fabs(x));
  if (n == "Softplus") return std::log(1.0 + std::exp(x));
  ADD_FAILURE() << "unknown activation " << n;
  return 0;
}

struct Case {
  std::string op = "LSTM";
  std::string direction = "forward";
  int64_t layout = 0;
  int64_t seq = 4, batch = 3, input = 3, hidden = 5;
  bool bias = true, init_h = true, init_c = true, peephole = false;
  bool lbr = false, input_forget = false;
  float clip = 0;             // 0: no clip attribute
  std::vector<int32_t> lens;  // empty: no sequence_lens
  std::vector<RefAct> acts;   // of every direction; empty: the defaults
  bool attr_hidden_size = true;
  int64_t opset = 14;
  uint32_t seed = 1;
};

int Gates(const std::string& op) { return op == "RNN" ? 1 : op == "GRU" ? 3 : 4; }

std::vector<RefAct> DefaultActs(const std::string& op) {
  if (op == "RNN") return {A("Tanh")};
  if (op == "GRU") return {A("Sigmoid"), A("Tanh")};
  return {A("Sigmoid"), A("Tanh"), A("Tanh")};
}

struct Data {
  std::vector<float> x, w, r, b, h0, c0, p;  // x, h0, c0 in layout 0
};

std::vector<float> Random(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

// [S, B, F] (layout 0) <-> [B, S, F] (layout 1) style swap of the first two of three dims.
std::vector<float> Swap01(const std::vector<float>& v, int64_t d0, int64_t d1, int64_t f) {
  std::vector<float> out(v.size());
  for (int64_t i = 0; i < d0; ++i)
    for (int64_t j = 0; j < d1; ++j)
      for (int64_t k = 0; k < f; ++k) out[(j * d0 + i) * f + k] = v[(i * d1 + j) * f + k];
  return out;
}

struct RefOut {
  std::vector<double> y, y_h, y_c;  // layout 0: [S, D, B, H], [D, B, H]
};

RefOut Reference(const Case& c, const Data& d) {
  const int64_t G = Gates(c.op), H = c.hidden, I = c.input, S = c.seq, B = c.batch;
  const int64_t D = c.direction == "bidirectional" ? 2 : 1;
  const bool lstm = c.op == "LSTM", gru = c.op == "GRU";
  std::vector<RefAct> acts = c.acts;
  const size_t per = DefaultActs(c.op).size();
  if (acts.empty())
    for (int64_t dir = 0; dir < D; ++dir)
      for (const RefAct& a : DefaultActs(c.op)) acts.push_back(a);
  RefOut out;
  out.y.assign(S * D * B * H, 0.0);
  out.y_h.assign(D * B * H, 0.0);
  out.y_c.assign(D * B * H, 0.0);
  auto clip = [&](double v) {
    return c.clip > 0 ? std::min<double>(c.clip, std::max<double>(-c.clip, v)) : v;
  };
  for (int64_t dir = 0; dir < D; ++dir) {
    const bool reverse = c.direction == "reverse" || dir == 1;
    const RefAct* act = acts.data() + dir * per;
    auto W = [&](int64_t row, int64_t i) { return d.w[(dir * G * H + row) * I + i]; };
    auto R = [&](int64_t row, int64_t k) { return d.r[(dir * G * H + row) * H + k]; };
    auto Wb = [&](int64_t row) { return c.bias ? d.b[dir * 2 * G * H + row] : 0.0f; };
    auto Rb = [&](int64_t row) { return c.bias ? d.b[dir * 2 * G * H + G * H + row] : 0.0f; };
    auto P = [&](int64_t gate, int64_t u) {
      return c.peephole ? d.p[dir * 3 * H + gate * H + u] : 0.0f;
    };
    for (int64_t b = 0; b < B; ++b) {
      const int64_t len = c.lens.empty() ? S : c.lens[b];
      std::vector<double> h(H, 0.0), cs(H, 0.0);
      for (int64_t u = 0; u < H; ++u) {
        if (c.init_h) h[u] = d.h0[(dir * B + b) * H + u];
        if (lstm && c.init_c) cs[u] = d.c0[(dir * B + b) * H + u];
      }
      for (int64_t step = 0; step < len; ++step) {
        const int64_t t = reverse ? len - 1 - step : step;
        const float* xt = d.x.data() + (t * B + b) * I;
        // xw[row] = x W^T + Wb, hr[row] = h R^T + Rb.
        std::vector<double> xw(G * H), hr(G * H);
        for (int64_t row = 0; row < G * H; ++row) {
          double s = Wb(row), q = Rb(row);
          for (int64_t i = 0; i < I; ++i) s += static_cast<double>(xt[i]) * W(row, i);
          for (int64_t k = 0; k < H; ++k) q += h[k] * R(row, k);
          xw[row] = s;
          hr[row] = q;
        }
        std::vector<double> nh(H);
        if (c.op == "RNN") {
          for (int64_t u = 0; u < H; ++u) nh[u] = Activate(act[0], clip(xw[u] + hr[u]));
        } else if (gru) {
          std::vector<double> z(H), r(H);
          for (int64_t u = 0; u < H; ++u) {
            z[u] = Activate(act[0], clip(xw[u] + hr[u]));
            r[u] = Activate(act[0], clip(xw[H + u] + hr[H + u]));
          }
          for (int64_t u = 0; u < H; ++u) {
            double pre;
            if (c.lbr) {
              pre = xw[2 * H + u] + r[u] * hr[2 * H + u];
            } else {
              double q = Rb(2 * H + u);
              for (int64_t k = 0; k < H; ++k) q += r[k] * h[k] * R(2 * H + u, k);
              pre = xw[2 * H + u] + q;
            }
            const double hh = Activate(act[1], clip(pre));
            nh[u] = (1 - z[u]) * hh + z[u] * h[u];
          }
        } else {
          for (int64_t u = 0; u < H; ++u) {
            const double i = Activate(act[0], clip(xw[u] + hr[u] + P(0, u) * cs[u]));
            const double f =
                c.input_forget
                    ? 1.0 - i
                    : Activate(act[0], clip(xw[2 * H + u] + hr[2 * H + u] + P(2, u) * cs[u]));
            const double g = Activate(act[1], clip(xw[3 * H + u] + hr[3 * H + u]));
            const double cn = f * cs[u] + i * g;
            const double o = Activate(act[0], clip(xw[H + u] + hr[H + u] + P(1, u) * cn));
            cs[u] = cn;
            nh[u] = o * Activate(act[2], cn);
          }
        }
        h = nh;
        for (int64_t u = 0; u < H; ++u) out.y[((t * D + dir) * B + b) * H + u] = h[u];
      }
      for (int64_t u = 0; u < H; ++u) {
        out.y_h[(dir * B + b) * H + u] = len == 0 ? 0.0 : h[u];
        out.y_c[(dir * B + b) * H + u] = len == 0 ? 0.0 : cs[u];
      }
    }
  }
  return out;
}

NodeSpec BuildNode(const Case& c, const Data& d) {
  const int64_t G = Gates(c.op), H = c.hidden, S = c.seq, B = c.batch, I = c.input;
  const int64_t D = c.direction == "bidirectional" ? 2 : 1;
  const bool lstm = c.op == "LSTM";
  NodeSpec s = Spec(c.op, {}, lstm ? 3 : 2);
  s.opset = c.opset;
  const bool l1 = c.layout == 1;
  s.inputs.push_back({"X", l1 ? F32({B, S, I}, Swap01(d.x, S, B, I)) : F32({S, B, I}, d.x)});
  s.inputs.push_back({"W", F32({D, G * H, I}, d.w), true});
  s.inputs.push_back({"R", F32({D, G * H, H}, d.r), true});
  s.inputs.push_back(c.bias ? testing::NodeInput{"B", F32({D, 2 * G * H}, d.b), true}
                            : testing::NodeInput{"", Tensor()});
  s.inputs.push_back(!c.lens.empty() ? testing::NodeInput{"lens", I32({B}, c.lens)}
                                     : testing::NodeInput{"", Tensor()});
  auto state = [&](const std::vector<float>& v, const char* name) {
    return testing::NodeInput{name, l1 ? F32({B, D, H}, Swap01(v, D, B, H)) : F32({D, B, H}, v)};
  };
  s.inputs.push_back(c.init_h ? state(d.h0, "h0") : testing::NodeInput{"", Tensor()});
  if (lstm) {
    s.inputs.push_back(c.init_c ? state(d.c0, "c0") : testing::NodeInput{"", Tensor()});
    if (c.peephole) s.inputs.push_back({"P", F32({D, 3 * H}, d.p), true});
  }
  while (!s.inputs.empty() && s.inputs.back().name.empty()) s.inputs.pop_back();
  if (c.attr_hidden_size) s.attributes.push_back(Attribute::Int("hidden_size", H));
  s.attributes.push_back(Attribute::String("direction", c.direction));
  if (c.opset >= 14) s.attributes.push_back(Attribute::Int("layout", c.layout));
  if (c.clip > 0) s.attributes.push_back(Attribute::Float("clip", c.clip));
  if (c.lbr) s.attributes.push_back(Attribute::Int("linear_before_reset", 1));
  if (c.input_forget) s.attributes.push_back(Attribute::Int("input_forget", 1));
  if (!c.acts.empty()) {
    std::vector<std::string> names;
    std::vector<float> alphas, betas;
    for (size_t i = 0; i < c.acts.size(); ++i) {
      const RefAct& a = c.acts[i];
      names.push_back(a.name);
      if (a.uses_alpha) alphas.push_back(a.alpha);
      if (a.uses_beta) betas.push_back(a.beta);
    }
    s.attributes.push_back(Strings("activations", names));
    if (!alphas.empty()) s.attributes.push_back(Attribute::Floats("activation_alpha", alphas));
    if (!betas.empty()) s.attributes.push_back(Attribute::Floats("activation_beta", betas));
  }
  return s;
}

void ExpectClose(const Tensor& t, const Shape& shape, const std::vector<double>& ref,
                 const std::string& what) {
  ASSERT_EQ(t.dtype(), DataType::kFloat) << what;
  ASSERT_EQ(t.shape(), shape) << what;
  for (size_t i = 0; i < ref.size(); ++i)
    ASSERT_NEAR(t.data<float>()[i], ref[i], 2e-5 + 2e-5 * std::fabs(ref[i])) << what << " at " << i;
}

std::string Describe(const Case& c) {
  std::string s = c.op + " " + c.direction + " layout " + std::to_string(c.layout) + " opset " +
                  std::to_string(c.opset);
  if (!c.lens.empty()) s += " lens";
  if (c.clip > 0) s += " clip";
  if (c.lbr) s += " lbr";
  if (c.peephole) s += " peephole";
  if (c.input_forget) s += " input_forget";
  for (const RefAct& a : c.acts) s += " " + a.name;
  return s;
}

void CheckCase(const Case& c, int threads = 1) {
  const int64_t G = Gates(c.op), H = c.hidden, S = c.seq, B = c.batch, I = c.input;
  const int64_t D = c.direction == "bidirectional" ? 2 : 1;
  std::mt19937 rng(c.seed);
  Data d;
  d.x = Random(S * B * I, rng, 2.0f);
  d.w = Random(D * G * H * I, rng, 0.7f);
  d.r = Random(D * G * H * H, rng, 0.7f);
  d.b = Random(D * 2 * G * H, rng, 0.5f);
  d.h0 = Random(D * B * H, rng);
  d.c0 = Random(D * B * H, rng);
  d.p = Random(D * 3 * H, rng, 0.5f);
  RefOut ref = Reference(c, d);
  auto out = RunAll(BuildNode(c, d), threads);
  const std::string what = Describe(c);
  if (c.layout == 0) {
    ExpectClose(out[0], {S, D, B, H}, ref.y, what + " Y");
    ExpectClose(out[1], {D, B, H}, ref.y_h, what + " Y_h");
    if (c.op == "LSTM") ExpectClose(out[2], {D, B, H}, ref.y_c, what + " Y_c");
  } else {
    // Y [S, D, B, H] -> [B, S, D, H]; states [D, B, H] -> [B, D, H].
    std::vector<double> y(ref.y.size());
    for (int64_t t = 0; t < S; ++t)
      for (int64_t dir = 0; dir < D; ++dir)
        for (int64_t b = 0; b < B; ++b)
          for (int64_t u = 0; u < H; ++u)
            y[((b * S + t) * D + dir) * H + u] = ref.y[((t * D + dir) * B + b) * H + u];
    auto swap = [&](const std::vector<double>& v) {
      std::vector<double> o(v.size());
      for (int64_t dir = 0; dir < D; ++dir)
        for (int64_t b = 0; b < B; ++b)
          for (int64_t u = 0; u < H; ++u) o[(b * D + dir) * H + u] = v[(dir * B + b) * H + u];
      return o;
    };
    ExpectClose(out[0], {B, S, D, H}, y, what + " Y");
    ExpectClose(out[1], {B, D, H}, swap(ref.y_h), what + " Y_h");
    if (c.op == "LSTM") ExpectClose(out[2], {B, D, H}, swap(ref.y_c), what + " Y_c");
  }
}

// ---------------------------------------------------------------------- reference checks

TEST(RecurrentTest, EveryOpDirectionAndLayoutMatchesReference) {
  uint32_t seed = 10;
  for (const char* op : {"RNN", "GRU", "LSTM"})
    for (const char* direction : {"forward", "reverse", "bidirectional"})
      for (int64_t layout : {0, 1}) {
        Case c;
        c.op = op;
        c.direction = direction;
        c.layout = layout;
        c.seed = seed++;
        CheckCase(c);
      }
}

TEST(RecurrentTest, Opset7WithoutOptionalInputs) {
  for (const char* op : {"RNN", "GRU", "LSTM"}) {
    Case c;
    c.op = op;
    c.opset = 7;
    c.bias = c.init_h = c.init_c = false;
    c.attr_hidden_size = false;  // taken from R
    CheckCase(c);
  }
}

TEST(RecurrentTest, SequenceLengths) {
  // Shorter sequences: steps past a row's length give Y = 0; a length of 0 gives Y_h = 0.
  // Reverse runs each row from its own last step.
  uint32_t seed = 40;
  for (const char* op : {"RNN", "GRU", "LSTM"})
    for (const char* direction : {"forward", "reverse", "bidirectional"})
      for (int64_t layout : {0, 1}) {
        Case c;
        c.op = op;
        c.direction = direction;
        c.layout = layout;
        c.lens = {4, 1, 0};
        c.seed = seed++;
        CheckCase(c);
        c.lens = {2, 3, 2};  // no row runs the full sequence
        CheckCase(c);
      }
}

TEST(RecurrentTest, LstmPeepholesInputForgetAndClip) {
  Case c;
  c.peephole = true;
  CheckCase(c);
  c.direction = "bidirectional";
  CheckCase(c);
  c.input_forget = true;
  CheckCase(c);
  c.clip = 0.3f;
  CheckCase(c);
  c.peephole = false;
  c.input_forget = false;
  c.lens = {1, 4, 2};
  CheckCase(c);
}

TEST(RecurrentTest, GruLinearBeforeResetAndClip) {
  Case c;
  c.op = "GRU";
  c.lbr = true;
  CheckCase(c);
  c.direction = "bidirectional";
  c.layout = 1;
  CheckCase(c);
  c.clip = 0.25f;
  CheckCase(c);
  c.lbr = false;
  CheckCase(c);
  Case r;
  r.op = "RNN";
  r.clip = 0.5f;
  CheckCase(r);
}

TEST(RecurrentTest, ActivationFunctionsWithAlphaBeta) {
  // Every function of the spec, alpha/beta consumed in order by the functions that take them.
  Case l;
  l.acts = {A("HardSigmoid", 0.3f, 0.6f), A("ScaledTanh", 0.9f, 1.1f), A("Softsign")};
  CheckCase(l);
  l.acts = {A("Sigmoid"), A("Elu", 0.7f), A("Softplus")};
  CheckCase(l);
  l.direction = "bidirectional";
  l.acts = {A("Sigmoid"),
            A("LeakyRelu", 0.2f),
            A("Tanh"),
            A("HardSigmoid", 0.25f, 0.5f),
            A("Affine", 0.5f, 0.1f),
            A("ThresholdedRelu", 0.1f)};
  CheckCase(l);
  Case g;
  g.op = "GRU";
  g.acts = {A("HardSigmoid", 0.2f, 0.5f), A("Relu")};
  CheckCase(g);
  Case r;
  r.op = "RNN";
  r.direction = "bidirectional";
  r.acts = {A("Relu"), A("Affine", 0.8f, -0.2f)};
  CheckCase(r);
  // A bidirectional node must list both directions' functions (as ONNX Runtime requires).
  NodeSpec s = SmallRnn();
  s.attributes.push_back(Attribute::String("direction", "bidirectional"));
  s.inputs[1].value = F32({2, 1, 1}, {1, 1});
  s.inputs[2].value = F32({2, 1, 1}, {0.5f, 0.5f});
  s.attributes.push_back(Strings("activations", {"Relu"}));
  EXPECT_EQ(RunCode(s), StatusCode::kInvalidModel);
}

TEST(RecurrentTest, DefaultsOfAlphaAndBetaAndCaseInsensitiveNames) {
  // LeakyRelu's alpha defaults to 0.01, HardSigmoid's to 0.2 / 0.5; names in any case.
  NodeSpec s = Spec("RNN",
                    {{"X", F32({1, 1, 2}, {-3, 0})},
                     {"W", F32({2, 1, 2}, {1, 0, 1, 0}), true},
                     {"R", F32({2, 1, 1}, {0, 0}), true}},
                    2);
  s.attributes = {Attribute::Int("hidden_size", 1), Attribute::String("direction", "bidirectional"),
                  Strings("activations", {"leakyrelu", "HARDSIGMOID"})};
  auto out = RunAll(s);
  // forward: -3 * 0.01; backward: 0.2 * -3 + 0.5 = -0.1 -> 0.
  testing::ExpectNear(out[1], {2, 1, 1}, {-0.03f, 0.0f});
}

TEST(RecurrentTest, LargerSizesAcrossThreads) {
  Case c;
  c.seq = 7;
  c.batch = 5;
  c.input = 19;
  c.hidden = 33;
  c.direction = "bidirectional";
  c.peephole = true;
  CheckCase(c, 2);
  c.op = "GRU";
  CheckCase(c, 2);
}

// ---------------------------------------------------------------------------------- errors

TEST(RecurrentTest, BuildTimeErrors) {
  NodeSpec s = SmallRnn();
  s.attributes.push_back(Attribute::String("direction", "sideways"));
  EXPECT_EQ(RunCode(s), StatusCode::kInvalidModel);
  s = SmallRnn();
  s.attributes.push_back(Strings("activations", {"Gelu"}));
  EXPECT_EQ(RunCode(s), StatusCode::kUnsupported);
  s = SmallRnn();
  s.attributes.push_back(Strings("activations", {"Tanh", "Tanh", "Tanh"}));
  EXPECT_EQ(RunCode(s), StatusCode::kInvalidModel);
  s = SmallRnn();
  s.attributes.push_back(Attribute::Int("layout", 2));
  EXPECT_EQ(RunCode(s), StatusCode::kInvalidModel);
  s = SmallRnn();
  s.inputs[0].value = testing::Make<double>(DataType::kDouble, {2, 1, 1}, {1, 2});
  EXPECT_EQ(RunCode(s), StatusCode::kUnsupported);
}

TEST(RecurrentTest, RuntimeShapeErrors) {
  NodeSpec s = SmallRnn();
  s.inputs[1].value = F32({1, 2, 1}, {1, 1});  // W rows must be hidden_size
  EXPECT_EQ(RunCode(s), StatusCode::kInvalidArgument);
  s = SmallRnn();
  s.inputs.push_back({"", Tensor()});
  s.inputs.push_back({"lens", I32({1}, {3})});  // longer than the sequence
  EXPECT_EQ(RunCode(s), StatusCode::kInvalidArgument);
  s = SmallRnn();
  s.inputs[0].value = F32({2, 1}, {1, 2});  // X must have rank 3
  EXPECT_EQ(RunCode(s), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgefit
