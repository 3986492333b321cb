// fix-dynamic-dims: freeze graph input shapes so every tensor can get a static shape.
//
//   Before: input [batch,72,36,36] ... output [batch,1]
//   After:  input [1,72,36,36]     ... output [1,1]
//
// Shapes come from --input-shape NAME=d0,d1,... (checked against the declared rank and fixed
// dims); otherwise a dynamic leading dim (the batch) becomes 1. A symbolic name bound this way
// (e.g. "batch" = 1) is substituted everywhere it appears: other inputs, outputs and every
// value_info. Other dynamic dims cannot be decided and are reported, never guessed. Shape
// inference then refreshes the intermediate shapes.
#include <map>

#include "passes/pass_util.h"
#include "passes/passes.h"

namespace edgefit {
namespace {

void Substitute(TypeInfo& t, const std::map<std::string, int64_t>& bound, bool* changed) {
  if (!t.is_tensor()) return;
  for (Dim& d : t.dims) {
    if (d.kind != Dim::Kind::kParam) continue;
    auto it = bound.find(d.param);
    if (it == bound.end()) continue;
    std::string denotation = d.denotation;
    d = Dim::Fixed(it->second);
    d.denotation = denotation;
    *changed = true;
  }
}

class FixDynamicDimsPass : public Pass {
 public:
  const char* id() const override { return "fix-dynamic-dims"; }
  const char* summary() const override {
    return "freeze input shapes (--input-shape, or dynamic batch -> 1) and propagate";
  }
  StatusOr<PassResult> Run(PassContext& ctx) override {
    Graph& g = *ctx.model.graph;
    PassResult result;
    std::map<std::string, int64_t> bound;  // symbolic dim name -> value
    for (const auto& [name, shape] : ctx.options.input_shapes) {
      Value* v = g.FindValue(name);
      if (!v || !v->is_graph_input() || v->has_initializer()) {
        std::string names;
        for (const Value* in : g.inputs())
          if (!in->has_initializer()) names += (names.empty() ? "" : ", ") + in->name();
        return InvalidArgument("--input-shape names '" + name +
                               "', which is not an input of the model (inputs: " + names + ")");
      }
      TypeInfo& t = v->type();
      if (t.has_shape && t.dims.size() != shape.size())
        return InvalidArgument("--input-shape " + name + "=" + ShapeToString(shape) + " has rank " +
                               std::to_string(shape.size()) + ", but the model declares " +
                               t.ShapeString());
      for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] <= 0)
          return InvalidArgument("--input-shape " + name + ": dims must be positive");
        if (t.has_shape && t.dims[i].is_fixed() && t.dims[i].value != shape[i])
          return InvalidArgument("--input-shape " + name + "=" + ShapeToString(shape) +
                                 " disagrees with the model's fixed dim " + std::to_string(i) +
                                 " in " + t.ShapeString());
        if (t.has_shape && t.dims[i].kind == Dim::Kind::kParam) bound[t.dims[i].param] = shape[i];
      }
      if (!t.IsStatic() || *t.StaticShape() != shape) {
        std::string before = t.ShapeString();
        DataType dt = t.elem_type;
        t = TypeInfo::Tensor(dt, shape);
        result.Rewrote("input '" + name + "': " + before + " -> " + ShapeToString(shape));
      }
    }
    for (Value* v : g.inputs()) {
      if (v->has_initializer() || ctx.options.input_shapes.count(v->name())) continue;
      TypeInfo& t = v->type();
      if (!t.is_tensor() || !t.has_shape) {
        result.unresolved.push_back("input '" + v->name() +
                                    "' has no declared rank; give --input-shape " + v->name() +
                                    "=...");
        continue;
      }
      if (t.dims.empty()) continue;
      std::string before = t.ShapeString();
      bool changed = false;
      Dim& lead = t.dims[0];
      if (!lead.is_fixed()) {
        if (lead.kind == Dim::Kind::kParam) bound[lead.param] = 1;
        lead = Dim::Fixed(1);
        changed = true;
      }
      Substitute(t, bound, &changed);
      for (size_t i = 1; i < t.dims.size(); ++i)
        if (!t.dims[i].is_fixed())
          result.unresolved.push_back(
              "input '" + v->name() + "' dim " + std::to_string(i) + " ('" + t.dims[i].ToString() +
              "') cannot be decided; give --input-shape " + v->name() + "=...");
      if (changed)
        result.Rewrote("input '" + v->name() + "': " + before + " -> " + t.ShapeString());
    }
    // Substitute the bound names everywhere else.
    int others = 0;
    for (Value* v : g.AllValues()) {
      if (v->is_graph_input()) continue;
      bool changed = false;
      Substitute(v->type(), bound, &changed);
      others += changed;
    }
    if (others)
      result.Rewrote("fixed the same dims in " + std::to_string(others) + " outputs/value_info");
    return result;
  }
};

}  // namespace

std::unique_ptr<Pass> CreateFixDynamicDimsPass() { return std::make_unique<FixDynamicDimsPass>(); }

}  // namespace edgefit
