// Kernel family: shape ops. Constant, Identity, Dropout (inference), Reshape, Flatten, Squeeze,
// Unsqueeze, Shape, Size, ConstantOfShape, EyeLike, Range.
//
// Ops that only change a shape (Identity, Reshape, Flatten, Squeeze, Unsqueeze, inference
// Dropout) return views of their input (KernelContext::OutputView): no bytes are copied.
#include <cmath>
#include <limits>
#include <set>

#include "runtime/kernels/data_movement.h"
#include "runtime/kernels/families.h"

namespace edgefit {
namespace {

using namespace datamove;

std::string Str(int64_t v) { return std::to_string(v); }

// ------------------------------------------------------------------------------- Constant

class ConstantKernel : public Kernel {
 public:
  explicit ConstantKernel(Tensor value) : value_(std::move(value)) {}
  Status Run(KernelContext& ctx) override { return ctx.SetOutput(0, value_); }

 private:
  Tensor value_;
};

StatusOr<std::unique_ptr<Kernel>> MakeConstant(const KernelInit& init) {
  Tensor value;
  int found = 0;
  for (const Attribute& a : init.node.attributes()) {
    const std::string& n = a.name;
    bool typed_form = n == "value_float" || n == "value_floats" || n == "value_int" ||
                      n == "value_ints" || n == "value_string" || n == "value_strings";
    if (n != "value" && n != "sparse_value" && !typed_form) continue;
    ++found;
    if (n == "sparse_value") return init.Unsupported("the sparse_value form is not supported");
    if (typed_form && init.opset < 12)
      return init.Invalid("attribute '" + n + "' needs opset 12 or later");
    if (n == "value") {
      if (a.type != AttrType::kTensor || a.tensors.size() != 1)
        return init.Invalid("attribute 'value' must be a tensor");
      value = a.tensors[0].tensor;
      if (!IsMovable(value.dtype()))
        return init.Unsupported(std::string("a value of dtype ") + DataTypeName(value.dtype()));
    } else if (n == "value_float") {
      value = Tensor::Scalar(a.f);
    } else if (n == "value_floats") {
      value = Tensor::FromVector<float>(DataType::kFloat, {static_cast<int64_t>(a.floats.size())},
                                        a.floats);
    } else if (n == "value_int") {
      value = Tensor::FromVector<int64_t>(DataType::kInt64, {}, {a.i});
    } else if (n == "value_ints") {
      value = Tensor::FromVector<int64_t>(DataType::kInt64, {static_cast<int64_t>(a.ints.size())},
                                          a.ints);
    } else if (n == "value_string") {
      value = Tensor(DataType::kString, {});
      value.strings()[0] = a.s;
    } else {  // value_strings
      value = Tensor(DataType::kString, {static_cast<int64_t>(a.strings.size())});
      value.strings() = a.strings;
    }
  }
  if (found != 1)
    return init.Invalid(
        "needs exactly one of the attributes value, sparse_value, value_float(s), "
        "value_int(s), value_string(s); found " +
        std::to_string(found));
  return std::unique_ptr<Kernel>(new ConstantKernel(std::move(value)));
}

// ------------------------------------------------------------------------------- Identity

StatusOr<std::unique_ptr<Kernel>> MakeIdentity(const KernelInit& init) {
  RETURN_IF_ERROR(RequireTensorInputs(init));
  return SimpleKernel([](KernelContext& ctx) -> Status {
    return ctx.OutputView(0, 0, ctx.input(0)->shape());
  })(init);
}

// ------------------------------------------------------------------------------- Dropout

// Inference only: output = input (a view), mask = all true. Training mode with a non-zero ratio
// (random dropout) is unsupported.
class DropoutKernel : public Kernel {
 public:
  explicit DropoutKernel(int64_t opset) : opset_(opset) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    if (opset_ >= 12 && ctx.input(2) && ctx.input(2)->numel() > 0) {
      bool training = ctx.input(2)->ToDoubleVector()[0] != 0;
      double ratio = 0.5;
      if (ctx.input(1) && ctx.input(1)->numel() > 0) ratio = ctx.input(1)->ToDoubleVector()[0];
      if (training && ratio != 0)
        return Unsupported(ctx.node_description() + ": training-mode Dropout with ratio " +
                           std::to_string(ratio) +
                           " (random) is not supported; only inference or ratio 0");
    }
    RETURN_IF_ERROR(ctx.OutputView(0, 0, x.shape()));
    if (ctx.num_outputs() > 1 && ctx.output_wanted(1)) {
      // Opset 7-9: the mask has the input's type; from 10 it is bool.
      DataType mask_type = opset_ >= 10 ? DataType::kBool : x.dtype();
      ASSIGN_OR_RETURN(Tensor * mask, ctx.Output(1, mask_type, x.shape()));
      if (mask_type == DataType::kBool) {
        std::memset(mask->raw(), 1, mask->nbytes());
      } else {
        size_t elem = DataTypeSize(mask_type);
        auto* p = static_cast<uint8_t*>(mask->raw());
        for (int64_t i = 0; i < mask->numel(); ++i)
          if (!StoreNumber(mask_type, p + i * elem, 1.0))
            return ctx.Error(std::string("mask of dtype ") + DataTypeName(mask_type));
      }
    }
    return Status::Ok();
  }

