// onnx.ModelProto -> IR. Validates everything a hostile file could get wrong: dtypes, dims,
// data sizes, names, external data locations.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include <filesystem>
#include <fstream>
#include <unordered_set>

#include "onnx/model_io.h"
#include "onnx/onnx_pb.h"

namespace edgefit {
namespace fs = std::filesystem;

namespace {

struct ImportContext {
  std::string origin;
  std::string base_dir;
  LoadOptions options;
  std::vector<std::string>* external_files;
  // Where inside the model ("If 'cond' attribute 'then_branch': "), after the file name.
  std::string scope = "";
  Status Error(const std::string& msg) const { return InvalidModel(origin + ": " + scope + msg); }
};

// Resolves an external data location against the model folder, refusing anything outside it.
StatusOr<std::string> ResolveExternalLocation(const ImportContext& ctx, const std::string& tensor,
                                              const std::string& location) {
  if (ctx.base_dir.empty())
    return ctx.Error("tensor '" + tensor + "' uses external data, which needs a model file path");
  if (location.empty()) return ctx.Error("tensor '" + tensor + "': external data has no location");
  fs::path loc(location);
  if (loc.is_absolute() || location.front() == '/' || location.front() == '\\')
    return ctx.Error("tensor '" + tensor + "': external data location '" + location +
                     "' is absolute; only paths relative to the model's folder are allowed");
  std::error_code ec;
  fs::path base = fs::weakly_canonical(fs::path(ctx.base_dir), ec);
  if (ec) return ctx.Error("cannot resolve the model's folder: " + ec.message());
  fs::path full = fs::weakly_canonical(base / loc, ec);
  if (ec)
    return ctx.Error("tensor '" + tensor + "': cannot resolve external data '" + location + "'");
  auto rel = full.lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..")
    return ctx.Error("tensor '" + tensor + "': external data location '" + location +
                     "' points outside the model's folder");
  return full.string();
}

Status ReadExternalData(const ImportContext& ctx, const onnx::TensorProto& tp, Tensor* t,
                        TensorEncoding* enc) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : tp.external_data()) {
    enc->external_data.emplace_back(kv.key(), kv.value());
    try {
      if (kv.key() == "location") location = kv.value();
      if (kv.key() == "offset") offset = std::stoll(kv.value());
      if (kv.key() == "length") length = std::stoll(kv.value());
    } catch (const std::exception&) {
      return ctx.Error("tensor '" + tp.name() + "': external data field '" + kv.key() +
                       "' is not a number: '" + kv.value() + "'");
    }
  }
  enc->was_external = true;
  ASSIGN_OR_RETURN(std::string path, ResolveExternalLocation(ctx, tp.name(), location));
  if (offset < 0) return ctx.Error("tensor '" + tp.name() + "': negative external data offset");
  size_t expected = t->nbytes();
  if (length >= 0 && static_cast<size_t>(length) != expected)
    return ctx.Error("tensor '" + tp.name() + "': external data length " + std::to_string(length) +
                     " does not match its shape " + ShapeToString(t->shape()) + " (" +
                     std::to_string(expected) + " bytes)");
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec)
    return ctx.Error("tensor '" + tp.name() + "': external data file '" + location +
                     "' cannot be read: " + ec.message());
  if (static_cast<uint64_t>(offset) + expected > size)
    return ctx.Error("tensor '" + tp.name() + "': external data file '" + location + "' has " +
                     std::to_string(size) + " bytes, but the tensor needs " +
                     std::to_string(expected) + " bytes at offset " + std::to_string(offset));
  // Recorded even when not read: inspect lists them, and saving must not overwrite them.
  if (std::find(ctx.external_files->begin(), ctx.external_files->end(), path) ==
      ctx.external_files->end())
    ctx.external_files->push_back(path);
  if (!ctx.options.load_external_data) return Status::Ok();  // validated, not read
  // Allocate only now that the file is known to hold the bytes.
  auto created = Tensor::Create(t->dtype(), t->shape());
  if (!created.ok()) return ctx.Error("tensor '" + tp.name() + "': " + created.status().message());
  *t = std::move(created).value();
  std::ifstream in(path, std::ios::binary);
  in.seekg(offset);
  in.read(static_cast<char*>(t->raw()), static_cast<std::streamsize>(expected));
  if (!in) return ctx.Error("tensor '" + tp.name() + "': reading '" + location + "' failed");
  return Status::Ok();
}

