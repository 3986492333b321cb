// Conv (or BatchNormalization) + Relu/Clip fusion in the session: without an observer the Conv
// clamps its own output and the Relu/Clip node aliases it; with an observer nothing is fused (the
// observer sees the Conv's own output). Both must give bit-identical outputs, in any order of runs
// (the memory plan is recorded again when the mode changes), on every Conv path (im2col + Sgemm,
// pointwise, depthwise, direct) and thread count. Convs whose output has another reader, or is a
// graph output, are not fused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "kernel_test_util.h"
#include "runtime/session.h"

namespace edgefit {
namespace {

class Builder {
 public:
  explicit Builder(int64_t opset = 13) : g_(*m_.graph), rng_(5) {
    m_.ir_version = 8;
    m_.opset_imports.push_back({"", opset});
  }
  Value* Input(const Shape& shape) {
    Value* v = *g_.CreateValue("x");
    v->type() = TypeInfo::Tensor(DataType::kFloat, shape);
    g_.AddInput(v);
    return v;
  }
  Value* Const(const Shape& shape) {
    Tensor t(DataType::kFloat, shape);
    std::uniform_real_distribution<float> dist(-0.5f, 0.5f);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng_);
    return g_.AddInitializer("c" + std::to_string(++n_), std::move(t));
  }
  Value* Scalar(float v) {
    return g_.AddInitializer("s" + std::to_string(++n_), Tensor::Scalar(v));
  }
  Value* Conv(Value* x, int64_t cin, int64_t cout, int64_t k, int64_t stride, int64_t group,
              bool bias = true) {
    std::vector<Value*> in = {x, Const({cout, cin / group, k, k})};
    if (bias) in.push_back(Const({cout}));
    Value* y = Op("Conv", in);
    edgefit::Node* n = y->producer();
    n->SetAttribute(Attribute::Ints("kernel_shape", {k, k}));
    n->SetAttribute(Attribute::Ints("strides", {stride, stride}));
    n->SetAttribute(Attribute::Ints("pads", {k / 2, k / 2, k / 2, k / 2}));
    n->SetAttribute(Attribute::Int("group", group));
    return y;
  }
  Value* Op(const std::string& op, const std::vector<Value*>& in) {
    Value* y = *g_.CreateValue("v" + std::to_string(++n_));
    g_.AddNode(op, in, {y}, "n" + std::to_string(n_));
    return y;
  }
  Model& Done(const std::vector<Value*>& outputs) {
    for (Value* v : outputs) g_.AddOutput(v);
    return m_;
  }

 private:
  Model m_;
  Graph& g_;
  std::mt19937 rng_;
  int n_ = 0;
};

Tensor RandomInput(const Shape& shape) {
  Tensor t(DataType::kFloat, shape);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

void ExpectSame(const std::vector<Tensor>& a, const std::vector<Tensor>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].shape(), b[i].shape());
    EXPECT_EQ(std::memcmp(a[i].raw(), b[i].raw(), a[i].numel() * sizeof(float)), 0)
        << what << ": output " << i << " differs";
  }
}

// Runs fused, observed, fused, observed: all outputs bit-identical. Returns the number of
// observed outputs with negative elements among the Conv outputs that are read by a Relu.
void CheckFusion(Model& m, const Shape& in_shape, int threads, int* relu_inputs_negative) {
  SessionOptions opt;
  opt.num_threads = threads;
  auto s = Session::Create(m, opt);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<NamedTensor> feeds = {{"x", RandomInput(in_shape)}};
  int negative = 0;
  auto observer = [&](const Node& n, const Value& v, const Tensor& t) {
    if (n.op_type() != "Conv" || v.uses().size() != 1 || v.uses()[0].node->op_type() != "Relu")
      return;
    for (int64_t i = 0; i < t.numel(); ++i)
      if (t.data<float>()[i] < 0) {
        ++negative;
        return;
      }
  };
  auto fused = (*s)->Run(feeds);
  ASSERT_TRUE(fused.ok()) << fused.status().ToString();
  for (int round = 0; round < 2; ++round) {
    negative = 0;
    auto observed = (*s)->Run(feeds, observer);
    ASSERT_TRUE(observed.ok()) << observed.status().ToString();
    ExpectSame(*fused, *observed, "observed run");
    auto again = (*s)->Run(feeds);
    ASSERT_TRUE(again.ok());
    ExpectSame(*fused, *again, "fused run");
  }
  *relu_inputs_negative = negative;
}