 private:
  int64_t opset_;
};

StatusOr<std::unique_ptr<Kernel>> MakeDropout(const KernelInit& init) {
  if (init.opset >= 12) {
    const Tensor* mode = init.constant(2);
    if (mode && mode->numel() > 0 && mode->ToDoubleVector()[0] != 0) {
      const Tensor* ratio = init.constant(1);
      bool zero_ratio = ratio && ratio->numel() > 0 && ratio->ToDoubleVector()[0] == 0;
      if (!zero_ratio && (ratio || !init.has_input(1)))
        return init.Unsupported("training-mode Dropout (random) is not supported");
    }
  }
  DataType t = DeclaredType(init, 0);
  if (init.opset < 10 && init.num_outputs > 1 && t != DataType::kUndefined && !IsNumberType(t))
    return init.Unsupported(std::string("mask of dtype ") + DataTypeName(t));
  return std::unique_ptr<Kernel>(new DropoutKernel(init.opset));
}

// ------------------------------------------------------------------------------- Reshape

class ReshapeKernel : public Kernel {
 public:
  explicit ReshapeKernel(bool allowzero) : allowzero_(allowzero) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    ASSIGN_OR_RETURN(std::vector<int64_t> spec, ReadInts(ctx, 1, "shape"));
    Shape out(spec.size());
    int infer = -1;
    bool has_zero = false;
    int64_t known = 1;
    for (size_t i = 0; i < spec.size(); ++i) {
      int64_t s = spec[i];
      if (s == -1) {
        if (infer >= 0) return ctx.Error("shape " + IntsToString(spec) + " has more than one -1");
        infer = static_cast<int>(i);
        continue;
      }
      if (s == 0) {
        has_zero = true;
        if (!allowzero_) {
          if (i >= x.rank())
            return ctx.Error("shape " + IntsToString(spec) + " copies dim " + Str(i) +
                             " (0) but the input " + ShapeToString(x.shape()) + " has rank " +
                             Str(x.rank()));
          s = x.dim(i);
        }
      }
      if (s < 0) return ctx.Error("shape " + IntsToString(spec) + " has a negative dim");
      out[i] = s;
      if (s != 0 && known > (int64_t{1} << 62) / s)
        return ctx.Error("shape " + IntsToString(spec) + " is too large");
      known *= s;
    }
    if (allowzero_ && has_zero && infer >= 0)
      return ctx.Error("shape " + IntsToString(spec) + " has both 0 and -1 with allowzero=1");
    if (infer >= 0) {
      if (known == 0 || x.numel() % known != 0)
        return ctx.Error("cannot reshape " + ShapeToString(x.shape()) + " to " +
                         IntsToString(spec));
      out[infer] = x.numel() / known;
    }
    if (NumElements(out) != x.numel())
      return ctx.Error("cannot reshape " + ShapeToString(x.shape()) + " (" + Str(x.numel()) +
                       " elements) to " + IntsToString(spec) + " = " + ShapeToString(out));
    return ctx.OutputView(0, 0, out);
  }