template <typename Field>
Status CheckCount(const ImportContext& ctx, const onnx::TensorProto& tp, const Field& field,
                  int64_t expected) {
  if (static_cast<int64_t>(field.size()) != expected)
    return ctx.Error("tensor '" + tp.name() + "' declares " + std::to_string(expected) +
                     " values but stores " + std::to_string(field.size()));
  return Status::Ok();
}

// Decodes a TensorProto. Consumes large data fields of `tp` to bound memory.
Status ImportTensor(const ImportContext& ctx, onnx::TensorProto* tp, Tensor* out,
                    TensorEncoding* enc) {
  const std::string& name = tp->name();
  if (!IsKnownDataType(tp->data_type()))
    return ctx.Error("tensor '" + name + "' has unknown data type " +
                     std::to_string(tp->data_type()));
  if (tp->has_segment()) return ctx.Error("tensor '" + name + "' uses segments (unsupported)");
  Shape shape(tp->dims().begin(), tp->dims().end());
  for (int64_t d : shape)
    if (d < 0)
      return ctx.Error("tensor '" + name + "' has a negative dim: " + ShapeToString(shape));
  int64_t n = NumElements(shape);
  if (n < 0 || n > ctx.options.max_tensor_elements)
    return ctx.Error("tensor '" + name + "' shape " + ShapeToString(shape) +
                     " has more elements than allowed (" +
                     std::to_string(ctx.options.max_tensor_elements) + ")");
  auto dtype = static_cast<DataType>(tp->data_type());
  enc->doc_string = tp->doc_string();
  if (tp->data_location() == onnx::TensorProto::EXTERNAL) {
    // Metadata only until ReadExternalData has checked the file (and load_external_data is on);
    // when not loaded, raw() stays nullptr and saving keeps the external reference.
    *out = Tensor::Wrap(dtype, shape, nullptr);
    if (dtype == DataType::kString)
      return ctx.Error("tensor '" + name + "': string tensors cannot use external data");
    return ReadExternalData(ctx, *tp, out, enc);
  }
  // Check that the file holds the declared data before allocating: a few bytes must not be able
  // to declare gigabytes. n <= max_tensor_elements and elements are <= 16 bytes: no overflow.
  const size_t nbytes = static_cast<size_t>(n) * DataTypeSize(dtype);
  if (tp->has_raw_data()) {
    if (dtype == DataType::kString)
      return ctx.Error("tensor '" + name + "': string tensors cannot use raw_data");
    if (tp->raw_data().size() != nbytes)
      return ctx.Error("tensor '" + name + "' of shape " + ShapeToString(shape) + " (" +
                       DataTypeName(dtype) + ") needs " + std::to_string(nbytes) +
                       " bytes of raw_data but has " + std::to_string(tp->raw_data().size()));
  } else {
    int64_t stored = 0, expected = n;
    switch (dtype) {
      case DataType::kComplex64: expected = 2 * n; [[fallthrough]];
      case DataType::kFloat: stored = tp->float_data_size(); break;
      case DataType::kComplex128: expected = 2 * n; [[fallthrough]];
      case DataType::kDouble: stored = tp->double_data_size(); break;
      case DataType::kInt64: stored = tp->int64_data_size(); break;
      case DataType::kUint32:
      case DataType::kUint64: stored = tp->uint64_data_size(); break;
      case DataType::kString: stored = tp->string_data_size(); break;
      default: stored = tp->int32_data_size(); break;
    }
    if (stored != expected)
      return ctx.Error("tensor '" + name + "' declares " + std::to_string(expected) +
                       " values but stores " + std::to_string(stored));
  }
  auto created = Tensor::Create(dtype, shape);
  if (!created.ok()) return ctx.Error("tensor '" + name + "': " + created.status().message());
  *out = std::move(created).value();

  if (tp->has_raw_data()) {
    enc->raw_data = true;
    if (out->nbytes()) std::memcpy(out->raw(), tp->raw_data().data(), out->nbytes());
    std::string().swap(*tp->mutable_raw_data());
    return Status::Ok();
  }
  enc->raw_data = false;
  switch (dtype) {
    case DataType::kFloat:
      RETURN_IF_ERROR(CheckCount(ctx, *tp, tp->float_data(), n));
      std::copy(tp->float_data().begin(), tp->float_data().end(), out->data<float>());
      break;
    case DataType::kComplex64:
      RETURN_IF_ERROR(CheckCount(ctx, *tp, tp->float_data(), 2 * n));
      std::copy(tp->float_data().begin(), tp->float_data().end(), out->data<float>());
      break;
    case DataType::kDouble:
      RETURN_IF_ERROR(CheckCount(ctx, *tp, tp->double_data(), n));
      std::copy(tp->double_data().begin(), tp->double_data().end(), out->data<double>());
      break;
    case DataType::kComplex128:
      RETURN_IF_ERROR(CheckCount(ctx, *tp, tp->double_data(), 2 * n));
      std::copy(tp->double_data().begin(), tp->double_data().end(), out->data<double>());
      break;
    case DataType::kInt64:
      RETURN_IF_ERROR(CheckCount(ctx, *tp, tp->int64_data(), n));
      std::copy(tp->int64_data().begin(), tp->int64_data().end(), out->data<int64_t>());
      break;
    case DataType::kUint32:
      RETURN_IF_ERROR(CheckCount(ctx, *tp, tp->uint64_data(), n));
      for (int64_t i = 0; i < n; ++i)
        out->data<uint32_t>()[i] = static_cast<uint32_t>(tp->uint64_data(i));
      break;
    case DataType::kUint64:
      RETURN_IF_ERROR(CheckCount(ctx, *tp, tp->uint64_data(), n));
      std::copy(tp->uint64_data().begin(), tp->uint64_data().end(), out->data<uint64_t>());
      break;
    case DataType::kInt32:
      RETURN_IF_ERROR(CheckCount(ctx, *tp, tp->int32_data(), n));
      std::copy(tp->int32_data().begin(), tp->int32_data().end(), out->data<int32_t>());
      break;
    case DataType::kInt16:
      RETURN_IF_ERROR(CheckCount(ctx, *tp, tp->int32_data(), n));
      for (int64_t i = 0; i < n; ++i)
        out->data<int16_t>()[i] = static_cast<int16_t>(tp->int32_data(i));
      break;
    case DataType::kUint16:
    case DataType::kFloat16:
    case DataType::kBfloat16:
      RETURN_IF_ERROR(CheckCount(ctx, *tp, tp->int32_data(), n));
      for (int64_t i = 0; i < n; ++i)
        out->data<uint16_t>()[i] = static_cast<uint16_t>(tp->int32_data(i));
      break;
    case DataType::kInt8:
      RETURN_IF_ERROR(CheckCount(ctx, *tp, tp->int32_data(), n));
      for (int64_t i = 0; i < n; ++i)
        out->data<int8_t>()[i] = static_cast<int8_t>(tp->int32_data(i));
      break;
    case DataType::kUint8:
    case DataType::kBool:
      RETURN_IF_ERROR(CheckCount(ctx, *tp, tp->int32_data(), n));
      for (int64_t i = 0; i < n; ++i)
        out->data<uint8_t>()[i] = static_cast<uint8_t>(tp->int32_data(i));
      break;
    case DataType::kString:
      RETURN_IF_ERROR(CheckCount(ctx, *tp, tp->string_data(), n));
      for (int64_t i = 0; i < n; ++i) out->strings()[i] = tp->string_data(i);
      break;
    case DataType::kUndefined: return ctx.Error("tensor '" + name + "' has undefined data type");
  }
  return Status::Ok();
}