TEST(ConvFusion, ReluAndClipOnEveryConvPath) {
  for (int threads : {1, 2}) {
    // tiny (direct loop) and im2col/Sgemm sizes; 14 and 30: depthwise planes whose rows are not
    // a multiple of the 8- and 16-wide blocks (7x7, 14x14 and 15x15 outputs)
    for (int64_t size : {6, 14, 30, 40}) {
      Builder b;
      Value* x = b.Input({2, 3, size, size});
      Value* c0 = b.Op("Clip", {b.Conv(x, 3, 8, 3, 1, 1), b.Scalar(-0.5f),  // 3 input channels
                                b.Scalar(0.5f)});
      Value* c1 = b.Op("Relu", {b.Conv(c0, 8, 16, 3, 1, 1)});                 // im2col
      Value* c2 = b.Op("Clip", {b.Conv(c1, 16, 16, 3, 2, 16), b.Scalar(0.f),  // depthwise
                                b.Scalar(0.2f)});
      Value* c2s1 = b.Op("Clip", {b.Conv(c2, 16, 16, 3, 1, 16), b.Scalar(-0.1f),  // depthwise
                                  b.Scalar(0.1f)});                               // stride 1
      Value* c3 = b.Op("Clip", {b.Conv(c2s1, 16, 24, 1, 1, 1, false), b.Scalar(-0.05f)});  // 1x1
      Value* c4 = b.Op("Relu", {b.Conv(c3, 24, 8, 3, 1, 2)});  // grouped
      Value* c5 = b.Op("Clip", {b.Conv(c4, 8, 8, 3, 1, 1), b.Scalar(0.3f), b.Scalar(-0.3f)});
      Model& m = b.Done({c5});
      int negative = 0;
      CheckFusion(m, {2, 3, size, size}, threads, &negative);
      EXPECT_EQ(negative, 2) << "the observer must see the Convs' own (unclamped) outputs";
    }
  }
}

TEST(ConvFusion, BatchNormalizationThenRelu) {
  for (int threads : {1, 2}) {
    Builder b;
    Value* x = b.Input({2, 8, 24, 24});
    Value* c = b.Conv(x, 8, 8, 3, 1, 1);
    Value* scale = b.Const({8});
    Value* bias = b.Const({8});
    Value* mean = b.Const({8});
    Value* var = b.Op("Abs", {b.Const({8})});  // not a constant: computed at run time
    Value* r = b.Op("Relu", {b.Op("BatchNormalization", {c, scale, bias, mean, var})});
    Model& m = b.Done({r});
    int negative = 0;
    CheckFusion(m, {2, 8, 24, 24}, threads, &negative);
  }
}

TEST(ConvFusion, ClampValuesMatchClipSemantics) {
  // Clip with min > max makes every element max; Relu keeps NaN (none here) and zeros negatives.
  Builder b;
  Value* x = b.Input({1, 4, 12, 12});
  Value* y = b.Op("Clip", {b.Conv(x, 4, 4, 3, 1, 1), b.Scalar(0.3f), b.Scalar(-0.3f)});
  Value* z = b.Op("Relu", {b.Conv(x, 4, 4, 1, 1, 1)});
  Model& m = b.Done({y, z});
  auto s = Session::Create(m);
  ASSERT_TRUE(s.ok());
  auto out = (*s)->Run({{"x", RandomInput({1, 4, 12, 12})}});
  ASSERT_TRUE(out.ok());
  for (int64_t i = 0; i < (*out)[0].numel(); ++i) ASSERT_EQ((*out)[0].data<float>()[i], -0.3f);
  for (int64_t i = 0; i < (*out)[1].numel(); ++i) ASSERT_GE((*out)[1].data<float>()[i], 0.f);
}

