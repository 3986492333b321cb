// squeeze-to-reshape: Squeeze, Unsqueeze and Flatten with static shapes become a Reshape with
// an explicit constant shape.
//
//   Before: x [24,16,1,1] -> Squeeze(axes = Constant [3]) -> [24,16,1]
//   After:  x [24,16,1,1] -> Reshape([24,16,1])           -> [24,16,1]
//
// All three ops only change the shape, never the order of the elements (row-major), so they are
// Reshape(x, output shape): Squeeze drops the listed size-1 axes (all of them when no axes are
// given), Unsqueeze inserts size-1 axes at the listed output positions, Flatten(axis) gives
// [prod(dims[:axis]), prod(dims[axis:])]. The output shape is computed from the input's static
// shape and the constant axes (attribute before opset 13, input from 13 on), and otherwise
// taken from the output's static shape (ONNX inference, or one executor run where it gives up).
// The node is rewritten in place (it keeps its name and output); the axes input, if nothing
// else reads it, is removed. Vendor parsers that want Squeeze axes as attributes or constants
// (axes.form) then see a plain Reshape.
//
// Not rewritten: shapes that are not static (a dynamic batch: run fix-dynamic-dims first),
// outputs with a 0 dim, models below opset 5 (Reshape's shape is an attribute there) or above
// the checked versions (Squeeze/Unsqueeze 1, 11, 13, 21; Flatten 1, 9, 11, 13, 21).
#include "passes/constant_eval.h"
#include "passes/pass_util.h"
#include "passes/passes.h"

namespace edgefit {
namespace {

struct Rewrite {
  Node* node;
  std::vector<int64_t> shape;
  std::string note;
};

// Axes of a Squeeze/Unsqueeze: the attribute (opset < 13) or the constant input; `present` is
// false when no axes are given.
std::optional<std::vector<int64_t>> Axes(const Node& n, int64_t opset, bool* present) {
  if (opset < 13) {
    *present = n.HasAttribute("axes");
    return n.GetInts("axes");
  }
  *present = n.input(1) != nullptr;
  if (!*present) return std::vector<int64_t>{};
  return LiteralInts(n.input(1));
}

std::optional<Shape> OutputShape(const Node& n, int64_t opset, const Shape& in) {
  const std::string& op = n.op_type();
  int64_t r = static_cast<int64_t>(in.size());
  if (op == "Flatten") {
    int64_t axis = n.GetInt("axis", 1);
    if (axis < 0) axis += r;
    if (axis < 0 || axis > r) return std::nullopt;
    int64_t a = 1, b = 1;
    for (int64_t i = 0; i < r; ++i) (i < axis ? a : b) *= in[i];
    return Shape{a, b};
  }
  bool present = false;
  auto axes = Axes(n, opset, &present);
  if (!axes) return std::nullopt;
  if (op == "Squeeze") {
    std::vector<bool> drop(r, false);
    if (!present) {
      for (int64_t i = 0; i < r; ++i) drop[i] = in[i] == 1;
    } else {
      for (int64_t a : *axes) {
        if (a < 0) a += r;
        if (a < 0 || a >= r || in[a] != 1) return std::nullopt;
        drop[a] = true;
      }
    }
    Shape out;
    for (int64_t i = 0; i < r; ++i)
      if (!drop[i]) out.push_back(in[i]);
    return out;
  }
  // Unsqueeze
  if (!present) return std::nullopt;
  int64_t out_rank = r + static_cast<int64_t>(axes->size());
  std::vector<bool> inserted(out_rank, false);
  for (int64_t a : *axes) {
    if (a < 0) a += out_rank;
    if (a < 0 || a >= out_rank || inserted[a]) return std::nullopt;
    inserted[a] = true;
  }
  Shape out;
  size_t k = 0;
  for (int64_t i = 0; i < out_rank; ++i) out.push_back(inserted[i] ? 1 : in[k++]);
  return out;
}

std::optional<Rewrite> Match(Node* n, int64_t opset, ShapeOracle& shapes) {
  if (!(IsOp(*n, "Squeeze") || IsOp(*n, "Unsqueeze") || IsOp(*n, "Flatten"))) return std::nullopt;
  if (!n->input(0) || !n->output(0)) return std::nullopt;
  std::optional<Shape> out;
  std::optional<Shape> in = shapes.Of(n->input(0));
  if (in) out = OutputShape(*n, opset, *in);
  if (!out) out = shapes.Of(n->output(0));
  if (!out) return std::nullopt;
  if (in && NumElements(*in) != NumElements(*out)) return std::nullopt;
  for (int64_t d : *out)
    if (d <= 0) return std::nullopt;
  return Rewrite{n, *out, n->Describe() + " -> Reshape " + ShapeToString(*out)};
}

class SqueezeToReshapePass : public Pass {
 public:
  const char* id() const override { return "squeeze-to-reshape"; }
  const char* summary() const override {
    return "Squeeze/Unsqueeze/Flatten with static shapes -> Reshape with a constant shape";
  }
  StatusOr<PassResult> Run(PassContext& ctx) override {
    Graph& g = *ctx.model.graph;
    int64_t opset = ctx.model.OpsetVersion("");
    PassResult result;
    if (opset < 5 || opset > 21) return result;
    ShapeOracle shapes(ctx.model);
    std::vector<Rewrite> rewrites;
    for (const auto& n : g.nodes())
      if (auto r = Match(n.get(), opset, shapes)) rewrites.push_back(std::move(*r));
    for (Rewrite& r : rewrites) {
      Node* n = r.node;
      Value* old_axes = n->num_inputs() > 1 ? n->input(1) : nullptr;
      std::string base = (n->name().empty() ? n->output(0)->name() : n->name());
      n->TruncateInputs(1);
      n->SetInput(1, AddInt64Initializer(g, base + "_shape", r.shape));
      n->attributes().clear();
      n->set_op_type("Reshape");
      RemoveIfDead(g, old_axes);
      result.Rewrote(r.note);
    }
    return result;
  }
};

}  // namespace

std::unique_ptr<Pass> CreateSqueezeToReshapePass() {
  return std::make_unique<SqueezeToReshapePass>();
}

}  // namespace edgefit
