// convert-opset: move the model to the target's recommended opset, never by rewriting the opset
// number alone: every node must mean the same at the new opset.
//
//   Before: opset 11: Squeeze(x) axes=[3] (attribute), Clip(x) min=0 max=6 (attributes)
//   After:  opset 17: Squeeze(x, axes=[3]) (input),   Clip(x, 0, 6) (inputs)
//
//   Before: opset 14: Reshape(x, shape) allowzero=0, Squeeze(x, axes=[2]) (input)
//   After:  opset 12: Reshape(x, shape),             Squeeze(x) axes=[2] (attribute)
//
// Up, when every op step is one ONNX's converter leaves nodes unchanged for, only the opset
// number changes; down, when no node needs the newer version, nodes stay (constant axes inputs
// become attributes again) and ONNX's checker confirms them at the older opset (see
// DownStepRefusal). Otherwise each op version step is done by the converter's adapters
// (Squeeze/Unsqueeze/Split/Reduce axes attribute <-> input, Upsample -> Resize, Clip min/max, Pad
// pads, BatchNormalization outputs, ...). Where the converter has no adapter or fails, the model
// is left unchanged and the reason is reported as unresolved (check then reports the opset
// finding). The result is verified numerically like every other pass (fix's verification runs
// the original and the converted model on the same inputs).
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "onnx/defs/schema.h"
#include "onnx/model_io.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/adapters/compatible.h"
#include "onnx/version_converter/convert.h"
#include "passes/constant_eval.h"
#include "passes/pass_util.h"
#include "passes/passes.h"
#include "targets/profile.h"

