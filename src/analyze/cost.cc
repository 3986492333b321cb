#include "analyze/cost.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace edgefit {
namespace {

bool In(const std::string& op, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (op == n) return true;
  }
  return false;
}

bool IsQ(const Node& n) { return n.op_type() == "QuantizeLinear"; }
bool IsDq(const Node& n) { return n.op_type() == "DequantizeLinear"; }

// Output is input 0's bytes under another shape: no copy on any runtime we know of.
bool IsViewOp(const std::string& op) {
  return In(op, {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"});
}

// Elementwise ops whose output may overwrite an input of the same shape that dies at the op.
bool IsInplaceOp(const std::string& op) {
  return In(op, {"Relu",        "LeakyRelu",
                 "PRelu",       "Sigmoid",
                 "HardSigmoid", "HardSwish",
                 "Tanh",        "Clip",
                 "Elu",         "Selu",
                 "Celu",        "Gelu",
                 "Erf",         "Exp",
                 "Log",         "Sqrt",
                 "Abs",         "Neg",
                 "Softplus",    "Softsign",
                 "Mish",        "Reciprocal",
                 "Floor",       "Ceil",
                 "Round",       "Sign",
                 "Not",         "ThresholdedRelu",
                 "Add",         "Sub",
                 "Mul",         "Div",
                 "Max",         "Min",
                 "Pow",         "Sum",
                 "Mean",        "BatchNormalization"});
}

// Activations an NPU runs fused into the preceding Conv/Gemm/Add.
bool IsFusedActivation(const std::string& op) {
  return In(op,
            {"Relu", "Clip", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh"});
}

bool IsUnaryOp(const std::string& op) {
  return In(
      op,
      {"Relu",       "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
       "Clip",       "Elu",       "Selu",  "Celu",    "Gelu",        "Erf",       "Exp",
       "Log",        "Sqrt",      "Abs",   "Neg",     "Softplus",    "Softsign",  "Mish",
       "Reciprocal", "Floor",     "Ceil",  "Round",   "Sign",        "Not",       "ThresholdedRelu",
       "IsNaN",      "IsInf",     "Sin",   "Cos",     "Tan",         "Asin",      "Acos",
       "Atan",       "Sinh",      "Cosh",  "Asinh",   "Acosh",       "Atanh",     "Shrink",
       "Where"});
}

bool IsBinaryOp(const std::string& op) {
  return In(
      op, {"Add", "Sub", "Mul", "Div", "Pow", "Mod", "And", "Or", "Xor", "Equal", "Less", "Greater",
           "LessOrEqual", "GreaterOrEqual", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor"});
}

bool IsReduceOp(const std::string& op) {
  return op.rfind("Reduce", 0) == 0 || op == "ArgMax" || op == "ArgMin";
}

// Pure data movement: zero arithmetic by convention.
bool IsMoveOp(const std::string& op) {
  return In(op, {"Transpose",
                 "Concat",
                 "Split",
                 "Slice",
                 "Gather",
                 "GatherElements",
                 "GatherND",
                 "Pad",
                 "Tile",
                 "Expand",
                 "DepthToSpace",
                 "SpaceToDepth",
                 "Cast",
                 "CastLike",
                 "Shape",
                 "Size",
                 "ConstantOfShape",
                 "ScatterND",
                 "ScatterElements",
                 "Compress",
                 "ReverseSequence",
                 "Trilu",
                 "OneHot",
                 "Range",
                 "NonZero",
                 "Upsample_nearest"});
}

// Whether input slot i of op carries tensor data that could be a weight (as opposed to shapes,
// axes, indices, scalar bounds, or quantization parameters).
bool IsWeightSlot(const std::string& op, size_t i) {
  if (i == 0) return true;
  if (In(op, {"Reshape", "Expand", "Tile", "Squeeze", "Unsqueeze", "Split", "TopK", "Slice", "Pad",
              "Resize", "Upsample", "Clip", "QuantizeLinear", "DequantizeLinear", "ConstantOfShape",
              "OneHot", "Range", "CumSum"}) ||
      IsReduceOp(op)) {
    return false;
  }
  if (In(op, {"Gather", "GatherElements", "GatherND", "ScatterND", "ScatterElements"})) {
    return i == 2;  // updates
  }
  return true;
}

bool IsWeightDtype(DataType t) {
  return t != DataType::kInt64 && t != DataType::kBool && t != DataType::kString &&
         t != DataType::kUndefined;
}

std::optional<Shape> ShapeOf(const Value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->has_initializer()) return v->initializer()->shape();
  return v->type().StaticShape();
}

int64_t Elements(const Value* v) {
  auto s = ShapeOf(v);
  if (!s) return -1;
  return NumElements(*s);
}

int64_t Prod(const Shape& s, size_t from) {
  int64_t p = 1;
  for (size_t i = from; i < s.size(); ++i) p *= s[i];
  return p;
}

// Arithmetic of one node under the conventions of docs/analyze.md. Returns false when the op is
// not modelled or a needed shape is unknown.
bool CountArithmetic(const Node& node, int64_t* macs, int64_t* ops, std::string* why) {
  const std::string& op = node.op_type();
  *macs = 0;
  *ops = 0;
  const Value* x = node.input(0);
  const Value* y = node.output(0);
  int64_t out = Elements(y);
  auto need = [&](int64_t n, const char* what) {
    if (n >= 0) return true;
    *why = std::string("shape of ") + what + " unknown";
    return false;
  };
  if (op == "Conv" || op == "ConvInteger" || op == "QLinearConv") {
    const Value* w = node.input(op == "QLinearConv" ? 3 : 1);
    auto ws = ShapeOf(w);
    if (!need(out, "output") || !ws || ws->size() < 2) return need(-1, "weight");
    *macs = out * Prod(*ws, 1);  // N*Cout*spatial_out * (Cin/group)*prod(kernel)
    return true;
  }
  if (op == "ConvTranspose") {
    auto ws = ShapeOf(node.input(1));
    int64_t in = Elements(x);
    if (!need(in, "input") || !ws || ws->size() < 2) return need(-1, "weight");
    *macs = in * Prod(*ws, 1);  // N*Cin*spatial_in * (Cout/group)*prod(kernel)
    return true;
  }
  if (op == "Gemm") {
    auto as = ShapeOf(x);
    if (!need(out, "output") || !as || as->size() != 2) return need(-1, "A");
    int64_t k = node.GetInt("transA", 0) ? (*as)[0] : (*as)[1];
    *macs = out * k;  // M*N*K
    return true;
  }
  if (op == "MatMul" || op == "MatMulInteger" || op == "QLinearMatMul") {
    auto as = ShapeOf(x);
    if (!need(out, "output") || !as || as->empty()) return need(-1, "A");
    *macs = out * as->back();  // batch*M*N*K
    return true;
  }
  if (In(op, {"MaxPool", "AveragePool", "LpPool"})) {
    auto k = node.GetInts("kernel_shape");
    if (!need(out, "output")) return false;
    int64_t window = 1;
    for (int64_t d : k) window *= d;
    *ops = out * window;  // one comparison or add per window element
    return true;
  }
  if (In(op, {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"}) || IsReduceOp(op)) {
    int64_t in = Elements(x);
    if (!need(in, "input")) return false;
    *ops = in;
    return true;
  }
  if (op == "BatchNormalization") {
    if (!need(out, "output")) return false;
    *macs = out;  // y = x * scale' + shift' per element once the statistics are folded
    return true;
  }
  if (In(op, {"InstanceNormalization", "LayerNormalization", "GroupNormalization",
              "LpNormalization", "MeanVarianceNormalization"})) {
    if (!need(out, "output")) return false;
    *macs = out;     // scale and shift
    *ops = 4 * out;  // mean, variance, subtract, normalize
    return true;
  }
  if (In(op, {"Softmax", "LogSoftmax", "Hardmax"})) {
    if (!need(out, "output")) return false;
    *ops = 3 * out;  // exp, sum, divide
    return true;
  }
  if (IsUnaryOp(op) || IsBinaryOp(op)) {
    if (!need(out, "output")) return false;
    *ops = out;
    return true;
  }
  if (In(op, {"Sum", "Mean", "Max", "Min"})) {
    if (!need(out, "output")) return false;
    *ops = out * std::max<int64_t>(1, static_cast<int64_t>(node.num_inputs()) - 1);
    return true;
  }
  if (op == "Resize" || op == "Upsample") {
    if (!need(out, "output")) return false;
    std::string mode = node.GetString("mode", "nearest");
    auto xs = ShapeOf(x);
    auto ys = ShapeOf(y);
    int resized = 0;
    if (xs && ys && xs->size() == ys->size()) {
      for (size_t i = 0; i < xs->size(); ++i) resized += (*xs)[i] != (*ys)[i];
    }
    if (mode == "linear" || mode == "bilinear") {
      *macs = out * (int64_t{1} << resized);  // weighted sum of 2^d neighbours
    } else if (mode == "cubic") {
      *macs = out * (int64_t{1} << (2 * resized));  // 4^d neighbours
    }
    return true;  // nearest: a copy
  }
  if (In(op, {"LSTM", "GRU", "RNN"})) {
    auto xs = ShapeOf(x);
    int64_t w = Elements(node.input(1));
    int64_t r = Elements(node.input(2));
    if (!xs || xs->size() != 3 || w < 0 || r < 0) return need(-1, "X, W or R");
    // seq*batch*dirs*gates*H*(I+H): every step multiplies x by W and h by R.
    *macs = (*xs)[0] * (*xs)[1] * (w + r);
    return true;
  }
  if (IsMoveOp(op) || IsViewOp(op) || IsQ(node) || IsDq(node)) return true;
  *why = "op not in the cost table";
  return false;
}

}  // namespace

const char* LayerKindName(LayerKind kind) {
  switch (kind) {
    case LayerKind::kCompute: return "compute";
    case LayerKind::kView: return "view";
    case LayerKind::kFusedQdq: return "fused_qdq";
    case LayerKind::kConversion: return "conversion";
  }
  return "compute";
}

int64_t CostReport::LayerCount() const {
  int64_t n = 0;
  for (const auto& l : layers)
    n += l.kind == LayerKind::kCompute || l.kind == LayerKind::kConversion;
  return n;
}

std::string FormatCount(int64_t n) {
  char buf[64];
  double v = static_cast<double>(n);
  if (n >= 1000000000) {
    std::snprintf(buf, sizeof buf, "%.3g G", v / 1e9);
  } else if (n >= 1000000) {
    std::snprintf(buf, sizeof buf, "%.3g M", v / 1e6);
  } else if (n >= 10000) {
    std::snprintf(buf, sizeof buf, "%.3g k", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  }
  return buf;
}

std::string FormatBytes(int64_t bytes) {
  char buf[64];
  double v = static_cast<double>(bytes);
  if (bytes >= (int64_t{1} << 30)) {
    std::snprintf(buf, sizeof buf, "%.2f GiB", v / (1 << 30));
  } else if (bytes >= (int64_t{1} << 20)) {
    std::snprintf(buf, sizeof buf, "%.2f MiB", v / (1 << 20));
  } else if (bytes >= 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", v / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  }
  return buf;
}

StatusOr<CostReport> AnalyzeCost(const Model& model) {
  const Graph& g = *model.graph;
  CostReport report;

  // 1. Constants: initializers, Constant outputs, Shape/Size of static shapes, and anything
  //    computed from constants only.
  std::unordered_set<const Value*> constant;
  std::unordered_map<const Value*, const Node*> folded_producer;
  for (const Value* v : g.initializers()) constant.insert(v);
  std::vector<const Node*> layer_nodes;
  std::unordered_set<const Value*> seen_defined;
  for (const Value* v : g.inputs()) seen_defined.insert(v);
  for (const Value* v : g.initializers()) seen_defined.insert(v);
  for (const auto& up : g.nodes()) {
    const Node& n = *up;
    for (const Value* in : n.inputs()) {
      if (in != nullptr && !seen_defined.count(in) && !in->is_outer_ref()) {
        return Status(StatusCode::kInvalidModel,
                      n.Describe() + ": reads '" + in->name() +
                          "' before it is produced (graph not in topological order)");
      }
    }
    for (const Value* out : n.outputs()) {
      if (out != nullptr) seen_defined.insert(out);
    }
    bool is_const =
        !n.HasSubgraphs() && !In(n.op_type(), {"RandomNormal", "RandomUniform", "RandomNormalLike",
                                               "RandomUniformLike", "Multinomial", "Bernoulli"});
    if (is_const) {
      if (In(n.op_type(), {"Shape", "Size"}) && n.input(0) && ShapeOf(n.input(0))) {
        // Shape of a static shape is known at compile time.
      } else {
        for (const Value* in : n.inputs()) {
          if (in != nullptr && !constant.count(in)) is_const = false;
        }
        for (const Value* in : n.implicit_inputs()) {
          if (!constant.count(in)) is_const = false;
        }
      }
    }
    if (is_const) {
      for (const Value* out : n.outputs()) {
        if (out == nullptr) continue;
        constant.insert(out);
        folded_producer[out] = &n;
      }
    } else {
      layer_nodes.push_back(&n);
    }
  }

  // 2. Deployed dtype of every activation produced by a layer.
  // Read only by QuantizeLinear, or by one activation (Relu, Clip, ...) that an NPU fuses into
  // the producing layer and whose output is read only by QuantizeLinear: Conv -> Relu -> Q is
  // one int8 layer.
  std::function<const Node*(const Value*, int)> quantizing_node = [&](const Value* v,
                                                                      int depth) -> const Node* {
    if (v->is_graph_output() || v->uses().empty() || depth > 2) return nullptr;
    if (v->uses().size() == 1 && IsFusedActivation(v->uses()[0].node->op_type()) &&
        v->uses()[0].input_index == 0 && v->uses()[0].node->output(0)) {
      return quantizing_node(v->uses()[0].node->output(0), depth + 1);
    }
    for (const Use& u : v->uses()) {
      if (u.input_index != 0 || !IsQ(*u.node)) return nullptr;
    }
    return v->uses().front().node;
  };
  auto only_quantized = [&](const Value* v) { return quantizing_node(v, 0) != nullptr; };
  auto q_dtype = [&](const Value* v) {
    const Node* q = quantizing_node(v, 0);
    const Value* qo = q->output(0);
    DataType t = qo ? qo->type().elem_type : DataType::kUndefined;
    if (t == DataType::kUndefined && q->input(2)) t = q->input(2)->type().elem_type;
    return t == DataType::kUndefined ? DataType::kUint8 : t;  // ONNX default zero point
  };

  std::unordered_map<const Value*, int> tensor_index;
  auto add_tensor = [&](const Value* v, int producer) {
    TensorCost t;
    t.name = v->name();
    t.declared = v->type().elem_type;
    t.dtype = t.declared;
    if (auto s = ShapeOf(v)) {
      t.has_shape = true;
      t.shape = *s;
    }
    t.producer = producer;
    t.graph_input = v->is_graph_input();
    t.graph_output = v->is_graph_output();
    tensor_index[v] = static_cast<int>(report.tensors.size());
    report.tensors.push_back(std::move(t));
    return static_cast<int>(report.tensors.size()) - 1;
  };
  auto finish_bytes = [&](TensorCost& t) {
    t.bytes = t.has_shape ? NumElements(t.shape) * static_cast<int64_t>(DataTypeSize(t.dtype)) : 0;
  };
  for (const Value* v : g.inputs()) {
    if (v->has_initializer()) continue;
    int i = add_tensor(v, -1);
    finish_bytes(report.tensors[i]);
    report.inputs.push_back(i);
  }

  // Whether a layer computes in int8: it writes quantized outputs.
  auto writes_quantized = [&](const Node& n) {
    if (IsQ(n) || IsDq(n)) return false;
    bool any = false;
    for (const Value* o : n.outputs()) {
      if (o == nullptr) continue;
      if (!only_quantized(o)) return false;
      any = true;
    }
    return any;
  };

  std::unordered_set<const Value*> counted_weights;
  std::unordered_set<const Value*> counted_qparams;
  // The stored tensor behind a folded weight: through DequantizeLinear (the integer tensor is
  // what is stored) and views/transposes of constants.
  auto storage_of = [&](const Value* v) {
    for (int guard = 0; guard < 16; ++guard) {
      auto it = folded_producer.find(v);
      if (it == folded_producer.end()) break;
      const Node& p = *it->second;
      if (IsDq(p) && p.input(0)) {
        for (size_t i = 1; i < p.num_inputs(); ++i) {
          const Value* qp = p.input(i);
          if (qp && counted_qparams.insert(qp).second && Elements(qp) >= 0) {
            report.qparam_bytes +=
                Elements(qp) * static_cast<int64_t>(DataTypeSize(qp->type().elem_type));
          }
        }
        v = p.input(0);
      } else if ((IsViewOp(p.op_type()) || p.op_type() == "Transpose") && p.input(0)) {
        v = p.input(0);
      } else {
        break;
      }
    }
    return v;
  };
  auto dtype_of_const = [&](const Value* v) {
    if (v->has_initializer()) return v->initializer()->dtype();
    return v->type().elem_type;
  };

  for (const Node* np : layer_nodes) {
    const Node& n = *np;
    int li = static_cast<int>(report.layers.size());
    LayerCost layer;
    layer.name = n.name();
    layer.op = n.op_type();
    if (IsQ(n) || IsDq(n)) report.quantized = true;

    // Inputs.
    for (size_t i = 0; i < n.num_inputs(); ++i) {
      const Value* in = n.input(i);
      if (in == nullptr) continue;
      if (constant.count(in)) {
        if ((IsQ(n) || IsDq(n)) && i > 0) {
          if (counted_qparams.insert(in).second && Elements(in) >= 0) {
            report.qparam_bytes +=
                Elements(in) * static_cast<int64_t>(DataTypeSize(dtype_of_const(in)));
          }
          continue;
        }
        if (!IsWeightSlot(n.op_type(), i)) continue;
        const Value* s = storage_of(in);
        DataType dt = dtype_of_const(s);
        if (!IsWeightDtype(dt) || !counted_weights.insert(s).second) continue;
        int64_t elems = Elements(s);
        if (elems < 0) continue;
        WeightCost w;
        w.name = s->name();
        w.dtype = dt;
        w.elements = elems;
        w.bytes = elems * static_cast<int64_t>(DataTypeSize(dt));
        w.layer = li;
        layer.params += w.elements;
        layer.weight_bytes += w.bytes;
        report.weight_bytes_float32 += w.elements * 4;
        report.weights.push_back(std::move(w));
        continue;
      }
      auto it = tensor_index.find(in);
      if (it == tensor_index.end()) continue;  // outer reference
      layer.inputs.push_back(it->second);
      report.tensors[it->second].last_use = li;
    }
    for (const Value* in : n.implicit_inputs()) {
      auto it = tensor_index.find(in);
      if (it != tensor_index.end()) report.tensors[it->second].last_use = li;
    }

    // Kind and outputs.
    const Value* x = n.input(0);
    int x_index = x && tensor_index.count(x) ? tensor_index[x] : -1;
    if (IsViewOp(n.op_type()) && x_index >= 0) {
      layer.kind = LayerKind::kView;
    } else if (IsQ(n) && x_index >= 0) {
      const TensorCost& xt = report.tensors[x_index];
      bool fused = xt.dtype != xt.declared;  // its producer already writes int8
      layer.kind = fused ? LayerKind::kFusedQdq : LayerKind::kConversion;
    } else if (IsDq(n) && x_index >= 0) {
      const Value* o = n.output(0);
      bool fused = o != nullptr && !o->is_graph_output() && !o->uses().empty();
      if (fused) {
        for (const Use& u : o->uses()) {
          const Node& c = *u.node;
          bool quantized_consumer = writes_quantized(c) || (IsViewOp(c.op_type()) && c.output(0) &&
                                                            only_quantized(c.output(0)));
          if (!quantized_consumer) fused = false;
        }
      }
      layer.kind = fused ? LayerKind::kFusedQdq : LayerKind::kConversion;
    }
    bool quantized_out = writes_quantized(n);
    for (size_t i = 0; i < n.num_outputs(); ++i) {
      const Value* o = n.output(i);
      if (o == nullptr) continue;
      int ti = add_tensor(o, li);
      TensorCost& t = report.tensors[ti];
      if (layer.kind == LayerKind::kView || layer.kind == LayerKind::kFusedQdq) {
        t.alias_of = x_index;
        t.dtype = report.tensors[x_index].dtype;
      } else if (quantized_out) {
        t.dtype = q_dtype(o);
      }
      finish_bytes(t);
      layer.outputs.push_back(ti);
      layer.output_bytes += t.bytes;
    }

    // Precision: int8 when any activation in or out is an integer type.
    layer.precision = DataType::kFloat;
    for (int ti : layer.inputs) {
      DataType d = report.tensors[ti].dtype;
      if (d == DataType::kInt8 || d == DataType::kUint8) layer.precision = d;
    }
    for (int ti : layer.outputs) {
      DataType d = report.tensors[ti].dtype;
      if (d == DataType::kInt8 || d == DataType::kUint8) layer.precision = d;
    }
    if (IsDq(n) && x_index >= 0 && layer.kind == LayerKind::kFusedQdq) {
      layer.precision = report.tensors[x_index].dtype;
    }

    // Arithmetic.
    std::string why;
    if (layer.kind == LayerKind::kConversion) {
      layer.ops = std::max<int64_t>(0, Elements(n.output(0)));
    } else if (layer.kind == LayerKind::kCompute) {
      layer.modelled = CountArithmetic(n, &layer.macs, &layer.ops, &why);
      if (!layer.modelled) {
        report.notes.push_back(n.Describe() + ": " + why + "; counted as 0 MACs");
      }
      layer.may_inplace = IsInplaceOp(n.op_type());
    }
    report.macs += layer.macs;
    report.ops += layer.ops;
    report.params += layer.params;
    report.weight_bytes += layer.weight_bytes;
    report.layers.push_back(std::move(layer));
  }

  for (const Value* v : g.outputs()) {
    auto it = tensor_index.find(v);
    if (it != tensor_index.end()) {
      report.outputs.push_back(it->second);
    } else if (constant.count(v)) {
      report.notes.push_back("graph output '" + v->name() + "' is a constant");
    }
  }
  int unknown = 0;
  for (const TensorCost& t : report.tensors) unknown += !t.has_shape;
  if (unknown > 0) {
    report.notes.push_back(std::to_string(unknown) +
                           " activation tensor(s) without a static shape count 0 bytes");
  }
  return report;
}

}  // namespace edgefit
