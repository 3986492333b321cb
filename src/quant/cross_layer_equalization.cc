// Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization", section 4.1).
//
//   Before: x -> Conv1(W1, b1) -> [Relu | LeakyRelu | PRelu | -] -> Conv2(W2, b2) -> y
//   After:  x -> Conv1(W1', b1') -> [same activation]            -> Conv2(W2', b2) -> y
//
// For a positively homogeneous activation f (f(s*x) = s*f(x) for s > 0) and s_c > 0:
//   W1'[c, ...] = W1[c, ...] / s_c     b1'[c] = b1[c] / s_c     (output channel c of Conv1)
//   W2'[:, c, ...] = W2[:, c, ...] * s_c                        (input channel c of Conv2)
// so Conv2 sees f(h_c / s_c) * s_c = f(h_c): y is unchanged. With r1_c = max|W1[c, ...]| and
// r2_c = max|W2[:, c, ...]|, s_c = sqrt(r1_c / r2_c) makes r1_c / s_c == r2_c * s_c, the choice
// that maximizes the per-tensor quantization precision of both layers together.
//
// Grouped convolutions: input channel c of Conv2 lives in group c / (C/group) at index
// c % (C/group) of every output channel of that group. For a depthwise Conv2 (group == C) that is
// just its weight slice c (times the channel multiplier); its bias is its OUTPUT and stays as it
// is. A depthwise Conv1 has output channel c = weight slice c, and its bias c is scaled.
//
// Chains (Conv1 -> Conv2 -> Conv3): Conv2 is the second layer of one pair and the first of the
// next, so equalizing one pair unbalances the other; sweeps over all pairs repeat until every
// pair is balanced (all |s_c - 1| < tolerance) or max_iterations is reached.
//
// Not positively homogeneous, so never equalized (reported in `skipped`): Clip with a finite max
// or a non-zero min (Relu6 included: rescaling channel c moves its clipping point from 6 to
// 6 / s_c), BatchNormalization (fold it first), any other op between the layers.
#include "quant/cross_layer_equalization.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "passes/pass_util.h"

namespace edgefit {
namespace {

// ---------------------------------------------------------------------------- reference math

// The elements of one channel in a weight buffer: `blocks` runs of `run` contiguous elements,
// the first starting at `start`, each next one `stride` further.
struct ChannelSlice {
  int64_t start = 0;
  int64_t blocks = 1;
  int64_t run = 0;
  int64_t stride = 0;
};

template <typename F>
void ForEachElement(const ChannelSlice& s, F f) {
  for (int64_t b = 0; b < s.blocks; ++b) {
    int64_t base = s.start + b * s.stride;
    for (int64_t i = 0; i < s.run; ++i) f(base + i);
  }
}

// Where the channels of a layer sit in its weight.
//   Conv W [O, I/group, k...]: output channel o is W[o, ...]. Input channel c belongs to group
//   g = c / (I/group) at index j = c % (I/group): it is W[o, j, ...] for the O/group output
//   channels o of group g (for a depthwise conv, W[c*m .. c*m+m-1] with multiplier m = O/I).
//   Gemm B [K, N] (or [N, K] with transB): output channel n is column n (row n with transB),
//   input channel k is row k (column k).
struct WeightLayout {
  bool gemm = false;
  bool trans_b = false;
  int64_t out_channels = 0;
  int64_t in_channels = 0;
  int64_t group = 1;   // Conv only
  int64_t kernel = 1;  // Conv only: elements of one (o, j) kernel

