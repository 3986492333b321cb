// reduce-rank: rewrite chains of over-rank tensors (Reshape up -> Transpose/elementwise/Slice/
// Concat -> Reshape down) into the same computation on tensors of lower rank, by merging axes
// that stay adjacent and in order everywhere in the chain and dropping axes of size 1.
//
//   Before: x [1,72,36,36] -> Reshape [1,8,3,3,36,36] -> Transpose perm [0,1,2,4,5,3]
//             -> [1,8,3,36,36,3] -> Reshape [-1,3,36,36] -> y [24,3,36,36]
//   After:  x [1,72,36,36] -> Reshape [1,24,3,1296] -> Transpose perm [0,1,3,2]
//             -> [1,24,1296,3] -> Reshape [-1,3,36,36] -> y [24,3,36,36]
//
// The algebra. A region is a connected set of tensors of rank r above the limit, linked by
// Transpose, elementwise ops, Slice and Concat, entered and left only through reshape-like ops
// (Reshape, Squeeze, Unsqueeze, Flatten), which reinterpret a row-major buffer. Every tensor of
// the region carries the same r "logical" axes (a Transpose only moves them). Two logical axes
// A, B that are adjacent and in the order A, B in *every* tensor of the region can be replaced
// by one axis of size |A|*|B|: row-major order is unchanged in every tensor, a Transpose moves
// the merged axis as it moved A and B, an elementwise op sees the same pairs of elements. An
// axis of size 1 everywhere can be dropped (it may be anywhere). Other ops add constraints:
//   Slice   an axis sliced with step 1 must be the outermost of its group (then slicing [s,e)
//           of it is slicing [s*P, e*P) of the merged axis, P = product of the inner sizes);
//           an axis sliced with another step stays alone;
//   Concat  the concatenation axis must be the outermost of its group;
//   binary  within a group, each operand's (broadcast-aligned) dims are either all equal to the
//           output's or all 1, so the operand merges the same way (a constant keeps its bytes
//           and gets the merged shape).
// The entry reshapes get the merged shape as their target; the exit reshapes keep their target
// (rewritten to the static output shape when it is not a constant free of 0). A leading axis of
// size 1 that stays first everywhere (the batch) is kept when the merged rank allows, so the
// result keeps batch 1 in front (for the rPPG model: the clean export's [1,24,3,1296]).
//
// The limit is the target's preferred_rank when it is below max_rank (else max_rank), and 4
// without a target. Regions whose merged rank is still above the target's max_rank, or that
// touch ops the pass cannot rewrite, are reported as unresolved, with the reason. Shapes come
// from the value types or, when those are not static, from one run of the model (all graph
// inputs must be static: run fix-dynamic-dims first).
#include <algorithm>
#include <deque>
#include <limits>
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
  // The rank, from the type when it is known, else from a run; -1 if unknown.
  int Rank(const Value* v) {
    if (v->type().has_shape) return v->type().rank();
    auto s = Of(v);
    return s ? static_cast<int>(s->size()) : -1;
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

enum class OpKind { kTranspose, kUnary, kBinary, kSlice, kConcat };

const std::set<std::string>& UnaryOps() {
  static const std::set<std::string> ops = {"Relu",
                                            "LeakyRelu",
                                            "Sigmoid",
                                            "Tanh",
                                            "HardSigmoid",
                                            "HardSwish",
                                            "Elu",
                                            "Selu",
                                            "Softplus",
                                            "Softsign",
                                            "Neg",
                                            "Abs",
                                            "Exp",
                                            "Log",
                                            "Sqrt",
                                            "Reciprocal",
                                            "Floor",
                                            "Ceil",
                                            "Round",
                                            "Erf",
                                            "Identity",
                                            "Cast",
                                            "Clip",
                                            "Sign",
                                            "Sin",
                                            "Cos",
                                            "Not",
                                            "Mish",
                                            "ThresholdedRelu",
                                            "Celu"};
  return ops;
}

// The kind of a region op (rank-preserving, rewritable), or nullopt.
std::optional<OpKind> RegionOpKind(const Node& n, int64_t opset) {
  if (!IsOnnxDomain(n) || n.num_outputs() != 1 || !n.output(0) || !n.input(0) || n.HasSubgraphs())
    return std::nullopt;
  const std::string& op = n.op_type();
  if (op == "Transpose") return OpKind::kTranspose;
  if (UnaryOps().count(op)) return OpKind::kUnary;
  // Numpy-style broadcasting from opset 7 (older versions had a `broadcast` attribute).
  if ((op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow" || op == "PRelu") &&
      opset >= 7 && n.num_inputs() == 2 && n.input(1))
    return OpKind::kBinary;
  if ((op == "Max" || op == "Min") && opset >= 8 && n.num_inputs() == 2 && n.input(1))
    return OpKind::kBinary;
  if (op == "Slice") return OpKind::kSlice;
  if (op == "Concat" && n.HasAttribute("axis")) return OpKind::kConcat;
  return std::nullopt;
}

// Reshape-like ops: they reinterpret the row-major buffer, so they can enter or leave a region.
bool IsBoundary(const Node& n, int64_t opset) {
  if (!IsOnnxDomain(n) || n.num_outputs() != 1 || !n.output(0) || !n.input(0)) return false;
  const std::string& op = n.op_type();
  return (op == "Reshape" && opset >= 5) || op == "Squeeze" || op == "Unsqueeze" || op == "Flatten";
}

// The inputs of a region op that carry region data (not parameters).
std::vector<Value*> DataOperands(const Node& n, OpKind kind) {
  switch (kind) {
    case OpKind::kTranspose:
    case OpKind::kUnary:
    case OpKind::kSlice: return {n.input(0)};
    case OpKind::kBinary: {
      std::vector<Value*> out;
      for (Value* v : n.inputs())
        if (v && !ConstantValue(v)) out.push_back(v);
      return out;
    }
    case OpKind::kConcat: {
      std::vector<Value*> out;
      for (Value* v : n.inputs())
        if (v) out.push_back(v);
      return out;
    }
  }
  return {};
}

std::vector<int64_t> TransposePerm(const Node& n, size_t rank) {
  std::vector<int64_t> perm = n.GetInts("perm");
  if (perm.empty())
    for (size_t i = 0; i < rank; ++i) perm.push_back(static_cast<int64_t>(rank - 1 - i));
  return perm;
}

// One axis of a Slice after ONNX's clamping: start, step and the number of elements taken.
struct AxisSlice {
  int64_t start = 0, step = 1, count = 0;
  bool identity(int64_t dim) const { return start == 0 && step == 1 && count == dim; }
};

// Per-axis slices of a Slice node on an input of shape `in`, or nullopt when the parameters are
// not constants (or malformed).
std::optional<std::vector<AxisSlice>> SliceAxes(const Node& n, int64_t opset, const Shape& in) {
  std::vector<int64_t> starts, ends, axes, steps;
  if (opset < 10) {
    starts = n.GetInts("starts");
    ends = n.GetInts("ends");
    axes = n.GetInts("axes");
  } else {
    auto s = ConstantInts(n.input(1));
    auto e = ConstantInts(n.input(2));
    if (!s || !e) return std::nullopt;
    starts = *s;
    ends = *e;
    if (n.input(3)) {
      auto a = ConstantInts(n.input(3));
      if (!a) return std::nullopt;
      axes = *a;
    }
    if (n.input(4)) {
      auto st = ConstantInts(n.input(4));
      if (!st) return std::nullopt;
      steps = *st;
    }
  }
  int64_t r = static_cast<int64_t>(in.size());
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (starts.size() != ends.size() || starts.size() != axes.size() || starts.size() != steps.size())
    return std::nullopt;
  std::vector<AxisSlice> out(in.size());
  for (size_t i = 0; i < in.size(); ++i) out[i] = {0, 1, in[i]};
  std::set<int64_t> seen;
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
    if (a < 0 || a >= r || !seen.insert(a).second || steps[i] == 0) return std::nullopt;
    int64_t d = in[a], s = starts[i], e = ends[i], st = steps[i];
    if (s < 0) s += d;
    if (e < 0) e += d;
    int64_t count;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
      count = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      count = s > e ? (s - e + (-st) - 1) / (-st) : 0;
    }
    out[a] = {s, st, count};
  }
  return out;
}

