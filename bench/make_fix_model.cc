// Writes a model for the fix benchmark: about NODES nodes (default 10,000) in blocks that give
// every stm32n6 fix pass work, with a dynamic batch:
//   Conv -> BatchNormalization -> Relu -> Identity ->
//   Shape -> Gather(0) -> Unsqueeze -> Concat(with [C,H,W]) -> Reshape (a run-time computed
//   no-op reshape, as PyTorch exports x.view(x.size(0), C, H, W))
// Tensors are tiny ([N,4,4,4]) so that the benchmark measures graph work, not arithmetic.
//   make_fix_model OUT.onnx [NODES=10000]
#include <iostream>
#include <random>
#include <string>

#include "onnx/model_io.h"

using namespace edgefit;

namespace {

Tensor RandomTensor(const Shape& shape, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t(DataType::kFloat, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

Tensor Int64s(const std::vector<int64_t>& v) {
  return Tensor::FromVector<int64_t>(DataType::kInt64, {static_cast<int64_t>(v.size())}, v);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: make_fix_model OUT.onnx [NODES=10000]\n";
    return 2;
  }
  const int64_t nodes = argc > 2 ? std::stoll(argv[2]) : 10000;
  constexpr int64_t kC = 4, kH = 4, kW = 4, kBlockNodes = 9;
  Model m;
  m.ir_version = 8;
  m.producer_name = "edgefit-bench";
  m.opset_imports.push_back({"", 13});
  Graph& g = *m.graph;
  g.name = "fix_bench";
  std::mt19937 rng(1);
  Value* x = *g.CreateValue("input");
  x->type() = TypeInfo::Tensor(DataType::kFloat, {1, kC, kH, kW});
  x->type().dims[0] = Dim::Symbolic("batch");
  g.AddInput(x);
  Value* chw = g.AddInitializer("chw", Int64s({kC, kH, kW}));
  Value* zero = g.AddInitializer("zero", Tensor::FromVector<int64_t>(DataType::kInt64, {}, {0}));
  Value* axes0 = g.AddInitializer("axes0", Int64s({0}));
  Value* cur = x;
  for (int64_t b = 0; b * kBlockNodes < nodes; ++b) {
    const std::string s = std::to_string(b);
    auto value = [&](const std::string& base) { return g.CreateUniqueValue(base + s); };
    Value* w = g.AddInitializer("w" + s, RandomTensor({kC, kC, 3, 3}, rng, -0.3f, 0.3f));
    Value* conv = value("conv");
    Node* c = g.AddNode("Conv", {cur, w}, {conv}, "conv_" + s);
    c->SetAttribute(Attribute::Ints("pads", {1, 1, 1, 1}));
    Value* bn = value("bn");
    g.AddNode("BatchNormalization",
              {conv, g.AddInitializer("gamma" + s, RandomTensor({kC}, rng, 0.5f, 1.5f)),
               g.AddInitializer("beta" + s, RandomTensor({kC}, rng, -0.1f, 0.1f)),
               g.AddInitializer("mean" + s, RandomTensor({kC}, rng, -0.1f, 0.1f)),
               g.AddInitializer("var" + s, RandomTensor({kC}, rng, 0.5f, 1.5f))},
              {bn}, "bn_" + s);
    Value* relu = value("relu");
    g.AddNode("Relu", {bn}, {relu}, "relu_" + s);
    Value* id = value("id");
    g.AddNode("Identity", {relu}, {id}, "identity_" + s);
    Value* shape = value("shape");
    g.AddNode("Shape", {id}, {shape}, "shape_" + s);
    Value* batch = value("batch");
    g.AddNode("Gather", {shape, zero}, {batch}, "gather_" + s);
    Value* batch1 = value("batch1d");
    g.AddNode("Unsqueeze", {batch, axes0}, {batch1}, "unsqueeze_" + s);
    Value* target = value("target");
    Node* cat = g.AddNode("Concat", {batch1, chw}, {target}, "concat_" + s);
    cat->SetAttribute(Attribute::Int("axis", 0));
    Value* reshaped = value("reshape");
    g.AddNode("Reshape", {id, target}, {reshaped}, "reshape_" + s);
    cur = reshaped;
  }
  cur->type() = TypeInfo::Tensor(DataType::kFloat, {1, kC, kH, kW});
  cur->type().dims[0] = Dim::Symbolic("batch");
  g.AddOutput(cur);
  Status st = SaveModel(m, argv[1]);
  if (!st.ok()) {
    std::cerr << st.ToString() << "\n";
    return 1;
  }
  std::cout << "wrote " << argv[1] << ": " << g.num_nodes() << " nodes\n";
  return 0;
}
