#include "shape/concrete_shapes.h"

#include <google/protobuf/arena.h>

#include <filesystem>

#include "onnx/model_io.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"
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
    auto given = options.input_shapes.find(v->name());
    std::optional<Shape> shape = given != options.input_shapes.end()
                                     ? std::optional<Shape>(given->second)
                                     : type.StaticShape();
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

namespace {

// The batch of a graph input: dim 0 of a tensor of rank >= 2 that is not a number.
bool IsFreezableBatch(const Value* v) {
  const TypeInfo& type = v->type();
  return !v->has_initializer() && type.is_tensor() && type.has_shape && type.dims.size() >= 2 &&
         !type.dims[0].is_fixed();
}

TypeInfo TypeFromProto(const onnx::TypeProto& tp) {
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
    } else if (d.has_dim_param() && d.dim_param().rfind("unk__", 0) != 0) {
      t.dims.push_back(Dim::Symbolic(d.dim_param()));
    } else {
      t.dims.push_back(Dim{});  // unknown (ONNX names these unk__N)
    }
  }
  return t;
}

// Runs ONNX shape inference (with data propagation) on the main graph of `proto` and returns the
// tensor types it knows, by value name.
void InferOnProto(onnx::ModelProto* proto, FrozenShapes* result) {
  try {
    onnx::ShapeInferenceOptions so(/*check_type=*/false, /*error_mode=*/0, /*data_prop=*/true);
    onnx::shape_inference::InferShapes(*proto, onnx::OpSchemaRegistry::Instance(), so);
  } catch (const std::exception& e) {
    result->executor_note = std::string("ONNX shape inference failed: ") + e.what();
  }
  const onnx::GraphProto& g = proto->graph();
  auto take = [&](const onnx::ValueInfoProto& vi) {
    TypeInfo t = TypeFromProto(vi.type());
    if (t.is_tensor()) result->types[vi.name()] = std::move(t);
  };
  for (const auto& vi : g.input()) take(vi);
  for (const auto& vi : g.value_info()) take(vi);
  for (const auto& vi : g.output()) take(vi);
}

}  // namespace

