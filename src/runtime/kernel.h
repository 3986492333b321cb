// The kernel interface of edgefit's executor.
//
// A kernel is made once per node when a Session is built (its factory validates everything the
// model supplies: attributes, constant inputs, dtypes it can know) and then run many times. Run
// trusts what the factory checked, and validates only what depends on runtime inputs (shapes,
// index values). Kernels are keyed by (domain, op_type, opset range) and registered in one
// explicit list (registry.cc).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgefit/status.h"
#include "ir/graph.h"
#include "ir/tensor.h"

namespace edgefit {

// What a kernel factory knows about its node before any run.
struct KernelInit {
  const Node& node;
  int64_t opset = 0;  // version of the node's domain imported by the model
  // Declared/inferred types of the inputs (nullptr for an omitted optional input).
  std::vector<const TypeInfo*> input_types;
  // Values of inputs that are initializers (nullptr otherwise). Kernels may cache them.
  std::vector<const Tensor*> constant_inputs;
  size_t num_outputs = 0;

  bool has_input(size_t i) const { return i < input_types.size() && input_types[i] != nullptr; }
  const Tensor* constant(size_t i) const {
    return i < constant_inputs.size() ? constant_inputs[i] : nullptr;
  }
  // "Conv 'conv_3' (opset 13)" — the prefix of every message about this node.
  std::string Describe() const;
  // Unsupported: valid ONNX that this kernel does not implement.
  Status Unsupported(const std::string& what) const;
  // InvalidModel: the model breaks the operator's spec.
  Status Invalid(const std::string& what) const;
};

class ThreadPool;

// An elementwise clamp a kernel applies to its float output as it writes it: the Relu or Clip
// that follows a Conv, fused by the session (see Session). y = x < lo ? lo : (x > hi ? hi : x),
// exactly as the Clip/Relu kernels compute it (NaN stays NaN); Relu is lo = 0, hi = +inf.
struct FusedActivation {
  bool active = false;
  float lo = 0, hi = 0;
  // Clamps p[0, n) in place (no-op when not active).
  void Apply(float* p, int64_t n) const;
  // Clamps rows of a row-major matrix: rows x cols at p with leading dimension ld.
  void Apply(float* p, int64_t rows, int64_t cols, int64_t ld) const {
    if (active)
      for (int64_t r = 0; r < rows; ++r) Apply(p + r * ld, cols);
  }
};

// What a kernel sees during one run.
class KernelContext {
 public:
  virtual ~KernelContext() = default;

  size_t num_inputs() const { return inputs_.size(); }
  // nullptr for an omitted optional input.
  const Tensor* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  size_t num_outputs() const { return num_outputs_; }
  // Whether output i is wanted (an omitted optional output need not be produced).
  virtual bool output_wanted(size_t i) const = 0;

  // Allocates output i (zero-filled only when freshly allocated from the heap: do not rely on it).
  virtual StatusOr<Tensor*> Output(size_t i, DataType dtype, const Shape& shape) = 0;
  // Output i shares input j's bytes with a new shape (Reshape, Squeeze, Identity, ...).
  virtual Status OutputView(size_t i, size_t input_index, const Shape& shape) = 0;
  // Output i is a tensor the kernel already holds (e.g. a Constant's value). Not copied.
  virtual Status SetOutput(size_t i, const Tensor& tensor) = 0;

  // Threads this kernel may use (>= 1).
  virtual int num_threads() const = 0;
  // Runs fn(begin, end) over [0, n) split across the threads; blocks until done.
  virtual void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) const = 0;
  // A scratch buffer of at least `bytes`, valid until the kernel returns. Reused across nodes.
  virtual void* Scratch(size_t bytes) = 0;

  // The activation to apply to output 0 (kernels whose FusesActivation() is true only). When it
  // is active, the session skips the Relu/Clip node that follows and aliases its output.
  virtual const FusedActivation& activation() const {
    static const FusedActivation none;
    return none;
  }

  // A runtime error about this node: "Gather 'g' (opset 13): index 7 out of range [0, 5)".
  Status Error(const std::string& what) const;
  const std::string& node_description() const { return *node_description_; }

 protected:
  std::vector<const Tensor*> inputs_;
  size_t num_outputs_ = 0;
  const std::string* node_description_ = &NoDescription();  // owned by the runner (not copied)

 private:
  static const std::string& NoDescription() {
    static const std::string none;
    return none;
  }
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual Status Run(KernelContext& ctx) = 0;
  // Whether Run applies ctx.activation() to its float output 0 (then the session may fuse a
  // following Relu/Clip into this node).
  virtual bool FusesActivation() const { return false; }
};

using KernelFactory = std::function<StatusOr<std::unique_ptr<Kernel>>(const KernelInit&)>;

struct KernelDef {
  std::string domain;  // "" for the default ONNX domain
  std::string op_type;
  int since_version = 1;     // first opset version this kernel implements
  int until_version = 1000;  // last one (inclusive)
  KernelFactory factory;
};

class KernelRegistry {
 public:
  void Add(const std::string& domain, const std::string& op_type, int since, int until,
           KernelFactory factory);
  // Convenience for the default domain.
  void Add(const std::string& op_type, int since, int until, KernelFactory factory) {
    Add("", op_type, since, until, std::move(factory));
  }
  const KernelDef* Find(const std::string& domain, const std::string& op_type, int64_t opset) const;
  const std::vector<KernelDef>& defs() const { return defs_; }

 private:
  std::vector<KernelDef> defs_;
  // op_type -> indices into defs_, in the order they were added (Find returns the first match,
  // as a scan of defs_ would, without comparing every def's strings).
  std::unordered_map<std::string, std::vector<size_t>> by_op_;
};

// The registry holding every kernel edgefit ships (built once from the list in registry.cc).
const KernelRegistry& DefaultKernelRegistry();

// A factory for kernels with no state: the lambda runs as the kernel.
template <typename Fn>
KernelFactory SimpleKernel(Fn fn) {
  struct K : Kernel {
    explicit K(Fn f) : f(std::move(f)) {}
    Status Run(KernelContext& ctx) override { return f(ctx); }
    Fn f;
  };
  return [fn](const KernelInit&) -> StatusOr<std::unique_ptr<Kernel>> {
    return std::unique_ptr<Kernel>(new K(fn));
  };
}

}  // namespace edgefit