 private:
  bool allowzero_;
};

StatusOr<std::unique_ptr<Kernel>> MakeReshape(const KernelInit& init) {
  bool allowzero = init.opset >= 14 && init.node.GetInt("allowzero", 0) != 0;
  if (const Tensor* c = init.constant(1)) {
    auto spec = c->ToInt64Vector();
    if (!spec.ok()) return init.Invalid("shape: " + spec.status().message());
    if (std::count(spec->begin(), spec->end(), int64_t{-1}) > 1)
      return init.Invalid("shape " + IntsToString(*spec) + " has more than one -1");
    for (int64_t s : *spec)
      if (s < -1) return init.Invalid("shape " + IntsToString(*spec) + " has a negative dim");
  }
  return std::unique_ptr<Kernel>(new ReshapeKernel(allowzero));
}

// ------------------------------------------------------------------------------- Flatten

StatusOr<std::unique_ptr<Kernel>> MakeFlatten(const KernelInit& init) {
  int64_t axis = init.node.GetInt("axis", 1);
  if (axis < 0 && init.opset < 11) return init.Invalid("negative axis needs opset 11 or later");
  return SimpleKernel([axis](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.input(0);
    int64_t r = static_cast<int64_t>(x.rank());
    int64_t a = axis;
    if (a < -r || a > r)
      return ctx.Error("axis " + Str(axis) + " is out of range [" + Str(-r) + ", " + Str(r) +
                       "] for rank " + Str(r));
    if (a < 0) a += r;
    Shape s = x.shape();
    return ctx.OutputView(0, 0, {Product(s, 0, a), Product(s, a, s.size())});
  })(init);
}

// ------------------------------------------------------------------------------- Squeeze

class SqueezeKernel : public Kernel {
 public:
  SqueezeKernel(bool axes_from_input, std::vector<int64_t> axes, bool has_axes)
      : axes_from_input_(axes_from_input), axes_(std::move(axes)), has_axes_(has_axes) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    std::vector<int64_t> axes = axes_;
    bool has_axes = has_axes_;
    if (axes_from_input_ && ctx.input(1)) {
      ASSIGN_OR_RETURN(axes, ReadInts(ctx, 1, "axes"));
      has_axes = !axes.empty();  // an empty axes tensor squeezes every size-1 dim (as ORT)
    }
    int64_t r = static_cast<int64_t>(x.rank());
    std::vector<bool> drop(x.rank(), false);
    if (!has_axes) {
      for (size_t d = 0; d < x.rank(); ++d) drop[d] = x.dim(d) == 1;
    } else {
      for (int64_t a : axes) {
        int64_t axis = a;
        if (!NormalizeAxis(axis, r)) return ctx.Error(AxisRangeError(a, r));
        if (x.dim(axis) != 1)
          return ctx.Error("cannot squeeze axis " + Str(a) + " of size " + Str(x.dim(axis)) +
                           " (input shape " + ShapeToString(x.shape()) + ")");
        drop[axis] = true;
      }
    }
    Shape out;
    for (size_t d = 0; d < x.rank(); ++d)
      if (!drop[d]) out.push_back(x.dim(d));
    return ctx.OutputView(0, 0, out);
  }

 private:
  bool axes_from_input_;
  std::vector<int64_t> axes_;
  bool has_axes_;
};

StatusOr<std::unique_ptr<Kernel>> MakeSqueeze(const KernelInit& init) {
  if (init.opset >= 13) return std::unique_ptr<Kernel>(new SqueezeKernel(true, {}, false));
  const Attribute* a = init.node.FindAttribute("axes");
  return std::unique_ptr<Kernel>(
      new SqueezeKernel(false, a ? a->ints : std::vector<int64_t>{}, a != nullptr));
}

// ------------------------------------------------------------------------------- Unsqueeze