Status ImportType(const ImportContext& ctx, const std::string& value_name,
                  const onnx::TypeProto& tp, TypeInfo* out) {
  *out = TypeInfo();
  if (tp.value_case() == onnx::TypeProto::VALUE_NOT_SET && tp.denotation().empty())
    return Status::Ok();
  if (!tp.has_tensor_type()) {
    out->kind = TypeInfo::Kind::kOpaque;
    tp.SerializeToString(&out->opaque);
    return Status::Ok();
  }
  const auto& tt = tp.tensor_type();
  out->kind = TypeInfo::Kind::kTensor;
  out->denotation = tp.denotation();
  if (tt.elem_type() != 0 && !IsKnownDataType(tt.elem_type()))
    return ctx.Error("value '" + value_name + "' has unknown element type " +
                     std::to_string(tt.elem_type()));
  out->elem_type = static_cast<DataType>(tt.elem_type());
  out->has_shape = tt.has_shape();
  long double elements = 1;
  for (const auto& d : tt.shape().dim()) {
    Dim dim;
    dim.denotation = d.denotation();
    if (d.has_dim_value()) {
      if (d.dim_value() < 0)
        return ctx.Error("value '" + value_name + "' has a negative dim " +
                         std::to_string(d.dim_value()));
      dim.kind = Dim::Kind::kValue;
      dim.value = d.dim_value();
      elements *= static_cast<long double>(d.dim_value());
    } else if (d.has_dim_param()) {
      dim.kind = Dim::Kind::kParam;
      dim.param = d.dim_param();
    }
    out->dims.push_back(std::move(dim));
  }
  if (elements > static_cast<long double>(ctx.options.max_tensor_elements))
    return ctx.Error("value '" + value_name + "' declares shape " + out->ShapeString() +
                     " with more than 2^40 elements");
  return Status::Ok();
}

