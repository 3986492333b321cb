// fix-reshape-shape: give every Reshape an explicit constant target shape.
//
//   Before: x [24,3,36,36] ... Reshape(t [1,8,3,36,36,3], [-1,3,36,36])
//   After:                     Reshape(t,                 [24,3,36,36])
//
//   Before: Reshape(x [1,16,1], Concat(Unsqueeze(Gather(Shape(input), 0)), [8], [48]))
//   After:  Reshape(x,          [1,8,48])      (the Shape->...->Concat chain is removed)
//
// Reshape semantics (allowzero = 0, the default): a 0 entry copies the input's dim at that
// position, one -1 entry is numel(input) / product(other entries). With the input's static shape
// both are resolved to numbers: the output shape does not change, so neither does the function.
// A target computed at run time is replaced by the output's static shape, which is only done
// when that shape is known for every run: the graph inputs are static and the computation
// depends on shapes only (Shape/Size of static values, constants) — never on data.
//
// Shapes come from ONNX inference, completed by one executor run (ShapeOracle) where ONNX
// cannot infer, e.g. Reshape targets computed by Shape->Gather->Concat at opsets 11/13.
// Reshape-1..4 (the `shape` attribute) is handled the same way. Not rewritten: a Reshape whose
// input and output shapes are not static (a dynamic batch: run fix-dynamic-dims first), or whose
// output has a 0 dim that allowzero = 0 cannot express.
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

bool HasWildcard(const std::vector<int64_t>& shape, bool allow_zero) {
  for (int64_t d : shape)
    if (d == -1 || (d == 0 && !allow_zero)) return true;
  return false;
}

// The explicit shape for `target` applied to an input of shape `in`, or nullopt when it does not
// fit (the model would fail there anyway).
std::optional<std::vector<int64_t>> Resolve(const std::vector<int64_t>& target, const Shape& in,
                                            bool allow_zero) {
  std::vector<int64_t> out(target.size());
  int64_t known = 1;
  int wildcard = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0 && !allow_zero) {
      if (i >= in.size()) return std::nullopt;
      d = in[i];
    }
    if (d == -1) {
      if (wildcard >= 0) return std::nullopt;
      wildcard = static_cast<int>(i);
      continue;
    }
    if (d < 0) return std::nullopt;
    out[i] = d;
    known *= d;
  }
  int64_t numel = NumElements(in);
  if (numel < 0) return std::nullopt;
  if (wildcard >= 0) {
    if (known == 0 || numel % known != 0) return std::nullopt;
    out[wildcard] = numel / known;
  } else if (known != numel) {
    return std::nullopt;
  }
  return out;
}

std::optional<Rewrite> Match(Node* n, int64_t opset, ShapeOracle& shapes, PassResult* result) {
  if (!IsOp(*n, "Reshape") || !n->input(0) || !n->output(0)) return std::nullopt;
  bool attr_form = opset < 5;
  bool allow_zero = opset >= 14 && n->GetInt("allowzero", 0) != 0;
  std::optional<std::vector<int64_t>> target;
  if (attr_form) {
    if (!n->HasAttribute("shape")) return std::nullopt;
    target = n->GetInts("shape");
  } else {
    if (!n->input(1)) return std::nullopt;
    target = LiteralInts(n->input(1));
  }
  if (target && !HasWildcard(*target, allow_zero)) return std::nullopt;  // already explicit

  std::optional<std::vector<int64_t>> fixed;
  if (target) {
    if (auto in = shapes.Of(n->input(0))) fixed = Resolve(*target, *in, allow_zero);
  }
  if (!fixed) {
    // The output's static shape; for a computed target only when it holds on every run.
    if (auto out = shapes.Of(n->output(0))) {
      if (!target || Resolve(*target, *out, true)) fixed = *out;
    }
  }
  std::string what =
      target ? "shape " + ShapeToString(*target) : "shape '" + n->input(1)->name() + "' (computed)";
  if (!fixed) {
    result->unresolved.push_back(
        n->Describe() + ": " + what + " kept: the input/output shapes are not static" +
        (shapes.executor_note().empty() ? "" : " (" + shapes.executor_note() + ")"));
    return std::nullopt;
  }
  if (!allow_zero)
    for (int64_t d : *fixed)
      if (d == 0) {
        result->unresolved.push_back(n->Describe() + ": " + what +
                                     " kept: the output has a 0 dim, which allowzero = 0 reads as "
                                     "'copy the input dim'");
        return std::nullopt;
      }
  return Rewrite{n, *fixed, n->Describe() + ": " + what + " -> " + ShapeToString(*fixed)};
}

class FixReshapeShapePass : public Pass {
 public:
  const char* id() const override { return "fix-reshape-shape"; }
  const char* summary() const override {
    return "Reshape targets with -1/0 or computed at run time -> explicit constant shapes";
  }
  StatusOr<PassResult> Run(PassContext& ctx) override {
    Graph& g = *ctx.model.graph;
    int64_t opset = ctx.model.OpsetVersion("");
    PassResult result;
    if (opset < 1 || opset > 21) return result;  // Reshape versions checked: 1, 5, 13, 14, 19, 21
    ShapeOracle shapes(ctx.model);
    std::vector<Rewrite> rewrites;
    for (const auto& n : g.nodes())
      if (auto r = Match(n.get(), opset, shapes, &result)) rewrites.push_back(std::move(*r));
    for (Rewrite& r : rewrites) {
      if (opset < 5) {
        r.node->SetAttribute(Attribute::Ints("shape", r.shape));
      } else {
        Value* old = r.node->input(1);
        std::string base = (r.node->name().empty() ? r.node->output(0)->name() : r.node->name());
        r.node->SetInput(1, AddInt64Initializer(g, base + "_shape", r.shape));
        RemoveIfDead(g, old);
      }
      result.Rewrote(r.note);
    }
    return result;
  }
};

}  // namespace

std::unique_ptr<Pass> CreateFixReshapeShapePass() {
  return std::make_unique<FixReshapeShapePass>();
}

}  // namespace edgefit
