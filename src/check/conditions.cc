// Evaluation of profile op conditions (docs/targets.md, "Op conditions").
//
// A condition has one subject (an attribute, an input, the batch axis, the spatial size, a list
// of alternatives, or a manual note) and tests on it. Every test is three-valued: a test that
// needs a shape or value edgefit does not know gives kUnknown, which the rules report as an
// "info" for review rather than a violation.
#include "check/conditions.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "check/context.h"
#include "check/op_roles.h"

namespace edgefit {
namespace {

// One number as FormatNumbers writes it, without brackets.
std::string Scalar(double v) {
  std::string s = FormatNumbers({v});
  return s.substr(1, s.size() - 2);
}

// The value a condition's tests look at.
struct Subject {
  enum class Kind { kAbsent, kString, kNumbers, kUnknown };
  Kind kind = Kind::kAbsent;
  std::string text;
  std::vector<double> numbers;
  bool is_list = false;
  std::string why;  // kAbsent / kUnknown: the reason, for messages

  static Subject Number(double v) {
    Subject s;
    s.kind = Kind::kNumbers;
    s.numbers = {v};
    return s;
  }
  static Subject List(std::vector<double> v) {
    Subject s;
    s.kind = Kind::kNumbers;
    s.numbers = std::move(v);
    s.is_list = true;
    return s;
  }
  static Subject Text(std::string t) {
    Subject s;
    s.kind = Kind::kString;
    s.text = std::move(t);
    return s;
  }
  static Subject Unknown(std::string why) {
    Subject s;
    s.kind = Kind::kUnknown;
    s.why = std::move(why);
    return s;
  }
  static Subject Absent(std::string why) {
    Subject s;
    s.kind = Kind::kAbsent;
    s.why = std::move(why);
    return s;
  }

