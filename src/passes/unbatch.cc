// unbatch: run a Conv/BatchNorm/activation/pool chain that works at batch N > 1 inside the model
// (the batch axis used as a feature axis) at batch 1, for NPUs that only run these ops at batch 1.
//
//   Before: s [24,3,36,36] -> Conv(W [8,3,3,3], b [8]) -> BN -> Relu -> MaxPool -> ...
//             -> GlobalAveragePool -> [24,16,1,1] -> Squeeze -> Squeeze -> t [24,16] -> Reshape
//   After (group mode):
//           s' [1,72,36,36] -> Conv(W' [192,3,3,3], b' [192], group 24) -> BN(params x24)
//             -> Relu -> MaxPool -> ... -> GlobalAveragePool -> [1,384,1,1] -> Squeeze
//             -> Squeeze -> t' [1,384] -> Reshape
//   After (split mode):
//           s' [1,72,36,36] -> Slice channels [3n,3n+3) for n < 24 -> 24 copies of the chain
//             [1,3,36,36] -> ... -> [1,16], all sharing W, b and the BN parameters
//             -> Concat(axis 1) -> t' [1,384] -> Reshape
//
// The algebra. [N,C,...] and [1,N*C,...] are the same row-major buffer (a pure Reshape), with
// channel n*C + c of the folded tensor holding sample n, channel c. On the folded layout:
//   Conv       with group g*N and the weights (and bias) repeated N times along the output
//              channel axis: folded group n*g + j sees exactly sample n's channels of group j;
//              ConvTranspose the same (its weight's axis 0 is the input channel axis);
//   BatchNormalization / InstanceNormalization: per-channel parameters repeated N times;
//   activations, MaxPool/AveragePool/LpPool and the global pools: per channel, unchanged;
//   Pad (no padding on axes 0 and 1), Squeeze/Unsqueeze of axes >= 2, Concat on an axis >= 2:
//              unchanged (the rank does not change);
//   binary ops: an operand from the chain has the same [N,C] in front; a constant broadcast
//              over axes 0 and 1 is unchanged, any other constant is expanded to [1,N*C,...].
// A chain starts at the tensors it reads (a Reshape producing one gets the folded target; any
// other producer gets a Reshape inserted) and ends at every reader outside the chain, which gets
// the tensor reshaped back (a reader that is itself a Reshape to a constant shape without 0 reads
// the folded tensor directly). The values at the chain's boundaries are unchanged.
//
// Split mode slices the folded input per sample (Slice on axis 1, which keeps the batch axis
// alone) and concatenates the copies' results on axis 1, so no op touches axis 0.
// Mode (PassOptions::unbatch_mode): "group", "split", or "auto": group when N times the bytes
// of the chain's per-channel parameters (Conv weights and biases, normalization parameters,
// per-channel constants) stays within 1 MiB, split otherwise (group mode repeats the weights N
// times; split mode repeats the nodes N times but shares the weights).
//
// Fires on the target's batch_one_ops (Conv and pooling ops without a target) whose data input
// has a static batch N > 1. Shapes come from the value types or one run of the model (graph
// inputs must be static). Other ops at batch N (Gemm, MatMul, ...) are reported as unresolved.
#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "passes/pass_util.h"
#include "passes/passes.h"
#include "shape/concrete_shapes.h"
#include "targets/profile.h"

namespace edgefit {
namespace {

constexpr size_t kGroupModeMaxBytes = size_t{1} << 20;

// Static shapes and dtypes of values: the declared or inferred type when static, otherwise one
// executor run (RecordConcreteShapes), which needs every graph input to be static.
class ShapeOracle {
 public:
  explicit ShapeOracle(const Model& model) : model_(model) {}

  std::optional<Shape> Of(const Value* v) {
    if (!v) return std::nullopt;
    if (const Tensor* t = ConstantValue(v)) return t->shape();
    if (auto s = v->type().StaticShape()) return s;
    if (!Run()) return std::nullopt;
    auto it = concrete_.find(v->name());
    if (it == concrete_.end()) return std::nullopt;
    return it->second.shape;
  }
  DataType Dtype(const Value* v) {
    if (const Tensor* t = ConstantValue(v)) return t->dtype();
    if (v->type().elem_type != DataType::kUndefined) return v->type().elem_type;
    if (!Run()) return DataType::kUndefined;
    auto it = concrete_.find(v->name());
    return it == concrete_.end() ? DataType::kUndefined : it->second.dtype;
  }
  const std::string& why() const { return why_; }