std::string Join(const std::vector<int64_t>& v) { return ShapeToString(v); }

// A connected set of over-rank values and the ops between them.
struct Region {
  std::vector<Value*> values;
  std::vector<Node*> ops;
  std::vector<Node*> entries;  // boundary nodes writing a region value
  std::vector<Node*> exits;    // boundary nodes reading a region value
  std::string invalid;         // why it cannot be rewritten ("" if it can)
  int rank = 0;
};

// What to write once every region is planned.
struct Plan {
  std::map<Value*, Shape> value_shapes;     // region value -> merged shape
  std::map<Value*, DataType> value_dtypes;  // region value -> dtype
  std::map<Node*, std::vector<int64_t>> perms;
  std::map<Node*, int64_t> concat_axes;
  struct SliceParams {
    std::vector<int64_t> starts, ends, axes, steps;
  };
  std::map<Node*, SliceParams> slices;
  std::map<std::pair<Node*, int>, Tensor> constants;  // (node, input index) -> new constant
  std::map<Node*, Shape> boundary_targets;            // boundary node -> Reshape target
};

class ReduceRankPass : public Pass {
 public:
  const char* id() const override { return "reduce-rank"; }
  const char* summary() const override {
    return "merge axes of over-rank Reshape/Transpose/elementwise chains to reach the target "
           "rank";
  }

