// Writes a large synthetic model for the load/inspect benchmark: an MLP of Gemm + Relu layers
// whose weights (float32) total at least the requested parameter count, saved with external
// data.   make_large_model OUT.onnx [PARAMS=100000000] [LAYERS=6]
#include <cmath>
#include <iostream>
#include <random>

#include "onnx/model_io.h"

using namespace edgefit;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: make_large_model OUT.onnx [PARAMS] [LAYERS]\n";
    return 2;
  }
  int64_t params = argc > 2 ? std::stoll(argv[2]) : 100'000'000;
  int layers = argc > 3 ? std::stoi(argv[3]) : 6;
  int64_t width = static_cast<int64_t>(std::ceil(std::sqrt(double(params) / layers)));
  Model m;
  m.ir_version = 8;
  m.producer_name = "edgefit-bench";
  m.opset_imports.push_back({"", 13});
  Graph& g = *m.graph;
  g.name = "large_mlp";
  Value* x = *g.CreateValue("input");
  x->type() = TypeInfo::Tensor(DataType::kFloat, {1, width});
  x->type().dims[0] = Dim::Symbolic("batch");
  g.AddInput(x);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-0.01f, 0.01f);
  Value* cur = x;
  for (int l = 0; l < layers; ++l) {
    Tensor w(DataType::kFloat, {width, width});
    for (int64_t i = 0; i < w.numel(); i += 97) w.data<float>()[i] = dist(rng);
    Tensor b(DataType::kFloat, {width});
    Value* wv = g.AddInitializer("w" + std::to_string(l), w);
    Value* bv = g.AddInitializer("b" + std::to_string(l), b);
    Value* y = g.CreateUniqueValue("gemm" + std::to_string(l));
    Node* n = g.AddNode("Gemm", {cur, wv, bv}, {y}, "gemm_" + std::to_string(l));
    n->SetAttribute(Attribute::Int("transB", 1));
    Value* r = g.CreateUniqueValue("relu" + std::to_string(l));
    g.AddNode("Relu", {y}, {r}, "relu_" + std::to_string(l));
    cur = r;
  }
  cur->type() = TypeInfo::Tensor(DataType::kFloat, {1, width});
  cur->type().dims[0] = Dim::Symbolic("batch");
  g.AddOutput(cur);
  SaveOptions so;
  so.external_data = true;
  Status st = SaveModel(m, argv[1], so);
  if (!st.ok()) {
    std::cerr << st.ToString() << "\n";
    return 1;
  }
  std::cout << "wrote " << argv[1] << ": " << layers << " x [" << width << "," << width
            << "] = " << layers * width * width << " parameters\n";
  return 0;
}