Status ImportGraph(const ImportContext& ctx, onnx::GraphProto* gp, Graph* g);

Status ImportAttribute(const ImportContext& ctx, const Node& node, onnx::AttributeProto* ap,
                       Graph* g, Attribute* a) {
  a->name = ap->name();
  a->doc_string = ap->doc_string();
  a->ref_attr_name = ap->ref_attr_name();
  a->type = static_cast<AttrType>(ap->type());
  a->f = ap->f();
  a->i = ap->i();
  a->s = ap->s();
  a->floats.assign(ap->floats().begin(), ap->floats().end());
  a->ints.assign(ap->ints().begin(), ap->ints().end());
  a->strings.assign(ap->strings().begin(), ap->strings().end());
  ImportContext scoped = ctx;  // messages name the file first, then the node and attribute
  scoped.scope += node.Describe() + " attribute '" + a->name + "': ";
  auto import_tensor = [&](onnx::TensorProto* tp) -> Status {
    AttrTensor at;
    at.name = tp->name();
    RETURN_IF_ERROR(ImportTensor(scoped, tp, &at.tensor, &at.encoding));
    a->tensors.push_back(std::move(at));
    return Status::Ok();
  };
  if (ap->has_t()) RETURN_IF_ERROR(import_tensor(ap->mutable_t()));
  for (auto& tp : *ap->mutable_tensors()) RETURN_IF_ERROR(import_tensor(&tp));
  auto import_graph = [&](onnx::GraphProto* sub) -> Status {
    auto sg = std::make_shared<Graph>(g);
    RETURN_IF_ERROR(ImportGraph(scoped, sub, sg.get()));
    a->graphs.push_back(std::move(sg));
    return Status::Ok();
  };
  if (ap->has_g()) RETURN_IF_ERROR(import_graph(ap->mutable_g()));
  for (auto& sub : *ap->mutable_graphs()) RETURN_IF_ERROR(import_graph(&sub));
  if (ap->has_sparse_tensor()) a->opaque.push_back(ap->sparse_tensor().SerializeAsString());
  for (const auto& st : ap->sparse_tensors()) a->opaque.push_back(st.SerializeAsString());
  if (ap->has_tp()) a->opaque.push_back(ap->tp().SerializeAsString());
  for (const auto& t : ap->type_protos()) a->opaque.push_back(t.SerializeAsString());
  if (a->type == AttrType::kUndefined) {
    // IR v1 files may omit the type; infer it from which field is set.
    if (ap->has_f())
      a->type = AttrType::kFloat;
    else if (ap->has_i())
      a->type = AttrType::kInt;
    else if (ap->has_s())
      a->type = AttrType::kString;
    else if (ap->has_t())
      a->type = AttrType::kTensor;
    else if (ap->has_g())
      a->type = AttrType::kGraph;
    else if (!a->floats.empty())
      a->type = AttrType::kFloats;
    else if (!a->ints.empty())
      a->type = AttrType::kInts;
    else if (!a->strings.empty())
      a->type = AttrType::kStrings;
  }
  return Status::Ok();
}

