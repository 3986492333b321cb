// `edgefit inspect`: what a model declares and what its shapes are, in one report.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace edgefit {

struct InspectedTensor {
  std::string name;
  std::string dtype;
  bool has_shape = false;
  std::vector<Dim> dims;
  bool is_static = false;
};

struct RankedValue {
  std::string name;
  std::string shape;     // "[1,8,3,3,36,36]"
  std::string producer;  // "Reshape '/Reshape'" or "graph input" / "initializer"
};

struct InspectReport {
  std::string file;
  int64_t ir_version = 0;
  std::vector<OpsetImport> opset_imports;
  std::string producer_name, producer_version, graph_name;
  std::vector<InspectedTensor> inputs, outputs;
  size_t node_count = 0;
  std::vector<std::pair<std::string, int>> op_histogram;  // most frequent first
  int64_t parameter_count = 0;
  int64_t parameter_bytes = 0;
  std::map<std::string, std::pair<int64_t, int64_t>>
      parameters_by_dtype;  // dtype -> (count, bytes)
  size_t initializer_count = 0;
  int max_rank = 0;
  std::vector<RankedValue> max_rank_values;
  size_t value_count = 0;       // values with a tensor type (not counting initializers)
  size_t non_static_count = 0;  // of those, how many lack a fully static shape
  std::vector<std::string> non_static_examples;
  size_t function_count = 0;
  size_t subgraph_count = 0;
  std::vector<std::string> external_data_files;
  std::vector<std::string> shape_inference_warnings;
};

// Runs shape inference on `model` (refining its value types) and summarizes it.
InspectReport InspectModel(Model& model, const std::string& file);
// The same summary of the types as they are: no shape inference, `model` is not modified.
InspectReport InspectModelAsIs(const Model& model, const std::string& file);
std::string FormatInspectText(const InspectReport& report);
nlohmann::json InspectToJson(const InspectReport& report);

}  // namespace edgefit