class UnsqueezeKernel : public Kernel {
 public:
  UnsqueezeKernel(bool axes_from_input, std::vector<int64_t> axes)
      : axes_from_input_(axes_from_input), axes_(std::move(axes)) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    std::vector<int64_t> axes = axes_;
    if (axes_from_input_) {
      ASSIGN_OR_RETURN(axes, ReadInts(ctx, 1, "axes"));
    }
    int64_t out_rank = static_cast<int64_t>(x.rank() + axes.size());
    std::vector<bool> inserted(out_rank, false);
    for (int64_t a : axes) {
      int64_t axis = a;
      if (!NormalizeAxis(axis, out_rank)) return ctx.Error(AxisRangeError(a, out_rank));
      if (inserted[axis]) return ctx.Error("axes " + IntsToString(axes) + " repeat an axis");
      inserted[axis] = true;
    }
    Shape out(out_rank, 1);
    size_t next = 0;
    for (int64_t d = 0; d < out_rank; ++d)
      if (!inserted[d]) out[d] = x.dim(next++);
    return ctx.OutputView(0, 0, out);
  }

 private:
  bool axes_from_input_;
  std::vector<int64_t> axes_;
};

StatusOr<std::unique_ptr<Kernel>> MakeUnsqueeze(const KernelInit& init) {
  if (init.opset >= 13) {
    if (!init.has_input(1)) return init.Invalid("input 'axes' is required");
    return std::unique_ptr<Kernel>(new UnsqueezeKernel(true, {}));
  }
  const Attribute* a = init.node.FindAttribute("axes");
  if (!a) return init.Invalid("attribute 'axes' is required");
  return std::unique_ptr<Kernel>(new UnsqueezeKernel(false, a->ints));
}

// ------------------------------------------------------------------------------- Shape, Size

StatusOr<std::unique_ptr<Kernel>> MakeShape(const KernelInit& init) {
  RETURN_IF_ERROR(RequireTensorInputs(init));
  bool slice = init.opset >= 15;
  const Attribute* start_attr = init.node.FindAttribute("start");
  const Attribute* end_attr = init.node.FindAttribute("end");
  bool has_start = slice && start_attr, has_end = slice && end_attr;
  int64_t start = has_start ? start_attr->i : 0, end = has_end ? end_attr->i : 0;
  return SimpleKernel([=](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.input(0);
    int64_t r = static_cast<int64_t>(x.rank());
    auto clamp = [r](int64_t a) {
      if (a < 0) a += r;
      return std::clamp<int64_t>(a, 0, r);
    };
    int64_t b = has_start ? clamp(start) : 0;
    int64_t e = has_end ? clamp(end) : r;
    int64_t n = std::max<int64_t>(0, e - b);
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, DataType::kInt64, {n}));
    for (int64_t i = 0; i < n; ++i) y->data<int64_t>()[i] = x.dim(b + i);
    return Status::Ok();
  })(init);
}

StatusOr<std::unique_ptr<Kernel>> MakeSize(const KernelInit& init) {
  RETURN_IF_ERROR(RequireTensorInputs(init));
  return SimpleKernel([](KernelContext& ctx) -> Status {
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, DataType::kInt64, {}));
    y->data<int64_t>()[0] = ctx.input(0)->numel();
    return Status::Ok();
  })(init);
}

// ------------------------------------------------------------------------------- ConstantOfShape

StatusOr<std::unique_ptr<Kernel>> MakeConstantOfShape(const KernelInit& init) {
  Tensor value = Tensor::Scalar(0.0f);
  if (const Attribute* a = init.node.FindAttribute("value")) {
    if (a->type != AttrType::kTensor || a->tensors.size() != 1)
      return init.Invalid("attribute 'value' must be a tensor");
    value = a->tensors[0].tensor;
    if (value.numel() != 1)
      return init.Invalid("attribute 'value' must have exactly one element, it has " +
                          Str(value.numel()));
    if (!IsMovable(value.dtype()))
      return init.Unsupported(std::string("value of dtype ") + DataTypeName(value.dtype()));
  }
  return SimpleKernel([value](KernelContext& ctx) -> Status {
    ASSIGN_OR_RETURN(std::vector<int64_t> shape, ReadInts(ctx, 0, "input"));
    for (int64_t d : shape)
      if (d < 0) return ctx.Error("shape " + IntsToString(shape) + " has a negative dim");
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, value.dtype(), shape));
    return DispatchByElement(value.dtype(), [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      std::fill_n(Elems<T>(*y), y->numel(), Elems<T>(value)[0]);
      return Status::Ok();
    });
  })(init);
}