 private:
  bool Run() {
    if (tried_) return ran_;
    tried_ = true;
    for (const Value* in : model_.graph->inputs()) {
      if (in->has_initializer() || in->type().IsStatic()) continue;
      why_ = "input '" + in->name() + "' has the dynamic shape " + in->type().ShapeString() +
             " (run fix-dynamic-dims first)";
      return false;
    }
    auto r = RecordConcreteShapes(model_);
    if (!r.ok()) {
      why_ = "shapes could not be found by running the model: " + r.status().message();
      return false;
    }
    concrete_ = std::move(r).value();
    ran_ = true;
    return true;
  }
  const Model& model_;
  bool tried_ = false, ran_ = false;
  std::string why_;
  std::unordered_map<std::string, ConcreteValue> concrete_;
};

enum class Kind { kConv, kConvTranspose, kNorm, kUnary, kBinary, kPool, kPassThrough, kConcat };

const std::set<std::string>& UnaryOps() {
  static const std::set<std::string> ops = {
      "Relu", "LeakyRelu",  "Sigmoid",  "Tanh", "HardSigmoid", "HardSwish", "Elu",
      "Selu", "Softplus",   "Softsign", "Neg",  "Abs",         "Exp",       "Log",
      "Sqrt", "Reciprocal", "Floor",    "Ceil", "Round",       "Erf",       "Identity",
      "Cast", "Clip",       "Sign",     "Sin",  "Cos",         "Mish",      "ThresholdedRelu",
      "Celu"};
  return ops;
}

const std::set<std::string>& PoolOps() {
  static const std::set<std::string> ops = {"MaxPool",           "AveragePool",   "LpPool",
                                            "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"};
  return ops;
}

bool OutputUnused(const Node& n, size_t i) {
  const Value* v = n.output(i);
  return !v || (v->uses().empty() && !v->is_graph_output());
}

// A chain op at batch N: its kind and the indices of its inputs that carry chain data.
struct ChainOp {
  Kind kind;
  std::vector<int> data;  // input indices
};

class Matcher {
 public:
  Matcher(ShapeOracle& shapes, int64_t opset) : shapes_(shapes), opset_(opset) {}