StatusOr<FrozenShapes> InferFrozenShapes(const Model& model, const FrozenShapeOptions& options) {
  const Graph& g = *model.graph;
  FrozenShapes result;

  // One export without large weights (inference reads only shapes, axes and scales) is enough
  // for ONNX's inference; an IR copy is made only if the executor has to run.
  google::protobuf::Arena arena;  // ~100k small messages for 10k nodes: freed at once
  onnx::ModelProto& proto = *google::protobuf::Arena::CreateMessage<onnx::ModelProto>(&arena);
  ExportOptions export_options;
  export_options.omit_data_above_bytes = 1 << 16;
  RETURN_IF_ERROR(ModelToProto(model, &proto, export_options));
  onnx::GraphProto* gp = proto.mutable_graph();
  // Fix the batch: dim 0 of every graph input of rank >= 2 that is not a number.
  for (auto& vi : *gp->mutable_input()) {
    const Value* v = g.FindValue(vi.name());
    if (!v || !IsFreezableBatch(v)) continue;
    result.frozen.push_back("input '" + v->name() + "' dim 0 '" + v->type().dims[0].ToString() +
                            "' -> 1");
    auto* dim = vi.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0);
    dim->Clear();
    dim->set_dim_value(1);
  }
  // Symbolic dims elsewhere (declared outputs, value_info) may name the batch just fixed: forget
  // them so that inference fills in numbers.
  auto forget_params = [](onnx::ValueInfoProto& vi) {
    if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) return;
    for (auto& d : *vi.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim())
      if (d.has_dim_param()) d.Clear();
  };
  for (auto& vi : *gp->mutable_output()) forget_params(vi);
  for (auto& vi : *gp->mutable_value_info()) forget_params(vi);
  InferOnProto(&proto, &result);
  for (const Value* v : g.initializers())
    if (v->initializer())
      result.types[v->name()] =
          TypeInfo::Tensor(v->initializer()->dtype(), v->initializer()->shape());

  auto is_static = [&](const Value* v) {
    auto it = result.types.find(v->name());
    return it != result.types.end() && it->second.IsStatic();
  };
  auto collect_incomplete = [&] {
    result.incomplete.clear();
    ForEachComputedValue(g, [&](const Value* v) {
      if (!is_static(v)) result.incomplete.push_back(v->name());
    });
  };
  collect_incomplete();

  bool has_shape_arithmetic = false;
  for (const auto& n : g.nodes())
    if (n->domain().empty() && (n->op_type() == "Shape" || n->op_type() == "Size"))
      has_shape_arithmetic = true;
  if (!options.use_executor || (result.incomplete.empty() && !has_shape_arithmetic)) return result;

  std::string blocked;
  uint64_t known_bytes = 0;  // an upper bound of what the run allocates, from known shapes
  for (const Value* v : g.inputs())
    if (!v->has_initializer() && !is_static(v))
      blocked = "input '" + v->name() + "' " + v->type().ShapeString() +
                " has dynamic dims other than the batch";
  ForEachComputedValue(g, [&](const Value* v) {
    auto it = result.types.find(v->name());
    if (it == result.types.end()) return;
    if (auto shape = it->second.StaticShape()) {
      int64_t n = NumElements(*shape);
      if (n > 0) known_bytes += static_cast<uint64_t>(n) * DataTypeSize(it->second.elem_type);
    }
  });
  if (blocked.empty() && known_bytes > options.executor.max_memory_bytes)
    blocked = "the model's tensors need more than " +
              std::to_string(options.executor.max_memory_bytes) + " bytes at batch 1";
  if (!blocked.empty()) {
    result.executor_note = blocked;
    return result;
  }

  // The model itself runs (no copy): only its inputs need the frozen shapes.
  ConcreteShapeOptions executor = options.executor;
  for (const Value* v : g.inputs()) {
    if (v->has_initializer()) continue;
    auto it = result.types.find(v->name());
    if (it != result.types.end())
      if (auto shape = it->second.StaticShape()) executor.input_shapes[v->name()] = *shape;
  }
  auto recorded = RecordConcreteShapes(model, executor);
  if (!recorded.ok()) {
    result.executor_note = recorded.status().message();
    return result;
  }
  result.executor_ran = true;
  for (auto& [name, cv] : *recorded) {
    TypeInfo& type = result.types[name];
    if (!type.IsStatic()) type = TypeInfo::Tensor(cv.dtype, cv.shape);
    if (cv.has_data) result.small_values[name] = std::move(cv.data);
  }
  collect_incomplete();
  return result;
}

void RecordStaticShapes(Model& model, std::vector<std::string>* warnings) {
  if (!ShapesComplete(*model.graph)) {  // otherwise inference would change nothing
    ShapeInferenceOptions so;
    so.record_value_info = true;
    auto inferred = InferShapes(model, so);
    if (!inferred.ok()) warnings->push_back(inferred.status().message());
  }
  auto concrete = RecordConcreteShapes(model);
  if (!concrete.ok()) {
    warnings->push_back("shapes could not be completed by running the model: " +
                        concrete.status().message());
    return;
  }
  Graph& g = *model.graph;
  for (Value* v : g.AllValues()) {
    auto it = concrete->find(v->name());
    if (it == concrete->end() || v->has_initializer()) continue;
    auto declared = v->type().StaticShape();
    if (!declared || *declared != it->second.shape || v->type().elem_type != it->second.dtype) {
      std::string denotation = v->type().denotation;
      v->type() = TypeInfo::Tensor(it->second.dtype, it->second.shape);
      v->type().denotation = denotation;
    }
    // Every intermediate gets a value_info record with its static shape.
    if (!v->is_graph_input() && !v->is_graph_output() && v->producer()) g.AddValueInfo(v);
  }
}

}  // namespace edgefit