  StatusOr<PassResult> Run(PassContext& ctx) override {
    Graph& g = *ctx.model.graph;
    int64_t opset = ctx.model.OpsetVersion("");
    PassResult result;
    if (opset < 5) return result;  // boundaries become Reshape with a shape input (opset 5)
    int hard = 4, soft = 4;
    if (ctx.target) {
      if (ctx.target->shapes.max_rank.value > 0) hard = ctx.target->shapes.max_rank.value;
      int pref = ctx.target->shapes.preferred_rank.value;
      soft = pref > 0 && pref < hard ? pref : hard;
    }
    soft_ = soft;
    ShapeOracle shapes(ctx.model);

    // Over-rank node outputs.
    std::unordered_set<Value*> over;
    std::vector<Value*> over_order;
    for (const auto& n : g.nodes())
      for (Value* v : n->outputs()) {
        if (!v || (v->type().has_shape && v->type().rank() <= soft)) continue;
        if (v->type().kind == TypeInfo::Kind::kOpaque || ConstantValue(v)) continue;
        int r = shapes.Rank(v);
        if (r > soft && over.insert(v).second) over_order.push_back(v);
      }
    if (over.empty()) return result;

    std::vector<Region> regions = BuildRegions(over_order, over, opset, shapes);
    Plan plan;
    std::vector<std::string> notes;
    for (Region& region : regions) {
      int max_rank = region.rank;
      std::string names;
      for (size_t i = 0; i < region.values.size() && i < 4; ++i)
        names += (i ? ", '" : "'") + region.values[i]->name() + "'";
      if (region.values.size() > 4) names += ", ...";
      std::string where = "rank-" + std::to_string(max_rank) + " tensors " + names;
      if (!region.invalid.empty()) {
        if (max_rank > hard)
          result.unresolved.push_back(where + " cannot be reduced: " + region.invalid);
        continue;
      }
      std::string why;
      std::optional<std::string> note = PlanRegion(region, opset, shapes, hard, &plan, &why);
      if (!note) {
        if (max_rank > hard) result.unresolved.push_back(where + " cannot be reduced: " + why);
        continue;
      }
      notes.push_back(*note);
      if (!why.empty()) result.unresolved.push_back(where + ": " + why);
    }
    // Exits of regions that were not rewritten keep their node; only planned regions set
    // boundary targets, so nothing else changes.
    Apply(g, opset, plan);
    for (std::string& n : notes) result.Rewrote(std::move(n));
    return result;
  }

 private:
  int soft_ = 4;