namespace edgefit {
namespace {

// The lowest IR version a model at this default-domain opset must declare.
int64_t MinIrVersion(int64_t opset) {
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  if (opset >= 14) return 8;
  return 7;
}

// ONNX's converter, with read access to its adapter table.
class AdapterTable : public onnx::version_conversion::DefaultVersionConverter {
 public:
  // True when ONNX registers a CompatibleAdapter for this op step: the newer version only adds
  // types or attributes whose defaults keep the old behaviour, so the node stays as it is.
  bool IsCompatibleStep(const std::string& op, int64_t from, int64_t to) const {
    auto by_op = adapters.find(op);
    if (by_op == adapters.end()) return false;
    auto by_from = by_op->second.find(onnx::OpSetID(from).toString());
    if (by_from == by_op->second.end()) return false;
    auto adapter = by_from->second.find(onnx::OpSetID(to).toString());
    return adapter != by_from->second.end() &&
           dynamic_cast<const onnx::version_conversion::CompatibleAdapter*>(
               adapter->second.get()) != nullptr;
  }
};

// True when every version step of every node between the two opsets is one ONNX's converter
// itself handles by leaving the node unchanged (a CompatibleAdapter), or BatchNormalization
// 13 -> 14 with a single output (inference mode, which version 14 computes identically). Then
// converting only changes the opset number and the IR version it requires; ONNX's converter,
// which rebuilds the whole graph for every version step, takes 12.6 s on 10,000 nodes for it.
bool CompatibleSteps(const Node& n, int64_t from, int64_t to) {
  static const AdapterTable table;
  if (!onnx::OpSchemaRegistry::Schema(n.op_type(), static_cast<int>(from), "")) return false;
  for (int64_t v = from; v < to; ++v) {
    const auto* next = onnx::OpSchemaRegistry::Schema(n.op_type(), static_cast<int>(v + 1), "");
    if (!next) return false;
    if (next->since_version() != v + 1) continue;  // the op does not change at this step
    if (table.IsCompatibleStep(n.op_type(), v, v + 1)) continue;
    if (n.op_type() == "BatchNormalization" && v == 13 && n.num_outputs() == 1) continue;
    return false;
  }
  return true;
}

bool OnlyCompatibleSteps(const Model& model, int64_t from, int64_t to) {
  // The answer depends on the op type (and for BatchNormalization its output count): decided
  // once per kind of node, not once per node.
  std::map<std::pair<std::string, size_t>, bool> known;
  for (const auto& n : model.graph->nodes()) {
    if (n->HasSubgraphs()) return false;
    if (!IsOnnxDomain(*n)) continue;
    auto [it, added] = known.try_emplace({n->op_type(), n->num_outputs()}, false);
    if (added) it->second = CompatibleSteps(*n, from, to);
    if (!it->second) return false;
  }
  return true;
}

// Down: ONNX's converter has adapters to older versions for few ops (none for Relu 13 -> 12,
// Clip 13 -> 12, Reshape 14 -> 13, Shape 13 -> 12, ...), so it fails on nearly every model
// exported at opset 13 or later when a target wants 12. Most of those steps only added types or
// attributes whose defaults keep the old behaviour: ONNX registers them upward as
// CompatibleAdapters. Such a step is undone by changing nothing, provided the node uses nothing
// the newer version added; ONNX's checker and its type-checking shape inference at the older
// opset decide that (an unknown attribute, an extra input or a newer type fails them). The
// other step undone here is the one that moved axes from an attribute to input 1 (Squeeze,
// Unsqueeze, ReduceSum and Split's sizes at 13, the other Reduce* at 18): a constant input
// becomes the attribute again.

// The version from which the op reads its axes (Split: its sizes) from input 1 instead of an
// attribute, and that attribute's name; {0, ""} for other ops.
std::pair<int64_t, std::string> AxesInputSince(const std::string& op) {
  if (op == "Squeeze" || op == "Unsqueeze" || op == "ReduceSum") return {13, "axes"};
  if (op == "Split") return {13, "split"};
  if (op.rfind("Reduce", 0) == 0) return {18, "axes"};
  return {0, ""};
}

// Whether the node can go back to an opset where its axes were an attribute: a constant (or
// absent) input 1, and no newer attribute set to anything but its default.
bool AxesStepBack(const Node& n) {
  if (n.GetInt("noop_with_empty_axes", 0) != 0 || n.HasAttribute("num_outputs")) return false;
  return n.num_inputs() < 2 || !n.input(1) || ConstantInts(n.input(1)).has_value();
}

// Softmax, LogSoftmax and Hardmax before 13 flatten the input to 2-D at `axis` (default 1) and
// normalize each row; from 13 on they normalize along `axis` alone (default -1). The same only
// when the axis is the last one (then the rows are the last dim's); the rank must be known.
bool IsSoftmaxFamily(const std::string& op) {
  return op == "Softmax" || op == "LogSoftmax" || op == "Hardmax";
}
std::optional<int64_t> LastAxisRank(const Node& n, ShapeOracle& shapes) {
  const std::optional<Shape> x = shapes.Of(n.input(0));  // its type, else one executor run
  if (!x || x->empty()) return std::nullopt;
  const int64_t rank = static_cast<int64_t>(x->size());
  int64_t axis = n.GetInt("axis", -1);
  if (axis < 0) axis += rank;
  if (axis != rank - 1) return std::nullopt;
  return rank;
}

// Why `n` cannot go from opset `from` down to `to` unchanged ("" when it can).
std::string DownStepRefusal(const Node& n, int64_t from, int64_t to, ShapeOracle& shapes) {
  static const AdapterTable table;
  const std::string& op = n.op_type();
  const auto [axes_since, axes_attribute] = AxesInputSince(op);
  for (int64_t v = from; v > to; --v) {
    const auto* schema = onnx::OpSchemaRegistry::Schema(op, static_cast<int>(v), "");
    if (!schema || !onnx::OpSchemaRegistry::Schema(op, static_cast<int>(v - 1), ""))
      return op + " does not exist at opset " + std::to_string(v - 1);
    if (schema->since_version() < v) continue;  // the op does not change at this step
    // Opset 13 added per-axis scales; before, the scale is one value (which neither ONNX's
    // checker nor its type inference checks, so it is checked here).
    if ((op == "QuantizeLinear" || op == "DequantizeLinear") && v == 13) {
      const std::optional<Shape> scale = shapes.Of(n.input(1));
      if (!scale || NumElements(*scale) != 1)
        return "its scale is not one value (per-axis quantization needs opset 13)";
    }
    if (table.IsCompatibleStep(op, v - 1, v)) continue;
    if (v == axes_since) {
      if (AxesStepBack(n)) continue;
      return "its " + axes_attribute + " input is not a constant";
    }
    // Version 14 added training mode (extra outputs); with one output it is inference as in 13.
    if (op == "BatchNormalization" && v == 14 && n.num_outputs() == 1) continue;
    if (IsSoftmaxFamily(op) && v == 13) {
      if (LastAxisRank(n, shapes)) continue;
      return "opset 13 changed its meaning except along the last axis of an input of known rank";
    }
    return op + " changed at opset " + std::to_string(v) + " in a way edgefit does not undo";
  }
  return "";
}

// Whether `a` holds the default the schema gives its attribute (an int, float or string one).
bool IsSchemaDefault(const onnx::OpSchema& schema, const Attribute& a) {
  auto it = schema.attributes().find(a.name);
  if (it == schema.attributes().end() || !it->second.default_value.has_name()) return false;
  const onnx::AttributeProto& d = it->second.default_value;
  switch (a.type) {
    case AttrType::kInt: return d.has_i() && d.i() == a.i;
    case AttrType::kFloat: return d.has_f() && d.f() == a.f;
    case AttrType::kString: return d.has_s() && d.s() == a.s;
    default: return false;
  }
}

// Drops the attributes the node's op at opset `to` does not know and that hold the default the
// op at opset `from` gives them (an exporter's explicit Reshape allowzero = 0): they change
// nothing.
void DropNewDefaults(Node& n, int64_t from, int64_t to) {
  const auto* newer = onnx::OpSchemaRegistry::Schema(n.op_type(), static_cast<int>(from), "");
  const auto* older = onnx::OpSchemaRegistry::Schema(n.op_type(), static_cast<int>(to), "");
  if (!newer || !older) return;
  std::vector<std::string> drop;
  for (const Attribute& a : n.attributes())
    if (!older->attributes().count(a.name) && IsSchemaDefault(*newer, a)) drop.push_back(a.name);
  for (const std::string& name : drop) n.RemoveAttribute(name);
}

// Takes `model` from opset `from` down to `to` without ONNX's converter when every node allows
// it (see above): axes inputs become attributes, the opset number changes. Returns why not
// ("" when done; otherwise the model may be half changed: callers work on a copy).
std::string StepDown(Model& model, int64_t from, int64_t to) {
  // Every node is judged on the model as it is, before anything changes.
  ShapeOracle shapes(model);
  std::vector<Node*> axes_nodes;
  std::vector<std::pair<Node*, int64_t>> last_axes;  // Softmax and co.: the rank
  for (const auto& n : model.graph->nodes()) {
    const std::string where = n->op_type() + " '" + n->name() + "': ";
    if (n->HasSubgraphs()) return where + "it has subgraphs";
    if (!IsOnnxDomain(*n)) continue;
    if (std::string why = DownStepRefusal(*n, from, to, shapes); !why.empty()) return where + why;
    const int64_t since = AxesInputSince(n->op_type()).first;
    if (since > to && since <= from) axes_nodes.push_back(n.get());
    if (IsSoftmaxFamily(n->op_type()) && to < 13 && from >= 13)
      last_axes.emplace_back(n.get(), *LastAxisRank(*n, shapes));
  }
  const bool crosses_13 = to < 13 && from >= 13;
  for (const auto& n : model.graph->nodes()) {
    if (!IsOnnxDomain(*n)) continue;
    DropNewDefaults(*n, from, to);
    // Resize before 13 has no optional roi and scales: an omitted one becomes an empty tensor,
    // as exporters write it at opset 11 (roi is read only in tf_crop_and_resize mode, and
    // scales must be empty when sizes is given).
    if (!crosses_13 || n->op_type() != "Resize") continue;
    for (size_t i = 1; i <= 2 && i < n->num_inputs(); ++i) {
      if (n->input(i)) continue;
      n->SetInput(i, model.graph->AddInitializer(n->name() + (i == 1 ? "_roi" : "_scales"),
                                                 Tensor(DataType::kFloat, Shape{0})));
    }
  }
  // The last axis, said explicitly (the default was 1 before 13).
  for (auto [n, rank] : last_axes) n->SetAttribute(Attribute::Int("axis", rank - 1));
  for (Node* n : axes_nodes) {
    n->RemoveAttribute("noop_with_empty_axes");  // 0 (checked): the default, and unknown before
    if (n->num_inputs() < 2) continue;
    if (Value* axes = n->input(1)) {
      n->SetAttribute(Attribute::Ints(AxesInputSince(n->op_type()).second, *ConstantInts(axes)));
      n->TruncateInputs(1);
      if (axes->uses().empty() && !axes->is_graph_input() && !axes->is_graph_output()) {
        model.graph->RemoveInitializer(axes);  // (a Constant node's output: eliminate-dead's)
        model.graph->RemoveValueIfUnused(axes);
      }
    } else {
      n->TruncateInputs(1);
    }
  }
  model.SetOpsetVersion("", to);
  return "";
}

// ONNX's checker, then its shape inference with type checking, strict: whether every node is
// valid at the model's opset.
Status CheckAtOpset(const Model& model) {
  RETURN_IF_ERROR(RunOnnxChecker(model));
  onnx::ModelProto mp;
  RETURN_IF_ERROR(ModelToProto(model, &mp));
  try {
    onnx::ShapeInferenceOptions so(/*check_type=*/true, /*error_mode=*/1, /*data_prop=*/false);
    onnx::shape_inference::InferShapes(mp, onnx::OpSchemaRegistry::Instance(), so);
  } catch (const std::exception& e) {
    return InvalidModel(std::string("shape inference: ") + e.what());
  }
  return Status::Ok();
}

// PRelu before 7 applies a 1-D slope of X's channel count along axis 1; from 7 on the slope
// broadcasts numpy-style from the right, which ONNX's converter (a CompatibleAdapter for 6 -> 7)
// ignores. Crossing 7 upward, such a slope becomes [C, 1, ..., 1]. `shapes` answers for `model`
// before the change. False when a legacy slope cannot be rewritten (not a constant, X's rank
// unknown); the model is then left as it is.
bool ReshapeLegacyPReluSlopes(Model& model, ShapeOracle& shapes) {
  std::vector<std::pair<Node*, Shape>> rewrites;
  for (const auto& n : model.graph->nodes()) {
    if (!IsOnnxDomain(*n) || n->op_type() != "PRelu" || n->num_inputs() < 2) continue;
    const std::optional<Shape> slope = shapes.Of(n->input(1));
    if (slope && NumElements(*slope) == 1) continue;  // shared: the same in every version
    const std::optional<Shape> x = shapes.Of(n->input(0));
    if (!x || !slope) return false;
    if (slope->size() != 1 || x->size() < 3 || (*x)[1] != (*slope)[0]) continue;
    if (!ConstantValue(n->input(1))) return false;  // a graph input could be fed as [C]
    Shape to(x->size() - 1, 1);
    to[0] = (*slope)[0];
    rewrites.emplace_back(n.get(), to);
  }
  for (auto& [n, to] : rewrites) {
    Tensor per_channel = ConstantValue(n->input(1))->Reshaped(to);
    n->SetInput(1, model.graph->AddInitializer(n->input(1)->name() + "_per_channel", per_channel));
  }
  return true;
}

class ConvertOpsetPass : public Pass {
 public:
  const char* id() const override { return "convert-opset"; }
  const char* summary() const override {
    return "convert to the target's recommended opset (unchanged nodes where none needs a "
           "change, else ONNX's version converter)";
  }
  // Looks at opsets and op types only; the converter path exports the model without the
  // intermediates' inferred types anyway.
  bool reads_shapes() const override { return false; }
  StatusOr<PassResult> Run(PassContext& ctx) override {
    PassResult result;
    int target = ctx.options.target_opset;
    if (target == 0 && ctx.target) target = ctx.target->opset.recommended.value;
    int64_t current = ctx.model.OpsetVersion("");
    if (target <= 0 || current < 0 || current == target) return result;
    if (done_.count(current) && done_[current] == target) return result;  // tried and failed
    // PRelu's slope before 7 (ONNX's converter leaves it: see ReshapeLegacyPReluSlopes).
    const bool crosses_prelu_7 = current < 7 && target >= 7;
    // The model the up conversions start from: ctx.model, or a copy with those slopes rewritten
    // (taken only if a conversion succeeds).
    Model rewritten;
    Model* source = &ctx.model;
    if (crosses_prelu_7) {
      ShapeOracle shapes(ctx.model);
      ASSIGN_OR_RETURN(rewritten, CloneModel(ctx.model));
      if (!ReshapeLegacyPReluSlopes(rewritten, shapes)) {
        result.unresolved.push_back(
            "a PRelu slope is applied per channel before opset 7 and numpy-style after; it is not "
            "a constant of known layout, so the model stays at opset " +
            std::to_string(current));
        return result;
      }
      source = &rewritten;
    }
    if (target > current && OnlyCompatibleSteps(*source, current, target)) {
      if (source != &ctx.model) ctx.model = std::move(*source);
      ctx.model.SetOpsetVersion("", target);
      ctx.model.ir_version = std::max(ctx.model.ir_version, MinIrVersion(target));
      result.Rewrote("opset " + std::to_string(current) + " -> " + std::to_string(target) +
                     " (every op step is compatible: ONNX's converter would not change a node)");
      return result;
    }
    std::string down_refused;  // why the node-preserving way down was not taken
    if (target < current) {
      ASSIGN_OR_RETURN(Model down, CloneModel(ctx.model));
      down_refused = StepDown(down, current, target);
      if (down_refused.empty()) {
        Status valid = CheckAtOpset(down);
        if (valid.ok()) {
          ctx.model = std::move(down);
          result.Rewrote("opset " + std::to_string(current) + " -> " + std::to_string(target) +
                         " (each op step back only drops types or attributes the model does "
                         "not use, or turns constant axes inputs into attributes)");
          return result;
        }
        down_refused = "at opset " + std::to_string(target) + " " + valid.message();
      }
    }
    onnx::ModelProto mp;
    RETURN_IF_ERROR(ModelToProto(*source, &mp));
    onnx::ModelProto converted;
    try {
      converted = onnx::version_conversion::ConvertVersion(mp, target);
    } catch (const std::exception& e) {
      done_[current] = target;
      result.unresolved.push_back(
          "ONNX's version converter cannot take this model from opset " + std::to_string(current) +
          " to " + std::to_string(target) + ": " + e.what() +
          (down_refused.empty() ? ""
                                : "; nor can edgefit without changing nodes: " + down_refused));
      return result;
    }
    std::string base;
    auto loaded = ModelFromProto(&converted, "(converted)", base);
    if (!loaded.ok()) {
      done_[current] = target;
      result.unresolved.push_back("the converted model is invalid: " + loaded.status().message());
      return result;
    }
    Model& m = *loaded;
    m.source_path = ctx.model.source_path;
    m.external_data_files = ctx.model.external_data_files;
    if (m.ir_version < ctx.model.ir_version) m.ir_version = ctx.model.ir_version;
    ctx.model = std::move(m);
    result.Rewrote("opset " + std::to_string(current) + " -> " + std::to_string(target) +
                   " (ONNX version converter)");
    return result;
  }

 private:
  std::map<int64_t, int> done_;
};

}  // namespace

std::unique_ptr<Pass> CreateConvertOpsetPass() { return std::make_unique<ConvertOpsetPass>(); }

}  // namespace edgefit