  // Whether `n` can run on the folded layout of batch `batch`; otherwise *why says why.
  std::optional<ChainOp> Match(const Node& n, int64_t batch, std::string* why) {
    auto no = [&](const std::string& reason) -> std::optional<ChainOp> {
      *why = n.Describe() + " " + reason;
      return std::nullopt;
    };
    if (!IsOnnxDomain(n) || n.HasSubgraphs() || !n.input(0) || !n.output(0))
      return no("is not an op unbatch knows");
    const std::string& op = n.op_type();
    for (size_t i = 1; i < n.num_outputs(); ++i)
      if (!OutputUnused(n, i)) return no("uses its extra outputs");
    ChainOp c{Kind::kUnary, {0}};
    if (op == "Conv" || op == "ConvTranspose") {
      c.kind = op == "Conv" ? Kind::kConv : Kind::kConvTranspose;
      const Tensor* w = ConstantValue(n.input(1));
      if (!w || w->dtype() != DataType::kFloat)
        return no("has weights that are not float constants");
      if (n.input(2)) {
        const Tensor* b = ConstantValue(n.input(2));
        if (!b || b->dtype() != DataType::kFloat) return no("has a bias that is not a constant");
      }
    } else if (op == "BatchNormalization" || op == "InstanceNormalization") {
      c.kind = Kind::kNorm;
      if (op == "BatchNormalization") {
        if (opset_ < 7) return no("is BatchNormalization before opset 7");
        if (n.GetInt("training_mode", 0) != 0) return no("is in training mode");
        if (n.GetInt("spatial", 1) != 1) return no("has spatial = 0");
      }
      size_t params = op == "BatchNormalization" ? 5 : 3;
      for (size_t i = 1; i < params; ++i) {
        const Tensor* t = ConstantValue(n.input(i));
        if (!t || t->dtype() != DataType::kFloat)
          return no("has parameters that are not constants");
      }
    } else if (UnaryOps().count(op)) {
      c.kind = Kind::kUnary;
    } else if (PoolOps().count(op)) {
      c.kind = Kind::kPool;
    } else if (((op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow" ||
                 op == "PRelu") &&
                opset_ >= 7) ||
               ((op == "Max" || op == "Min") && opset_ >= 8)) {
      if (n.num_inputs() != 2 || !n.input(1)) return no("does not have two inputs");
      c.kind = Kind::kBinary;
      c.data.clear();
      for (int i = 0; i < 2; ++i)
        if (!ConstantValue(n.input(i))) c.data.push_back(i);
      if (c.data.empty()) return no("only reads constants");
    } else if (op == "Pad") {
      c.kind = Kind::kPassThrough;
      if (!PadKeepsAxes01(n)) return no("pads axis 0 or 1, or its pads are computed");
    } else if (op == "Squeeze" || op == "Unsqueeze") {
      c.kind = Kind::kPassThrough;
      std::optional<std::vector<int64_t>> axes;
      if (opset_ < 13) {
        if (n.HasAttribute("axes")) axes = n.GetInts("axes");
      } else if (n.input(1)) {
        axes = ConstantInts(n.input(1));
      }
      if (!axes || axes->empty()) return no("has no constant axes");
      auto rank_of = shapes_.Of(op == "Squeeze" ? n.input(0) : n.output(0));
      if (!rank_of) return no("has an unknown shape" + Why());
      int64_t r = static_cast<int64_t>(rank_of->size());
      for (int64_t a : *axes)
        if ((a < 0 ? a + r : a) < 2) return no("works on axis 0 or 1");
    } else if (op == "Concat") {
      c.kind = Kind::kConcat;
      c.data.clear();
      for (size_t i = 0; i < n.num_inputs(); ++i) {
        if (!n.input(i) || ConstantValue(n.input(i))) return no("concatenates a constant");
        c.data.push_back(static_cast<int>(i));
      }
    } else {
      return no("is not an op unbatch can run on a folded batch");
    }
    // Data operands and the output: static, rank >= 2, batch N in front.
    auto out = shapes_.Of(n.output(0));
    if (!out) return no("has an unknown output shape" + Why());
    if (out->size() < 2 || (*out)[0] != batch)
      return no("does not keep batch " + std::to_string(batch));
    if ((c.kind == Kind::kConv || c.kind == Kind::kConvTranspose || c.kind == Kind::kPool) &&
        out->size() < 3)
      return no("has rank below 3");
    for (int i : c.data) {
      auto s = shapes_.Of(n.input(i));
      if (!s) return no("has an input of unknown shape" + Why());
      // Same rank (but for Squeeze/Unsqueeze), batch N in front; the channel count changes
      // only in Convs (a binary operand must not broadcast over channels).
      bool reranks = op == "Squeeze" || op == "Unsqueeze";
      bool rechannels = c.kind == Kind::kConv || c.kind == Kind::kConvTranspose;
      if (s->size() < 2 || (*s)[0] != batch || (!reranks && s->size() != out->size()) ||
          (!rechannels && (*s)[1] != (*out)[1]))
        return no("reads " + ShapeToString(*s) + " for an output " + ShapeToString(*out));
      if (shapes_.Dtype(n.input(i)) == DataType::kUndefined) return no("has an unknown dtype");
    }
    if (c.kind == Kind::kConcat) {
      int64_t axis = n.GetInt("axis", 0);
      if (axis < 0) axis += static_cast<int64_t>(out->size());
      if (axis < 2) return no("concatenates on axis 0 or 1");
    }
    if (c.kind == Kind::kConv || c.kind == Kind::kConvTranspose) {
      const Tensor* w = ConstantValue(n.input(1));
      if (w->rank() != out->size()) return no("has weights of the wrong rank");
    }
    if (c.kind == Kind::kBinary) {
      for (int i = 0; i < 2; ++i) {
        const Tensor* t = ConstantValue(n.input(i));
        if (!t) continue;
        if (t->rank() > out->size()) return no("broadcasts a constant to a higher rank");
        if (t->dtype() == DataType::kString) return no("has a string constant");
      }
    }
    return c;
  }

