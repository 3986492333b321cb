// fuse-reshapes: a chain of shape-only ops (Reshape, Flatten, Squeeze, Unsqueeze) becomes one
// Reshape with an explicit constant shape.
//
//   Before: x [24,16,1,1] -> Squeeze([3]) -> [24,16,1] -> Squeeze([2]) -> [24,16]
//             -> Reshape([1,8,48]) -> y [1,8,48]
//   After:  x [24,16,1,1] -> Reshape([1,8,48]) -> y [1,8,48]
//
// Each of these ops keeps the elements in row-major order and only changes the shape, so a
// chain of them is Reshape(x, shape(y)). The chain's intermediates must have no other reader
// (and not be graph outputs). The shape is y's static shape (ONNX inference, or one executor run
// where it gives up); when y's shape is not static, a chain ending in a Reshape whose constant
// target has no 0 entry keeps that target (a -1 there infers the same size from the same element
// count). A chain whose result has the input's static shape disappears altogether.
//
// The last node of the chain is rewritten in place (it keeps its name and output), the others
// are removed, and so are the constants (shapes, axes) nothing reads any more. Opsets 5..21
// (Reshape with a shape input).
#include <set>

#include "passes/constant_eval.h"
#include "passes/pass_util.h"
#include "passes/passes.h"

namespace edgefit {
namespace {

bool IsShapeOnly(const Node& n) {
  return (IsOp(n, "Reshape") || IsOp(n, "Flatten") || IsOp(n, "Squeeze") || IsOp(n, "Unsqueeze")) &&
         n.input(0) && n.output(0);
}

// The node before `n` in a chain: the producer of n's data input when it is a shape-only op
// whose output only `n` reads.
Node* Previous(const Node& n) {
  Value* in = n.input(0);
  Node* p = in->producer();
  if (!p || p->graph() != n.graph() || !IsShapeOnly(*p) || !HasSingleConsumer(in)) return nullptr;
  if (in->uses()[0].input_index != 0) return nullptr;
  return p;
}

struct Fusion {
  std::vector<Node*> chain;  // first .. last
  std::vector<int64_t> shape;
  bool identity = false;
  std::string note;  // the chain, "A -> B -> C"
};

std::optional<Fusion> Match(Node* last, int64_t opset, ShapeOracle& shapes) {
  if (!IsShapeOnly(*last)) return std::nullopt;
  // `last` must end the chain: its output is not read by a single shape-only node.
  Value* y = last->output(0);
  if (HasSingleConsumer(y) && y->uses()[0].input_index == 0 && IsShapeOnly(*y->uses()[0].node))
    return std::nullopt;
  Fusion f;
  for (Node* n = last; n; n = Previous(*n)) f.chain.insert(f.chain.begin(), n);
  if (f.chain.size() < 2) return std::nullopt;
  Value* x = f.chain.front()->input(0);
  std::optional<Shape> out = shapes.Of(y);
  if (out) {
    for (int64_t d : *out)
      if (d <= 0) return std::nullopt;
    f.shape = *out;
    auto in = shapes.Of(x);
    f.identity = in && *in == *out;
  } else if (IsOp(*last, "Reshape")) {
    auto target = LiteralInts(last->input(1));
    if (!target) return std::nullopt;
    bool allow_zero = opset >= 14 && last->GetInt("allowzero", 0) != 0;
    for (int64_t d : *target)
      if (d == 0 && !allow_zero) return std::nullopt;
    if (allow_zero) return std::nullopt;  // keep it simple: the new node has no allowzero
    f.shape = *target;
  } else {
    return std::nullopt;
  }
  std::string ops;
  for (const Node* n : f.chain) ops += (ops.empty() ? "" : " -> ") + n->Describe();
  f.note = ops;
  return f;
}

class FuseReshapesPass : public Pass {
 public:
  const char* id() const override { return "fuse-reshapes"; }
  const char* summary() const override {
    return "Reshape/Flatten/Squeeze/Unsqueeze chains -> one Reshape with a constant shape";
  }
  StatusOr<PassResult> Run(PassContext& ctx) override {
    Graph& g = *ctx.model.graph;
    int64_t opset = ctx.model.OpsetVersion("");
    PassResult result;
    if (opset < 5 || opset > 21) return result;
    ShapeOracle shapes(ctx.model);
    std::vector<Fusion> fusions;
    for (const auto& n : g.nodes())
      if (auto f = Match(n.get(), opset, shapes)) fusions.push_back(std::move(*f));
    for (Fusion& f : fusions) {
      Node* first = f.chain.front();
      Node* last = f.chain.back();
      Value* x = first->input(0);
      Value* y = last->output(0);
      // By name: removing a value may delete others.
      std::vector<std::string> dead;
      auto remove = [&](Node* n) {
        for (Value* in : n->inputs())
          if (in) dead.push_back(in->name());
        for (Value* out : n->outputs())
          if (out) dead.push_back(out->name());
        g.RemoveNode(n);
      };
      // Identity: x takes y's place (a graph output keeps its name) and the chain goes.
      if (f.identity && ReplaceValue(g, y, x)) {
        for (Node* n : f.chain) remove(n);
        f.note += ": removed (the shape does not change)";
      } else {
        f.note += " -> one Reshape " + ShapeToString(f.shape);
        for (Value* in : last->inputs())
          if (in) dead.push_back(in->name());
        std::string base = last->name().empty() ? y->name() : last->name();
        Value* shape = AddInt64Initializer(g, base + "_shape", f.shape);
        last->TruncateInputs(0);
        last->SetInput(0, x);
        last->SetInput(1, shape);
        last->attributes().clear();
        last->set_op_type("Reshape");
        for (size_t i = 0; i + 1 < f.chain.size(); ++i) remove(f.chain[i]);
      }
      RemoveIfDead(g, dead);
      result.Rewrote(f.note);
    }
    return result;
  }
};

}  // namespace

std::unique_ptr<Pass> CreateFuseReshapesPass() { return std::make_unique<FuseReshapesPass>(); }

}  // namespace edgefit
