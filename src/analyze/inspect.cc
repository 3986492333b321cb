#include "analyze/inspect.h"

#include <algorithm>
#include <functional>
#include <sstream>

#include "shape/shape_inference.h"

namespace edgefit {
namespace {

InspectedTensor Describe(const Value* v) {
  InspectedTensor t;
  t.name = v->name();
  const TypeInfo& type = v->type();
  t.dtype = type.is_tensor() ? DataTypeName(type.elem_type)
                             : (type.kind == TypeInfo::Kind::kOpaque ? "non-tensor" : "unknown");
  t.has_shape = type.has_shape;
  t.dims = type.dims;
  t.is_static = type.IsStatic();
  return t;
}

std::string ProducerOf(const Value* v) {
  if (v->producer()) return v->producer()->Describe();
  if (v->is_graph_input()) return "graph input";
  if (v->has_initializer()) return "initializer";
  return "unknown";
}

void VisitGraphs(const Graph& g, const std::function<void(const Graph&)>& fn) {
  fn(g);
  for (const auto& n : g.nodes())
    for (const Attribute& a : n->attributes())
      for (const auto& sg : a.graphs) VisitGraphs(*sg, fn);
}

}  // namespace

InspectReport InspectModel(Model& model, const std::string& file) {
  auto inferred = InferShapes(model);
  InspectReport r = InspectModelAsIs(model, file);
  if (inferred.ok())
    r.shape_inference_warnings = inferred->warnings;
  else
    r.shape_inference_warnings.push_back(inferred.status().message());
  return r;
}

InspectReport InspectModelAsIs(const Model& model, const std::string& file) {
  InspectReport r;
  r.file = file;
  r.ir_version = model.ir_version;
  r.opset_imports = model.opset_imports;
  r.producer_name = model.producer_name;
  r.producer_version = model.producer_version;
  r.graph_name = model.graph->name;
  r.function_count = model.opaque_functions.size();
  r.external_data_files = model.external_data_files;
  const Graph& g = *model.graph;
  for (const Value* v : g.inputs())
    if (!v->has_initializer()) r.inputs.push_back(Describe(v));
  for (const Value* v : g.outputs()) r.outputs.push_back(Describe(v));

  std::map<std::string, int> histogram;
  VisitGraphs(g, [&](const Graph& sg) {
    if (&sg != &g) ++r.subgraph_count;
    r.node_count += sg.num_nodes();
    for (const auto& n : sg.nodes()) {
      std::string key = n->domain().empty() || n->domain() == "ai.onnx"
                            ? n->op_type()
                            : n->domain() + "." + n->op_type();
      ++histogram[key];
    }
    for (const Value* v : sg.initializers()) {
      const Tensor* t = v->initializer();
      ++r.initializer_count;
      r.parameter_count += t->numel();
      int64_t bytes = static_cast<int64_t>(t->nbytes());
      r.parameter_bytes += bytes;
      auto& entry = r.parameters_by_dtype[DataTypeName(t->dtype())];
      entry.first += t->numel();
      entry.second += bytes;
    }
    for (const Value* v : sg.AllValues()) {
      if (v->has_initializer() || v->is_outer_ref()) continue;
      if (!v->producer() && !v->is_graph_input()) continue;  // stale value_info only
      const TypeInfo& type = v->type();
      ++r.value_count;
      if (!type.IsStatic()) {
        ++r.non_static_count;
        if (r.non_static_examples.size() < 10)
          r.non_static_examples.push_back(v->name() + " " + type.ShapeString());
      }
      if (type.has_shape) {
        int rank = type.rank();
        if (rank > r.max_rank) {
          r.max_rank = rank;
          r.max_rank_values.clear();
        }
        if (rank == r.max_rank)
          r.max_rank_values.push_back({v->name(), type.ShapeString(), ProducerOf(v)});
      }
    }
  });
  r.op_histogram.assign(histogram.begin(), histogram.end());
  std::stable_sort(r.op_histogram.begin(), r.op_histogram.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::sort(r.max_rank_values.begin(), r.max_rank_values.end(),
            [](const RankedValue& a, const RankedValue& b) { return a.name < b.name; });
  return r;
}

namespace {

std::string HumanBytes(int64_t b) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(1);
  if (b >= (int64_t{1} << 30))
    os << b / double(int64_t{1} << 30) << " GiB";
  else if (b >= (1 << 20))
    os << b / double(1 << 20) << " MiB";
  else if (b >= (1 << 10))
    os << b / 1024.0 << " KiB";
  else
    os << b << " B";
  return os.str();
}

void FormatTensor(std::ostringstream& os, const InspectedTensor& t) {
  os << "  " << t.name << ": " << t.dtype << " ";
  if (!t.has_shape) {
    os << "(rank unknown)  DYNAMIC\n";
    return;
  }
  os << "[";
  for (size_t i = 0; i < t.dims.size(); ++i) os << (i ? "," : "") << t.dims[i].ToString();
  os << "]" << (t.is_static ? "  static" : "  DYNAMIC") << "\n";
  for (size_t i = 0; i < t.dims.size(); ++i) {
    const Dim& d = t.dims[i];
    if (d.is_fixed()) continue;
    os << "    dim[" << i << "]: " << (d.kind == Dim::Kind::kParam ? d.param : "?")
       << " (DYNAMIC)\n";
  }
}

}  // namespace

std::string FormatInspectText(const InspectReport& r) {
  std::ostringstream os;
  os << r.file << "\n";
  os << "  IR version " << r.ir_version << ", opsets:";
  for (const auto& o : r.opset_imports)
    os << " " << (o.domain.empty() ? "ai.onnx" : o.domain) << "=" << o.version;
  os << "\n  producer: " << (r.producer_name.empty() ? "(none)" : r.producer_name);
  if (!r.producer_version.empty()) os << " " << r.producer_version;
  os << "\n\nInputs\n";
  for (const auto& t : r.inputs) FormatTensor(os, t);
  os << "Outputs\n";
  for (const auto& t : r.outputs) FormatTensor(os, t);
  os << "\nNodes: " << r.node_count;
  if (r.subgraph_count) os << " (incl. " << r.subgraph_count << " subgraphs)";
  os << "\n ";
  int col = 1;
  for (const auto& [op, count] : r.op_histogram) {
    std::string item = " " + op + " " + std::to_string(count);
    if (col + item.size() > 96) {
      os << "\n ";
      col = 1;
    }
    os << item;
    col += static_cast<int>(item.size());
  }
  os << "\n\nParameters: " << r.parameter_count << " in " << r.initializer_count
     << " initializers, " << HumanBytes(r.parameter_bytes) << "\n";
  for (const auto& [dtype, cb] : r.parameters_by_dtype)
    os << "  " << dtype << ": " << cb.first << " (" << HumanBytes(cb.second) << ")\n";
  os << "\nMax tensor rank: " << r.max_rank << "\n";
  const size_t kShown = 10;
  for (size_t i = 0; i < r.max_rank_values.size() && i < kShown; ++i) {
    const auto& v = r.max_rank_values[i];
    os << "  " << v.name << " " << v.shape << " from " << v.producer << "\n";
  }
  if (r.max_rank_values.size() > kShown)
    os << "  ... and " << r.max_rank_values.size() - kShown << " more (see --json)\n";
  os << "Values with a non-static shape: " << r.non_static_count << " of " << r.value_count << "\n";
  for (const auto& e : r.non_static_examples) os << "  " << e << "\n";
  if (r.non_static_count > r.non_static_examples.size())
    os << "  ... and " << r.non_static_count - r.non_static_examples.size() << " more\n";
  if (!r.external_data_files.empty()) {
    os << "External data:\n";
    for (const auto& f : r.external_data_files) os << "  " << f << "\n";
  }
  if (r.function_count) os << "Model-local functions: " << r.function_count << "\n";
  for (const auto& w : r.shape_inference_warnings) os << "warning: shape inference: " << w << "\n";
  return os.str();
}

nlohmann::json InspectToJson(const InspectReport& r) {
  using nlohmann::json;
  auto tensor = [](const InspectedTensor& t) {
    json dims = json::array();
    for (const Dim& d : t.dims) {
      json jd;
      if (d.is_fixed())
        jd = {{"value", d.value}, {"fixed", true}};
      else if (d.kind == Dim::Kind::kParam)
        jd = {{"param", d.param}, {"fixed", false}};
      else
        jd = {{"fixed", false}};
      dims.push_back(jd);
    }
    return json{{"name", t.name},
                {"dtype", t.dtype},
                {"shape", t.has_shape ? dims : json(nullptr)},
                {"static", t.is_static}};
  };
  json j;
  j["schema"] = "edgefit-inspect/1";
  j["file"] = r.file;
  j["ir_version"] = r.ir_version;
  j["opset_imports"] = json::array();
  for (const auto& o : r.opset_imports)
    j["opset_imports"].push_back(
        {{"domain", o.domain.empty() ? "ai.onnx" : o.domain}, {"version", o.version}});
  j["producer"] = {{"name", r.producer_name}, {"version", r.producer_version}};
  j["inputs"] = json::array();
  for (const auto& t : r.inputs) j["inputs"].push_back(tensor(t));
  j["outputs"] = json::array();
  for (const auto& t : r.outputs) j["outputs"].push_back(tensor(t));
  j["node_count"] = r.node_count;
  j["subgraph_count"] = r.subgraph_count;
  j["op_histogram"] = json::object();
  for (const auto& [op, count] : r.op_histogram) j["op_histogram"][op] = count;
  j["parameters"] = {{"count", r.parameter_count},
                     {"bytes", r.parameter_bytes},
                     {"initializers", r.initializer_count},
                     {"by_dtype", json::object()}};
  for (const auto& [dtype, cb] : r.parameters_by_dtype)
    j["parameters"]["by_dtype"][dtype] = {{"count", cb.first}, {"bytes", cb.second}};
  j["max_rank"] = r.max_rank;
  j["max_rank_values"] = json::array();
  for (const auto& v : r.max_rank_values)
    j["max_rank_values"].push_back(
        {{"name", v.name}, {"shape", v.shape}, {"producer", v.producer}});
  j["values"] = {{"count", r.value_count}, {"non_static", r.non_static_count}};
  j["functions"] = r.function_count;
  j["external_data_files"] = r.external_data_files;
  j["warnings"] = r.shape_inference_warnings;
  return j;
}

}  // namespace edgefit