  std::string Why() const { return shapes_.why().empty() ? "" : " (" + shapes_.why() + ")"; }

 private:
  bool PadKeepsAxes01(const Node& n) {
    std::optional<std::vector<int64_t>> pads;
    if (opset_ < 11) {
      pads = n.GetInts("pads");
    } else if (n.input(1)) {
      pads = ConstantInts(n.input(1));
    }
    if (!pads || pads->size() % 2 != 0) return false;
    size_t k = pads->size() / 2;
    std::vector<int64_t> axes;
    if (opset_ >= 18 && n.input(3)) {
      auto a = ConstantInts(n.input(3));
      if (!a || a->size() != k) return false;
      auto s = shapes_.Of(n.input(0));
      if (!s) return false;
      for (int64_t x : *a) axes.push_back(x < 0 ? x + static_cast<int64_t>(s->size()) : x);
    } else {
      for (size_t i = 0; i < k; ++i) axes.push_back(static_cast<int64_t>(i));
    }
    for (size_t i = 0; i < k; ++i)
      if (axes[i] < 2 && ((*pads)[i] != 0 || (*pads)[i + k] != 0)) return false;
    return true;
  }

  ShapeOracle& shapes_;
  int64_t opset_;
};

// The tensor repeated `times` times along axis 0 (row-major: the whole buffer repeated).
Tensor Repeat(const Tensor& t, int64_t times) {
  Shape s = t.shape();
  if (s.empty()) s = {1};
  s[0] *= times;
  Tensor out(t.dtype(), s);
  for (int64_t i = 0; i < times; ++i)
    std::memcpy(static_cast<uint8_t*>(out.raw()) + i * t.nbytes(), t.raw(), t.nbytes());
  return out;
}

// A binary op's constant operand on the folded layout of an output of shape `out` (rank r,
// batch N, channels C): unchanged when it broadcasts over axes 0 and 1, else [1,N*C,rest]
// (nullopt = unchanged).
std::optional<Tensor> FoldConstant(const Tensor& t, const Shape& out) {
  size_t r = out.size();
  Shape a(r - t.rank(), 1);
  a.insert(a.end(), t.shape().begin(), t.shape().end());
  if (a[0] == 1 && a[1] == 1) return std::nullopt;
  int64_t n = out[0], c = out[1];
  int64_t inner = 1;
  for (size_t i = 2; i < r; ++i) inner *= a[i];
  Shape s = {1, n * c};
  s.insert(s.end(), a.begin() + 2, a.end());
  Tensor f(t.dtype(), s);
  size_t es = DataTypeSize(t.dtype());
  const uint8_t* src = static_cast<const uint8_t*>(t.raw());
  uint8_t* dst = static_cast<uint8_t*>(f.raw());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < c; ++j) {
      int64_t si = (a[0] == 1 ? 0 : i) * a[1] + (a[1] == 1 ? 0 : j);
      std::memcpy(dst + (i * c + j) * inner * es, src + si * inner * es, inner * es);
    }
  return f;
}

// Sample `i` of a constant operand in split mode (nullopt = unchanged, shared by every copy).
std::optional<Tensor> SampleConstant(const Tensor& t, size_t rank, int64_t i) {
  if (t.rank() < rank || t.dim(0) == 1) return std::nullopt;
  Shape s = t.shape();
  s[0] = 1;
  Tensor f(t.dtype(), s);
  std::memcpy(f.raw(), static_cast<const uint8_t*>(t.raw()) + i * f.nbytes(), f.nbytes());
  return f;
}

Shape Folded(const Shape& s) {
  Shape f = {1, s[0] * s[1]};
  f.insert(f.end(), s.begin() + 2, s.end());
  return f;
}

struct Chain {
  int64_t batch = 0;
  std::vector<Node*> nodes;  // in graph order
  std::map<Node*, ChainOp> ops;
  std::vector<Value*> values;  // data operands and outputs, in discovery order
  Node* seed = nullptr;
  // Shapes and dtypes of the values, found before anything is rewritten.
  std::map<Value*, Shape> shape;
  std::map<Value*, DataType> dtype;
};

bool IsChainUse(const Chain& c, const Use& u) {
  auto it = c.ops.find(u.node);
  if (it == c.ops.end() || u.input_index < 0) return false;
  const auto& d = it->second.data;
  return std::find(d.begin(), d.end(), u.input_index) != d.end();
}

class UnbatchPass : public Pass {
 public:
  const char* id() const override { return "unbatch"; }
  const char* summary() const override {
    return "run Conv/pool chains at batch N > 1 at batch 1 (grouped Conv or N branches)";
  }