  ChannelSlice Output(int64_t c) const {
    if (!gemm) {
      int64_t per = in_channels / group * kernel;
      return {c * per, 1, per, 0};
    }
    if (trans_b) return {c * in_channels, 1, in_channels, 0};
    return {c, in_channels, 1, out_channels};
  }
  ChannelSlice Input(int64_t c) const {
    if (!gemm) {
      int64_t in_g = in_channels / group, out_g = out_channels / group;
      int64_t g = c / in_g, j = c % in_g;
      return {(g * out_g * in_g + j) * kernel, out_g, kernel, in_g * kernel};
    }
    if (trans_b) return {c, out_channels, 1, in_channels};
    return {c * out_channels, 1, out_channels, 0};
  }
};

// max |w| over a channel: the range symmetric per-tensor quantization has to cover. (NaN is
// ignored: std::max keeps r when the comparison is false.)
float ChannelRange(const float* w, const ChannelSlice& s) {
  float r = 0;
  ForEachElement(s, [&](int64_t i) { r = std::max(r, std::fabs(w[i])); });
  return r;
}

void ScaleChannel(float* w, const ChannelSlice& s, float factor) {
  ForEachElement(s, [&](int64_t i) { w[i] *= factor; });
}

// s_c = sqrt(r1_c / r2_c), so that r1_c / s_c == r2_c * s_c == sqrt(r1_c * r2_c). A channel whose
// range is 0 (dead) or not finite in either layer keeps s_c = 1.
std::vector<float> EqualizingScales(const std::vector<float>& r1, const std::vector<float>& r2) {
  std::vector<float> s(r1.size(), 1.f);
  for (size_t c = 0; c < r1.size(); ++c) {
    double a = r1[c], b = r2[c];
    if (!(a > 0) || !(b > 0) || !std::isfinite(a) || !std::isfinite(b)) continue;
    double v = std::sqrt(a / b);
    if (std::isfinite(v) && v > 0 && static_cast<float>(v) > 0 &&
        std::isfinite(static_cast<float>(v)))
      s[c] = static_cast<float>(v);
  }
  return s;
}

float MaxDeviationFromOne(const std::vector<float>& s) {
  float d = 0;
  for (float v : s) d = std::max(d, std::fabs(v - 1.f));
  return d;
}

// max_c r_c / mean_c r_c (1 = all channels alike; 0 when every range is 0).
float Spread(const std::vector<float>& r) {
  if (r.empty()) return 0;
  double sum = 0, mx = 0;
  for (float v : r) {
    sum += v;
    mx = std::max<double>(mx, v);
  }
  double mean = sum / static_cast<double>(r.size());
  return mean > 0 ? static_cast<float>(mx / mean) : 0.f;
}

// ---------------------------------------------------------------------------- matching

struct Layer {
  Node* node = nullptr;
  WeightLayout layout;
  Tensor weight;  // working copy, rescaled in place
  Tensor bias;    // working copy (only for a first layer with a bias); empty otherwise
  bool weight_changed = false;
  bool bias_changed = false;
};

struct Pair {
  size_t first;   // index into the layers
  size_t second;  // index into the layers
  ClePair report;
};

std::string Num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

bool IsLayer(const Node& n) { return IsOnnxDomain(n) && (IsOp(n, "Conv") || IsOp(n, "Gemm")); }

// The layer reading `v` as its data input (index 0), if any.
Node* LayerReading(const Value* v) {
  for (const Use& u : v->uses())
    if (u.input_index == 0 && IsLayer(*u.node)) return u.node;
  return nullptr;
}

// The layer that reads `v` directly or through one single-input op (the would-be second layer
// of a pair), for reporting why a shared output is skipped.
Node* LayerDownstream(const Value* v) {
  if (Node* n = LayerReading(v)) return n;
  for (const Use& u : v->uses())
    if (u.input_index == 0 && u.node->output(0))
      if (Node* n = LayerReading(u.node->output(0))) return n;
  return nullptr;
}

// Why a weight or bias operand cannot be rescaled for this layer alone ("" if it can).
std::string OperandProblem(const Node& layer, const Value* v, const char* what) {
  std::string name = std::string(what) + " '" + v->name() + "' of " + layer.Describe();
  if (!v->has_initializer()) return name + " is not an initializer (non-constant weights)";
  if (v->initializer()->dtype() != DataType::kFloat)
    return name + " is " + DataTypeName(v->initializer()->dtype()) + ", not float32";
  if (v->is_graph_input()) return name + " is also a graph input (it can be replaced at run time)";
  if (v->is_graph_output()) return name + " is also a graph output";
  if (v->uses().size() != 1)
    return name + " is shared with " + std::to_string(v->uses().size() - 1) +
           " other reader(s); a shared initializer is never rescaled for one of its users";
  return "";
}

// The channel layout of a layer's weight, or why it is not supported ("" on success).
std::string LayoutOf(const Node& n, const Tensor& w, WeightLayout* out) {
  WeightLayout l;
  if (IsOp(n, "Conv")) {
    l.group = n.GetInt("group", 1);
    if (w.rank() < 3 || l.group < 1 || w.dim(0) <= 0 || w.dim(1) <= 0 || w.dim(0) % l.group != 0)
      return n.Describe() + ": weight " + ShapeToString(w.shape()) + " with group " +
             std::to_string(l.group) + " is not supported";
    l.out_channels = w.dim(0);
    l.in_channels = w.dim(1) * l.group;
    l.kernel = w.numel() / (w.dim(0) * w.dim(1));
  } else {
    if (w.rank() != 2 || w.dim(0) <= 0 || w.dim(1) <= 0)
      return n.Describe() + ": weight B " + ShapeToString(w.shape()) + " is not 2-D";
    l.gemm = true;
    l.trans_b = n.GetInt("transB", 0) != 0;
    l.out_channels = l.trans_b ? w.dim(0) : w.dim(1);
    l.in_channels = l.trans_b ? w.dim(1) : w.dim(0);
  }
  *out = l;
  return "";
}

// "" when `act` commutes with a positive per-channel scale (f(s * x) == s * f(x)); otherwise why
// it does not, phrased to follow "<act> between A and B ".
std::string ActivationProblem(const Node& act, int64_t opset) {
  if (!IsOnnxDomain(act)) return "is not a supported activation (custom domain)";
  const std::string& op = act.op_type();
  if (op == "Relu" || op == "LeakyRelu") return "";
  if (op == "PRelu") {
    // PRelu(s*x) = s*PRelu(x) for any slope that does not depend on x.
    const Tensor* slope = ConstantValue(act.input(1));
    if (!slope) return "has a slope that is not a constant";
    return "";
  }
  if (op == "Clip") {
    float lo = -std::numeric_limits<float>::infinity();
    float hi = std::numeric_limits<float>::infinity();
    if (opset < 11) {
      lo = act.GetFloat("min", -FLT_MAX);
      hi = act.GetFloat("max", FLT_MAX);
    } else {
      for (int i = 1; i <= 2; ++i) {
        const Value* v = act.input(i);
        if (!v) continue;
        const Tensor* t = ConstantValue(v);
        if (!t || t->numel() != 1) return "has bounds that are not constants";
        (i == 1 ? lo : hi) = static_cast<float>(t->ToDoubleVector()[0]);
      }
    }
    if (lo == 0.f && hi >= FLT_MAX) return "";  // Clip(min=0) is Relu
    return "has bounds (min " + Num(lo) + ", max " + Num(hi) +
           ") and is not positively homogeneous: Clip(s * x) != s * Clip(x), so scaling channel "
           "c by 1 / s_c would move its clipping point (Relu6 would become Relu(6 * s_c) per "
           "channel)";
  }
  if (op == "BatchNormalization")
    return "must be folded into the first layer first (run the fold-batchnorm pass)";
  return "is not a supported activation (Relu, LeakyRelu, PRelu, Clip(min=0) or none)";
}

struct Matcher {
  Graph& g;
  int64_t opset;
  CleReport& report;
  std::vector<Layer> layers;
  std::map<Node*, size_t> layer_index;
  std::vector<Pair> pairs;

