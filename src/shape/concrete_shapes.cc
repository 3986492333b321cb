#include "shape/concrete_shapes.h"

#include <filesystem>

#include "onnx/model_io.h"
#include "onnx/onnx_pb.h"
#include "runtime/session.h"
#include "shape/shape_inference.h"

namespace edgefit {
namespace {

bool IsIntegerType(DataType t) {
  switch (t) {
    case DataType::kInt8:
    case DataType::kUint8:
    case DataType::kInt16:
    case DataType::kUint16:
    case DataType::kInt32:
    case DataType::kUint32:
    case DataType::kInt64:
    case DataType::kUint64:
    case DataType::kBool: return true;
    default: return false;
  }
}

// Values whose shape should be known: graph inputs and node outputs (not initializers).
template <typename Fn>
void ForEachComputedValue(const Graph& g, Fn fn) {
  for (const Value* v : g.inputs())
    if (!v->has_initializer()) fn(v);
  for (const auto& n : g.nodes())
    for (const Value* v : n->outputs())
      if (v) fn(v);
}

}  // namespace

StatusOr<Model> CopyModel(const Model& model) {
  onnx::ModelProto proto;
  RETURN_IF_ERROR(ModelToProto(model, &proto));
  // Tensors that were loaded without their external data keep their references; the copy then
  // also leaves them unread.
  std::string base_dir;
  if (!model.source_path.empty())
    base_dir = std::filesystem::path(model.source_path).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  LoadOptions options;
  options.load_external_data = false;
  std::string origin = model.source_path.empty() ? "model copy" : model.source_path;
  ASSIGN_OR_RETURN(Model copy, ModelFromProto(&proto, origin, base_dir, options));
  copy.source_path = model.source_path;
  return copy;
}

StatusOr<std::unordered_map<std::string, ConcreteValue>> RecordConcreteShapes(
    const Model& model, const ConcreteShapeOptions& options) {
  SessionOptions so;
  so.num_threads = options.num_threads;
  // The size guard is applied by the caller on known shapes (InferFrozenShapes); the session's
  // own estimate needs every shape declared, which is what this run is for.
  so.max_memory_bytes = 0;
  ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(model, so));
  std::vector<NamedTensor> inputs;
  for (const Value* v : session->inputs()) {
    const TypeInfo& type = v->type();
    std::optional<Shape> shape = type.StaticShape();
    if (!shape)
      return FailedPrecondition("input '" + v->name() + "' " + type.ShapeString() +
                                " has no static shape");
    if (type.elem_type == DataType::kUndefined || type.elem_type == DataType::kString)
      return Unsupported("input '" + v->name() + "' has element type " +
                         DataTypeName(type.elem_type) + "; cannot make a zero input");
    ASSIGN_OR_RETURN(Tensor zeros,
                     Tensor::Create(type.elem_type, *shape, options.max_memory_bytes));
    inputs.push_back({v->name(), std::move(zeros)});
  }
  std::unordered_map<std::string, ConcreteValue> recorded;
  auto observer = [&](const Node&, const Value& value, const Tensor& tensor) {
    ConcreteValue& cv = recorded[value.name()];
    cv.dtype = tensor.dtype();
    cv.shape = tensor.shape();
    if (IsIntegerType(tensor.dtype()) && tensor.numel() <= options.max_recorded) {
      auto data = tensor.ToInt64Vector();
      if (data.ok()) {
        cv.has_data = true;
        cv.data = std::move(data).value();
      }
    }
  };
  auto outputs = session->Run(inputs, observer);
  if (!outputs.ok()) return outputs.status();
  return recorded;
}

StatusOr<FrozenShapes> InferFrozenShapes(const Model& model, const FrozenShapeOptions& options) {
  ASSIGN_OR_RETURN(Model copy, CopyModel(model));
  Graph& g = *copy.graph;
  FrozenShapes result;

  // Fix the batch: dim 0 of every graph input of rank >= 2 that is not a number.
  for (Value* v : g.inputs()) {
    if (v->has_initializer()) continue;
    TypeInfo& type = v->type();
    if (!type.is_tensor() || !type.has_shape || type.dims.size() < 2) continue;
    Dim& d = type.dims[0];
    if (d.is_fixed()) continue;
    result.frozen.push_back("input '" + v->name() + "' dim 0 '" + d.ToString() + "' -> 1");
    d = Dim::Fixed(1);
  }
  // Symbolic dims elsewhere (declared outputs, value_info) may name the batch we just fixed;
  // forget them so that inference fills in numbers.
  for (Value* v : g.AllValues()) {
    if (v->is_graph_input() || v->has_initializer()) continue;
    for (Dim& d : v->type().dims)
      if (d.kind == Dim::Kind::kParam) d = Dim{};
  }

  auto inferred = InferShapes(copy);
  if (!inferred.ok()) result.executor_note = inferred.status().message();

  auto collect_incomplete = [&] {
    result.incomplete.clear();
    ForEachComputedValue(g, [&](const Value* v) {
      if (!v->type().IsStatic()) result.incomplete.push_back(v->name());
    });
  };
  collect_incomplete();

  bool has_shape_arithmetic = false;
  for (const auto& n : g.nodes())
    if (n->domain().empty() && (n->op_type() == "Shape" || n->op_type() == "Size"))
      has_shape_arithmetic = true;

  if (options.use_executor && (!result.incomplete.empty() || has_shape_arithmetic)) {
    std::string blocked;
    for (const Value* v : g.inputs())
      if (!v->has_initializer() && !v->type().IsStatic())
        blocked = "input '" + v->name() + "' " + v->type().ShapeString() +
                  " has dynamic dims other than the batch";
    // Upper bound of what the run allocates, from the shapes known so far.
    uint64_t known_bytes = 0;
    ForEachComputedValue(g, [&](const Value* v) {
      if (auto shape = v->type().StaticShape()) {
        int64_t n = NumElements(*shape);
        if (n > 0) known_bytes += static_cast<uint64_t>(n) * DataTypeSize(v->type().elem_type);
      }
    });
    if (blocked.empty() && known_bytes > options.executor.max_memory_bytes)
      blocked = "the model's tensors need more than " +
                std::to_string(options.executor.max_memory_bytes) + " bytes at batch 1";
    if (!blocked.empty()) {
      result.executor_note = blocked;
    } else {
      auto recorded = RecordConcreteShapes(copy, options.executor);
      if (!recorded.ok()) {
        result.executor_note = recorded.status().message();
      } else {
        result.executor_ran = true;
        for (auto& [name, cv] : *recorded) {
          Value* v = g.FindValue(name);
          if (!v) continue;
          if (!v->type().IsStatic()) v->type() = TypeInfo::Tensor(cv.dtype, cv.shape);
          if (cv.has_data) result.small_values[name] = std::move(cv.data);
        }
        collect_incomplete();
      }
    }
  }

  for (const Value* v : g.AllValues())
    if (v->type().is_tensor()) result.types[v->name()] = v->type();
  // Initializers: their shape is their tensor's.
  for (const Value* v : g.initializers())
    result.types[v->name()] =
        TypeInfo::Tensor(v->initializer()->dtype(), v->initializer()->shape());
  return result;
}

}  // namespace edgefit