Status ImportGraph(const ImportContext& ctx, onnx::GraphProto* gp, Graph* g) {
  g->name = gp->name();
  g->doc_string = gp->doc_string();
  std::string where = gp->name().empty() ? "graph" : "graph '" + gp->name() + "'";

  for (const auto& vi : gp->input()) {
    if (g->FindValue(vi.name()))
      return ctx.Error(where + ": input '" + vi.name() + "' is declared twice");
    ASSIGN_OR_RETURN(Value * v, g->CreateValue(vi.name()));
    RETURN_IF_ERROR(ImportType(ctx, vi.name(), vi.type(), &v->type()));
    v->doc_string = vi.doc_string();
    g->AddInput(v);
  }
  for (auto& tp : *gp->mutable_initializer()) {
    Value* v = g->FindValue(tp.name());
    if (v && v->has_initializer())
      return ctx.Error(where + ": initializer '" + tp.name() + "' is defined twice");
    if (!v) {
      ASSIGN_OR_RETURN(v, g->CreateValue(tp.name()));
    }
    Tensor t;
    TensorEncoding enc;
    RETURN_IF_ERROR(ImportTensor(ctx, &tp, &t, &enc));
    if (!v->is_graph_input()) v->type() = TypeInfo::Tensor(t.dtype(), t.shape());
    g->SetInitializer(v, std::move(t));
    v->initializer_encoding() = std::move(enc);
  }
  for (const auto& sp : gp->sparse_initializer())
    g->opaque_sparse_initializers.push_back(sp.SerializeAsString());
  for (const auto& qa : gp->quantization_annotation())
    g->opaque_quantization_annotations.push_back(qa.SerializeAsString());

  // Every node output gets its value first, so nodes may be listed in any order.
  std::unordered_map<std::string, const onnx::NodeProto*> producer_of;
  for (const auto& np : gp->node()) {
    for (const auto& out : np.output()) {
      if (out.empty()) continue;
      if (Value* existing = g->FindValue(out)) {
        std::string other =
            existing->is_graph_input() ? "graph input"
            : existing->has_initializer()
                ? "initializer"
                : "node '" + producer_of[out]->name() + "' (" + producer_of[out]->op_type() + ")";
        return ctx.Error(where + ": value '" + out + "' is produced by node '" + np.name() + "' (" +
                         np.op_type() + ") and also by " + other);
      }
      ASSIGN_OR_RETURN(Value * v, g->CreateValue(out));
      (void)v;
      producer_of[out] = &np;
    }
  }

  for (auto& np : *gp->mutable_node()) {
    std::vector<Value*> inputs;
    for (const auto& in : np.input()) {
      if (in.empty()) {
        inputs.push_back(nullptr);
        continue;
      }
      Value* v = g->FindValue(in);
      if (!v && g->parent() && g->parent()->FindValueInScope(in)) v = g->GetOrCreateOuterRef(in);
      if (!v)
        return ctx.Error(where + ": node '" + np.name() + "' (" + np.op_type() + ") input '" + in +
                         "' is not produced by any node, graph input or initializer");
      inputs.push_back(v);
    }
    std::vector<Value*> outputs;
    for (const auto& out : np.output())
      outputs.push_back(out.empty() ? nullptr : g->FindValue(out));
    Node* node = g->AddNode(np.op_type(), inputs, outputs, np.name());
    node->set_domain(np.domain());
    node->doc_string = np.doc_string();
    for (auto& ap : *np.mutable_attribute()) {
      Attribute a;
      RETURN_IF_ERROR(ImportAttribute(ctx, *node, &ap, g, &a));
      node->attributes().push_back(std::move(a));
    }
    // Names the subgraphs read from this graph (or beyond) become implicit inputs.
    std::vector<Value*> implicit;
    for (const Attribute& a : node->attributes()) {
      for (const auto& sg : a.graphs) {
        for (Value* ref : sg->AllValues()) {
          if (!ref->is_outer_ref()) continue;
          Value* outer = g->FindValue(ref->name());
          if (!outer) outer = g->GetOrCreateOuterRef(ref->name());
          if (std::find(implicit.begin(), implicit.end(), outer) == implicit.end())
            implicit.push_back(outer);
        }
      }
    }
    if (!implicit.empty()) g->SetImplicitInputs(node, implicit);
  }

  for (const auto& vi : gp->output()) {
    Value* v = g->FindValue(vi.name());
    if (!v && g->parent() && g->parent()->FindValueInScope(vi.name()))
      v = g->GetOrCreateOuterRef(vi.name());
    if (!v) return ctx.Error(where + ": output '" + vi.name() + "' is not produced by any node");
    if (vi.has_type()) RETURN_IF_ERROR(ImportType(ctx, vi.name(), vi.type(), &v->type()));
    if (!vi.doc_string().empty()) v->doc_string = vi.doc_string();
    g->AddOutput(v);
  }
  for (const auto& vi : gp->value_info()) {
    Value* v = g->FindValue(vi.name());
    if (!v) {
      // A value_info for a name the graph does not use: kept so the file round-trips.
      ASSIGN_OR_RETURN(v, g->CreateValue(vi.name()));
    }
    TypeInfo t;
    RETURN_IF_ERROR(ImportType(ctx, vi.name(), vi.type(), &t));
    if (!v->is_graph_input() && !v->is_graph_output()) {
      v->type() = std::move(t);
      v->doc_string = vi.doc_string();
    }
    g->AddValueInfo(v);
  }
  return Status::Ok();
}

