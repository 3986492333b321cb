// One test pair per rule: a tiny model where the rule fires (naming the exact node) and one
// where it must not. The profile is the test profile of check_test_util.cc (every fact
// "documented" unless a test says otherwise).
#include <gtest/gtest.h>

#include "check/rule.h"
#include "check_test_util.h"

namespace edgefit::testing {
namespace {

using Strings = std::vector<std::string>;

// "severity node" of every finding of `rule`.
Strings Fired(const CheckReport& r, const std::string& rule) {
  Strings out;
  for (const Finding& f : Of(r, rule)) {
    std::string subject = f.node.empty() && !f.values.empty() ? f.values[0].name : f.node;
    out.push_back(std::string(SeverityName(f.severity)) + " " + subject);
  }
  return out;
}

Attribute Ints(const char* name, std::vector<int64_t> v) { return Attribute::Ints(name, v); }
Attribute Int(const char* name, int64_t v) { return Attribute::Int(name, v); }
Attribute Str(const char* name, const char* v) { return Attribute::String(name, v); }

// x -> Relu -> output, at `opset`.
Model ReluModel(int64_t opset, std::vector<int64_t> dims = {1, 4}) {
  ModelBuilder b(opset);
  Value* x = b.Input("x", dims);
  b.Output(b.Out(b.Add("Relu", {x}, "relu")));
  return b.Take();
}

TEST(Registry, IdsAreUniqueAndDocumented) {
  std::set<std::string> ids;
  for (const Rule* r : RuleRegistry()) {
    EXPECT_TRUE(ids.insert(r->id).second) << r->id;
    EXPECT_GT(std::string(r->summary).size(), 10u) << r->id;
  }
  EXPECT_EQ(ids.size(), CheckRuleIds().size());
  for (const char* id : {"opset.range",          "opset.recommended",
                         "dims.dynamic",         "batch.io",
                         "batch.compute",        "rank.max",
                         "rank.reshape",         "axes.form",
                         "reshape.wildcard",     "op.unsupported",
                         "op.condition",         "op.cpu-fallback",
                         "dtype.unsupported",    "qdq.weight-zero-point",
                         "qdq.per-channel-axis", "qdq.activation-dtype",
                         "qdq.bias-dtype",       "qdq.scale",
                         "qdq.hybrid",           "graph.dangling-output",
                         "graph.control-flow"})
    EXPECT_TRUE(ids.count(id)) << id;
}

// ---- opset ------------------------------------------------------------------------------------

TEST(OpsetRange, FiresBelowAndAboveTheWindow) {
  TargetProfile p = TestProfile();  // window 11..17, recommended 13
  for (int64_t opset : {9, 18}) {
    CheckReport r = Check(ReluModel(opset), p);
    auto f = Of(r, "opset.range");
    ASSERT_EQ(f.size(), 1u) << opset << Dump(r);
    EXPECT_EQ(f[0].severity, Severity::kViolation);
    EXPECT_EQ(f[0].fixed_by, "convert-opset");
    EXPECT_EQ(f[0].opset, opset);
  }
  EXPECT_TRUE(Of(Check(ReluModel(13), p), "opset.range").empty());
  EXPECT_TRUE(Of(Check(ReluModel(11), p), "opset.range").empty());
}

TEST(OpsetRecommended, InfoInsideTheWindowOnly) {
  TargetProfile p = TestProfile();
  EXPECT_EQ(Fired(Check(ReluModel(14), p), "opset.recommended"), Strings{"info "});
  EXPECT_TRUE(Of(Check(ReluModel(13), p), "opset.recommended").empty());
  EXPECT_TRUE(Of(Check(ReluModel(9), p), "opset.recommended").empty());
}

// ---- dims -------------------------------------------------------------------------------------

TEST(DimsDynamic, NamesTheInputAndTheDim) {
  CheckReport r = Check(ReluModel(13, {-1, 4}), TestProfile());
  auto f = Of(r, "dims.dynamic");
  ASSERT_EQ(f.size(), 1u) << Dump(r);
  EXPECT_EQ(f[0].values.at(0).name, "x");
  EXPECT_NE(f[0].message.find("dim 0 'N' is dynamic"), std::string::npos) << f[0].message;
  EXPECT_EQ(f[0].fixed_by, "fix-dynamic-dims");
  EXPECT_TRUE(Of(Check(ReluModel(13), TestProfile()), "dims.dynamic").empty());
}

TEST(DimsDynamic, DataDependentShapes) {
  ModelBuilder b(13);
  Value* x = b.Input("x", {1, 4});
  Value* shape = b.Input("target_shape", {2}, DataType::kInt64);
  b.Output(b.Out(b.Add("NonZero", {x}, "nz")));
  b.Output(b.Out(b.Add("Reshape", {x, shape}, "reshape")));
  CheckReport r = Check(b.Take(), TestProfile());
  EXPECT_EQ(Fired(r, "dims.dynamic"), (Strings{"violation nz", "violation reshape"})) << Dump(r);

  // A shape computed from constants once the batch is fixed is not dynamic.
  ModelBuilder c(13);
  Value* y = c.Input("y", {-1, 4});
  Value* s = c.Out(c.Add("Shape", {y}, "shape"));
  c.Output(c.Out(c.Add("Reshape", {y, s}, "reshape")));
  CheckReport r2 = Check(c.Take(), TestProfile());
  EXPECT_EQ(Fired(r2, "dims.dynamic"), Strings{"violation y"}) << Dump(r2);
}

TEST(DimsMax, FiresAboveMaxDim) {
  EXPECT_EQ(Fired(Check(ReluModel(13, {1, 2000}), TestProfile()), "dims.max"),
            (Strings{"violation x", "violation relu"}));
  EXPECT_TRUE(Of(Check(ReluModel(13, {1, 1000}), TestProfile()), "dims.max").empty());
}

// ---- batch ------------------------------------------------------------------------------------

TEST(BatchIo, FixedBatchAboveOne) {
  CheckReport r = Check(ReluModel(13, {2, 4}), TestProfile());
  EXPECT_EQ(Fired(r, "batch.io"), (Strings{"violation x", "violation relu_out"})) << Dump(r);
  EXPECT_EQ(Of(r, "batch.io")[0].fixed_by, "unbatch");
  // A dynamic batch is frozen to 1 (dims.dynamic reports it); rank 1 has no batch axis.
  EXPECT_TRUE(Of(Check(ReluModel(13, {-1, 4}), TestProfile()), "batch.io").empty());
  EXPECT_TRUE(Of(Check(ReluModel(13, {1, 4}), TestProfile()), "batch.io").empty());
  EXPECT_TRUE(Of(Check(ReluModel(13, {7}), TestProfile()), "batch.io").empty());
}

Model ConvAfterReshape(std::vector<int64_t> to) {
  ModelBuilder b(13);
  Value* x = b.Input("x", {1, 12, 4, 4});
  Value* shape = b.Ints("shape", to);
  Value* r = b.Out(b.Add("Reshape", {x, shape}, "reshape"));
  Value* w = b.Floats("w", {4, to[1], 1, 1});
  Value* c = b.Out(b.Add("Conv", {r, w}, "conv"));
  b.Output(c);
  return b.Take();
}

TEST(BatchCompute, ConvOnAFoldedBatch) {
  CheckReport r = Check(ConvAfterReshape({3, 4, 4, 4}), TestProfile());
  EXPECT_EQ(Fired(r, "batch.compute"), Strings{"violation conv"}) << Dump(r);
  auto f = Of(r, "batch.compute")[0];
  EXPECT_EQ(f.values.at(0).name, "reshape_out");
  EXPECT_EQ(f.values.at(0).ShapeString(), "[3,4,4,4]");
  EXPECT_EQ(f.fixed_by, "unbatch");
  EXPECT_TRUE(Of(Check(ConvAfterReshape({1, 12, 4, 4}), TestProfile()), "batch.compute").empty());
}

TEST(BatchCompute, MatMulWithTwoBatchedActivations) {
  ModelBuilder b(13);
  Value* a = b.Input("a", {1, 2, 3, 4});
  Value* s = b.Ints("s", {2, 3, 4});
  Value* r = b.Out(b.Add("Reshape", {a, s}, "r"));
  Value* t = b.Out(b.Add("Transpose", {r}, "t", {Ints("perm", {0, 2, 1})}));
  b.Output(b.Out(b.Add("MatMul", {r, t}, "mm")));
  CheckReport rep = Check(b.Take(), TestProfile());
  EXPECT_EQ(Fired(rep, "batch.compute"), (Strings{"violation mm", "violation mm"})) << Dump(rep);
}

// ---- rank -------------------------------------------------------------------------------------

Model RankModel(std::vector<int64_t> shape) {
  ModelBuilder b(13);
  Value* x = b.Input("x", {1, 64});
  Value* up = b.Out(b.Add("Reshape", {x, b.Ints("up_shape", shape)}, "up"));
  Value* relu = b.Out(b.Add("Relu", {up}, "relu"));
  b.Output(b.Out(b.Add("Reshape", {relu, b.Ints("down_shape", {1, 64})}, "down")));
  return b.Take();
}

TEST(Rank, MaxAndReshapeNameTheValuesAndTheirProducers) {
  CheckReport r = Check(RankModel({1, 2, 2, 2, 2, 4}), TestProfile());  // rank 6 > 5
  EXPECT_EQ(Fired(r, "rank.reshape"), Strings{"violation up"}) << Dump(r);
  EXPECT_EQ(Fired(r, "rank.max"), Strings{"violation relu"}) << Dump(r);
  auto f = Of(r, "rank.max")[0];
  EXPECT_EQ(f.values.at(0).name, "relu_out");
  EXPECT_EQ(f.values.at(0).ShapeString(), "[1,2,2,2,2,4]");
  EXPECT_EQ(f.fixed_by, "reduce-rank");
  EXPECT_TRUE(Of(r, "rank.preferred").empty());  // reported once, as a violation
  CheckReport ok = Check(RankModel({1, 4, 4, 4}), TestProfile());
  EXPECT_TRUE(Of(ok, "rank.max").empty());
  EXPECT_TRUE(Of(ok, "rank.reshape").empty());
  EXPECT_TRUE(Of(ok, "rank.preferred").empty());
}

TEST(Rank, PreferredIsAWarning) {
  CheckReport r = Check(RankModel({1, 2, 2, 4, 4}), TestProfile());  // rank 5: preferred is 4
  EXPECT_EQ(Fired(r, "rank.preferred"), (Strings{"warning up", "warning relu"})) << Dump(r);
  EXPECT_TRUE(Of(r, "rank.max").empty());
}

// ---- axes and reshape shapes ------------------------------------------------------------------

CheckReport SqueezeWith(int64_t opset, int how) {
  ModelBuilder b(opset);
  Value* x = b.Input("x", {1, 4, 1});
  std::vector<Value*> inputs = {x};
  std::vector<Attribute> attrs;
  if (how == 0) attrs.push_back(Ints("axes", {2}));                        // attribute (opset 11)
  if (how == 1) inputs.push_back(b.Ints("axes", {2}));                     // constant input
  if (how == 2) inputs.push_back(b.Input("axes", {1}, DataType::kInt64));  // computed
  if (how == 3)  // computed from constants: Cast(int32 constant)
    inputs.push_back(
        b.Out(b.Add("Cast", {b.Ints("axes32", {2}, DataType::kInt32)}, "cast", {Int("to", 7)})));
  b.Output(b.Out(b.Add("Squeeze", inputs, "squeeze", attrs)));
  return Check(b.Take(), TestProfile());
}

TEST(AxesForm, ComputedAxesAreViolations) {
  CheckReport computed = SqueezeWith(13, 2);
  EXPECT_EQ(Fired(computed, "axes.form"), Strings{"violation squeeze"}) << Dump(computed);
  EXPECT_FALSE(Of(computed, "axes.form")[0].fixed_by.has_value());
  CheckReport folded = SqueezeWith(13, 3);
  EXPECT_EQ(Fired(folded, "axes.form"), Strings{"violation squeeze"}) << Dump(folded);
  EXPECT_EQ(Of(folded, "axes.form")[0].fixed_by, "fold-constants");
}

TEST(AxesForm, ConstantInputIsAnInfoAndAnAttributeIsFine) {
  CheckReport constant = SqueezeWith(13, 1);
  EXPECT_EQ(Fired(constant, "axes.form"), Strings{"info squeeze"}) << Dump(constant);
  EXPECT_EQ(Of(constant, "axes.form")[0].values.at(0).data, (std::vector<int64_t>{2}));
  EXPECT_EQ(Of(constant, "axes.form")[0].fixed_by, "squeeze-to-reshape");
  EXPECT_TRUE(Of(SqueezeWith(11, 0), "axes.form").empty());
}

CheckReport ReshapeTo(std::vector<int64_t> shape, int64_t allowzero = -1) {
  ModelBuilder b(14);
  Value* x = b.Input("x", {1, 4, 4});
  std::vector<Attribute> attrs;
  if (allowzero >= 0) attrs.push_back(Int("allowzero", allowzero));
  b.Output(b.Out(b.Add("Reshape", {x, b.Ints("shape", shape)}, "reshape", attrs)));
  return Check(b.Take(), TestProfile());
}

TEST(ReshapeWildcard, MinusOneAndZero) {
  CheckReport r = ReshapeTo({-1, 16});
  // The test profile says "error": a violation.
  EXPECT_EQ(Fired(r, "reshape.wildcard"), Strings{"violation reshape"}) << Dump(r);
  EXPECT_EQ(Of(r, "reshape.wildcard")[0].fixed_by, "fix-reshape-shape");
  EXPECT_EQ(Fired(ReshapeTo({0, 16}), "reshape.wildcard"), Strings{"violation reshape"});
  EXPECT_TRUE(Of(ReshapeTo({1, 16}), "reshape.wildcard").empty());
  EXPECT_TRUE(Of(ReshapeTo({0, 16}, 1), "reshape.wildcard").empty());  // 0 is a real zero
}

TEST(ReshapeWildcard, ShapeComputedFromConstants) {
  // Concat(Shape(x)[0:1], [-1]): after batch freezing the executor computes [1,-1].
  ModelBuilder b(13);
  Value* x = b.Input("x", {-1, 4, 4});
  Value* shape = b.Out(b.Add("Shape", {x}, "shape"));
  Value* first = b.Out(b.Add("Slice", {shape, b.Ints("s0", {0}), b.Ints("s1", {1})}, "slice"));
  Value* target = b.Out(b.Add("Concat", {first, b.Ints("rest", {-1})}, "concat", {Int("axis", 0)}));
  b.Output(b.Out(b.Add("Reshape", {x, target}, "reshape")));
  CheckReport r = Check(b.Take(), TestProfile());
  EXPECT_EQ(Fired(r, "reshape.wildcard"), Strings{"violation reshape"}) << Dump(r);
  EXPECT_EQ(Of(r, "reshape.wildcard")[0].values.at(0).data, (std::vector<int64_t>{1, -1}));
}

// ---- where ops run ----------------------------------------------------------------------------

TEST(OpUnsupported, ListedUnsupportedUnlistedAndCustom) {
  ModelBuilder b(13);
  Value* x = b.Input("x", {1, 4});
  Value* e = b.Out(b.Add("Einsum", {x}, "einsum", {Str("equation", "ij->ij")}));
  Value* l = b.Out(b.Add("Erf", {e}, "erf"));
  Node* custom = b.Add("Foo", {l}, "foo");
  custom->set_domain("com.example");
  b.Output(b.Out(b.Add("Relu", {b.Out(custom)}, "relu")));
  Model m = b.Take();
  m.opset_imports.push_back({"com.example", 1});
  CheckReport r = Check(m, TestProfile());
  EXPECT_EQ(Fired(r, "op.unsupported"),
            (Strings{"violation einsum", "violation erf", "violation foo"}))
      << Dump(r);
  auto f = Of(r, "op.unsupported");
  EXPECT_EQ(f[0].source_status, FactStatus::kDocumented);
  EXPECT_FALSE(f[1].source_status.has_value());  // not listed: no fact, the format's default
  EXPECT_FALSE(f[0].fixed_by.has_value());
  EXPECT_TRUE(Of(Check(ReluModel(13), TestProfile()), "op.unsupported").empty());
}

Model ConvModel(std::vector<Attribute> attrs, Shape w_shape = {4, 4, 3, 3}, bool bn = false,
                bool computed_weight = false) {
  ModelBuilder b(13);
  Value* x = b.Input("x", {1, 4, 8, 8});
  Value* w =
      computed_weight ? b.Input("w", {w_shape.begin(), w_shape.end()}) : b.Floats("w", w_shape);
  Value* y = b.Out(b.Add("Conv", {x, w}, "conv", std::move(attrs)));
  if (bn) {
    y = b.Out(
        b.Add("BatchNormalization",
              {y, b.Floats("g", {4}), b.Floats("be", {4}), b.Floats("m", {4}), b.Floats("v", {4})},
              "bn"));
  }
  b.Output(y);
  return b.Take();
}

TEST(OpCondition, FailingConditionNamesTheNodeAndTheLimit) {
  CheckReport r =
      Check(ConvModel({Ints("dilations", {2, 2}), Ints("pads", {2, 2, 2, 2})}), TestProfile());
  EXPECT_EQ(Fired(r, "op.condition"), Strings{"violation conv"}) << Dump(r);
  std::string m = Of(r, "op.condition")[0].message;
  EXPECT_NE(m.find("dilations <= 1"), std::string::npos) << m;
  EXPECT_NE(m.find("dilations is [2,2]"), std::string::npos) << m;
  EXPECT_TRUE(Of(Check(ConvModel({}), TestProfile()), "op.condition").empty());
}

TEST(OpCondition, TransposeTouchingTheBatch) {
  for (auto [perm, fires] :
       {std::pair<std::vector<int64_t>, bool>{{1, 0, 2}, true}, {{0, 2, 1}, false}}) {
    ModelBuilder b(13);
    Value* x = b.Input("x", {1, 2, 3});
    b.Output(b.Out(b.Add("Transpose", {x}, "transpose", {Ints("perm", perm)})));
    CheckReport r = Check(b.Take(), TestProfile());
    EXPECT_EQ(Fired(r, "op.condition"), fires ? Strings{"violation transpose"} : Strings{})
        << Dump(r);
  }
}

TEST(OpCondition, SoftmaxAxisDefaultDependsOnOpset) {
  // "axis = 1": opset 11's default is 1, opset 13's is -1 (not normalized: -1 is not 1).
  for (auto [opset, fires] : {std::pair<int64_t, bool>{11, false}, {13, true}}) {
    ModelBuilder b(opset);
    Value* x = b.Input("x", {1, 10});
    b.Output(b.Out(b.Add("Softmax", {x}, "softmax")));
    CheckReport r = Check(b.Take(), TestProfile());
    EXPECT_EQ(Fired(r, "op.condition"), fires ? Strings{"violation softmax"} : Strings{})
        << opset << Dump(r);
  }
}

TEST(OpCondition, GatherAxisAndUndecidableIndices) {
  ModelBuilder b(13);
  Value* x = b.Input("x", {1, 5});
  Value* idx = b.Input("idx", {-1}, DataType::kInt32);  // rank 1: not a batch, stays unknown
  Value* g0 = b.Out(b.Add("Gather", {x, b.Ints("i0", {0})}, "gather_axis0", {Int("axis", 0)}));
  Value* g1 = b.Out(b.Add("Gather", {x, b.Ints("i1", {0})}, "gather_axis1", {Int("axis", 1)}));
  Value* g2 = b.Out(b.Add("Gather", {x, idx}, "gather_computed", {Int("axis", 1)}));
  b.Output(g0);
  b.Output(g1);
  b.Output(g2);
  CheckReport r = Check(b.Take(), TestProfile());
  EXPECT_EQ(Fired(r, "op.condition"), (Strings{"violation gather_axis0", "info gather_computed"}))
      << Dump(r);
  EXPECT_NE(Of(r, "op.condition")[1].message.find("cannot decide"), std::string::npos);
}

TEST(OpCondition, PadModeAndDefaultConstantValue) {
  auto pad = [](const char* mode, bool value_one) {
    ModelBuilder b(13);
    Value* x = b.Input("x", {1, 2, 4, 4});
    std::vector<Value*> in = {x, b.Ints("pads", {0, 0, 1, 1, 0, 0, 1, 1})};
    if (value_one) in.push_back(b.Initializer("value", FloatTensor({}, 1.0f)));
    b.Output(b.Out(b.Add("Pad", in, "pad", {Str("mode", mode)})));
    return Check(b.Take(), TestProfile());
  };
  EXPECT_EQ(Fired(pad("reflect", false), "op.condition"), Strings{"violation pad"});
  EXPECT_EQ(Fired(pad("constant", true), "op.condition"), Strings{"violation pad"});
  EXPECT_TRUE(Of(pad("constant", false), "op.condition").empty());  // absent value: 0
}

TEST(OpCondition, AnyOfAlternatives) {
  auto pool = [](std::vector<int64_t> kernel, std::vector<int64_t> strides) {
    ModelBuilder b(13);
    Value* x = b.Input("x", {1, 2, 12, 12});
    b.Output(b.Out(
        b.Add("MaxPool", {x}, "pool", {Ints("kernel_shape", kernel), Ints("strides", strides)})));
    return Check(b.Take(), TestProfile());
  };
  EXPECT_TRUE(Of(pool({2, 2}, {1, 1}), "op.condition").empty());
  EXPECT_TRUE(Of(pool({4, 4}, {4, 4}), "op.condition").empty());
  CheckReport r = pool({3, 3}, {1, 1});
  EXPECT_EQ(Fired(r, "op.condition"), Strings{"violation pool"}) << Dump(r);
  EXPECT_NE(Of(r, "op.condition")[0].message.find("no alternative holds"), std::string::npos);
}

TEST(OpCondition, ManualConditionsAreOneInfoPerOpType) {
  ModelBuilder b(13);
  Value* x = b.Input("x", {1, 4});
  Value* s1 = b.Out(b.Add("Sigmoid", {x}, "sig1"));
  b.Output(b.Out(b.Add("Sigmoid", {s1}, "sig2")));
  CheckReport r = Check(b.Take(), TestProfile());
  auto f = Of(r, "op.condition");
  ASSERT_EQ(f.size(), 1u) << Dump(r);
  EXPECT_EQ(f[0].severity, Severity::kInfo);
  EXPECT_EQ(f[0].op, "Sigmoid");
  EXPECT_NE(f[0].message.find("'sig1', 'sig2'"), std::string::npos) << f[0].message;
  EXPECT_NE(f[0].message.find("only after a Conv"), std::string::npos) << f[0].message;
}

TEST(OpCpuFallback, FailedCpuConditionsAndCpuOps) {
  CheckReport big_kernel = Check(ConvModel({}, {4, 4, 5, 5}), TestProfile());
  EXPECT_EQ(Fired(big_kernel, "op.cpu-fallback"), Strings{"warning conv"}) << Dump(big_kernel);
  EXPECT_NE(Of(big_kernel, "op.cpu-fallback")[0].message.find("runs on CPU, not NPU"),
            std::string::npos);
  // kernel_shape absent: read from the weight, [5,5] > 3.
  EXPECT_NE(Of(big_kernel, "op.cpu-fallback")[0].message.find("kernel_shape is [5,5]"),
            std::string::npos)
      << Of(big_kernel, "op.cpu-fallback")[0].message;
  CheckReport computed = Check(ConvModel({}, {4, 4, 3, 3}, false, true), TestProfile());
  EXPECT_EQ(Fired(computed, "op.cpu-fallback"), Strings{"warning conv"}) << Dump(computed);
  CheckReport bn = Check(ConvModel({}, {4, 4, 3, 3}, true), TestProfile());
  EXPECT_EQ(Fired(bn, "op.cpu-fallback"), Strings{"warning bn"}) << Dump(bn);
  EXPECT_EQ(Of(bn, "op.cpu-fallback")[0].fixed_by, "fold-batchnorm");
  EXPECT_TRUE(Of(Check(ConvModel({}), TestProfile()), "op.cpu-fallback").empty());
}

TEST(OpCpuFallback, ResizeModeAndSpatialSize) {
  auto model = [](const char* mode, int64_t hw) {
    ModelBuilder b(13);
    Value* x = b.Input("x", {1, 2, hw, hw});
    Value* scales = b.Initializer(
        "scales", Tensor::FromVector<float>(DataType::kFloat, {4}, {1.f, 1.f, 2.f, 2.f}));
    Value* up = b.Out(b.Add("Resize", {x, nullptr, scales}, "resize", {Str("mode", mode)}));
    b.Output(b.Out(b.Add("GlobalAveragePool", {up}, "gap")));
    return Check(b.Take(), TestProfile());
  };
  EXPECT_EQ(Fired(model("linear", 4), "op.cpu-fallback"), Strings{"warning resize"});
  EXPECT_TRUE(Of(model("nearest", 4), "op.cpu-fallback").empty());  // gap 8x8 = 64
  EXPECT_EQ(Fired(model("nearest", 8), "op.cpu-fallback"), Strings{"warning gap"});
}

TEST(ControlFlow, IfOnATargetWithout) {
  ModelBuilder b(13);
  Value* cond = b.Input("cond", {1}, DataType::kBool);
  auto branch = [&](const char* name, float v) {
    auto g = std::make_shared<Graph>(&b.graph());
    g->name = name;
    Value* out = *g->CreateValue(std::string(name) + "_value");
    out->type() = TypeInfo::Tensor(DataType::kFloat, {1});
    g->SetInitializer(out, FloatTensor({1}, v));
    g->AddOutput(out);
    Attribute a;
    a.name = std::string(name) + "_branch";
    a.type = AttrType::kGraph;
    a.graphs = {g};
    return a;
  };
  Node* n = b.Add("If", {cond}, "if", {branch("then", 1), branch("else", 2)});
  b.Output(b.Out(n));
  CheckReport r = Check(b.Take(), TestProfile());
  EXPECT_EQ(Fired(r, "graph.control-flow"), Strings{"violation if"}) << Dump(r);
  EXPECT_TRUE(Of(r, "op.unsupported").empty()) << Dump(r);  // reported once
  EXPECT_TRUE(Of(Check(ReluModel(13), TestProfile()), "graph.control-flow").empty());
}

// ---- dtypes -----------------------------------------------------------------------------------

TEST(DtypeUnsupported, DataTensorsButNotIndices) {
  ModelBuilder b(13);
  Value* a = b.Input("a", {1, 4}, DataType::kInt64);
  Value* c = b.Input("c", {1, 4}, DataType::kDouble);
  Value* x = b.Input("x", {1, 4});
  b.Output(b.Out(b.Add("Add", {a, a}, "add")));
  b.Output(b.Out(b.Add("Relu", {c}, "relu")));
  b.Output(b.Out(b.Add("Gather", {x, b.Ints("idx", {1})}, "gather", {Int("axis", 1)})));
  CheckReport r = Check(b.Take(), TestProfile());
  auto f = Of(r, "dtype.unsupported");
  ASSERT_EQ(f.size(), 2u) << Dump(r);
  Strings names;
  for (const Finding& x : f)
    for (const FindingValue& v : x.values) names.push_back(v.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (Strings{"a", "add_out", "c", "relu_out"}));
  EXPECT_TRUE(Of(Check(ReluModel(13), TestProfile()), "dtype.unsupported").empty());
}

// ---- QDQ ----------------------------------------------------------------------------------------

struct QdqOptions {
  DataType weight_type = DataType::kInt8;
  int64_t weight_zero_point = 0;
  bool per_tensor = false;
  int64_t weight_axis = 0;
  bool activation_uint8 = false;
  bool no_zero_point = false;
  bool float_bias = false;
  float first_scale = 0.02f;
  bool hybrid = false;
};

Model QdqModel(const QdqOptions& o) {
  ModelBuilder b(13);
  Value* x = b.Input("x", {1, 3, 4, 4});
  Value* sx = b.Initializer("sx", FloatTensor({}, 0.1f));
  Value* zx = b.Initializer(
      "zx", IntTensor({0}, o.activation_uint8 ? DataType::kUint8 : DataType::kInt8, {}));
  std::vector<Value*> q_in = {x, sx};
  if (!o.no_zero_point) q_in.push_back(zx);
  Value* q = b.Out(b.Add("QuantizeLinear", q_in, "qx"));
  Value* dq = b.Out(
      b.Add("DequantizeLinear",
            q_in.size() == 3 ? std::vector<Value*>{q, sx, zx} : std::vector<Value*>{q, sx}, "dqx"));
  int64_t channels = o.weight_axis == 0 ? 4 : 3;
  Value* w =
      b.Initializer("w", IntTensor(std::vector<int64_t>(12, 1), o.weight_type, {4, 3, 1, 1}));
  std::vector<float> scales(o.per_tensor ? 1 : channels, 0.02f);
  scales[0] = o.first_scale;
  Value* sw = b.Initializer(
      "sw",
      Tensor::FromVector<float>(DataType::kFloat, {static_cast<int64_t>(scales.size())}, scales));
  std::vector<int64_t> zps(scales.size(), o.weight_zero_point);
  Value* zw =
      b.Initializer("zw", IntTensor(zps, o.weight_type, {static_cast<int64_t>(zps.size())}));
  Value* dqw = b.Out(b.Add("DequantizeLinear", {w, sw, zw}, "dqw", {Int("axis", o.weight_axis)}));
  Value* bias;
  if (o.float_bias) {
    bias = b.Floats("b", {4}, 0.1f);
  } else {
    Value* bq = b.Initializer("b", IntTensor({1, 2, 3, 4}, DataType::kInt32, {4}));
    Value* sb = b.Initializer("sb", FloatTensor({4}, 0.002f));
    bias = b.Out(b.Add("DequantizeLinear", {bq, sb}, "dqb", {Int("axis", 0)}));
  }
  Value* conv = b.Out(b.Add("Conv", {dq, dqw, bias}, "conv"));
  Value* out = conv;
  if (o.hybrid) out = b.Out(b.Add("Add", {dq, b.Floats("plain", {1, 3, 4, 4})}, "add"));
  b.Output(out);
  return b.Take();
}

Strings QdqFired(const QdqOptions& o) {
  CheckReport r = Check(QdqModel(o), TestProfile());
  Strings out;
  for (const Finding& f : r.findings)
    if (f.rule.rfind("qdq.", 0) == 0)
      out.push_back(f.rule + " " + SeverityName(f.severity) + " " + f.node);
  return out;
}

TEST(Qdq, AWellFormedModelHasNoQdqFindings) {
  EXPECT_EQ(QdqFired({}), Strings{});
  // ... and a float model is only noted (the target takes INT8 QDQ).
  EXPECT_EQ(Fired(Check(ReluModel(13), TestProfile()), "qdq.float-model"), Strings{"info "});
}

TEST(Qdq, WeightDtypeAndZeroPoint) {
  QdqOptions uint8_weights;
  uint8_weights.weight_type = DataType::kUint8;
  EXPECT_EQ(QdqFired(uint8_weights), Strings{"qdq.weight-dtype violation conv"});
  QdqOptions zero_point;
  zero_point.weight_zero_point = 3;
  EXPECT_EQ(QdqFired(zero_point), Strings{"qdq.weight-zero-point violation conv"});
}

TEST(Qdq, PerChannelAxis) {
  QdqOptions wrong_axis;
  wrong_axis.weight_axis = 1;  // 3 scales on the input-channel axis
  EXPECT_EQ(QdqFired(wrong_axis), Strings{"qdq.per-channel-axis violation conv"});
  QdqOptions per_tensor;  // the test profile does not accept per-tensor weights
  per_tensor.per_tensor = true;
  EXPECT_EQ(QdqFired(per_tensor), Strings{"qdq.per-channel-axis violation conv"});
}

TEST(Qdq, ActivationDtype) {
  QdqOptions u8;
  u8.activation_uint8 = true;
  EXPECT_EQ(QdqFired(u8), Strings{"qdq.activation-dtype violation qx"});
  QdqOptions no_zp;  // QuantizeLinear without a zero point produces uint8
  no_zp.no_zero_point = true;
  EXPECT_EQ(QdqFired(no_zp), Strings{"qdq.activation-dtype violation qx"});
}

TEST(Qdq, BiasScaleAndHybrid) {
  QdqOptions bias;
  bias.float_bias = true;
  EXPECT_EQ(QdqFired(bias), Strings{"qdq.bias-dtype violation conv"});
  QdqOptions scale;
  scale.first_scale = 0.0f;
  EXPECT_EQ(QdqFired(scale), Strings{"qdq.scale violation dqw"});
  QdqOptions hybrid;
  hybrid.hybrid = true;
  EXPECT_EQ(QdqFired(hybrid), Strings{"qdq.hybrid warning add"});
}

// ---- graph ----------------------------------------------------------------------------------

TEST(DanglingOutput, UnreadOutputsAndDeadNodes) {
  ModelBuilder b(13);
  Value* x = b.Input("x", {1, 2, 4, 4});
  Node* pool = b.Add("MaxPool", {x}, "pool", {Ints("kernel_shape", {2, 2})}, 2);
  b.Add("Relu", {x}, "dead");
  b.Output(b.Out(pool, 0));
  CheckReport r = Check(b.Take(), TestProfile());
  EXPECT_EQ(Fired(r, "graph.dangling-output"), (Strings{"warning pool", "warning dead"}))
      << Dump(r);
  EXPECT_EQ(Of(r, "graph.dangling-output")[0].fixed_by, "eliminate-dead");
  EXPECT_TRUE(Of(Check(ReluModel(13), TestProfile()), "graph.dangling-output").empty());
}

TEST(ConstantSubgraph, ShapeChainsAreListedOnce) {
  ModelBuilder b(13);
  Value* x = b.Input("x", {-1, 4});
  Value* s = b.Out(b.Add("Shape", {x}, "shape"));
  b.Output(b.Out(b.Add("Reshape", {x, s}, "reshape")));
  CheckReport r = Check(b.Take(), TestProfile());
  auto f = Of(r, "graph.constant-subgraph");
  ASSERT_EQ(f.size(), 1u) << Dump(r);
  EXPECT_NE(f[0].message.find("'shape'"), std::string::npos);
  EXPECT_EQ(f[0].fixed_by, "fold-constants");
  EXPECT_TRUE(Of(Check(ReluModel(13), TestProfile()), "graph.constant-subgraph").empty());
}

TEST(ShapesIncomplete, DynamicNonBatchDims) {
  CheckReport r = Check(ReluModel(13, {1, -1}), TestProfile());
  auto f = Of(r, "shapes.incomplete");
  ASSERT_EQ(f.size(), 1u) << Dump(r);
  EXPECT_NE(f[0].message.find("dynamic dims other than the batch"), std::string::npos)
      << f[0].message;
  EXPECT_TRUE(Of(Check(ReluModel(13), TestProfile()), "shapes.incomplete").empty());
}

TEST(ShapesIncomplete, MissingKernelFallsBackToOnnxInference) {
  ModelBuilder b(13);
  Value* x = b.Input("x", {-1, 4});
  Node* custom = b.Add("Foo", {x}, "foo");
  custom->set_domain("com.example");
  Value* s = b.Out(b.Add("Shape", {x}, "shape"));
  b.Output(b.Out(b.Add("Reshape", {b.Out(custom), s}, "reshape")));
  Model m = b.Take();
  m.opset_imports.push_back({"com.example", 1});
  CheckReport r = Check(m, TestProfile());
  auto f = Of(r, "shapes.incomplete");
  ASSERT_EQ(f.size(), 1u) << Dump(r);
  EXPECT_NE(f[0].message.find("executor could not complete them"), std::string::npos)
      << f[0].message;
  // What ONNX inference found is still used: the dynamic input is reported.
  EXPECT_EQ(Fired(r, "dims.dynamic"), Strings{"violation x"});
}

// ---- provenance -----------------------------------------------------------------------------

TEST(Provenance, AssumedViolationsAreWarnings) {
  std::string json = TestProfileJson();
  auto at = json.find("\"max_rank\"");
  auto status = json.find("\"documented\"", at);
  json.replace(status, 12, "\"assumed\"");
  auto profile = ParseTargetProfile(json, "assumed.json");
  ASSERT_TRUE(profile.ok()) << profile.status().ToString();
  CheckReport r = Check(RankModel({1, 2, 2, 2, 2, 4}), *profile);
  auto f = Of(r, "rank.max");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kWarning);
  EXPECT_EQ(f[0].source_status, FactStatus::kAssumed);
  EXPECT_NE(f[0].message.find("assumed by edgefit"), std::string::npos);
}

}  // namespace
}  // namespace edgefit::testing