  StatusOr<PassResult> Run(PassContext& ctx) override {
    const std::string& mode = ctx.options.unbatch_mode;
    if (mode != "auto" && mode != "group" && mode != "split")
      return InvalidArgument("unbatch mode '" + mode + "' is not one of auto, group, split");
    Graph& g = *ctx.model.graph;
    int64_t opset = ctx.model.OpsetVersion("");
    PassResult result;
    if (opset < 5) return result;  // the rewrite writes Reshape with a shape input (opset 5)
    std::set<std::string> batch_ops = {"Conv",          "ConvTranspose", "MaxPool",
                                       "AveragePool",   "LpPool",        "GlobalAveragePool",
                                       "GlobalMaxPool", "GlobalLpPool"};
    if (ctx.target)
      batch_ops = {ctx.target->shapes.batch_one_ops.value.begin(),
                   ctx.target->shapes.batch_one_ops.value.end()};
    if (batch_ops.empty()) return result;

    ShapeOracle shapes(ctx.model);
    Matcher matcher(shapes, opset);
    std::vector<Chain> chains;
    std::unordered_set<Node*> taken;
    for (const auto& np : g.nodes()) {
      Node* n = np.get();
      if (!IsOnnxDomain(*n) || !batch_ops.count(n->op_type()) || taken.count(n) || !n->input(0))
        continue;
      if (n->input(0)->type().has_shape &&
          (n->input(0)->type().rank() < 2 ||
           (n->input(0)->type().dims[0].is_fixed() && n->input(0)->type().dims[0].value == 1)))
        continue;  // batch 1 (or no batch axis): nothing to do, no need to run the model
      auto in = shapes.Of(n->input(0));
      if (!in) {
        if (!n->input(0)->type().has_shape || !n->input(0)->type().dims[0].is_fixed()) continue;
        // A known batch > 1 but unknown other dims.
        result.unresolved.push_back(n->Describe() + " runs at batch " +
                                    n->input(0)->type().dims[0].ToString() +
                                    ", but its input shape is not known" + matcher.Why());
        continue;
      }
      if (in->size() < 2 || (*in)[0] <= 1) continue;
      std::string why;
      if (!matcher.Match(*n, (*in)[0], &why)) {
        result.unresolved.push_back(n->Describe() + " runs at batch " + std::to_string((*in)[0]) +
                                    " and cannot be unbatched: " + why);
        continue;
      }
      chains.push_back(Grow(g, n, (*in)[0], matcher, &taken));
      for (Value* v : chains.back().values) {
        chains.back().shape[v] = *shapes.Of(v);  // Match checked every chain value is static
        chains.back().dtype[v] = shapes.Dtype(v);
      }
    }
    if (chains.empty()) return result;

    std::vector<std::string> notes;
    for (Chain& c : chains) {
      size_t bytes = ParameterBytes(c);
      bool group = mode == "group" || (mode == "auto" && c.batch * bytes <= kGroupModeMaxBytes);
      std::string what = std::to_string(c.nodes.size()) + " nodes from " + c.seed->Describe() +
                         " at batch " + std::to_string(c.batch) + " -> batch 1";
      std::string why = " (" + std::to_string(c.batch) + " x " + std::to_string(bytes) +
                        " parameter bytes " + (group ? "<= " : "> ") +
                        std::to_string(kGroupModeMaxBytes) + ")";
      if (mode != "auto") why = " (unbatch_mode " + mode + ")";
      if (group) {
        Rewrite(g, opset, c, true);
        notes.push_back(what + " by folding the batch into channels (grouped Convs, parameters x" +
                        std::to_string(c.batch) + ")" + why);
      } else {
        Rewrite(g, opset, c, false);
        notes.push_back(what + " by splitting into " + std::to_string(c.batch) +
                        " branches sharing the weights" + why);
      }
    }
    RETURN_IF_ERROR(g.TopologicalSort());
    for (std::string& n : notes) result.Rewrote(std::move(n));
    return result;
  }