  std::vector<Region> BuildRegions(const std::vector<Value*>& order,
                                   const std::unordered_set<Value*>& over, int64_t opset,
                                   ShapeOracle& shapes) {
    std::vector<Region> regions;
    std::unordered_set<Value*> visited;
    for (Value* seed : order) {
      if (visited.count(seed)) continue;
      Region region;
      std::unordered_set<Node*> ops, entries, exits;
      std::deque<Value*> queue = {seed};
      visited.insert(seed);
      auto fail = [&](const std::string& why) {
        if (region.invalid.empty()) region.invalid = why;
      };
      auto add_op = [&](Node* n, OpKind kind) {
        if (!ops.insert(n).second) return;
        region.ops.push_back(n);
        std::vector<Value*> data = DataOperands(*n, kind);
        data.push_back(n->output(0));
        for (Value* d : data) {
          if (!over.count(d)) {
            fail(n->Describe() + " reads '" + d->name() +
                 "', which is not an over-rank intermediate of the same rank");
            continue;
          }
          if (visited.insert(d).second) queue.push_back(d);
        }
      };
      while (!queue.empty()) {
        Value* v = queue.front();
        queue.pop_front();
        region.values.push_back(v);
        if (v->is_graph_output()) fail("'" + v->name() + "' is a graph output");
        Node* p = v->producer();
        if (auto kind = RegionOpKind(*p, opset)) {
          add_op(p, *kind);
        } else if (IsBoundary(*p, opset)) {
          if (entries.insert(p).second) region.entries.push_back(p);
        } else {
          fail("'" + v->name() + "' is computed by " + p->Describe() +
               ", which reduce-rank cannot rewrite");
        }
        for (const Use& u : v->uses()) {
          Node* n = u.node;
          auto kind = u.input_index >= 0 ? RegionOpKind(*n, opset) : std::nullopt;
          bool data = false;
          if (kind)
            for (Value* d : DataOperands(*n, *kind)) data |= d == v;
          if (kind && data) {
            add_op(n, *kind);
          } else if (u.input_index == 0 && IsBoundary(*n, opset)) {
            if (exits.insert(n).second) region.exits.push_back(n);
          } else {
            fail("'" + v->name() + "' is read by " + n->Describe() +
                 ", which reduce-rank cannot rewrite");
          }
        }
      }
      region.rank = 0;
      for (Value* v : region.values) region.rank = std::max(region.rank, shapes.Rank(v));
      regions.push_back(std::move(region));
    }
    return regions;
  }