// Error messages quote names from the file; a name holding a line break or another control
// character must not break the one-line message format. Such bytes are written as \xNN.
Status OneLine(const Status& st) {
  if (st.ok()) return st;
  std::string out;
  for (unsigned char c : st.message()) {
    if (c < 0x20 || c == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return Status(st.code(), out);
}

StatusOr<Model> ModelFromProtoImpl(onnx::ModelProto* mp, const std::string& origin,
                                   const std::string& base_dir, const LoadOptions& options) {
  Model model;
  ImportContext ctx{origin, base_dir, options, &model.external_data_files};
  if (!mp->has_graph())
    return InvalidModel(origin +
                        ": not an ONNX model (the file parses as protobuf but has no graph)");
  if (mp->ir_version() <= 0)
    return InvalidModel(origin + ": not an ONNX model (ir_version is missing)");
  if (mp->ir_version() >= 3 && mp->opset_import_size() == 0)
    return InvalidModel(origin + ": model declares no opset_import");
  model.ir_version = mp->ir_version();
  for (const auto& o : mp->opset_import()) {
    if (o.version() <= 0)
      return InvalidModel(origin + ": opset_import for domain '" + o.domain() +
                          "' has invalid version " + std::to_string(o.version()));
    model.opset_imports.push_back({o.domain(), o.version()});
  }
  model.producer_name = mp->producer_name();
  model.producer_version = mp->producer_version();
  model.domain = mp->domain();
  model.model_version = mp->model_version();
  model.doc_string = mp->doc_string();
  for (const auto& kv : mp->metadata_props())
    model.metadata_props.emplace_back(kv.key(), kv.value());
  for (const auto& f : mp->functions()) model.opaque_functions.push_back(f.SerializeAsString());
  for (const auto& t : mp->training_info())
    model.opaque_training_info.push_back(t.SerializeAsString());
  RETURN_IF_ERROR(ImportGraph(ctx, mp->mutable_graph(), model.graph.get()));
  RETURN_IF_ERROR(model.graph->Verify().WithContext(origin));
  return model;
}

}  // namespace

StatusOr<Model> ModelFromProto(onnx::ModelProto* mp, const std::string& origin,
                               const std::string& base_dir, const LoadOptions& options) {
  auto model = ModelFromProtoImpl(mp, origin, base_dir, options);
  if (!model.ok()) return OneLine(model.status());
  return model;
}

StatusOr<Model> LoadModelFromBytes(const void* data, size_t size, const std::string& origin,
                                   const std::string& base_dir, const LoadOptions& options) {
  if (size == 0) return InvalidModel(origin + ": file is empty");
  if (size > static_cast<size_t>(INT32_MAX))
    return InvalidModel(origin +
                        ": protobuf files above 2 GB cannot be parsed; store weights "
                        "as external data");
  onnx::ModelProto mp;
  google::protobuf::io::CodedInputStream in(static_cast<const uint8_t*>(data),
                                            static_cast<int>(size));
  in.SetTotalBytesLimit(INT32_MAX);
  if (!mp.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    return InvalidModel(origin +
                        ": not a valid ONNX protobuf (parsing failed: the file is "
                        "truncated, corrupt, or not an ONNX model)");
  return ModelFromProto(&mp, origin, base_dir, options);
}

StatusOr<Model> LoadModel(const std::string& path, const LoadOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return NotFound(path + ": no such file");
  if (fs::is_directory(path, ec)) return InvalidModel(path + ": is a directory, not a model file");
  if (!fs::is_regular_file(path, ec)) return InvalidModel(path + ": is not a regular file");
  auto size = fs::file_size(path, ec);
  if (ec) return IoError(path + ": " + ec.message());
  if (size == 0) return InvalidModel(path + ": file is empty");
  if (size > static_cast<uintmax_t>(INT32_MAX))
    return InvalidModel(path +
                        ": protobuf files above 2 GB cannot be parsed; store weights as "
                        "external data");
  std::string bytes;
  try {
    bytes.resize(size);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted(path + ": out of memory reading the file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size)))
    return IoError(path + ": reading failed");
  in.close();
  onnx::ModelProto mp;
  {
    google::protobuf::io::CodedInputStream cin(reinterpret_cast<const uint8_t*>(bytes.data()),
                                               static_cast<int>(bytes.size()));
    cin.SetTotalBytesLimit(INT32_MAX);
    if (!mp.ParseFromCodedStream(&cin) || !cin.ConsumedEntireMessage())
      return InvalidModel(path +
                          ": not a valid ONNX protobuf (parsing failed: the file is "
                          "truncated, corrupt, or not an ONNX model)");
  }
  std::string().swap(bytes);
  std::string base = fs::path(path).parent_path().string();
  if (base.empty()) base = ".";
  auto model = ModelFromProto(&mp, path, base, options);
  if (!model.ok()) return model.status();
  std::error_code ec2;
  model->source_path = fs::weakly_canonical(path, ec2).string();
  return model;
}

StatusOr<Tensor> ParseTensorProto(const std::string& bytes, const std::string& origin) {
  onnx::TensorProto tp;
  if (!tp.ParseFromString(bytes)) return InvalidModel(origin + ": not a valid TensorProto");
  std::vector<std::string> files;
  ImportContext ctx{origin, "", LoadOptions{}, &files};
  Tensor t;
  TensorEncoding enc;
  RETURN_IF_ERROR(ImportTensor(ctx, &tp, &t, &enc));
  return t;
}

StatusOr<Tensor> LoadTensorProto(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": cannot open");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseTensorProto(bytes, path);
}

}  // namespace edgefit