TEST(ConvFusion, NotFusedWhenTheConvOutputIsReadElsewhere) {
  for (int threads : {1, 2}) {
    Builder b;
    Value* x = b.Input({1, 8, 20, 20});
    Value* c = b.Conv(x, 8, 8, 3, 1, 1);
    Value* r = b.Op("Relu", {c});
    Value* sum = b.Op("Add", {c, r});  // c has two readers
    Value* d = b.Conv(sum, 8, 8, 3, 1, 1);
    Value* e = b.Op("Relu", {d});  // d is also a graph output
    Model& m = b.Done({sum, e, d});
    int negative = 0;
    CheckFusion(m, {1, 8, 20, 20}, threads, &negative);
    SessionOptions opt;
    opt.num_threads = threads;
    auto s = Session::Create(m, opt);
    ASSERT_TRUE(s.ok());
    auto out = (*s)->Run({{"x", RandomInput({1, 8, 20, 20})}});
    ASSERT_TRUE(out.ok());
    // d (unclamped) keeps its negative values; e = Relu(d).
    bool d_negative = false;
    for (int64_t i = 0; i < (*out)[2].numel(); ++i) {
      const float dv = (*out)[2].data<float>()[i], ev = (*out)[1].data<float>()[i];
      d_negative = d_negative || dv < 0;
      ASSERT_EQ(ev, dv < 0 ? 0.f : dv);
    }
    EXPECT_TRUE(d_negative);
  }
}

TEST(ConvFusion, ClipBoundsFromAttributesBeforeOpset11) {
  Builder b(10);
  Value* x = b.Input({1, 4, 10, 10});
  Value* y = b.Op("Clip", {b.Conv(x, 4, 8, 3, 1, 1)});
  y->producer()->SetAttribute(Attribute::Float("min", -0.1f));
  y->producer()->SetAttribute(Attribute::Float("max", 0.1f));
  Model& m = b.Done({y});
  int negative = 0;
  CheckFusion(m, {1, 4, 10, 10}, 1, &negative);
  auto s = Session::Create(m);
  ASSERT_TRUE(s.ok());
  auto out = (*s)->Run({{"x", RandomInput({1, 4, 10, 10})}});
  ASSERT_TRUE(out.ok());
  for (int64_t i = 0; i < (*out)[0].numel(); ++i) {
    ASSERT_GE((*out)[0].data<float>()[i], -0.1f);
    ASSERT_LE((*out)[0].data<float>()[i], 0.1f);
  }
}

}  // namespace
}  // namespace edgefit

namespace edgefit {
namespace {

// RunOptions::fuse_with_observer (calibration): fusion stays on, the observer sees the
// activation's output (equal to the unfused run's) and not the fused Conv's own output.
TEST(FusionTest, FuseWithObserverSeesTheActivationOnly) {
  Builder b;
  Value* x = b.Input({1, 4, 8, 8});
  Value* conv = b.Conv(x, 4, 8, 3, 1, 1);
  Value* relu = b.Op("Relu", {conv});
  Value* out = b.Op("Sigmoid", {relu});
  Model& m = b.Done({out});
  auto session = Session::Create(m);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  Tensor input(DataType::kFloat, {1, 4, 8, 8});
  for (int64_t i = 0; i < input.numel(); ++i) input.data<float>()[i] = std::sin(0.37f * i);
  std::map<std::string, std::vector<float>> plain, fused;
  auto record = [](std::map<std::string, std::vector<float>>* into) {
    return [into](const Node&, const Value& v, const Tensor& t) {
      (*into)[v.name()] = std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
    };
  };
  ASSERT_TRUE((*session)->Run({{"x", input}}, record(&plain)).ok());
  RunOptions ro;
  ro.fuse_with_observer = true;
  auto result = (*session)->Run({{"x", input}}, record(&fused), ro);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(plain.count(conv->name()));
  EXPECT_FALSE(fused.count(conv->name()));  // fused: the Conv's own output never exists
  ASSERT_TRUE(fused.count(relu->name()));
  EXPECT_EQ(fused[relu->name()], plain[relu->name()]);
  EXPECT_EQ(fused[out->name()], plain[out->name()]);
}

}  // namespace
}  // namespace edgefit