  // Plans the rewrite of one valid region into `plan`. Returns the note, or nullopt with the
  // reason in *why when the region cannot be rewritten or gains nothing. A returned note with a
  // non-empty *why means: rewritten, but still above `hard`.
  std::optional<std::string> PlanRegion(const Region& region, int64_t opset, ShapeOracle& shapes,
                                        int hard, Plan* out_plan, std::string* why) {
    Plan local;  // merged into *out_plan only when the whole region is planned
    Plan* plan = &local;
    const int r = region.rank;
    std::map<Value*, Shape> shape;
    for (Value* v : region.values) {
      auto s = shapes.Of(v);
      if (!s) {
        *why = "the shape of '" + v->name() + "' is not known" +
               (shapes.why().empty() ? "" : ": " + shapes.why());
        return std::nullopt;
      }
      if (static_cast<int>(s->size()) != r) {
        *why = "'" + v->name() + "' has rank " + std::to_string(s->size()) + ", not " +
               std::to_string(r);
        return std::nullopt;
      }
      if (NumElements(*s) <= 0) {
        *why = "'" + v->name() + "' is empty";
        return std::nullopt;
      }
      if (shapes.Dtype(v) == DataType::kUndefined) {
        *why = "the element type of '" + v->name() + "' is not known";
        return std::nullopt;
      }
      shape[v] = *s;
    }
    // Exit targets: keep a constant target free of 0, else the static output shape.
    std::map<Node*, Shape> exit_targets;
    for (Node* n : region.exits) {
      if (IsOp(*n, "Reshape")) {
        auto target = ConstantInts(n->input(1));
        if (target && std::find(target->begin(), target->end(), 0) == target->end()) continue;
      }
      auto out = shapes.Of(n->output(0));
      if (!out) {
        *why = "the output shape of " + n->Describe() + " is not known";
        return std::nullopt;
      }
      exit_targets[n] = *out;
    }

    // Logical axes: axes_of[v][position] = logical axis (the first value's axes are 0..r-1).
    std::map<Value*, std::vector<int>> axes_of;
    {
      std::vector<int> identity(r);
      for (int i = 0; i < r; ++i) identity[i] = i;
      axes_of[region.values.front()] = identity;
      bool progress = true;
      while (progress) {
        progress = false;
        for (Node* n : region.ops) {
          OpKind kind = *RegionOpKind(*n, opset);
          std::vector<Value*> data = DataOperands(*n, kind);
          Value* out = n->output(0);
          std::optional<std::vector<int>> in_axes;  // in the input's positions
          if (kind == OpKind::kTranspose) {
            std::vector<int64_t> perm = TransposePerm(*n, r);
            if (static_cast<int>(perm.size()) != r) {
              *why = n->Describe() + " has a permutation of the wrong length";
              return std::nullopt;
            }
            if (axes_of.count(data[0])) {
              in_axes = axes_of[data[0]];
            } else if (axes_of.count(out)) {
              std::vector<int> a(r);
              for (int j = 0; j < r; ++j) a[perm[j]] = axes_of[out][j];
              in_axes = a;
            }
            if (!in_axes) continue;
            std::vector<int> o(r);
            for (int j = 0; j < r; ++j) o[j] = (*in_axes)[perm[j]];
            for (auto [v, a] : {std::pair{data[0], *in_axes}, std::pair{out, o}}) {
              auto it = axes_of.find(v);
              if (it == axes_of.end()) {
                axes_of[v] = a;
                progress = true;
              } else if (it->second != a) {
                *why = "'" + v->name() + "' mixes the axes of differently transposed tensors";
                return std::nullopt;
              }
            }
          } else {
            data.push_back(out);
            for (Value* d : data)
              if (axes_of.count(d)) in_axes = axes_of[d];
            if (!in_axes) continue;
            for (Value* d : data) {
              auto it = axes_of.find(d);
              if (it == axes_of.end()) {
                axes_of[d] = *in_axes;
                progress = true;
              } else if (it->second != *in_axes) {
                *why = n->Describe() + " combines differently transposed tensors";
                return std::nullopt;
              }
            }
          }
        }
      }
      for (Value* v : region.values)
        if (!axes_of.count(v)) {
          *why = "the axes of '" + v->name() + "' could not be followed";
          return std::nullopt;
        }
    }
    // pos_of[v][logical] = position; size[v][logical] = dim.
    std::map<Value*, std::vector<int>> pos_of;
    std::map<Value*, std::vector<int64_t>> size;
    for (Value* v : region.values) {
      std::vector<int> p(r);
      std::vector<int64_t> s(r);
      for (int i = 0; i < r; ++i) {
        p[axes_of[v][i]] = i;
        s[axes_of[v][i]] = shape[v][i];
      }
      pos_of[v] = p;
      size[v] = s;
    }

    std::vector<bool> unit(r, true);
    for (Value* v : region.values)
      for (int l = 0; l < r; ++l) unit[l] = unit[l] && size[v][l] == 1;
    std::set<int> starts_group, alone;
    // Per binary op: for each operand (by input index), its broadcast-aligned dims.
    struct Operand {
      Node* node;
      int index;
      Shape dims;  // aligned to rank r (leading 1s)
    };
    std::vector<Operand> operands;
    std::map<Node*, std::vector<AxisSlice>> slice_axes;
    for (Node* n : region.ops) {
      OpKind kind = *RegionOpKind(*n, opset);
      Value* out = n->output(0);
      if (kind == OpKind::kSlice) {
        auto sl = SliceAxes(*n, opset, shape[n->input(0)]);
        if (!sl) {
          *why = n->Describe() + " has computed or malformed parameters";
          return std::nullopt;
        }
        for (int i = 0; i < r; ++i) {
          int l = axes_of[n->input(0)][i];
          const AxisSlice& a = (*sl)[i];
          if (a.identity(shape[n->input(0)][i])) continue;
          if (a.count != size[out][l]) {
            *why = n->Describe() + ": its parameters disagree with the output shape";
            return std::nullopt;
          }
          starts_group.insert(l);
          if (a.step != 1) alone.insert(l);
        }
        slice_axes[n] = *sl;
      } else if (kind == OpKind::kConcat) {
        int64_t axis = n->GetInt("axis", 0);
        if (axis < 0) axis += r;
        if (axis < 0 || axis >= r) {
          *why = n->Describe() + " has an axis out of range";
          return std::nullopt;
        }
        starts_group.insert(axes_of[out][axis]);
      } else if (kind == OpKind::kBinary) {
        for (int i = 0; i < 2; ++i) {
          Value* in = n->input(i);
          Shape s;
          if (const Tensor* t = ConstantValue(in)) {
            s = t->shape();
          } else {
            s = shape.at(in);
          }
          if (static_cast<int>(s.size()) > r) {
            *why = n->Describe() + " broadcasts to a higher rank";
            return std::nullopt;
          }
          Shape aligned(r - s.size(), 1);
          aligned.insert(aligned.end(), s.begin(), s.end());
          for (int j = 0; j < r; ++j)
            if (aligned[j] != 1 && aligned[j] != shape[out][j]) {
              *why = n->Describe() + " has operands that do not broadcast to its output";
              return std::nullopt;
            }
          operands.push_back({n, i, aligned});
        }
      }
    }

    // Kept axes in the first value's order; the leading batch-like axis of size 1.
    Value* first = region.values.front();
    int lead = axes_of[first][0];
    bool lead_everywhere = unit[lead];
    for (Value* v : region.values) lead_everywhere = lead_everywhere && axes_of[v][0] == lead;
    std::vector<int> kept;
    for (int l = 0; l < r; ++l)
      if (!unit[l]) kept.push_back(l);
    if (kept.empty()) kept.push_back(lead);   // everything has size 1: keep one axis
    std::map<Value*, std::vector<int>> kpos;  // position among kept axes, by logical axis
    for (Value* v : region.values) {
      std::vector<int> p(r, -1);
      int k = 0;
      for (int i = 0; i < r; ++i) {
        int l = axes_of[v][i];
        if (std::find(kept.begin(), kept.end(), l) != kept.end()) p[l] = k++;
      }
      kpos[v] = p;
    }
    auto can_merge = [&](int a, int b) {
      if (starts_group.count(b) || alone.count(a) || alone.count(b)) return false;
      for (Value* v : region.values)
        if (kpos[v][b] != kpos[v][a] + 1) return false;
      for (const Operand& o : operands) {
        Value* out = o.node->output(0);
        int pa = pos_of[out][a], pb = pos_of[out][b];
        bool full = o.dims[pa] == size[out][a] && o.dims[pb] == size[out][b];
        bool ones = o.dims[pa] == 1 && o.dims[pb] == 1;
        if (!full && !ones) return false;
      }
      return true;
    };
    std::vector<std::vector<int>> groups;
    for (size_t i = 0; i < kept.size(); ++i) {
      if (i > 0 && can_merge(kept[i - 1], kept[i]))
        groups.back().push_back(kept[i]);
      else
        groups.push_back({kept[i]});
    }
    bool keep_lead =
        lead_everywhere && kept.front() != lead && static_cast<int>(groups.size()) + 1 <= soft_;
    int offset = keep_lead ? 1 : 0;
    int new_rank = static_cast<int>(groups.size()) + offset;
    if (new_rank >= r) {
      *why =
          "no axes can be merged (every pair of neighbouring axes is reordered, sliced or "
          "broadcast differently somewhere in the chain); merged rank would be " +
          std::to_string(new_rank);
      return std::nullopt;
    }

    // Group order and merged shape of every value.
    std::map<Value*, std::vector<int>> order;  // group ids in the value's order
    for (Value* v : region.values) {
      std::vector<int> ids(groups.size());
      for (size_t gi = 0; gi < groups.size(); ++gi) ids[gi] = static_cast<int>(gi);
      std::sort(ids.begin(), ids.end(),
                [&](int x, int y) { return pos_of[v][groups[x][0]] < pos_of[v][groups[y][0]]; });
      order[v] = ids;
      Shape s(offset, 1);
      for (int gi : ids) {
        int64_t p = 1;
        for (int l : groups[gi]) p *= size[v][l];
        s.push_back(p);
      }
      plan->value_shapes[v] = s;
      plan->value_dtypes[v] = shapes.Dtype(v);
    }
    auto group_of = [&](int l) {
      for (size_t gi = 0; gi < groups.size(); ++gi)
        if (std::find(groups[gi].begin(), groups[gi].end(), l) != groups[gi].end())
          return static_cast<int>(gi);
      return -1;
    };
    auto index_in = [&](Value* v, int gi) {
      const auto& o = order[v];
      return static_cast<int64_t>(std::find(o.begin(), o.end(), gi) - o.begin()) + offset;
    };
    std::string perm_note;
    for (Node* n : region.ops) {
      OpKind kind = *RegionOpKind(*n, opset);
      Value* out = n->output(0);
      if (kind == OpKind::kTranspose) {
        std::vector<int64_t> perm(offset, 0);
        for (int gi : order[out]) perm.push_back(index_in(n->input(0), gi));
        if (perm_note.empty())
          perm_note = " (" + n->Describe() + " perm " + Join(TransposePerm(*n, r)) + " -> " +
                      Join(perm) + ")";
        plan->perms[n] = perm;
      } else if (kind == OpKind::kConcat) {
        int64_t axis = n->GetInt("axis", 0);
        if (axis < 0) axis += r;
        plan->concat_axes[n] = index_in(out, group_of(axes_of[out][axis]));
      } else if (kind == OpKind::kSlice) {
        Value* in = n->input(0);
        Plan::SliceParams sp;
        const auto& sl = slice_axes[n];
        for (int gi : order[in]) {
          int l0 = groups[gi][0];
          const AxisSlice& a = sl[pos_of[in][l0]];
          if (a.identity(size[in][l0])) continue;
          int64_t inner = 1;
          for (size_t k = 1; k < groups[gi].size(); ++k) inner *= size[in][groups[gi][k]];
          sp.axes.push_back(index_in(in, gi));
          if (a.step == 1) {
            sp.starts.push_back(a.start * inner);
            sp.ends.push_back((a.start + a.count) * inner);
          } else {
            sp.starts.push_back(a.start);
            int64_t last = a.start + (a.count - 1) * a.step;
            sp.ends.push_back(
                a.step > 0 ? last + 1
                           : (last - 1 < 0 ? std::numeric_limits<int64_t>::min() : last - 1));
          }
          sp.steps.push_back(a.step);
        }
        if (opset < 10)
          for (int64_t st : sp.steps)
            if (st != 1) {
              *why = n->Describe() + " needs steps, which Slice-1 does not have";
              return std::nullopt;
            }
        plan->slices[n] = sp;
      }
    }
    for (const Operand& o : operands) {
      const Tensor* t = ConstantValue(o.node->input(o.index));
      if (!t) continue;  // a region value: its type is planned
      Value* out = o.node->output(0);
      if (t->numel() == 1 && static_cast<int>(t->rank()) <= new_rank) continue;
      Shape s(offset, 1);
      for (int gi : order[out]) {
        int64_t p = 1;
        for (int l : groups[gi]) p *= o.dims[pos_of[out][l]];
        s.push_back(p);
      }
      if (NumElements(s) != t->numel()) {
        *why = "internal: a constant of " + o.node->Describe() + " does not fit its merged shape";
        return std::nullopt;
      }
      plan->constants[{o.node, o.index}] = t->Clone().Reshaped(s);
    }
    for (Node* n : region.entries) plan->boundary_targets[n] = plan->value_shapes[n->output(0)];
    // An exit that is also the entry of another region takes that region's target.
    for (auto& [n, s] : exit_targets)
      if (!out_plan->value_shapes.count(n->output(0))) plan->boundary_targets[n] = s;
    for (auto& [v, s] : local.value_shapes) out_plan->value_shapes[v] = s;
    for (auto& [v, d] : local.value_dtypes) out_plan->value_dtypes[v] = d;
    for (auto& [n, p] : local.perms) out_plan->perms[n] = p;
    for (auto& [n, a] : local.concat_axes) out_plan->concat_axes[n] = a;
    for (auto& [n, sp] : local.slices) out_plan->slices[n] = sp;
    for (auto& [k, t] : local.constants) out_plan->constants[k] = t;
    for (auto& [n, s] : local.boundary_targets) {
      bool entry =
          std::find(region.entries.begin(), region.entries.end(), n) != region.entries.end();
      if (entry || !out_plan->boundary_targets.count(n)) out_plan->boundary_targets[n] = s;
    }

    if (new_rank > hard)
      *why = "merged to rank " + std::to_string(new_rank) + ", still above the target's " +
             std::to_string(hard);
    std::string groups_text;
    for (const auto& gr : groups) {
      groups_text += groups_text.empty() ? "(" : " (";
      for (size_t k = 0; k < gr.size(); ++k) groups_text += (k ? "," : "") + std::to_string(gr[k]);
      groups_text += ")";
    }
    Value* entry = region.entries.empty() ? first : region.entries.front()->output(0);
    return "'" + entry->name() + "' " + ShapeToString(shape[entry]) + " -> " +
           ShapeToString(plan->value_shapes[entry]) + ": rank " + std::to_string(r) + " -> " +
           std::to_string(new_rank) + ", axes merged " + groups_text + perm_note + ", " +
           std::to_string(region.values.size()) + " tensors";
  }

