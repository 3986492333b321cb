// batch.io: graph inputs and outputs have batch (axis 0) = 1, once dynamic batches are fixed.
// Only tensors of rank >= 2 have a batch axis here (a rank-1 output such as [10] has none).
//
//   input [8,3,224,224]                     -> violation, fixed by unbatch
//   input [batch,3,224,224] (frozen to 1)   -> nothing here (dims.dynamic reports it)
//   output [batch*24,...] frozen to [24,...] -> violation
#include "check/rule.h"

namespace edgefit {
namespace {

void CheckValue(const CheckContext& ctx, const Value* v, const char* role,
                std::vector<Finding>* out) {
  const TypeInfo& type = ctx.Type(v);
  if (!type.has_shape || type.dims.size() < 2 || !type.dims[0].is_fixed()) return;
  int64_t batch = type.dims[0].value;
  if (batch == 1) return;
  Finding f = ModelFinding("batch.io", Severity::kViolation,
                           std::string(role) + " '" + v->name() + "' " + type.ShapeString() +
                               " has batch " + std::to_string(batch) + "; " + ctx.target() +
                               " needs batch 1 at graph inputs and outputs");
  f.values.push_back(DescribeValue(ctx, v, role));
  f.fixed_by = "unbatch";
  ApplyFact(&f, ctx.profile().shapes.batch_one_at_io);
  out->push_back(std::move(f));
}

void Run(const CheckContext& ctx, std::vector<Finding>* out) {
  if (!ctx.profile().shapes.batch_one_at_io.value) return;
  const Graph& g = ctx.graph();
  for (const Value* v : g.inputs())
    if (!v->has_initializer()) CheckValue(ctx, v, "input", out);
  for (const Value* v : g.outputs()) CheckValue(ctx, v, "output", out);
}

}  // namespace

const Rule kBatchIoRule = {"batch.io", "graph inputs and outputs have batch 1", &Run};

}  // namespace edgefit