 private:
  // The chain around `seed`: every node reachable through values of batch N that can run on
  // the folded layout.
  static Chain Grow(Graph& g, Node* seed, int64_t batch, Matcher& matcher,
                    std::unordered_set<Node*>* taken) {
    Chain c;
    c.batch = batch;
    c.seed = seed;
    std::unordered_set<Value*> seen;
    std::deque<Node*> queue;
    auto add = [&](Node* n, ChainOp op) {
      if (c.ops.count(n) || taken->count(n)) return;
      c.ops[n] = std::move(op);
      taken->insert(n);
      queue.push_back(n);
    };
    std::string why;
    add(seed, *matcher.Match(*seed, batch, &why));
    while (!queue.empty()) {
      Node* n = queue.front();
      queue.pop_front();
      std::vector<Value*> vals;
      for (int i : c.ops[n].data) vals.push_back(n->input(i));
      vals.push_back(n->output(0));
      for (Value* v : vals) {
        if (!seen.insert(v).second) continue;
        c.values.push_back(v);
        if (Node* p = v->producer();
            p && !c.ops.count(p) && !taken->count(p) && v == p->output(0)) {
          if (auto op = matcher.Match(*p, batch, &why)) add(p, *op);
        }
        for (const Use& u : v->uses()) {
          if (c.ops.count(u.node) || taken->count(u.node) || u.input_index < 0) continue;
          auto op = matcher.Match(*u.node, batch, &why);
          if (op && std::find(op->data.begin(), op->data.end(), u.input_index) != op->data.end())
            add(u.node, *op);
        }
      }
    }
    for (const auto& n : g.nodes())
      if (c.ops.count(n.get())) c.nodes.push_back(n.get());
    return c;
  }

  // Bytes of the parameters group mode repeats N times.
  static size_t ParameterBytes(const Chain& c) {
    std::set<const Value*> counted;
    size_t bytes = 0;
    auto count = [&](const Value* v) {
      const Tensor* t = ConstantValue(v);
      if (t && counted.insert(v).second) bytes += t->nbytes();
    };
    for (Node* n : c.nodes) {
      const ChainOp& op = c.ops.at(n);
      switch (op.kind) {
        case Kind::kConv:
        case Kind::kConvTranspose:
          count(n->input(1));
          count(n->input(2));
          break;
        case Kind::kNorm:
          for (size_t i = 1; i < n->num_inputs(); ++i) count(n->input(i));
          break;
        case Kind::kBinary:
          for (int i = 0; i < 2; ++i) count(n->input(i));
          break;
        default: break;
      }
    }
    return bytes;
  }

  static Node* NextNode(Graph& g, Node* n) {
    for (auto it = g.nodes().begin(); it != g.nodes().end(); ++it)
      if (it->get() == n) {
        auto nx = std::next(it);
        return nx == g.nodes().end() ? nullptr : nx->get();
      }
    return nullptr;
  }

  // Whether the reader `u` of a chain output may read the folded tensor directly: a Reshape to
  // a constant shape without 0 gives the same result from either layout.
  static bool ReadsFoldedDirectly(const Use& u) {
    if (u.input_index != 0 || !IsOp(*u.node, "Reshape")) return false;
    auto target = ConstantInts(u.node->input(1));
    return target && std::find(target->begin(), target->end(), 0) == target->end();
  }

  static TypeInfo TypeOf(DataType dt, const Shape& s) { return TypeInfo::Tensor(dt, s); }