  static void Apply(Graph& g, int64_t opset, const Plan& plan) {
    for (const auto& [v, s] : plan.value_shapes) {
      std::string denotation = v->type().denotation;
      v->type() = TypeInfo::Tensor(plan.value_dtypes.at(v), s);
      v->type().denotation = denotation;
    }
    for (const auto& [n, perm] : plan.perms) n->SetAttribute(Attribute::Ints("perm", perm));
    for (const auto& [n, axis] : plan.concat_axes) n->SetAttribute(Attribute::Int("axis", axis));
    for (const auto& [n, sp] : plan.slices) {
      if (opset < 10) {
        n->SetAttribute(Attribute::Ints("starts", sp.starts));
        n->SetAttribute(Attribute::Ints("ends", sp.ends));
        n->SetAttribute(Attribute::Ints("axes", sp.axes));
      } else {
        std::string base = n->name().empty() ? "slice" : n->name();
        n->SetInput(1, AddInt64Initializer(g, base + "_starts", sp.starts));
        n->SetInput(2, AddInt64Initializer(g, base + "_ends", sp.ends));
        n->SetInput(3, AddInt64Initializer(g, base + "_axes", sp.axes));
        n->SetInput(4, AddInt64Initializer(g, base + "_steps", sp.steps));
      }
    }
    for (const auto& [key, t] : plan.constants) {
      Node* n = key.first;
      Value* old = n->input(key.second);
      n->SetInput(key.second, g.AddInitializer(old->name() + "_merged", t));
    }
    for (const auto& [n, target] : plan.boundary_targets) {
      std::string base = (n->name().empty() ? n->output(0)->name() : n->name()) + "_shape";
      Value* shape = AddInt64Initializer(g, base, target);
      if (IsOp(*n, "Reshape")) {
        n->SetInput(1, shape);
        continue;
      }
      // Squeeze/Unsqueeze/Flatten -> Reshape in the same place, same name.
      Value* in = n->input(0);
      Value* out = n->output(0);
      std::string name = n->name();
      Node* next = nullptr;
      for (auto it = g.nodes().begin(); it != g.nodes().end(); ++it)
        if (it->get() == n) {
          auto nx = std::next(it);
          next = nx == g.nodes().end() ? nullptr : nx->get();
          break;
        }
      g.SetNodeOutput(n, 0, nullptr);
      g.RemoveNode(n);
      g.InsertNode(next, "Reshape", {in, shape}, {out}, g.UniqueNodeName(name));
    }
  }
};

}  // namespace

std::unique_ptr<Pass> CreateReduceRankPass() { return std::make_unique<ReduceRankPass>(); }

}  // namespace edgefit