  std::string ToString() const {
    switch (kind) {
      case Kind::kString: return text;
      case Kind::kNumbers:
        if (is_list || numbers.size() != 1) return FormatNumbers(numbers);
        return Scalar(numbers[0]);
      default: return "?";
    }
  }
};

std::string ValueText(const ConditionValue& v) {
  if (std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
  const auto& n = std::get<std::vector<double>>(v);
  return n.size() == 1 ? Scalar(n[0]) : FormatNumbers(n);
}

std::string ValuesText(const std::vector<ConditionValue>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + ValueText(values[i]);
  return out + "]";
}

std::string BoundText(const std::vector<double>& b) {
  return b.size() == 1 ? Scalar(b[0]) : FormatNumbers(b);
}

bool NearlyEqual(double a, double b) {
  if (a == b) return true;
  if (std::isinf(a) || std::isinf(b) || std::isnan(a) || std::isnan(b)) return false;
  // Float attributes hold float32 values; profile numbers are doubles.
  return std::fabs(a - b) <= 1e-6 * std::max({1.0, std::fabs(a), std::fabs(b)});
}

// ---- Defaults -------------------------------------------------------------------------------

// Number of spatial axes of a Conv/pool node, or -1.
int SpatialRank(const CheckContext& ctx, const Node& node) {
  if (const Attribute* k = node.FindAttribute("kernel_shape"))
    return static_cast<int>(k->ints.size());
  const std::string& op = node.op_type();
  if ((op == "Conv" || op == "ConvTranspose") && node.input(1)) {
    int r = ctx.Rank(node.input(1));
    if (r >= 3) return r - 2;
  }
  if (node.input(0)) {
    int r = ctx.Rank(node.input(0));
    if (r >= 3) return r - 2;
  }
  return -1;
}

bool IsReduce(const std::string& op) { return op.rfind("Reduce", 0) == 0; }

// The ONNX default of an absent attribute at the node's opset; nullopt when it has none.
std::optional<Subject> AttrDefault(const CheckContext& ctx, const Node& node,
                                   const std::string& name) {
  const std::string& op = node.op_type();
  int64_t opset = ctx.Opset(node);
  auto ones = [&](int n, double v) -> Subject {
    if (n < 0) return Subject::Unknown("its default needs the number of spatial axes, not known");
    return Subject::List(std::vector<double>(static_cast<size_t>(n), v));
  };
  if (name == "dilations" || name == "strides") return ones(SpatialRank(ctx, node), 1);
  if (name == "pads") {
    int sr = SpatialRank(ctx, node);
    return ones(sr < 0 ? -1 : 2 * sr, 0);
  }
  if (name == "output_padding") return ones(SpatialRank(ctx, node), 0);
  if (name == "kernel_shape") {
    if ((op == "Conv" || op == "ConvTranspose") && node.input(1)) {
      auto w = ctx.StaticShape(node.input(1));
      if (!w || w->size() < 3) return Subject::Unknown("the weight shape is not known");
      std::vector<double> k(w->begin() + 2, w->end());
      return Subject::List(std::move(k));
    }
    return std::nullopt;
  }
  if (name == "group") return Subject::Number(1);
  if (name == "auto_pad") return Subject::Text("NOTSET");
  if (name == "ceil_mode" || name == "count_include_pad" || name == "storage_order")
    return Subject::Number(0);
  if (name == "axis") {
    if (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax")
      return Subject::Number(opset < 13 ? 1 : -1);
    if (op == "Gather" || op == "GatherElements" || op == "ScatterElements" || op == "Split" ||
        op == "ArgMax" || op == "ArgMin")
      return Subject::Number(0);
    if (op == "Flatten" || op == "QuantizeLinear" || op == "DequantizeLinear")
      return Subject::Number(1);
    if (op == "LayerNormalization" || op == "TopK" || op == "OneHot") return Subject::Number(-1);
    return std::nullopt;
  }
  if (name == "keepdims") return Subject::Number(1);
  if (name == "noop_with_empty_axes" || name == "select_last_index") return Subject::Number(0);
  if (name == "mode") {
    if (op == "Resize" || op == "Upsample") return Subject::Text("nearest");
    if (op == "Pad") return Subject::Text("constant");
    if (op == "DepthToSpace") return Subject::Text("DCR");
    if (op == "GridSample") return Subject::Text(opset >= 20 ? "linear" : "bilinear");
    return std::nullopt;
  }
  if (op == "Resize" || op == "Upsample") {
    // Resize-10 and Upsample have no such attributes; they behave as asymmetric / floor.
    if (name == "coordinate_transformation_mode")
      return Subject::Text(op == "Resize" && opset >= 11 ? "half_pixel" : "asymmetric");
    if (name == "nearest_mode")
      return Subject::Text(op == "Resize" && opset >= 11 ? "round_prefer_floor" : "floor");
    if (name == "cubic_coeff_a") return Subject::Number(-0.75);
    if (name == "exclude_outside" || name == "extrapolation_value" || name == "antialias")
      return Subject::Number(0);
    if (name == "keep_aspect_ratio_policy") return Subject::Text("stretch");
  }
  if (name == "allowzero" || name == "layout" || name == "training_mode" || name == "batch_dims" ||
      name == "linear_before_reset" || name == "input_forget" || name == "transA" ||
      name == "transB")
    return Subject::Number(0);
  if (name == "saturate" || name == "largest" || name == "sorted" || name == "spatial" ||
      name == "detect_negative" || name == "detect_positive")
    return Subject::Number(1);
  if (name == "alpha") {
    if (op == "Gemm" || op == "Elu" || op == "Celu" || op == "ThresholdedRelu")
      return Subject::Number(1.0);
    if (op == "LeakyRelu") return Subject::Number(0.01);
    if (op == "HardSigmoid") return Subject::Number(0.2);
    if (op == "Selu") return Subject::Number(1.67326319217681884765625);
    return std::nullopt;
  }
  if (name == "beta") {
    if (op == "Gemm") return Subject::Number(1.0);
    if (op == "HardSigmoid") return Subject::Number(0.5);
    return std::nullopt;
  }
  if (op == "Clip" && opset < 11) {
    if (name == "min") return Subject::Number(-std::numeric_limits<float>::max());
    if (name == "max") return Subject::Number(std::numeric_limits<float>::max());
  }
  if (name == "perm" && op == "Transpose") {
    int r = node.input(0) ? ctx.Rank(node.input(0)) : -1;
    if (r < 0) return Subject::Unknown("its default needs the input rank, not known");
    std::vector<double> perm;
    for (int i = r - 1; i >= 0; --i) perm.push_back(i);
    return Subject::List(std::move(perm));
  }
  if (name == "epsilon") return Subject::Number(1e-5);
  if (name == "momentum") return Subject::Number(0.9);
  if (name == "direction") return Subject::Text("forward");
  if (name == "reduction") return Subject::Text("none");
  return std::nullopt;
}

// The value an absent optional input takes (docs/targets.md: Pad pads with 0, Slice steps are 1,
// Clip min/max are unbounded); nullopt when the operator defines none.
std::optional<Subject> InputDefault(const CheckContext& ctx, const Node& node, int index) {
  const std::string& op = node.op_type();
  int64_t opset = ctx.Opset(node);
  if (op == "Pad" && opset >= 11 && index == 2) return Subject::Number(0);
  if (op == "Slice" && opset >= 10 && index == 4) return Subject::Number(1);
  if (op == "Clip" && opset >= 11) {
    if (index == 1) return Subject::Number(-std::numeric_limits<double>::infinity());
    if (index == 2) return Subject::Number(std::numeric_limits<double>::infinity());
  }
  return std::nullopt;
}

Subject AttrSubject(const CheckContext& ctx, const Node& node, const std::string& name) {
  const Attribute* a = node.FindAttribute(name);
  if (a == nullptr) {
    std::optional<Subject> d = AttrDefault(ctx, node, name);
    if (d) return *d;
    return Subject::Absent("attribute " + name + " is absent and has no default");
  }
  switch (a->type) {
    case AttrType::kInt: return Subject::Number(static_cast<double>(a->i));
    case AttrType::kFloat: return Subject::Number(a->f);
    case AttrType::kString: return Subject::Text(a->s);
    case AttrType::kInts: return Subject::List(std::vector<double>(a->ints.begin(), a->ints.end()));
    case AttrType::kFloats:
      return Subject::List(std::vector<double>(a->floats.begin(), a->floats.end()));
    default: return Subject::Unknown("attribute " + name + " is of type " + AttrTypeName(a->type));
  }
}

Subject InputSubject(const CheckContext& ctx, const Node& node, int index) {
  const Value* v = node.input(static_cast<size_t>(index));
  if (v == nullptr) {
    std::optional<Subject> d = InputDefault(ctx, node, index);
    if (d) return *d;
    return Subject::Absent("input " + std::to_string(index) + " is absent");
  }
  std::optional<std::vector<double>> numbers = ctx.ConstantNumbers(v);
  if (numbers) {
    Subject s = Subject::List(std::move(*numbers));
    s.is_list = ctx.Rank(v) != 0;
    return s;
  }
  if (ctx.IsFoldable(v))
    return Subject::Unknown("input " + std::to_string(index) +
                            " is computed from constants; its value is not known");
  return Subject::Unknown("input " + std::to_string(index) + " is computed at run time");
}

// ---- Tests ----------------------------------------------------------------------------------

Tri Equals(const Subject& s, const ConditionValue& value) {
  if (std::holds_alternative<std::string>(value))
    return s.kind == Subject::Kind::kString && s.text == std::get<std::string>(value) ? Tri::kHolds
                                                                                      : Tri::kFails;
  if (s.kind != Subject::Kind::kNumbers) return Tri::kFails;
  const auto& want = std::get<std::vector<double>>(value);
  if (want.size() == 1) {
    for (double x : s.numbers)
      if (!NearlyEqual(x, want[0])) return Tri::kFails;
    return Tri::kHolds;
  }
  if (!s.is_list || s.numbers.size() != want.size()) return Tri::kUnknown;
  for (size_t i = 0; i < want.size(); ++i)
    if (!NearlyEqual(s.numbers[i], want[i])) return Tri::kFails;
  return Tri::kHolds;
}

// Every element >= (is_min) or <= the bound(s).
Tri Bound(const Subject& s, const std::vector<double>& bound, bool is_min) {
  if (s.kind != Subject::Kind::kNumbers) return Tri::kFails;
  auto ok = [&](double x, double b) { return is_min ? x >= b : x <= b; };
  if (bound.size() == 1) {
    for (double x : s.numbers)
      if (!ok(x, bound[0])) return Tri::kFails;
    return Tri::kHolds;
  }
  if (!s.is_list || s.numbers.size() != bound.size()) return Tri::kUnknown;
  for (size_t i = 0; i < bound.size(); ++i)
    if (!ok(s.numbers[i], bound[i])) return Tri::kFails;
  return Tri::kHolds;
}

// Runs the value tests (equals, in, not_in, min, max) on a known subject.
ConditionOutcome ValueTests(const Subject& s, const OpCondition& c, const std::string& what) {
  ConditionOutcome out{Tri::kHolds, ""};
  auto step = [&](Tri r, const std::string& detail) {
    if (r == Tri::kFails && out.result != Tri::kFails) {
      out.result = Tri::kFails;
      out.detail = detail;
    } else if (r == Tri::kUnknown && out.result == Tri::kHolds) {
      out.result = Tri::kUnknown;
      out.detail = detail;
    }
  };
  std::string seen = what + " is " + s.ToString();
  if (c.equals) {
    Tri r = Equals(s, *c.equals);
    step(r,
         r == Tri::kUnknown ? seen + " (length differs from " + ValueText(*c.equals) + ")" : seen);
  }
  if (!c.in.empty()) {
    Tri r = Tri::kFails;
    for (const auto& v : c.in) {
      Tri e = Equals(s, v);
      if (e == Tri::kHolds) r = Tri::kHolds;
      if (e == Tri::kUnknown && r == Tri::kFails) r = Tri::kUnknown;
    }
    step(r, seen);
  }
  if (!c.not_in.empty()) {
    Tri r = Tri::kHolds;
    for (const auto& v : c.not_in) {
      Tri e = Equals(s, v);
      if (e == Tri::kHolds) r = Tri::kFails;
      if (e == Tri::kUnknown && r == Tri::kHolds) r = Tri::kUnknown;
    }
    step(r, seen);
  }
  if (!c.min.empty()) step(Bound(s, c.min, true), seen);
  if (!c.max.empty()) step(Bound(s, c.max, false), seen);
  return out;
}

bool HasValueTests(const OpCondition& c) {
  return c.equals || !c.in.empty() || !c.not_in.empty() || !c.min.empty() || !c.max.empty();
}

void Combine(ConditionOutcome* out, const ConditionOutcome& part) {
  if (part.result == Tri::kFails && out->result != Tri::kFails) {
    *out = part;
  } else if (part.result == Tri::kUnknown && out->result == Tri::kHolds) {
    *out = part;
  }
}

ConditionOutcome AttributeCondition(const CheckContext& ctx, const Node& node,
                                    const OpCondition& c) {
  ConditionOutcome out{Tri::kHolds, ""};
  bool present = node.HasAttribute(c.attr);
  if (c.present) {
    bool ok = present == *c.present;
    Combine(&out, {ok ? Tri::kHolds : Tri::kFails,
                   "attribute " + c.attr + (present ? " is present" : " is absent")});
  }
  if (!HasValueTests(c)) return out;
  Subject s = AttrSubject(ctx, node, c.attr);
  if (s.kind == Subject::Kind::kAbsent) {
    Combine(&out, {Tri::kFails, s.why});
  } else if (s.kind == Subject::Kind::kUnknown) {
    Combine(&out, {Tri::kUnknown, c.attr + ": " + s.why});
  } else {
    Combine(&out, ValueTests(s, c, c.attr));
  }
  return out;
}

ConditionOutcome InputCondition(const CheckContext& ctx, const Node& node, const OpCondition& c) {
  ConditionOutcome out{Tri::kHolds, ""};
  std::string name = "input " + std::to_string(c.input);
  const Value* v = node.input(static_cast<size_t>(c.input));
  if (c.present) {
    bool ok = (v != nullptr) == *c.present;
    Combine(&out, {ok ? Tri::kHolds : Tri::kFails, name + (v ? " is given" : " is absent")});
  }
  if (v == nullptr) {
    bool has_default = InputDefault(ctx, node, c.input).has_value();
    if (!has_default) {
      // Without a default, every test but "present" fails.
      if (HasValueTests(c) || c.constant || c.rank_min || c.rank_max || c.elements_max)
        Combine(&out, {Tri::kFails, name + " is absent"});
      return out;
    }
    if (c.constant) Combine(&out, {*c.constant ? Tri::kHolds : Tri::kFails, name + " is absent"});
    if (c.rank_min || c.rank_max || c.elements_max)
      Combine(&out, {Tri::kFails, name + " is absent"});
    if (HasValueTests(c)) Combine(&out, ValueTests(*InputDefault(ctx, node, c.input), c, name));
    return out;
  }
  if (c.constant) {
    // A DequantizeLinear of constants is a constant too: that is how QDQ models store weights.
    bool constant = ctx.IsFoldable(v);
    if (const Node* dq = DequantizeProducer(v); !constant && dq) {
      constant = true;
      for (const Value* in : dq->inputs())
        if (in && !ctx.IsFoldable(in)) constant = false;
    }
    Combine(&out, {constant == *c.constant ? Tri::kHolds : Tri::kFails,
                   name + " '" + v->name() + "' is " + (constant ? "constant" : "computed")});
  }
  if (c.rank_min || c.rank_max) {
    int r = ctx.Rank(v);
    if (r < 0) {
      Combine(&out, {Tri::kUnknown, "the rank of " + name + " '" + v->name() + "' is not known"});
    } else {
      bool ok = (!c.rank_min || r >= *c.rank_min) && (!c.rank_max || r <= *c.rank_max);
      Combine(&out, {ok ? Tri::kHolds : Tri::kFails,
                     name + " '" + v->name() + "' has rank " + std::to_string(r)});
    }
  }
  if (c.elements_max) {
    int64_t n = -1;
    if (auto shape = ctx.StaticShape(v)) n = NumElements(*shape);
    if (n < 0) {
      Combine(&out, {Tri::kUnknown, "the size of " + name + " '" + v->name() + "' is not known"});
    } else {
      Combine(&out, {n <= *c.elements_max ? Tri::kHolds : Tri::kFails,
                     name + " '" + v->name() + "' has " + std::to_string(n) + " elements"});
    }
  }
  if (HasValueTests(c)) {
    Subject s = InputSubject(ctx, node, c.input);
    if (s.kind == Subject::Kind::kUnknown) {
      Combine(&out, {Tri::kUnknown, s.why});
    } else {
      Combine(&out, ValueTests(s, c, name));
    }
  }
  return out;
}

// Axes as numbers: from an attribute or a constant input; nullopt + why when unknown.
std::optional<std::vector<int64_t>> AxesOf(const CheckContext& ctx, const Node& node,
                                           const std::string& attr, int input, std::string* why,
                                           bool* given) {
  *given = false;
  if (const Attribute* a = node.FindAttribute(attr)) {
    *given = true;
    return a->ints;
  }
  if (input >= 0 && node.input(static_cast<size_t>(input))) {
    *given = true;
    auto ints = ctx.ConstantInts(node.input(static_cast<size_t>(input)));
    if (!ints) *why = attr + " are computed at run time";
    return ints;
  }
  return std::vector<int64_t>{};
}

// Whether the node leaves axis 0 alone (docs/targets.md: touches_batch).
ConditionOutcome KeepsBatch(const CheckContext& ctx, const Node& node) {
  const std::string& op = node.op_type();
  int64_t opset = ctx.Opset(node);
  const Value* in0 = node.input(0);
  int rank = in0 ? ctx.Rank(in0) : -1;
  auto normalize = [&](int64_t axis, bool* known) {
    *known = true;
    if (axis < 0) {
      if (rank < 0) {
        *known = false;
        return axis;
      }
      axis += rank;
    }
    return axis;
  };
  auto unknown = [](const std::string& why) { return ConditionOutcome{Tri::kUnknown, why}; };

  if (op == "Concat" || op == "Split" || op == "Softmax" || op == "LogSoftmax" || op == "Hardmax" ||
      op == "Gather" || op == "GatherElements" || op == "Flatten" || op == "CumSum" ||
      op == "ArgMax" || op == "ArgMin") {
    Subject s = AttrSubject(ctx, node, "axis");
    if (s.kind != Subject::Kind::kNumbers || s.numbers.empty())
      return unknown("the axis is not known");
    bool known = false;
    int64_t axis = normalize(static_cast<int64_t>(s.numbers[0]), &known);
    if (!known) return unknown("axis " + s.ToString() + " needs the input rank, not known");
    return {axis == 0 ? Tri::kFails : Tri::kHolds, "axis is " + s.ToString()};
  }
  if (op == "Transpose") {
    Subject s = AttrSubject(ctx, node, "perm");
    if (s.kind != Subject::Kind::kNumbers) return unknown("the permutation is not known");
    if (s.numbers.empty()) return {Tri::kHolds, "perm is []"};
    return {s.numbers[0] == 0 ? Tri::kHolds : Tri::kFails, "perm is " + s.ToString()};
  }
  if (IsReduce(op)) {
    bool input_axes = (op == "ReduceSum" && opset >= 13) || opset >= 18;
    std::string why;
    bool given = false;
    auto axes = AxesOf(ctx, node, "axes", input_axes ? 1 : -1, &why, &given);
    if (!axes) return unknown(why);
    if (axes->empty()) {
      if (node.GetInt("noop_with_empty_axes", 0) != 0) return {Tri::kHolds, "no axes (no-op)"};
      return {Tri::kFails, "reduces every axis (no axes given)"};
    }
    for (int64_t a : *axes) {
      bool known = false;
      int64_t axis = normalize(a, &known);
      if (!known) return unknown("axes " + FormatInts(*axes) + " need the input rank, not known");
      if (axis == 0) return {Tri::kFails, "reduces axis 0 (axes " + FormatInts(*axes) + ")"};
    }
    return {Tri::kHolds, "axes " + FormatInts(*axes)};
  }
  if (op == "Pad") {
    std::optional<std::vector<int64_t>> pads;
    if (opset < 11) {
      pads = node.GetInts("pads");
    } else if (node.input(1)) {
      pads = ctx.ConstantInts(node.input(1));
    }
    if (!pads) return unknown("the pads are computed at run time");
    if (pads->empty() || pads->size() % 2 != 0) return unknown("the pads are malformed");
    size_t n = pads->size() / 2;
    size_t slot = 0;
    bool found = true;
    if (opset >= 18 && node.input(3)) {
      auto axes = ctx.ConstantInts(node.input(3));
      if (!axes) return unknown("the pad axes are computed at run time");
      found = false;
      for (size_t j = 0; j < axes->size(); ++j) {
        bool known = false;
        if (normalize((*axes)[j], &known) == 0 && known) {
          slot = j;
          found = true;
        }
      }
    }
    if (!found) return {Tri::kHolds, "axis 0 is not padded"};
    int64_t before = (*pads)[slot], after = (*pads)[slot + n];
    bool ok = before == 0 && after == 0;
    return {ok ? Tri::kHolds : Tri::kFails, "pads axis 0 by " + FormatInts({before, after})};
  }
  if (op == "Slice") {
    std::optional<std::vector<int64_t>> starts, ends, axes, steps;
    if (opset < 10) {
      starts = node.GetInts("starts");
      ends = node.GetInts("ends");
      axes = node.GetInts("axes");
    } else {
      starts = node.input(1) ? ctx.ConstantInts(node.input(1)) : std::nullopt;
      ends = node.input(2) ? ctx.ConstantInts(node.input(2)) : std::nullopt;
      axes = node.input(3) ? ctx.ConstantInts(node.input(3)) : std::vector<int64_t>{};
      steps = node.input(4) ? ctx.ConstantInts(node.input(4)) : std::vector<int64_t>{};
    }
    if (!starts || !ends || !axes || (opset >= 10 && !steps))
      return unknown("the slice bounds are computed at run time");
    if (axes->empty())
      for (size_t i = 0; i < starts->size(); ++i) axes->push_back(static_cast<int64_t>(i));
    for (size_t j = 0; j < axes->size() && j < starts->size() && j < ends->size(); ++j) {
      bool known = false;
      int64_t axis = normalize((*axes)[j], &known);
      if (!known) return unknown("the sliced axes need the input rank, not known");
      if (axis != 0) continue;
      int64_t step = steps && j < steps->size() ? (*steps)[j] : 1;
      auto shape = in0 ? ctx.StaticShape(in0) : std::nullopt;
      if (!shape || shape->empty()) return unknown("the size of axis 0 is not known");
      int64_t dim = (*shape)[0];
      int64_t start = (*starts)[j], end = (*ends)[j];
      bool full = step == 1 && (start == 0 || start <= -dim) && end >= dim;
      return {
          full ? Tri::kHolds : Tri::kFails,
          std::string("slices axis 0") + (full ? " whole" : " (size " + std::to_string(dim) + ")")};
    }
    return {Tri::kHolds, "axis 0 is not sliced"};
  }
  if (op == "Tile") {
    auto repeats = node.input(1) ? ctx.ConstantInts(node.input(1)) : std::nullopt;
    if (!repeats) return unknown("the repeats are computed at run time");
    if (repeats->empty()) return unknown("the repeats are empty");
    return {(*repeats)[0] == 1 ? Tri::kHolds : Tri::kFails,
            "repeats axis 0 x" + std::to_string((*repeats)[0])};
  }
  if (op == "DepthToSpace" || op == "SpaceToDepth") return {Tri::kHolds, "works on C, H, W"};
  // Expand and everything else: axis 0 must keep its size from input 0 to output 0.
  const Value* out0 = node.output(0);
  auto in_shape = in0 ? ctx.StaticShape(in0) : std::nullopt;
  auto out_shape = out0 ? ctx.StaticShape(out0) : std::nullopt;
  if (!in_shape || !out_shape) return unknown("the shapes around the node are not known");
  if (out_shape->empty()) return {Tri::kHolds, "the output is a scalar"};
  if (in_shape->size() != out_shape->size())
    return {(*out_shape)[0] == 1 ? Tri::kHolds : Tri::kFails,
            "output axis 0 has size " + std::to_string((*out_shape)[0])};
  bool same = (*in_shape)[0] == (*out_shape)[0];
  return {same ? Tri::kHolds : Tri::kFails, "axis 0 goes from " + std::to_string((*in_shape)[0]) +
                                                " to " + std::to_string((*out_shape)[0])};
}

}  // namespace

ConditionOutcome EvaluateCondition(const CheckContext& ctx, const Node& node,
                                   const OpCondition& c) {
  switch (c.subject) {
    case OpCondition::Subject::kManual: return {Tri::kUnknown, "check by hand: " + c.manual};
    case OpCondition::Subject::kAttribute: return AttributeCondition(ctx, node, c);
    case OpCondition::Subject::kInput: return InputCondition(ctx, node, c);
    case OpCondition::Subject::kTouchesBatch: return KeepsBatch(ctx, node);
    case OpCondition::Subject::kSpatialSizeMax: {
      const Value* in0 = node.input(0);
      auto shape = in0 ? ctx.StaticShape(in0) : std::nullopt;
      if (!shape || shape->size() < 2) return {Tri::kUnknown, "the input shape is not known"};
      int64_t size = 1;
      for (size_t i = 2; i < shape->size(); ++i) size *= (*shape)[i];
      return {size <= c.spatial_size_max ? Tri::kHolds : Tri::kFails,
              "spatial size is " + std::to_string(size)};
    }
    case OpCondition::Subject::kAnyOf: {
      std::vector<std::string> details;
      bool unknown = false;
      std::string unknown_detail;
      for (const auto& group : c.any_of) {
        ConditionOutcome g{Tri::kHolds, ""};
        std::string failed_part;
        for (const OpCondition& part : group) {
          ConditionOutcome r = EvaluateCondition(ctx, node, part);
          if (r.result == Tri::kFails && g.result != Tri::kFails)
            failed_part = DescribeCondition(part) + " (" + r.detail + ")";
          Combine(&g, r);
        }
        if (g.result == Tri::kHolds) return {Tri::kHolds, ""};
        if (g.result == Tri::kUnknown) {
          unknown = true;
          if (unknown_detail.empty()) unknown_detail = g.detail;
        } else {
          details.push_back(failed_part);
        }
      }
      if (unknown) return {Tri::kUnknown, unknown_detail};
      std::string detail = "no alternative holds: ";
      for (size_t i = 0; i < details.size(); ++i) detail += (i ? " | " : "") + details[i];
      return {Tri::kFails, detail};
    }
  }
  return {Tri::kUnknown, "unknown condition"};
}

NodePlacement EvaluatePlacement(const CheckContext& ctx, const Node& node) {
  NodePlacement p;
  if (!CheckContext::IsDefaultDomain(node)) return p;  // custom ops: never listed
  p.rule = ctx.profile().FindOp(node.op_type());
  if (p.rule == nullptr) return p;
  p.placement = p.rule->runs_on;
  if (p.placement == Placement::kUnsupported) return p;
  for (const OpCondition& c : p.rule->conditions) {
    if (c.subject == OpCondition::Subject::kManual) {
      p.manual.push_back(&c);
      continue;
    }
    ConditionOutcome r = EvaluateCondition(ctx, node, c);
    if (r.result == Tri::kFails) {
      p.failed.push_back({&c, r});
      if (c.on_fail == Placement::kUnsupported) p.placement = Placement::kUnsupported;
      if (c.on_fail == Placement::kCpu && p.placement == Placement::kNpu)
        p.placement = Placement::kCpu;
    } else if (r.result == Tri::kUnknown) {
      p.undecided.push_back({&c, r});
    }
  }
  return p;
}

std::string DescribeCondition(const OpCondition& c) {
  std::vector<std::string> tests;
  std::string subject;
  switch (c.subject) {
    case OpCondition::Subject::kManual: return c.manual;
    case OpCondition::Subject::kTouchesBatch: return "axis 0 (the batch) left alone";
    case OpCondition::Subject::kSpatialSizeMax:
      return "spatial size (H x W) <= " + std::to_string(c.spatial_size_max);
    case OpCondition::Subject::kAnyOf: {
      std::string out = "any of: ";
      for (size_t g = 0; g < c.any_of.size(); ++g) {
        out += g ? " | (" : "(";
        for (size_t i = 0; i < c.any_of[g].size(); ++i)
          out += (i ? ", " : "") + DescribeCondition(c.any_of[g][i]);
        out += ")";
      }
      return out;
    }
    case OpCondition::Subject::kAttribute: subject = c.attr; break;
    case OpCondition::Subject::kInput: subject = "input " + std::to_string(c.input); break;
  }
  if (c.present) tests.push_back(*c.present ? "given" : "absent");
  if (c.constant) tests.push_back(*c.constant ? "constant" : "computed");
  if (c.equals) tests.push_back("= " + ValueText(*c.equals));
  if (!c.in.empty()) tests.push_back("in " + ValuesText(c.in));
  if (!c.not_in.empty()) tests.push_back("not in " + ValuesText(c.not_in));
  if (!c.min.empty()) tests.push_back(">= " + BoundText(c.min));
  if (!c.max.empty()) tests.push_back("<= " + BoundText(c.max));
  if (c.rank_min) tests.push_back("rank >= " + std::to_string(*c.rank_min));
  if (c.rank_max) tests.push_back("rank <= " + std::to_string(*c.rank_max));
  if (c.elements_max) tests.push_back("at most " + std::to_string(*c.elements_max) + " elements");
  std::string out = subject;
  for (size_t i = 0; i < tests.size(); ++i) out += (i ? ", " : " ") + tests[i];
  return out;
}

}  // namespace edgefit