  static void Rewrite(Graph& g, int64_t opset, Chain& c, bool group) {
    const int64_t N = c.batch;
    std::map<Value*, Shape>& shape = c.shape;
    std::map<Value*, DataType>& dtype = c.dtype;
    std::unordered_set<Value*> produced;  // produced inside the chain
    for (Node* n : c.nodes) produced.insert(n->output(0));

    // Inputs of the chain: the folded tensor each chain reader reads.
    std::map<Value*, Value*> folded_input;
    for (Value* v : c.values) {
      if (produced.count(v)) continue;
      Shape fs = Folded(shape[v]);
      Node* p = v->producer();
      bool only_chain = !v->is_graph_output();
      for (const Use& u : v->uses()) only_chain = only_chain && IsChainUse(c, u);
      if (p && IsOp(*p, "Reshape") && only_chain && v == p->output(0)) {
        p->SetInput(1, AddInt64Initializer(g, v->name() + "_folded_shape", fs));
        v->type() = TypeOf(dtype[v], fs);
        folded_input[v] = v;
        continue;
      }
      Node* first = nullptr;
      for (Node* n : c.nodes)
        for (int i : c.ops[n].data)
          if (n->input(i) == v && !first) first = n;
      Value* f = g.CreateUniqueValue(v->name() + "_folded");
      f->type() = TypeOf(dtype[v], fs);
      g.InsertNode(first, "Reshape", {v, AddInt64Initializer(g, v->name() + "_folded_shape", fs)},
                   {f}, g.UniqueNodeName(v->name() + "_fold"));
      std::vector<Use> uses = v->uses();
      for (const Use& u : uses)
        if (IsChainUse(c, u)) u.node->SetInput(u.input_index, f);
      folded_input[v] = f;
    }

    // Outputs of the chain read outside it: value -> its folded replacement inside the chain.
    auto external = [&](Value* v) {
      if (v->is_graph_output()) return true;
      for (const Use& u : v->uses())
        if (!IsChainUse(c, u)) return true;
      return false;
    };
    // Gives the readers outside the chain of chain value `v` the folded tensor `f` (directly or
    // through a Reshape back to v's shape, which then produces `v`).
    auto reconnect = [&](Value* v, Value* f, Node* after) {
      std::vector<Use> uses = v->uses();
      for (const Use& u : uses)
        if (!IsChainUse(c, u) && ReadsFoldedDirectly(u)) u.node->SetInput(u.input_index, f);
      if (v->uses().empty() && !v->is_graph_output()) {
        g.RemoveValueIfUnused(v);
        return;
      }
      g.InsertNode(after ? NextNode(g, after) : nullptr, "Reshape",
                   {f, AddInt64Initializer(g, v->name() + "_unfold_shape", shape[v])}, {v},
                   g.UniqueNodeName(v->name() + "_unfold"));
    };

    if (group) {
      std::map<const Value*, Value*> repeated;
      auto repeat = [&](Value* w) -> Value* {
        if (!w) return nullptr;
        auto it = repeated.find(w);
        if (it != repeated.end()) return it->second;
        Value* r =
            g.AddInitializer(w->name() + "_x" + std::to_string(N), Repeat(*ConstantValue(w), N));
        repeated[w] = r;
        return r;
      };
      for (Node* n : c.nodes) {
        const ChainOp& op = c.ops[n];
        Value* out = n->output(0);
        switch (op.kind) {
          case Kind::kConv:
          case Kind::kConvTranspose:
            n->SetInput(1, repeat(n->input(1)));
            if (n->input(2)) n->SetInput(2, repeat(n->input(2)));
            n->SetAttribute(Attribute::Int("group", n->GetInt("group", 1) * N));
            break;
          case Kind::kNorm:
            for (size_t i = 1; i < n->num_inputs(); ++i)
              if (n->input(i)) n->SetInput(i, repeat(n->input(i)));
            break;
          case Kind::kBinary:
            for (int i = 0; i < 2; ++i)
              if (const Tensor* t = ConstantValue(n->input(i)))
                if (auto f = FoldConstant(*t, shape[out]))
                  n->SetInput(i, g.AddInitializer(n->input(i)->name() + "_folded", *f));
            break;
          default: break;
        }
      }
      for (Node* n : c.nodes) {
        Value* v = n->output(0);
        Shape fs = Folded(shape[v]);
        if (!external(v)) {
          v->type() = TypeOf(dtype[v], fs);
          continue;
        }
        Value* f = g.CreateUniqueValue(v->name() + "_folded");
        f->type() = TypeOf(dtype[v], fs);
        g.SetNodeOutput(n, 0, f);
        std::vector<Use> uses = v->uses();
        for (const Use& u : uses)
          if (IsChainUse(c, u)) u.node->SetInput(u.input_index, f);
        reconnect(v, f, n);
      }
      return;
    }

    // Split mode: slice every chain input per sample, copy the chain N times.
    std::vector<std::map<Value*, Value*>> copy(N);
    for (auto& [v, f] : folded_input) {
      int64_t ch = shape[v][1];
      Shape part = shape[v];
      part[0] = 1;
      Node* first = nullptr;
      for (Node* n : c.nodes)
        for (int i : c.ops[n].data)
          if (n->input(i) == f && !first) first = n;
      for (int64_t i = 0; i < N; ++i) {
        Value* s = g.CreateUniqueValue(v->name() + "_b" + std::to_string(i));
        s->type() = TypeOf(dtype[v], part);
        std::string name = g.UniqueNodeName(v->name() + "_slice_b" + std::to_string(i));
        if (opset >= 10) {
          g.InsertNode(first, "Slice",
                       {f, AddInt64Initializer(g, name + "_starts", {i * ch}),
                        AddInt64Initializer(g, name + "_ends", {(i + 1) * ch}),
                        AddInt64Initializer(g, name + "_axes", {1})},
                       {s}, name);
        } else {
          Node* sl = g.InsertNode(first, "Slice", {f}, {s}, name);
          sl->SetAttribute(Attribute::Ints("starts", {i * ch}));
          sl->SetAttribute(Attribute::Ints("ends", {(i + 1) * ch}));
          sl->SetAttribute(Attribute::Ints("axes", {1}));
        }
        copy[i][v] = s;
        copy[i][f] = s;  // chain readers now read f
      }
    }
    std::map<std::pair<const Value*, int64_t>, Value*> sampled;
    std::vector<Value*> outputs;  // chain outputs read outside, in order
    for (Node* n : c.nodes) {
      const ChainOp& op = c.ops[n];
      Value* out = n->output(0);
      Shape part = shape[out];
      part[0] = 1;
      for (int64_t i = 0; i < N; ++i) {
        std::vector<Value*> ins(n->inputs().begin(), n->inputs().end());
        for (int d : op.data) ins[d] = copy[i].at(n->input(d));
        if (op.kind == Kind::kBinary)
          for (int k = 0; k < 2; ++k)
            if (const Tensor* t = ConstantValue(n->input(k))) {
              auto key = std::make_pair(static_cast<const Value*>(n->input(k)), i);
              if (!sampled.count(key)) {
                auto s = SampleConstant(*t, shape[out].size(), i);
                sampled[key] =
                    s ? g.AddInitializer(n->input(k)->name() + "_b" + std::to_string(i), *s)
                      : n->input(k);
              }
              ins[k] = sampled[key];
            }
        Value* o = g.CreateUniqueValue(out->name() + "_b" + std::to_string(i));
        o->type() = TypeOf(dtype[out], part);
        Node* m = g.InsertNode(n, n->op_type(), ins, {o},
                               g.UniqueNodeName(n->name() + "_b" + std::to_string(i)));
        m->set_domain(n->domain());
        for (const Attribute& a : n->attributes()) m->SetAttribute(a);
        copy[i][out] = o;
      }
      if (external(out)) outputs.push_back(out);
    }
    // Remove the original chain, last node first.
    for (auto it = c.nodes.rbegin(); it != c.nodes.rend(); ++it) {
      Node* n = *it;
      std::vector<Value*> outs(n->outputs().begin(), n->outputs().end());
      g.RemoveNode(n);
      for (Value* v : outs)
        if (v) g.RemoveValueIfUnused(v);
    }
    for (Value* v : outputs) {
      Value* f = g.CreateUniqueValue(v->name() + "_folded");
      f->type() = TypeOf(dtype[v], Folded(shape[v]));
      std::vector<Value*> parts;
      for (int64_t i = 0; i < N; ++i) parts.push_back(copy[i][v]);
      Node* last = copy[N - 1][v]->producer();
      Node* cat = g.InsertNode(NextNode(g, last), "Concat", parts, {f},
                               g.UniqueNodeName(v->name() + "_concat"));
      cat->SetAttribute(Attribute::Int("axis", 1));
      reconnect(v, f, cat);
    }
    for (auto& [v, f] : folded_input)
      if (f != v) g.RemoveValueIfUnused(f);
  }
};

}  // namespace

std::unique_ptr<Pass> CreateUnbatchPass() { return std::make_unique<UnbatchPass>(); }

}  // namespace edgefit
