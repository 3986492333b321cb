#include "shape/shape_inference.h"

#include <google/protobuf/arena.h>

#include <algorithm>
#include <climits>
#include <map>
#include <sstream>

#include "onnx/model_io.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

namespace edgefit {
namespace {

// True when `b` says more than `a` (known rank where a has none, or more fixed dims).
bool MoreInformative(const TypeInfo& a, const TypeInfo& b) {
  if (b.kind != TypeInfo::Kind::kTensor) return false;
  if (a.kind != TypeInfo::Kind::kTensor) return true;
  if (a.elem_type == DataType::kUndefined && b.elem_type != DataType::kUndefined) return true;
  if (!b.has_shape) return false;
  if (!a.has_shape) return true;
  if (a.dims.size() != b.dims.size()) return false;
  for (size_t i = 0; i < a.dims.size(); ++i) {
    if (!a.dims[i].is_fixed() && b.dims[i].is_fixed()) return true;
    if (a.dims[i].kind == Dim::Kind::kUnknown && b.dims[i].kind == Dim::Kind::kParam) return true;
  }
  return false;
}

TypeInfo FromProto(const onnx::TypeProto& tp) {
  TypeInfo t;
  if (!tp.has_tensor_type()) return t;
  const auto& tt = tp.tensor_type();
  t.kind = TypeInfo::Kind::kTensor;
  int32_t et = tt.elem_type();
  t.elem_type = IsKnownDataType(et) ? static_cast<DataType>(et) : DataType::kUndefined;
  t.has_shape = tt.has_shape();
  for (const auto& d : tt.shape().dim()) {
    if (d.has_dim_value() && d.dim_value() >= 0) {
      t.dims.push_back(Dim::Fixed(d.dim_value()));
    } else if (d.has_dim_param()) {
      t.dims.push_back(Dim::Symbolic(d.dim_param()));
    } else {
      t.dims.push_back(Dim{});
    }
  }
  return t;
}

void Merge(const onnx::ValueInfoProto& vi, Graph& g, const ShapeInferenceOptions& options,
           int* updated) {
  Value* v = g.FindValue(vi.name());
  if (!v || v->has_initializer()) return;
  TypeInfo inferred = FromProto(vi.type());
  TypeInfo& current = v->type();
  if (!MoreInformative(current, inferred)) return;
  if (current.kind == TypeInfo::Kind::kTensor && current.has_shape && inferred.has_shape &&
      current.dims.size() == inferred.dims.size()) {
    // Keep declared symbolic names and denotations; take fixed dims from inference.
    for (size_t i = 0; i < current.dims.size(); ++i)
      if (!current.dims[i].is_fixed() && inferred.dims[i].kind != Dim::Kind::kUnknown)
        current.dims[i] = inferred.dims[i];
    if (current.elem_type == DataType::kUndefined) current.elem_type = inferred.elem_type;
  } else {
    inferred.denotation = current.denotation;
    current = std::move(inferred);
  }
  ++*updated;
  if (options.record_value_info && !v->is_graph_input() && !v->is_graph_output()) g.AddValueInfo(v);
}

void MergeGraph(const onnx::GraphProto& gp, Graph& g, const ShapeInferenceOptions& options,
                int* updated) {
  for (const auto& vi : gp.value_info()) Merge(vi, g, options, updated);
  for (const auto& vi : gp.output()) Merge(vi, g, options, updated);
  int index = 0;
  for (const auto& node : g.nodes()) {
    if (index >= gp.node_size()) break;
    const auto& np = gp.node(index++);
    size_t graph_attr = 0;
    for (const Attribute& a : node->attributes()) {
      if (a.graphs.empty()) continue;
      for (const auto& ap : np.attribute()) {
        if (ap.name() != a.name) continue;
        if (ap.has_g() && !a.graphs.empty()) MergeGraph(ap.g(), *a.graphs[0], options, updated);
        for (int i = 0; i < ap.graphs_size() && i < static_cast<int>(a.graphs.size()); ++i)
          MergeGraph(ap.graphs(i), *a.graphs[i], options, updated);
      }
      ++graph_attr;
    }
  }
}

// ONNX's inference functions assume that a node matches its schema (required attributes present,
// input counts in range) and can crash otherwise: ONNX 1.12's Scan inference dereferences a null
// attribute when num_scan_inputs is missing (found by fuzz/load_model_fuzzer). So every node is
// checked against its schema first; one that fails is hidden from ONNX (its op_type is renamed
// in this copy, so ONNX finds no schema and skips it) and reported as a warning.
void HideInvalidNodes(onnx::GraphProto* g, const std::map<std::string, int>& opsets,
                      std::vector<std::string>* warnings) {
  for (auto& n : *g->mutable_node()) {
    for (auto& a : *n.mutable_attribute()) {
      if (a.has_g()) HideInvalidNodes(a.mutable_g(), opsets, warnings);
      for (auto& sub : *a.mutable_graphs()) HideInvalidNodes(&sub, opsets, warnings);
    }
    auto it = opsets.find(n.domain() == "ai.onnx" ? "" : n.domain());
    if (it == opsets.end()) continue;  // ONNX reports it
    const onnx::OpSchema* schema =
        onnx::OpSchemaRegistry::Instance()->GetSchema(n.op_type(), it->second, n.domain());
    if (!schema) continue;
    try {
      schema->Verify(n);
    } catch (const std::exception& e) {
      std::string what = e.what();
      what = what.substr(0, what.find('\n'));
      warnings->push_back("node '" + n.name() + "' (" + n.op_type() + ") does not match its " +
                          "schema, not inferred: " + what);
      n.set_op_type("edgefit.invalid." + n.op_type());
    }
  }
}

bool IsComplete(const Value* v) {
  if (!v || v->has_initializer()) return true;  // initializers' types come from their data
  const TypeInfo& t = v->type();
  return t.elem_type != DataType::kUndefined && t.IsStatic();
}

}  // namespace

bool ShapesComplete(const Graph& g) {
  for (const auto& n : g.nodes()) {
    for (const Attribute& a : n->attributes())
      if (!a.graphs.empty()) return false;
    for (const Value* v : n->outputs())
      if (!IsComplete(v)) return false;
  }
  for (const Value* v : g.outputs())
    if (!IsComplete(v)) return false;
  for (const Value* v : g.value_info_order())
    if (!IsComplete(v)) return false;
  return true;
}

StatusOr<ShapeInferenceResult> InferShapes(Model& model, const ShapeInferenceOptions& options) {
  // The protobuf copies live on an arena: a 10,000-node graph is ~100k small messages, and
  // freeing them one by one cost more than the inference itself.
  google::protobuf::Arena arena;
  ExportOptions eo;
  // Shape inference reads only small tensors (shapes, axes, scales); skip large weights.
  eo.omit_data_above_bytes = 1 << 16;
  auto* mp = google::protobuf::Arena::CreateMessage<onnx::ModelProto>(&arena);
  RETURN_IF_ERROR(ModelToProto(model, mp, eo));
  ShapeInferenceResult result;
  std::map<std::string, int> opsets;
  for (const auto& o : mp->opset_import()) {
    int64_t v = std::clamp<int64_t>(o.version(), 0, INT32_MAX);
    opsets[o.domain() == "ai.onnx" ? "" : o.domain()] = static_cast<int>(v);
  }
  std::vector<std::string> invalid;
  HideInvalidNodes(mp->mutable_graph(), opsets, &invalid);
  if (!invalid.empty() && options.strict) return InvalidModel("shape inference: " + invalid[0]);
  result.warnings = invalid;
  // ONNX collects per-node errors but only reports them in error mode 1 (it throws them all,
  // one per line). So: run in mode 1; on failure, keep the errors as warnings (non-strict) and
  // run again in mode 0 on a fresh export, which skips the failing nodes and infers the rest.
  try {
    onnx::ShapeInferenceOptions so(/*check_type=*/false, /*error_mode=*/1, /*data_prop=*/true);
    onnx::shape_inference::InferShapes(*mp, onnx::OpSchemaRegistry::Instance(), so);
  } catch (const std::exception& e) {
    std::vector<std::string> errors;
    std::string line;
    for (std::istringstream in(e.what()); std::getline(in, line);)
      if (!line.empty()) errors.push_back(line);
    if (errors.empty()) errors.push_back("unknown error");
    if (options.strict) {
      std::string msg;
      for (const auto& err : errors) msg += (msg.empty() ? "" : "; ") + err;
      return InvalidModel("shape inference failed: " + msg);
    }
    result.warnings.insert(result.warnings.end(), errors.begin(), errors.end());
    mp = google::protobuf::Arena::CreateMessage<onnx::ModelProto>(&arena);
    RETURN_IF_ERROR(ModelToProto(model, mp, eo));
    std::vector<std::string> ignored;
    HideInvalidNodes(mp->mutable_graph(), opsets, &ignored);
    try {
      onnx::ShapeInferenceOptions so(/*check_type=*/false, /*error_mode=*/0, /*data_prop=*/true);
      onnx::shape_inference::InferShapes(*mp, onnx::OpSchemaRegistry::Instance(), so);
    } catch (const std::exception&) {
      return result;  // nothing inferred; the errors are already listed
    }
  }
  MergeGraph(mp->graph(), *model.graph, options, &result.values_updated);
  return result;
}

}  // namespace edgefit
