// dims.dynamic: the target needs static shapes, and the model has
//   - graph inputs or outputs with symbolic or unknown dims (read from the ORIGINAL model, so
//     the finding names the dim as the file does: dim 0 'batch'), or
//   - values whose shape depends on the data even once the batch is fixed: outputs of NonZero,
//     Unique, NonMaxSuppression, Compress, and of ops whose shape operand (a Reshape shape, Expand
//     shape, Resize sizes, Slice bounds, TopK k, ...) is computed at run time.
//
//   input [batch,72,36,36]  -> violation, fixed by fix-dynamic-dims
//   Reshape(x, Shape(x) ...) with x static once the batch is fixed -> nothing (fold-constants)
#include "check/rule.h"

namespace edgefit {
namespace {

std::string DynamicDims(const TypeInfo& type) {
  std::string dims;
  for (size_t i = 0; i < type.dims.size(); ++i) {
    const Dim& d = type.dims[i];
    if (d.is_fixed()) continue;
    if (!dims.empty()) dims += ", ";
    dims += "dim " + std::to_string(i) +
            (d.kind == Dim::Kind::kParam ? " '" + d.param + "'" : std::string(" (unknown)"));
  }
  return dims;
}

void CheckIo(const CheckContext& ctx, const Value* v, const char* role, std::vector<Finding>* out) {
  const TypeInfo& type = v->type();
  std::string what;
  if (!type.is_tensor()) return;  // non-tensor types are other rules' business
  if (!type.has_shape) {
    if (ctx.Type(v).IsStatic()) return;  // the shape follows from the inputs
    what = "its rank is not declared";
  } else {
    what = DynamicDims(type);
    if (what.empty()) return;
    what += what.find(',') == std::string::npos ? " is dynamic" : " are dynamic";
  }
  Finding f = ModelFinding("dims.dynamic", Severity::kViolation,
                           std::string(role) + " '" + v->name() + "' " + type.ShapeString() + ": " +
                               what + "; " + ctx.target() + " needs static shapes");
  f.values.push_back(DescribeOriginalValue(v, role));
  f.fixed_by = "fix-dynamic-dims";
  ApplyFact(&f, ctx.profile().shapes.static_shapes);
  out->push_back(std::move(f));
}

// Input slots that decide an op's output shape from their values.
bool IsShapeOperand(const Node& node, int64_t opset, size_t i) {
  const std::string& op = node.op_type();
  if (op == "Reshape" || op == "Expand" || op == "Tile" || op == "TopK" || op == "OneHot")
    return i == 1;
  if (op == "ConstantOfShape") return i == 0;
  if (op == "Range") return true;
  if (op == "Resize") return i == 2 || i == 3;
  if (op == "Upsample") return i == 1;
  if (op == "Slice") return i >= 1;
  if (op == "Pad") return i == 1 || i == 3;
  if (op == "Squeeze" || op == "Unsqueeze" || op == "Split") return i == 1;
  if (op.rfind("Reduce", 0) == 0) return i == 1;
  return false;
}

bool AlwaysDataDependent(const std::string& op) {
  return op == "NonZero" || op == "Unique" || op == "NonMaxSuppression" || op == "Compress";
}

void CheckComputed(const CheckContext& ctx, const Node& node, std::vector<Finding>* out) {
  if (!CheckContext::IsDefaultDomain(node) || ctx.IsFoldableNode(node)) return;
  std::string why;
  if (AlwaysDataDependent(node.op_type())) {
    why = "its output size depends on the data";
  } else {
    int64_t opset = ctx.Opset(node);
    for (size_t i = 0; i < node.num_inputs(); ++i) {
      const Value* v = node.input(i);
      if (!v || !IsShapeOperand(node, opset, i) || ctx.IsFoldable(v)) continue;
      why = "its shape operand (input " + std::to_string(i) + " '" + v->name() +
            "') is computed from the data at run time";
      break;
    }
  }
  if (why.empty()) return;
  Finding f = NodeFinding(ctx, "dims.dynamic", Severity::kViolation, node,
                          why + "; " + ctx.target() + " needs static shapes");
  for (const Value* o : node.outputs())
    if (o) f.values.push_back(DescribeValue(ctx, o, "output"));
  ApplyFact(&f, ctx.profile().shapes.static_shapes);
  out->push_back(std::move(f));
}

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  if (!ctx.profile().shapes.static_shapes.value) return;
  const Graph& g = ctx.graph();
  for (const Value* v : g.inputs())
    if (!v->has_initializer()) CheckIo(ctx, v, "input", out);
  for (const Value* v : g.outputs()) CheckIo(ctx, v, "output", out);
  for (const auto& n : g.nodes()) CheckComputed(ctx, *n, out);
}

}  // namespace

const Rule kDimsDynamicRule = {
    "dims.dynamic", "every dimension is a number (graph inputs/outputs and computed shapes)", &Run};

}  // namespace edgefit