// ------------------------------------------------------------------------------- EyeLike

StatusOr<std::unique_ptr<Kernel>> MakeEyeLike(const KernelInit& init) {
  DataType dtype = DataType::kUndefined;
  if (const Attribute* a = init.node.FindAttribute("dtype")) {
    if (!IsKnownDataType(static_cast<int32_t>(a->i)))
      return init.Invalid("attribute 'dtype' " + Str(a->i) + " is not a known data type");
    dtype = static_cast<DataType>(a->i);
  }
  DataType resolved = dtype != DataType::kUndefined ? dtype : DeclaredType(init, 0);
  if (resolved != DataType::kUndefined && !IsNumberType(resolved))
    return init.Unsupported(std::string("output dtype ") + DataTypeName(resolved));
  int64_t k = init.node.GetInt("k", 0);
  return SimpleKernel([dtype, k](KernelContext& ctx) -> Status {
    const Tensor& x = *ctx.input(0);
    if (x.rank() != 2) return ctx.Error("input must be 2-D, got shape " + ShapeToString(x.shape()));
    DataType t = dtype != DataType::kUndefined ? dtype : x.dtype();
    if (!IsNumberType(t)) return ctx.Error(std::string("output dtype ") + DataTypeName(t));
    ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, t, x.shape()));
    if (y->nbytes()) std::memset(y->raw(), 0, y->nbytes());
    int64_t rows = x.dim(0), cols = x.dim(1);
    size_t elem = DataTypeSize(t);
    auto* p = static_cast<uint8_t*>(y->raw());
    for (int64_t i = 0; i < rows; ++i) {
      if (k >= cols || k <= -rows) break;  // also keeps i + k from overflowing
      int64_t j = i + k;
      if (j >= 0 && j < cols) StoreNumber(t, p + (i * cols + j) * elem, 1.0);
    }
    return Status::Ok();
  })(init);
}

// ------------------------------------------------------------------------------- Range

template <typename T>
Status RangeInt(KernelContext& ctx, T start, T limit, T delta) {
  if (delta == 0) return ctx.Error("delta is 0");
  // 128-bit: limit - start may not fit in int64.
  const __int128 s = start, l = limit, d = delta;
  __int128 n = 0;
  if (d > 0 && l > s) n = (l - s + d - 1) / d;
  if (d < 0 && l < s) n = (s - l - d - 1) / -d;
  if (n > (__int128{1} << 40))
    return ctx.Error("Range(" + Str(start) + ", " + Str(limit) + ", " + Str(delta) +
                     ") has too many elements");
  const int64_t count = static_cast<int64_t>(n);
  ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, ctx.input(0)->dtype(), {count}));
  for (int64_t i = 0; i < count; ++i) y->data<T>()[i] = static_cast<T>(s + i * d);
  return Status::Ok();
}

template <typename T>
Status RangeFloat(KernelContext& ctx, T start, T limit, T delta) {
  double s = start, l = limit, d = delta;
  if (d == 0) return ctx.Error("delta is 0");
  double count = std::ceil((l - s) / d);
  if (std::isnan(count))
    return ctx.Error("the number of elements of Range(" + std::to_string(s) + ", " +
                     std::to_string(l) + ", " + std::to_string(d) + ") is undefined");
  if (count > static_cast<double>(int64_t{1} << 40))
    return ctx.Error("Range(" + std::to_string(s) + ", " + std::to_string(l) + ", " +
                     std::to_string(d) + ") has too many elements");
  int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;
  ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, ctx.input(0)->dtype(), {n}));
  for (int64_t i = 0; i < n; ++i) y->data<T>()[i] = static_cast<T>(s + static_cast<double>(i) * d);
  return Status::Ok();
}

