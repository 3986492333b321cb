// fold-constants: evaluate the nodes that compute constants and store their results as
// initializers.
//
//   Before: input [1,72,36,36] -> Shape -> Gather(0) -> Unsqueeze -> Concat(.., 8,3,3,36,36) -> s
//           Reshape(input, s)
//   After:  Reshape(input, s)        s = initializer [1,8,3,3,36,36]
//
// A node is constant when every input is a constant (an initializer that is not a graph input,
// a Constant node, or the output of a node folded before it), or when it is a Shape/Size node
// whose input has a static shape (Shape(x) = dims(x) whatever x holds). Such nodes are
// evaluated one at a time on edgefit's executor (each in a one-node model whose inputs are
// initializers), in topological order, so f(constants) is computed by the same kernels that
// run the model. A folded value read by a node that stays (or a graph output) becomes an
// initializer under the same name (a graph output keeps its name); the folded nodes, and the
// Constant nodes and initializers only they read, are removed.
//
// Never folded: non-deterministic ops (RandomNormal[Like], RandomUniform[Like], Bernoulli,
// Multinomial), QuantizeLinear/DequantizeLinear/DynamicQuantizeLinear (the structure of a QDQ
// model), nodes with subgraphs, non-default domains, Constant nodes themselves, and nodes whose
// outputs together exceed PassOptions::fold_max_output_bytes (1 MiB by default),
// so that Tile/Expand/ConstantOfShape do not bloat the file (such a node stays and so does
// everything computed from it).
//
// A Shape/Size input without a static inferred shape is looked up in one executor run of the
// model (ShapeOracle), when the graph inputs are static and that shape cannot depend on their
// contents: at opsets 11-13 ONNX inference does not follow Shape -> Gather -> Concat -> Reshape,
// and a model that chains such blocks would otherwise fold one block per round.
// Folding can make shapes static (a Reshape target becomes known), which makes more Shape
// nodes constant: the pass alternates folding and ONNX shape inference until nothing changes,
// at most kMaxIterations times (a note says so when the cap is hit).
#include <map>
#include <set>

#include "passes/constant_eval.h"
#include "passes/pass_util.h"
#include "passes/passes.h"
#include "shape/shape_inference.h"

namespace edgefit {
namespace {

constexpr int kMaxIterations = 8;

struct FoldPlan {
  std::vector<Node*> folded;                           // topological order
  std::vector<std::pair<Value*, Tensor>> materialize;  // folded values still read
  std::vector<std::string> refused;                    // qualifying nodes not folded, with why
};

// Selects what to fold; the graph is not modified.
FoldPlan Plan(const Model& model, size_t max_bytes) {
  FoldPlan plan;
  Graph& g = *model.graph;
  ShapeOracle shapes(model);
  ConstantEvaluator eval(model, max_bytes, &shapes);
  std::set<const Node*> folded;
  for (Node* n : TopoOrder(g)) {
    std::string why;
    if (eval.EvaluateNode(n, &why)) {
      folded.insert(n);
      plan.folded.push_back(n);
    } else if (!why.empty()) {
      plan.refused.push_back(why);
    }
  }
  for (Node* n : plan.folded) {
    for (Value* out : n->outputs()) {
      if (!out) continue;
      bool read = out->is_graph_output();
      for (const Use& u : out->uses())
        if (u.input_index < 0 || !folded.count(u.node)) read = true;
      if (read) plan.materialize.emplace_back(out, *eval.Evaluate(out));
    }
  }
  return plan;
}

std::string Preview(const Tensor& t) {
  std::string s = std::string(DataTypeName(t.dtype())) + " " + ShapeToString(t.shape());
  if (t.numel() <= 8 && t.dtype() != DataType::kString) {
    auto ints = t.ToInt64Vector();
    if (ints.ok()) return s + " = " + ShapeToString(*ints);
    std::string v = " = [";
    std::vector<double> d = t.ToDoubleVector();
    for (size_t i = 0; i < d.size(); ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%g", i ? "," : "", d[i]);
      v += buf;
    }
    return s + v + "]";
  }
  return s;
}

// Applies the plan; returns the note describing it.
std::string Apply(Graph& g, FoldPlan& plan) {
  std::map<std::string, int> ops;
  // By name: removing a value may delete others.
  std::vector<std::string> inputs;  // values the folded nodes read (may become dead)
  std::vector<std::string> outputs;
  for (Node* n : plan.folded) {
    ++ops[n->op_type()];
    for (Value* in : n->inputs())
      if (in) inputs.push_back(in->name());
    for (Value* out : n->outputs())
      if (out) outputs.push_back(out->name());
  }
  for (Node* n : plan.folded) g.RemoveNode(n);
  std::string made;
  for (auto& [v, t] : plan.materialize) {
    if (made.size() < 400) made += (made.empty() ? "'" : ", '") + v->name() + "' " + Preview(t);
    std::string denotation = v->type().denotation;
    v->type() = TypeInfo::Tensor(t.dtype(), t.shape());
    v->type().denotation = denotation;
    g.SetInitializer(v, std::move(t));
  }
  RemoveIfDead(g, outputs);
  RemoveIfDead(g, inputs);
  std::string list;
  for (const auto& [op, count] : ops)
    list += (list.empty() ? "" : ", ") + op + (count > 1 ? " x" + std::to_string(count) : "");
  return "folded " + std::to_string(plan.folded.size()) + " node" +
         (plan.folded.size() == 1 ? "" : "s") + " (" + list + ") into " +
         std::to_string(plan.materialize.size()) + " initializer" +
         (plan.materialize.size() == 1 ? "" : "s") + (made.empty() ? "" : ": " + made);
}

class FoldConstantsPass : public Pass {
 public:
  const char* id() const override { return "fold-constants"; }
  const char* summary() const override {
    return "evaluate constant subgraphs (Shape->Gather->Concat on static shapes, constant "
           "arithmetic) into initializers";
  }
  StatusOr<PassResult> Run(PassContext& ctx) override {
    PassResult result;
    std::set<std::string> refused;
    for (int iteration = 1;; ++iteration) {
      if (iteration > kMaxIterations) {
        result.notes.push_back("warning: constants were still being folded after " +
                               std::to_string(kMaxIterations) +
                               " rounds of folding and shape inference; stopped there (run "
                               "fold-constants again)");
        break;
      }
      FoldPlan plan = Plan(ctx.model, ctx.options.fold_max_output_bytes);
      for (const std::string& r : plan.refused) refused.insert(r);
      if (plan.folded.empty()) break;
      std::string note = Apply(*ctx.model.graph, plan);
      result.changed = true;
      result.rewrites += static_cast<int>(plan.folded.size());
      result.notes.push_back(std::move(note));
      if (ShapesComplete(*ctx.model.graph)) continue;  // inference would add nothing
      auto inferred = InferShapes(ctx.model);
      (void)inferred;  // its warnings are the pipeline's to report
    }
    for (const std::string& r : refused) result.notes.push_back("not folded: " + r);
    return result;
  }
};

}  // namespace

std::unique_ptr<Pass> CreateFoldConstantsPass() { return std::make_unique<FoldConstantsPass>(); }

}  // namespace edgefit