  void Skip(const Node& first, const Node* second, std::string reason) {
    report.skipped.push_back({first.name(), second ? second->name() : "", std::move(reason)});
  }

  size_t LayerFor(Node* n, const WeightLayout& layout) {
    auto it = layer_index.find(n);
    if (it != layer_index.end()) return it->second;
    Layer l;
    l.node = n;
    l.layout = layout;
    l.weight = n->input(1)->initializer()->Clone();
    layers.push_back(std::move(l));
    layer_index[n] = layers.size() - 1;
    return layers.size() - 1;
  }

  // Looks for a pair starting at layer `a`; records it, or a skip when a second layer was found.
  void MatchFrom(Node* a) {
    Value* t = a->output(0);
    if (!t) return;
    if (!HasSingleConsumer(t)) {
      if (Node* b = LayerDownstream(t))
        Skip(*a, b,
             "output '" + t->name() + "' of " + a->Describe() + " has " +
                 std::to_string(t->uses().size()) + " reader(s)" +
                 (t->is_graph_output() ? " and is a graph output" : "") +
                 ": rescaling its channels would change what the others see");
      return;
    }
    const Use& use = t->uses()[0];
    if (use.input_index != 0) return;
    Node* act = nullptr;
    Node* b = use.node;
    if (!IsLayer(*b)) {
      act = b;
      Value* u = act->output(0);
      if (!u) return;
      if (!HasSingleConsumer(u)) {
        if (Node* second = LayerReading(u))
          Skip(*a, second,
               "output '" + u->name() + "' of " + act->Describe() + " between the layers has " +
                   std::to_string(u->uses().size()) + " reader(s)" +
                   (u->is_graph_output() ? " and is a graph output" : "") +
                   ": rescaling its channels would change what the others see");
        return;
      }
      b = u->uses()[0].node;
      if (!IsLayer(*b) || u->uses()[0].input_index != 0) return;
      bool extra_outputs = false;
      for (size_t i = 1; i < act->num_outputs(); ++i)
        if (act->output(i) &&
            (!act->output(i)->uses().empty() || act->output(i)->is_graph_output()))
          extra_outputs = true;
      std::string problem =
          extra_outputs ? "has more than one output in use" : ActivationProblem(*act, opset);
      if (!problem.empty()) {
        Skip(*a, b,
             act->Describe() + " between " + a->Describe() + " and " + b->Describe() + " " +
                 problem);
        return;
      }
    }
    std::string pair_name = a->Describe() + " -> " + b->Describe();
    if (a->op_type() != b->op_type()) {
      Skip(*a, b, pair_name + ": only Conv -> Conv and Gemm -> Gemm pairs are supported");
      return;
    }
    if (IsOp(*b, "Gemm") && b->GetInt("transA", 0) != 0) {
      Skip(*a, b, pair_name + ": the second Gemm has transA = 1 (its channels are on axis 0)");
      return;
    }
    // Operands: both weights, and the first layer's bias, must be private float initializers.
    for (auto [node, what] : {std::pair<Node*, const char*>{a, "weight"}, {b, "weight"}}) {
      if (!node->input(1)) {
        Skip(*a, b, pair_name + ": " + node->Describe() + " has no weight input");
        return;
      }
      std::string p = OperandProblem(*node, node->input(1), what);
      if (!p.empty()) return Skip(*a, b, p);
    }
    Value* bias = a->input(2);
    if (bias) {
      std::string p = OperandProblem(*a, bias, "bias");
      if (!p.empty()) return Skip(*a, b, p);
    }
    WeightLayout la, lb;
    std::string p = LayoutOf(*a, *a->input(1)->initializer(), &la);
    if (p.empty()) p = LayoutOf(*b, *b->input(1)->initializer(), &lb);
    if (!p.empty()) return Skip(*a, b, p);
    if (la.out_channels != lb.in_channels)
      return Skip(*a, b,
                  pair_name + ": " + std::to_string(la.out_channels) + " output channels feed " +
                      std::to_string(lb.in_channels) + " input channels");
    if (bias) {
      const Tensor& bt = *bias->initializer();
      bool per_channel = bt.numel() == la.out_channels &&
                         (bt.rank() == 1 || (bt.rank() == 2 && bt.dim(0) == 1 && la.gemm));
      if (!per_channel)
        return Skip(*a, b,
                    pair_name + ": bias " + ShapeToString(bt.shape()) + " of " + a->Describe() +
                        " is not one value per output channel");
    }
    size_t ia = LayerFor(a, la);
    size_t ib = LayerFor(b, lb);
    if (bias && layers[ia].bias.empty()) layers[ia].bias = bias->initializer()->Clone();
    Pair pair{ia, ib, {}};
    pair.report.first = a->name();
    pair.report.second = b->name();
    pair.report.activation = act ? act->op_type() : "";
    pair.report.channels = static_cast<int>(la.out_channels);
    pairs.push_back(std::move(pair));
  }
};

std::vector<float> OutputRanges(const Layer& l) {
  std::vector<float> r(l.layout.out_channels);
  for (int64_t c = 0; c < l.layout.out_channels; ++c)
    r[c] = ChannelRange(l.weight.data<float>(), l.layout.Output(c));
  return r;
}

std::vector<float> InputRanges(const Layer& l) {
  std::vector<float> r(l.layout.in_channels);
  for (int64_t c = 0; c < l.layout.in_channels; ++c)
    r[c] = ChannelRange(l.weight.data<float>(), l.layout.Input(c));
  return r;
}

// Equalizes one pair on the working copies. Returns false (and changes nothing) when the pair is
// already balanced: every |s_c - 1| < tolerance.
bool EqualizePair(Layer& a, Layer& b, float tolerance) {
  std::vector<float> s = EqualizingScales(OutputRanges(a), InputRanges(b));
  if (MaxDeviationFromOne(s) < tolerance) return false;
  float* bias = a.bias.empty() ? nullptr : a.bias.data<float>();
  for (size_t c = 0; c < s.size(); ++c) {
    if (s[c] == 1.f) continue;
    int64_t ch = static_cast<int64_t>(c);
    ScaleChannel(a.weight.data<float>(), a.layout.Output(ch), 1.f / s[c]);
    if (bias) bias[c] /= s[c];
    ScaleChannel(b.weight.data<float>(), b.layout.Input(ch), s[c]);
  }
  a.weight_changed = b.weight_changed = true;
  if (bias) a.bias_changed = true;
  return true;
}

// Points input `index` of `node` at a new initializer holding `t` (as fold-batchnorm does) and
// drops the old initializer, which only this node read.
void ReplaceOperand(Graph& g, Node* node, size_t index, Tensor t) {
  Value* old = node->input(index);
  Value* nv = g.AddInitializer(old->name() + "_cle", std::move(t));
  nv->doc_string = old->doc_string;
  nv->initializer_encoding().raw_data = true;
  node->SetInput(index, nv);
  if (old->uses().empty()) {
    g.RemoveInitializer(old);
    g.RemoveValueIfUnused(old);
  }
}

}  // namespace

StatusOr<CleReport> EqualizeCrossLayer(Model* model, const CleOptions& options) {
  if (!model || !model->graph) return InvalidArgument("EqualizeCrossLayer: no model");
  if (options.max_iterations < 0 || !(options.tolerance >= 0) || !std::isfinite(options.tolerance))
    return InvalidArgument(
        "EqualizeCrossLayer: max_iterations must be >= 0 and tolerance a "
        "finite number >= 0");
  CleReport report;
  Graph& g = *model->graph;
  int64_t opset = model->OpsetVersion("");
  if (opset < 7) {
    // Gemm's broadcast attribute and PRelu's slope broadcasting differ before opset 7.
    for (const auto& n : g.nodes())
      if (IsLayer(*n)) {
        report.skipped.push_back(
            {n->name(), "",
             "ai.onnx opset " + std::to_string(opset) + ": CLE supports opset >= 7"});
        break;
      }
    return report;
  }

  Matcher m{g, opset, report, {}, {}, {}};
  for (const auto& n : g.nodes())
    if (IsLayer(*n)) m.MatchFrom(n.get());

  for (Pair& p : m.pairs) {
    p.report.first_spread_before = Spread(OutputRanges(m.layers[p.first]));
    p.report.second_spread_before = Spread(InputRanges(m.layers[p.second]));
  }
  bool balanced = false;
  for (int iter = 0; iter < options.max_iterations; ++iter) {
    bool any = false;
    for (Pair& p : m.pairs)
      any |= EqualizePair(m.layers[p.first], m.layers[p.second], options.tolerance);
    if (!any) {
      balanced = true;
      break;
    }
    ++report.iterations;
  }
  if (!balanced) {
    // max_iterations ran out: balanced only if one more sweep would change nothing.
    balanced = true;
    for (Pair& p : m.pairs) {
      std::vector<float> s =
          EqualizingScales(OutputRanges(m.layers[p.first]), InputRanges(m.layers[p.second]));
      if (MaxDeviationFromOne(s) >= options.tolerance) balanced = false;
    }
  }
  report.converged = balanced;
  for (Pair& p : m.pairs) {
    p.report.first_spread_after = Spread(OutputRanges(m.layers[p.first]));
    p.report.second_spread_after = Spread(InputRanges(m.layers[p.second]));
    report.equalized.push_back(p.report);
  }

  // Everything is computed: now mutate the graph.
  for (Layer& l : m.layers) {
    if (l.weight_changed) ReplaceOperand(g, l.node, 1, std::move(l.weight));
    if (l.bias_changed) ReplaceOperand(g, l.node, 2, std::move(l.bias));
    report.changed |= l.weight_changed;
  }
  return report;
}

}  // namespace edgefit