bool IsRangeType(DataType t) {
  return t == DataType::kFloat || t == DataType::kDouble || t == DataType::kInt16 ||
         t == DataType::kInt32 || t == DataType::kInt64;
}

StatusOr<std::unique_ptr<Kernel>> MakeRange(const KernelInit& init) {
  DataType t = DeclaredType(init, 0);
  if (t != DataType::kUndefined && !IsRangeType(t))
    return init.Unsupported(std::string("dtype ") + DataTypeName(t) +
                            " (supported: float32, float64, int16, int32, int64)");
  return SimpleKernel([](KernelContext& ctx) -> Status {
    const Tensor *a = ctx.input(0), *b = ctx.input(1), *c = ctx.input(2);
    const char* names[3] = {"start", "limit", "delta"};
    const Tensor* in[3] = {a, b, c};
    for (int i = 0; i < 3; ++i) {
      if (in[i]->numel() != 1)
        return ctx.Error(std::string("'") + names[i] + "' must be a scalar, got shape " +
                         ShapeToString(in[i]->shape()));
      if (in[i]->dtype() != a->dtype())
        return ctx.Error("start, limit and delta must have the same dtype");
    }
    switch (a->dtype()) {
      case DataType::kFloat:
        return RangeFloat<float>(ctx, a->data<float>()[0], b->data<float>()[0],
                                 c->data<float>()[0]);
      case DataType::kDouble:
        return RangeFloat<double>(ctx, a->data<double>()[0], b->data<double>()[0],
                                  c->data<double>()[0]);
      case DataType::kInt16:
        return RangeInt<int16_t>(ctx, a->data<int16_t>()[0], b->data<int16_t>()[0],
                                 c->data<int16_t>()[0]);
      case DataType::kInt32:
        return RangeInt<int32_t>(ctx, a->data<int32_t>()[0], b->data<int32_t>()[0],
                                 c->data<int32_t>()[0]);
      case DataType::kInt64:
        return RangeInt<int64_t>(ctx, a->data<int64_t>()[0], b->data<int64_t>()[0],
                                 c->data<int64_t>()[0]);
      default: return ctx.Error(std::string("dtype ") + DataTypeName(a->dtype()));
    }
  })(init);
}

}  // namespace

void RegisterShapeKernels(KernelRegistry& r) {
  r.Add("Constant", 1, 11, MakeConstant);     // value (sparse_value from 11: unsupported)
  r.Add("Constant", 12, 1000, MakeConstant);  // + value_float(s)/value_int(s)/value_string(s)
  r.Add("Identity", 1, 1000, MakeIdentity);   // tensors only (sequences 14, optionals 16)
  r.Add("Dropout", 7, 9, MakeDropout);        // ratio attribute, mask of type T
  r.Add("Dropout", 10, 11, MakeDropout);      // bool mask
  r.Add("Dropout", 12, 1000, MakeDropout);    // ratio, training_mode inputs
  r.Add("Reshape", 5, 13, MakeReshape);
  r.Add("Reshape", 14, 1000, MakeReshape);  // allowzero
  r.Add("Flatten", 1, 10, MakeFlatten);
  r.Add("Flatten", 11, 1000, MakeFlatten);  // negative axis
  r.Add("Squeeze", 1, 12, MakeSqueeze);     // axes attribute
  r.Add("Squeeze", 13, 1000, MakeSqueeze);  // axes input
  r.Add("Unsqueeze", 1, 12, MakeUnsqueeze);
  r.Add("Unsqueeze", 13, 1000, MakeUnsqueeze);
  r.Add("Shape", 1, 14, MakeShape);
  r.Add("Shape", 15, 1000, MakeShape);  // start, end
  r.Add("Size", 1, 1000, MakeSize);
  r.Add("ConstantOfShape", 9, 1000, MakeConstantOfShape);
  r.Add("EyeLike", 9, 1000, MakeEyeLike);
  r.Add("Range", 11, 1000, MakeRange);
}

}  // namespace edgefit
