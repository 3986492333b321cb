#include "model_zoo.h"

#include <cmath>
#include <random>

namespace edgefit::zoo {
namespace {

class Builder {
 public:
  explicit Builder(const std::string& name) : g_(*model_.graph), rng_(42) {
    model_.ir_version = 8;
    model_.producer_name = "edgefit-model-zoo";
    model_.opset_imports.push_back({"", 13});
    g_.name = name;
  }

  Value* Input(const std::string& name, const Shape& shape) {
    Value* v = *g_.CreateValue(name);
    v->type() = TypeInfo::Tensor(DataType::kFloat, shape);
    g_.AddInput(v);
    return v;
  }

  // Kaiming-uniform-like random weights keep activations in a sane range through deep nets.
  Value* Weights(const std::string& base, const Shape& shape, int fan_in) {
    Tensor t(DataType::kFloat, shape);
    float bound = std::sqrt(6.0f / static_cast<float>(fan_in));
    std::uniform_real_distribution<float> dist(-bound, bound);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng_);
    return g_.AddInitializer(base, std::move(t));
  }
  Value* Bias(const std::string& base, int64_t n) {
    Tensor t(DataType::kFloat, {n});
    std::uniform_real_distribution<float> dist(-0.05f, 0.05f);
    for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = dist(rng_);
    return g_.AddInitializer(base, std::move(t));
  }

  Value* Conv(Value* x, int cin, int cout, int k, int stride, int pad, int group = 1) {
    std::string name = "conv" + std::to_string(++counter_);
    Value* w = Weights(name + ".weight", {cout, cin / group, k, k}, cin / group * k * k);
    Value* b = Bias(name + ".bias", cout);
    Value* y = g_.CreateUniqueValue(name + "_out");
    Node* n = g_.AddNode("Conv", {x, w, b}, {y}, name);
    n->SetAttribute(Attribute::Ints("kernel_shape", {k, k}));
    n->SetAttribute(Attribute::Ints("strides", {stride, stride}));
    n->SetAttribute(Attribute::Ints("pads", {pad, pad, pad, pad}));
    n->SetAttribute(Attribute::Ints("dilations", {1, 1}));
    n->SetAttribute(Attribute::Int("group", group));
    return y;
  }
  Value* Unary(const std::string& op, Value* x) {
    Value* y = g_.CreateUniqueValue(op + "_out");
    g_.AddNode(op, {x}, {y}, g_.UniqueNodeName(op));
    return y;
  }
  Value* Relu6(Value* x) {
    if (!six_) {
      six_ = g_.AddInitializer("six", Tensor::Scalar(6.0f));
      zero_ = g_.AddInitializer("zero", Tensor::Scalar(0.0f));
    }
    Value* y = g_.CreateUniqueValue("clip_out");
    g_.AddNode("Clip", {x, zero_, six_}, {y}, g_.UniqueNodeName("Clip"));
    return y;
  }
  Value* Add(Value* a, Value* b) {
    Value* y = g_.CreateUniqueValue("add_out");
    g_.AddNode("Add", {a, b}, {y}, g_.UniqueNodeName("Add"));
    return y;
  }
  Value* MaxPool(Value* x, int k, int s, int p) {
    Value* y = g_.CreateUniqueValue("maxpool_out");
    Node* n = g_.AddNode("MaxPool", {x}, {y}, g_.UniqueNodeName("MaxPool"));
    n->SetAttribute(Attribute::Ints("kernel_shape", {k, k}));
    n->SetAttribute(Attribute::Ints("strides", {s, s}));
    n->SetAttribute(Attribute::Ints("pads", {p, p, p, p}));
    return y;
  }
  Value* Classifier(Value* x, int features, int classes, const std::string& output) {
    Value* pooled = Unary("GlobalAveragePool", x);
    Value* flat = g_.CreateUniqueValue("flatten_out");
    g_.AddNode("Flatten", {pooled}, {flat}, "flatten")->SetAttribute(Attribute::Int("axis", 1));
    Value* w = Weights("fc.weight", {classes, features}, features);
    Value* b = Bias("fc.bias", classes);
    Value* y = *g_.CreateValue(output);
    g_.AddNode("Gemm", {flat, w, b}, {y}, "fc")->SetAttribute(Attribute::Int("transB", 1));
    y->type() = TypeInfo::Tensor(DataType::kFloat, {1, classes});
    g_.AddOutput(y);
    return y;
  }

  Model Take() { return std::move(model_); }

 private:
  Model model_;
  Graph& g_;
  std::mt19937 rng_;
  int counter_ = 0;
  Value* six_ = nullptr;
  Value* zero_ = nullptr;
};

}  // namespace

Model ResNet18() {
  Builder b("resnet18");
  Value* x = b.Input("input", {1, 3, 224, 224});
  x = b.Unary("Relu", b.Conv(x, 3, 64, 7, 2, 3));
  x = b.MaxPool(x, 3, 2, 1);
  int cin = 64;
  const int widths[] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    for (int block = 0; block < 2; ++block) {
      int cout = widths[stage];
      int stride = (stage > 0 && block == 0) ? 2 : 1;
      Value* y = b.Unary("Relu", b.Conv(x, cin, cout, 3, stride, 1));
      y = b.Conv(y, cout, cout, 3, 1, 1);
      Value* shortcut = (stride != 1 || cin != cout) ? b.Conv(x, cin, cout, 1, stride, 0) : x;
      x = b.Unary("Relu", b.Add(y, shortcut));
      cin = cout;
    }
  }
  b.Classifier(x, 512, 1000, "logits");
  return b.Take();
}

Model MobileNetV2() {
  Builder b("mobilenet_v2");
  Value* x = b.Input("input", {1, 3, 224, 224});
  x = b.Relu6(b.Conv(x, 3, 32, 3, 2, 1));
  int cin = 32;
  // expansion t, channels c, repeats n, first stride s (MobileNetV2 paper, Table 2)
  const int config[][4] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                           {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};
  for (const auto& c : config) {
    for (int i = 0; i < c[2]; ++i) {
      int stride = i == 0 ? c[3] : 1;
      int hidden = cin * c[0];
      Value* y = x;
      if (c[0] != 1) y = b.Relu6(b.Conv(y, cin, hidden, 1, 1, 0));
      y = b.Relu6(b.Conv(y, hidden, hidden, 3, stride, 1, hidden));
      y = b.Conv(y, hidden, c[1], 1, 1, 0);
      x = (stride == 1 && cin == c[1]) ? b.Add(x, y) : y;
      cin = c[1];
    }
  }
  x = b.Relu6(b.Conv(x, cin, 1280, 1, 1, 0));
  b.Classifier(x, 1280, 1000, "logits");
  return b.Take();
}

Model SingleConv(int cin, int cout, int h, int w, int k, int group) {
  Builder b("single_conv");
  Value* x = b.Input("input", {1, cin, h, w});
  Value* y = b.Conv(x, cin, cout, k, 1, k / 2, group);
  Model m = b.Take();
  m.graph->AddOutput(y);
  return m;
}

}  // namespace edgefit::zoo
