// fuse-transposes: a chain of Transposes becomes one Transpose with the composed permutation,
// or nothing when the composition is the identity.
//
//   Before: x -> Transpose(p1 = [0,2,3,1]) -> t -> Transpose(p2 = [0,3,1,2]) -> y
//   After:  x -> y                          (p = [0,1,2,3], the identity)
//
// Transpose(perm) gives out.dims[i] = in.dims[perm[i]] (element index likewise), so
//   y = Transpose(Transpose(x, p1), p2)  has  y.dims[i] = t.dims[p2[i]] = x.dims[p1[p2[i]]],
// that is y = Transpose(x, p) with p[i] = p1[p2[i]]. Longer chains compose left to right. An
// absent perm means the reversed axes; it needs the rank (from the other perm or the input's
// type). The intermediates must have no other reader and not be graph outputs. The last
// Transpose is rewritten in place (keeps its name and output); the others are removed. When
// the composed permutation is the identity the chain disappears (if y is a graph output and x
// is a graph input, one identity Transpose stays, as both names must remain).
#include "passes/pass_util.h"
#include "passes/passes.h"

namespace edgefit {
namespace {

bool IsTranspose(const Node& n) { return IsOp(n, "Transpose") && n.input(0) && n.output(0); }

Node* Previous(const Node& n) {
  Value* in = n.input(0);
  Node* p = in->producer();
  if (!p || p->graph() != n.graph() || !IsTranspose(*p) || !HasSingleConsumer(in)) return nullptr;
  return p;
}

// The node's permutation, or nullopt when it is absent and the rank is unknown, or invalid.
std::optional<std::vector<int64_t>> Perm(const Node& n, int rank_hint) {
  std::vector<int64_t> perm = n.GetInts("perm");
  if (perm.empty()) {
    int rank = n.input(0)->type().rank();
    if (rank < 0) rank = rank_hint;
    if (rank < 0) return std::nullopt;
    for (int i = rank - 1; i >= 0; --i) perm.push_back(i);
  }
  std::vector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen[p]) return std::nullopt;
    seen[p] = true;
  }
  return perm;
}

struct Fusion {
  std::vector<Node*> chain;
  std::vector<int64_t> perm;
  bool identity = false;
  std::string note;
};

std::optional<Fusion> Match(Node* last) {
  if (!IsTranspose(*last)) return std::nullopt;
  Value* y = last->output(0);
  if (HasSingleConsumer(y) && IsTranspose(*y->uses()[0].node)) return std::nullopt;  // not last
  Fusion f;
  for (Node* n = last; n; n = Previous(*n)) f.chain.insert(f.chain.begin(), n);
  if (f.chain.size() < 2) return std::nullopt;
  int rank = -1;
  for (const Node* n : f.chain)
    if (n->HasAttribute("perm")) rank = static_cast<int>(n->GetInts("perm").size());
  std::optional<std::vector<int64_t>> composed;
  std::string ops;
  for (const Node* n : f.chain) {
    auto p = Perm(*n, rank);
    if (!p || (composed && p->size() != composed->size())) return std::nullopt;
    if (!composed) {
      composed = *p;
    } else {
      std::vector<int64_t> next(p->size());
      for (size_t i = 0; i < p->size(); ++i) next[i] = (*composed)[(*p)[i]];
      composed = next;
    }
    ops += (ops.empty() ? "" : " -> ") + n->Describe();
  }
  f.perm = *composed;
  f.identity = true;
  for (size_t i = 0; i < f.perm.size(); ++i)
    if (f.perm[i] != static_cast<int64_t>(i)) f.identity = false;
  f.note = ops;
  return f;
}

std::string PermString(const std::vector<int64_t>& p) {
  std::string s = "[";
  for (size_t i = 0; i < p.size(); ++i) s += (i ? "," : "") + std::to_string(p[i]);
  return s + "]";
}

class FuseTransposesPass : public Pass {
 public:
  const char* id() const override { return "fuse-transposes"; }
  const char* summary() const override {
    return "Transpose -> Transpose chains -> one Transpose with the composed perm (or none)";
  }
  StatusOr<PassResult> Run(PassContext& ctx) override {
    Graph& g = *ctx.model.graph;
    PassResult result;
    int64_t opset = ctx.model.OpsetVersion("");
    if (opset < 1 || opset > 21) return result;  // Transpose versions checked: 1, 13, 21
    std::vector<Fusion> fusions;
    for (const auto& n : g.nodes())
      if (auto f = Match(n.get())) fusions.push_back(std::move(*f));
    for (Fusion& f : fusions) {
      Node* last = f.chain.back();
      Value* x = f.chain.front()->input(0);
      Value* y = last->output(0);
      std::vector<std::string> dead;
      auto remove = [&](Node* n) {
        for (Value* v : n->outputs())
          if (v) dead.push_back(v->name());
        g.RemoveNode(n);
      };
      if (f.identity && ReplaceValue(g, y, x)) {
        for (Node* n : f.chain) remove(n);
        f.note += ": removed (the permutations cancel)";
      } else {
        last->SetInput(0, x);
        last->SetAttribute(Attribute::Ints("perm", f.perm));
        for (size_t i = 0; i + 1 < f.chain.size(); ++i) remove(f.chain[i]);
        f.note += " -> one Transpose " + PermString(f.perm);
      }
      for (const std::string& name : dead)
        if (Value* v = g.FindValue(name)) g.RemoveValueIfUnused(v);
      result.Rewrote(f.note);
    }
    return result;
  }
};

}  // namespace

std::unique_ptr<Pass> CreateFuseTransposesPass() { return std::make_unique<FuseTransposesPass>(); }

}  // namespace edgefit
