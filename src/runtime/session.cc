#include "runtime/session.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <new>
#include <thread>
#include <unordered_map>

#include "runtime/blas.h"
#include "runtime/kernels/conv_impl.h"
#include "runtime/thread_team.h"

namespace edgefit {

int DefaultThreadCount() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

// ------------------------------------------------------------------------- KernelInit / Context

std::string KernelInit::Describe() const {
  return node.Describe() + " (opset " + std::to_string(opset) + ")";
}
Status KernelInit::Unsupported(const std::string& what) const {
  return edgefit::Unsupported(Describe() + ": " + what);
}
Status KernelInit::Invalid(const std::string& what) const {
  return InvalidModel(Describe() + ": " + what);
}
EDGEFIT_VECTORIZE void ClampFloats(float* __restrict p, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = p[i];
    p[i] = v < lo ? lo : (v > hi ? hi : v);  // as the Clip kernel: NaN stays NaN
  }
}

void FusedActivation::Apply(float* p, int64_t n) const {
  if (active) ClampFloats(p, n, lo, hi);
}

Status KernelContext::Error(const std::string& what) const {
  return InvalidArgument(*node_description_ + ": " + what);
}

void KernelRegistry::Add(const std::string& domain, const std::string& op_type, int since,
                         int until, KernelFactory factory) {
  by_op_[op_type].push_back(defs_.size());
  defs_.push_back({domain, op_type, since, until, std::move(factory)});
}

namespace {
const std::string& kNoDomain() {
  static const std::string none;
  return none;
}
}  // namespace

const KernelDef* KernelRegistry::Find(const std::string& domain, const std::string& op_type,
                                      int64_t opset) const {
  const std::string& d = domain == "ai.onnx" ? kNoDomain() : domain;
  auto it = by_op_.find(op_type);
  if (it == by_op_.end()) return nullptr;
  for (size_t i : it->second) {
    const KernelDef& def = defs_[i];
    if (def.domain == d && opset >= def.since_version && opset <= def.until_version) return &def;
  }
  return nullptr;
}

// ------------------------------------------------------------------------- Session internals

namespace {

constexpr size_t kArenaAlignment = 64;
size_t AlignUp(size_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

struct Step {
  const Node* node = nullptr;
  std::unique_ptr<Kernel> kernel;
  std::vector<int> inputs;   // value index, -1 for omitted
  std::vector<int> outputs;  // value index, -1 for omitted
  std::vector<int> release;  // values whose last use is this step
  std::string description;
  // Fusion (runs without an observer only): the activation this step's kernel applies to its
  // output 0, and, on the Relu/Clip step it replaces, `aliases_input` (output 0 = input 0).
  FusedActivation fused;
  bool aliases_input = false;
};

struct AlignedBuffer {
  void* data = nullptr;
  size_t size = 0;
  ~AlignedBuffer() { Reset(); }
  void Reset() {
    if (data) ::operator delete(data, std::align_val_t(kArenaAlignment));
    data = nullptr;
    size = 0;
  }
  Status Resize(size_t bytes) {
    if (bytes <= size) return Status::Ok();
    Reset();
    try {
      data = ::operator new(AlignUp(bytes), std::align_val_t(kArenaAlignment));
    } catch (const std::bad_alloc&) {
      return ResourceExhausted("out of memory allocating " + std::to_string(bytes) + " bytes");
    }
    size = bytes;
    return Status::Ok();
  }
};

}  // namespace

struct Session::Impl {
  const Model* model = nullptr;
  SessionOptions options;
  int threads = 1;
  std::unique_ptr<ThreadTeam> team;  // threads > 1
  std::vector<const Value*> values;
  std::unordered_map<const Value*, int> index;
  std::vector<Tensor> constants;  // per value: initializer (shared, not copied), else empty
  std::vector<bool> is_graph_output;
  std::vector<int> last_use;  // step index of the last read, -1 if never read
  std::vector<Step> steps;
  std::vector<const Value*> inputs, outputs;

  // Memory plan. alloc_bytes/buffer_root are recorded on every run.
  std::vector<size_t> alloc_bytes;
  std::vector<int> buffer_root;      // value that allocated the bytes this value uses; -1 external
  std::vector<int64_t> plan_offset;  // per allocating value: arena offset, -1 = heap
  std::vector<size_t> plan_size;
  std::vector<bool>
      plan_heap;  // per allocating value: left on the heap (a graph output aliases it)
  bool planned = false;
  bool replan = false;
  int plans_built = 0;
  bool recorded = false;         // alloc_bytes/buffer_root hold a whole successful run
  bool recorded_fusing = false;  // ... run with fusion
  bool plan_fused = false;       // whether the plan was recorded on a fused run (lifetimes differ)
  bool fusing = false;           // the current run applies the fusions
  AlignedBuffer arena;
  AlignedBuffer scratch;

  void BuildPlan();
};

namespace {

class RunContext final : public KernelContext {
 public:
  // One context per run, pointed at each step in turn (no allocations per node).
  RunContext(Session::Impl& s, std::vector<Tensor>& slots) : s_(s), slots_(slots) {}

  void Reset(const Step& step, int step_index) {
    step_ = &step;
    step_index_ = step_index;
    node_description_ = &step.description;
    num_outputs_ = step.outputs.size();
    inputs_.assign(step.inputs.size(), nullptr);
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      int v = step.inputs[i];
      if (v >= 0) inputs_[i] = &slots_[v];
    }
    extra_.clear();
  }

  bool output_wanted(size_t i) const override {
    return i < step_->outputs.size() && step_->outputs[i] >= 0;
  }

  StatusOr<Tensor*> Output(size_t i, DataType dtype, const Shape& shape) override {
    if (i >= step_->outputs.size())
      return Error("output index " + std::to_string(i) + " out of range");
    int v = step_->outputs[i];
    if (v < 0) {
      // Unwanted optional output: give the kernel a place to write anyway.
      extra_.emplace_back();
      auto t = Tensor::Create(dtype, shape, Limit());
      if (!t.ok()) return t.status().WithContext(*node_description_);
      extra_.back() = std::move(t).value();
      return &extra_.back();
    }
    int64_t n = NumElements(shape);
    if (n < 0) return Error("output shape " + ShapeToString(shape) + " is invalid");
    size_t elem = DataTypeSize(dtype);
    if (dtype != DataType::kString && elem && static_cast<uint64_t>(n) > Limit() / elem)
      return ResourceExhausted(*node_description_ + ": output of shape " + ShapeToString(shape) +
                               " needs more than the memory limit (" + std::to_string(Limit()) +
                               " bytes)");
    size_t bytes = static_cast<size_t>(n) * elem;
    s_.alloc_bytes[v] = bytes;
    s_.buffer_root[v] = v;
    if (s_.planned && dtype != DataType::kString && s_.plan_offset[v] >= 0 &&
        s_.plan_size[v] >= bytes) {
      slots_[v] =
          Tensor::Wrap(dtype, shape, static_cast<uint8_t*>(s_.arena.data) + s_.plan_offset[v]);
      return &slots_[v];
    }
    // Not in the plan, though neither a graph output nor a buffer the plan leaves on the heap
    // (larger than planned, or not allocated in the recorded run): plan again.
    if (s_.planned && !s_.is_graph_output[v] && !s_.plan_heap[v]) s_.replan = true;
    auto t = Tensor::Create(dtype, shape, Limit());
    if (!t.ok()) return t.status().WithContext(*node_description_);
    slots_[v] = std::move(t).value();
    return &slots_[v];
  }

  Status OutputView(size_t i, size_t input_index, const Shape& shape) override {
    const Tensor* in = input(input_index);
    if (!in) return Error("view of a missing input");
    if (NumElements(shape) != in->numel())
      return Error("cannot view " + ShapeToString(in->shape()) + " as " + ShapeToString(shape));
    int v = i < step_->outputs.size() ? step_->outputs[i] : -1;
    if (v < 0) return Status::Ok();
    slots_[v] = in->Reshaped(shape);
    int src = step_->inputs[input_index];
    s_.alloc_bytes[v] = 0;
    s_.buffer_root[v] = src >= 0 ? s_.buffer_root[src] : -1;
    return Status::Ok();
  }

  Status SetOutput(size_t i, const Tensor& tensor) override {
    int v = i < step_->outputs.size() ? step_->outputs[i] : -1;
    if (v < 0) return Status::Ok();
    slots_[v] = tensor;
    s_.alloc_bytes[v] = 0;
    // The tensor may share an input's bytes (e.g. Identity of an intermediate): keep that
    // buffer alive as long as this value.
    s_.buffer_root[v] = -1;
    for (size_t j = 0; j < step_->inputs.size(); ++j) {
      int src = step_->inputs[j];
      if (src >= 0 && slots_[src].SameStorage(tensor)) s_.buffer_root[v] = s_.buffer_root[src];
    }
    return Status::Ok();
  }

  int num_threads() const override { return s_.threads; }

  const FusedActivation& activation() const override {
    static const FusedActivation none;
    return s_.fusing ? step_->fused : none;
  }

  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) const override {
    int t = static_cast<int>(std::min<int64_t>(s_.threads, n));
    if (t <= 1) {
      if (n > 0) fn(0, n);
      return;
    }
    s_.team->Run(t, [&](int k) {
      const int64_t begin = n * k / t, end = n * (k + 1) / t;
      if (begin < end) fn(begin, end);
    });
  }

  void* Scratch(size_t bytes) override {
    if (!s_.scratch.Resize(bytes).ok()) return nullptr;
    return s_.scratch.data;
  }

 private:
  size_t Limit() const {
    return s_.options.max_memory_bytes ? s_.options.max_memory_bytes : SIZE_MAX;
  }
  Session::Impl& s_;
  const Step* step_ = nullptr;
  std::vector<Tensor>& slots_;
  int step_index_ = 0;
  std::deque<Tensor> extra_;  // deque: pointers to earlier elements stay valid
};

// Peak bytes of intermediates whose declared shapes are static, freeing at last use.
size_t DeclaredPeakBytes(const Session::Impl& s) {
  std::vector<size_t> size(s.values.size(), 0);
  for (size_t v = 0; v < s.values.size(); ++v) {
    const TypeInfo& t = s.values[v]->type();
    auto shape = t.StaticShape();
    if (!shape || s.constants[v].dtype() != DataType::kUndefined) continue;
    int64_t n = NumElements(*shape);
    if (n > 0) size[v] = static_cast<size_t>(n) * std::max<size_t>(1, DataTypeSize(t.elem_type));
  }
  // Only node outputs are counted (graph inputs belong to the caller), so only they are
  // subtracted when released.
  std::vector<bool> counted(s.values.size(), false);
  size_t live = 0, peak = 0;
  for (const Step& step : s.steps) {
    for (int v : step.outputs)
      if (v >= 0 && !counted[v]) {
        live += size[v];
        counted[v] = true;
      }
    peak = std::max(peak, live);
    for (int v : step.release)
      if (counted[v]) live -= size[v];
  }
  return peak;
}

// Relu, or Clip with constant (or no) bounds, reading the only use of a Conv's output that is not
// a graph output: the Conv clamps its output as it writes it, and the Relu/Clip step becomes an
// alias (in runs without an observer, which must see the Conv's own output).
void FuseActivations(Session::Impl& s, const Model& model,
                     const std::unordered_map<const Value*, const Tensor*>& known) {
  std::unordered_map<const Node*, size_t> step_of;
  for (size_t i = 0; i < s.steps.size(); ++i) step_of[s.steps[i].node] = i;
  for (Step& step : s.steps) {
    const Node& n = *step.node;
    if (!(n.domain().empty() || n.domain() == "ai.onnx")) continue;
    const bool relu = n.op_type() == "Relu", clip = n.op_type() == "Clip";
    if (!relu && !clip) continue;
    if (n.num_inputs() < 1 || n.num_outputs() != 1 || !n.input(0) || !n.output(0)) continue;
    const Value* in = n.input(0);
    const Node* producer = in->producer();
    if (!producer || in->is_graph_output() || in->uses().size() != 1 ||
        producer->num_outputs() < 1 || producer->output(0) != in)
      continue;
    auto it = step_of.find(producer);
    if (it == step_of.end()) continue;
    Step& from = s.steps[it->second];
    if (!from.kernel->FusesActivation() || from.fused.active) continue;
    // (Kernels that fuse produce float32 only; the type may be undeclared.)
    const DataType t = in->type().elem_type;
    if (t != DataType::kFloat && t != DataType::kUndefined) continue;
    float lo = 0, hi = std::numeric_limits<float>::infinity();
    if (clip) {
      lo = -std::numeric_limits<float>::infinity();
      if (model.OpsetVersion(n.domain()) < 11) {
        lo = n.GetFloat("min", std::numeric_limits<float>::lowest());
        hi = n.GetFloat("max", std::numeric_limits<float>::max());
      } else {
        bool constant = true;
        for (size_t i = 1; i < n.num_inputs() && i <= 2; ++i) {
          const Value* b = n.input(i);
          if (!b) continue;
          auto k = known.find(b);
          if (k == known.end() || k->second->dtype() != DataType::kFloat ||
              k->second->numel() != 1) {
            constant = false;
            break;
          }
          (i == 1 ? lo : hi) = k->second->data<float>()[0];
        }
        if (!constant || n.num_inputs() > 3) continue;
      }
      if (lo > hi) lo = hi;  // as the Clip kernel: every element becomes hi
    }
    from.fused = {true, lo, hi};
    step.aliases_input = true;
  }
}

}  // namespace

std::vector<size_t> PlaceArenaBlocks(const std::vector<ArenaBlock>& blocks, size_t* total) {
  // Placed blocks by the windows of kWindowSteps steps their lifetimes span, so that finding the
  // ones alive with a block looks at its own windows only, not at every block placed so far
  // (that was quadratic: 11% of `fix` on a 10k-node model). The same set is found, so the
  // offsets are those of the plain scan.
  constexpr int kWindowSteps = 32;
  int last_step = 0;
  for (const ArenaBlock& b : blocks) last_step = std::max(last_step, b.last);
  std::vector<std::vector<int>> in_window(static_cast<size_t>(last_step) / kWindowSteps + 1);
  std::vector<size_t> offsets(blocks.size(), 0);
  std::vector<size_t> seen(blocks.size(), 0);  // 1 + index of the last block that looked at it
  std::vector<std::pair<size_t, size_t>> busy;
  size_t end_max = 0;
  for (size_t bi = 0; bi < blocks.size(); ++bi) {
    const ArenaBlock& b = blocks[bi];
    const int w0 = std::max(b.first, 0) / kWindowSteps, w1 = std::max(b.last, 0) / kWindowSteps;
    busy.clear();
    for (int w = w0; w <= w1; ++w)
      for (int pi : in_window[w]) {
        if (seen[pi] == bi + 1) continue;
        seen[pi] = bi + 1;
        const ArenaBlock& p = blocks[pi];
        if (p.first <= b.last && b.first <= p.last)
          busy.push_back({offsets[pi], offsets[pi] + p.bytes});
      }
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [start, end] : busy) {
      if (offset + b.bytes <= start) break;
      offset = std::max(offset, end);
    }
    offsets[bi] = offset;
    for (int w = w0; w <= w1; ++w) in_window[w].push_back(static_cast<int>(bi));
    end_max = std::max(end_max, offset + b.bytes);
  }
  if (total) *total = end_max;
  return offsets;
}

void Session::Impl::BuildPlan() {
  struct Buffer {
    int root;
    size_t bytes;
    int first, last;
  };
  std::vector<int> producer_step(values.size(), -1);
  for (size_t s = 0; s < steps.size(); ++s)
    for (int v : steps[s].outputs)
      if (v >= 0) producer_step[v] = static_cast<int>(s);
  std::vector<Buffer> buffers;
  std::unordered_map<int, size_t> buffer_of_root;
  std::vector<bool> escapes(values.size(), false);
  for (size_t v = 0; v < values.size(); ++v) {
    if (alloc_bytes[v] > 0 && buffer_root[v] == static_cast<int>(v) && producer_step[v] >= 0) {
      buffer_of_root[static_cast<int>(v)] = buffers.size();
      buffers.push_back({static_cast<int>(v), alloc_bytes[v], producer_step[v], producer_step[v]});
    }
  }
  for (size_t v = 0; v < values.size(); ++v) {
    int root = buffer_root[v];
    if (root < 0) continue;
    auto it = buffer_of_root.find(root);
    if (it == buffer_of_root.end()) continue;
    Buffer& b = buffers[it->second];
    if (is_graph_output[v]) escapes[root] = true;
    b.last = std::max({b.last, last_use[v], producer_step[v]});
  }
  std::sort(buffers.begin(), buffers.end(),
            [](const Buffer& a, const Buffer& b) { return a.bytes > b.bytes; });
  std::fill(plan_offset.begin(), plan_offset.end(), -1);
  std::fill(plan_size.begin(), plan_size.end(), 0);
  std::fill(plan_heap.begin(), plan_heap.end(), false);
  std::vector<ArenaBlock> blocks;
  std::vector<int> roots;
  for (const Buffer& b : buffers) {
    if (escapes[b.root]) {
      plan_heap[b.root] = true;
      continue;
    }
    blocks.push_back({AlignUp(b.bytes), b.first, b.last});
    roots.push_back(b.root);
  }
  size_t total = 0;
  std::vector<size_t> offsets = PlaceArenaBlocks(blocks, &total);
  for (size_t i = 0; i < blocks.size(); ++i) {
    plan_offset[roots[i]] = static_cast<int64_t>(offsets[i]);
    plan_size[roots[i]] = blocks[i].bytes;
  }
  if (!arena.Resize(total).ok()) {
    planned = false;
    return;
  }
  planned = true;
  replan = false;
  ++plans_built;
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

const std::vector<const Value*>& Session::inputs() const { return impl_->inputs; }
const std::vector<const Value*>& Session::outputs() const { return impl_->outputs; }
void Session::PlanMemory() {
  Impl& s = *impl_;
  if (s.recorded && (!s.planned || s.replan)) {
    s.BuildPlan();
    s.plan_fused = s.recorded_fusing;
  }
}

int Session::plans_built() const { return impl_->plans_built; }
size_t Session::arena_bytes() const { return impl_->planned ? impl_->arena.size : 0; }
int Session::num_threads() const { return impl_->threads; }

StatusOr<std::unique_ptr<Session>> Session::Create(const Model& model,
                                                   const SessionOptions& options) {
  blas::Init();  // OpenBLAS single-threaded, with this CPU's kernels
  auto impl = std::make_unique<Impl>();
  Impl& s = *impl;
  s.model = &model;
  s.options = options;
  s.threads = options.num_threads > 0 ? options.num_threads : DefaultThreadCount();
  if (s.threads > 1) s.team = std::make_unique<ThreadTeam>(s.threads);
  const KernelRegistry& registry = options.registry ? *options.registry : DefaultKernelRegistry();
  const Graph& g = *model.graph;

  s.index.reserve(g.num_values());
  s.values.reserve(g.num_values());
  s.constants.reserve(g.num_values());
  auto index_of = [&](const Value* v) {
    auto it = s.index.find(v);
    if (it != s.index.end()) return it->second;
    int i = static_cast<int>(s.values.size());
    s.values.push_back(v);
    s.index[v] = i;
    s.constants.emplace_back();
    return i;
  };
  for (const Value* v : g.inputs())
    if (!v->has_initializer()) s.inputs.push_back(v);
  for (const Value* v : g.initializers()) s.constants[index_of(v)] = *v->initializer();
  for (const Value* v : g.inputs()) index_of(v);

  Graph& mutable_graph = const_cast<Graph&>(g);
  std::vector<const Node*> order;
  for (const auto& n : g.nodes()) order.push_back(n.get());
  // Nodes must run after their producers; a file may list them out of order.
  {
    std::unordered_map<const Node*, size_t> pos;
    pos.reserve(order.size());
    for (size_t i = 0; i < order.size(); ++i) pos[order[i]] = i;
    bool sorted = true;
    for (const Node* n : order)
      for (const Value* v : n->inputs())
        if (v && v->producer() && pos[v->producer()] > pos[n]) sorted = false;
    if (!sorted) {
      RETURN_IF_ERROR(mutable_graph.TopologicalSort());
      order.clear();
      for (const auto& n : g.nodes()) order.push_back(n.get());
    }
  }
  // Constant nodes' values are known at build time: kernels may use them like initializers.
  std::unordered_map<const Value*, const Tensor*> known;
  for (const Value* v : g.initializers()) known[v] = v->initializer();
  for (const Node* n : order) {
    if (n->op_type() == "Constant" && (n->domain().empty() || n->domain() == "ai.onnx")) {
      const Attribute* a = n->FindAttribute("value");
      if (a && a->type == AttrType::kTensor && !a->tensors.empty() && n->output(0))
        known[n->output(0)] = &a->tensors[0].tensor;
    }
  }

  for (const Node* n : order) {
    Step step;
    step.node = n;
    int64_t opset = model.OpsetVersion(n->domain());
    step.description = n->Describe() + " (opset " + std::to_string(opset) + ")";
    if (opset < 0)
      return Unsupported(step.description + ": the model does not import domain '" + n->domain() +
                         "'");
    if (n->HasSubgraphs())
      return Unsupported(step.description +
                         ": ops with subgraphs are not supported by the executor");
    const KernelDef* def = registry.Find(n->domain(), n->op_type(), opset);
    if (!def)
      return Unsupported(step.description +
                         ": no kernel for this op at this opset (see docs/ops.md)");
    KernelInit init{*n, opset, {}, {}, n->num_outputs()};
    for (const Value* v : n->inputs()) {
      init.input_types.push_back(v ? &v->type() : nullptr);
      auto it = v ? known.find(v) : known.end();
      init.constant_inputs.push_back(it != known.end() ? it->second : nullptr);
      step.inputs.push_back(v ? index_of(v) : -1);
    }
    for (const Value* v : n->outputs()) step.outputs.push_back(v ? index_of(v) : -1);
    auto kernel = def->factory(init);
    if (!kernel.ok()) return kernel.status();
    step.kernel = std::move(kernel).value();
    s.steps.push_back(std::move(step));
  }
  for (const Value* v : g.outputs()) s.outputs.push_back(v);
  for (const Value* v : g.outputs()) index_of(v);
  FuseActivations(s, model, known);

  size_t nv = s.values.size();
  s.is_graph_output.assign(nv, false);
  for (const Value* v : g.outputs()) s.is_graph_output[s.index[v]] = true;
  s.last_use.assign(nv, -1);
  for (size_t i = 0; i < s.steps.size(); ++i)
    for (int v : s.steps[i].inputs)
      if (v >= 0) s.last_use[v] = static_cast<int>(i);
  for (size_t i = 0; i < s.steps.size(); ++i) {
    for (int v : s.steps[i].inputs)
      if (v >= 0 && s.last_use[v] == static_cast<int>(i) && !s.is_graph_output[v] &&
          s.constants[v].dtype() == DataType::kUndefined &&
          std::find(s.steps[i].release.begin(), s.steps[i].release.end(), v) ==
              s.steps[i].release.end())
        s.steps[i].release.push_back(v);
    // Outputs nobody reads are dropped right away.
    for (int v : s.steps[i].outputs)
      if (v >= 0 && s.last_use[v] < 0 && !s.is_graph_output[v]) s.steps[i].release.push_back(v);
  }
  s.alloc_bytes.assign(nv, 0);
  s.buffer_root.assign(nv, -1);
  s.plan_offset.assign(nv, -1);
  s.plan_size.assign(nv, 0);
  s.plan_heap.assign(nv, false);

  if (options.max_memory_bytes) {
    size_t peak = DeclaredPeakBytes(s);
    if (peak > options.max_memory_bytes)
      return ResourceExhausted("the model's declared shapes need " + std::to_string(peak) +
                               " bytes of intermediate tensors, above the limit of " +
                               std::to_string(options.max_memory_bytes) + " bytes");
  }
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

StatusOr<std::vector<Tensor>> Session::Run(const std::vector<NamedTensor>& inputs,
                                           const Observer& observer, const RunOptions& options) {
  Impl& s = *impl_;
  std::vector<Tensor> slots(s.values.size());
  for (size_t v = 0; v < s.values.size(); ++v)
    if (s.constants[v].dtype() != DataType::kUndefined) slots[v] = s.constants[v];

  std::vector<bool> given(s.values.size(), false);
  for (const NamedTensor& in : inputs) {
    const Value* value = s.model->graph->FindValue(in.name);
    auto it = value ? s.index.find(value) : s.index.end();
    if (!value || !value->is_graph_input() || it == s.index.end()) {
      std::string names;
      for (const Value* v : s.inputs) names += (names.empty() ? "" : ", ") + v->name();
      return InvalidArgument("'" + in.name + "' is not an input of the model (inputs: " + names +
                             ")");
    }
    int v = it->second;
    if (given[v]) return InvalidArgument("input '" + in.name + "' is given twice");
    given[v] = true;
    const TypeInfo& type = value->type();
    if (type.is_tensor() && type.elem_type != DataType::kUndefined &&
        type.elem_type != in.tensor.dtype())
      return InvalidArgument("input '" + in.name + "' must be " + DataTypeName(type.elem_type) +
                             ", got " + DataTypeName(in.tensor.dtype()));
    if (type.is_tensor() && type.has_shape) {
      if (type.dims.size() != in.tensor.rank())
        return InvalidArgument("input '" + in.name + "' must have rank " +
                               std::to_string(type.dims.size()) + " " + type.ShapeString() +
                               ", got shape " + ShapeToString(in.tensor.shape()));
      for (size_t d = 0; d < type.dims.size(); ++d)
        if (type.dims[d].is_fixed() && type.dims[d].value != in.tensor.dim(d))
          return InvalidArgument("input '" + in.name + "' dim " + std::to_string(d) + " must be " +
                                 std::to_string(type.dims[d].value) + " " + type.ShapeString() +
                                 ", got shape " + ShapeToString(in.tensor.shape()));
    }
    slots[v] = in.tensor;
  }
  for (const Value* v : s.inputs)
    if (!given[s.index[v]]) return InvalidArgument("input '" + v->name() + "' is missing");

  // The plan is laid out from the previous run's record, at the start of the second run (a
  // session run once never needs one) or after a run that allocated outside the plan.
  PlanMemory();
  s.recorded = false;
  std::fill(s.alloc_bytes.begin(), s.alloc_bytes.end(), 0);
  std::fill(s.buffer_root.begin(), s.buffer_root.end(), -1);
  // Fused runs extend the fused producers' buffers over their aliases: a plan recorded in the
  // other mode does not hold, so this run allocates from the heap and records a new one.
  s.fusing = !observer || options.fuse_with_observer;
  RunContext ctx(s, slots);
  if (s.planned && s.plan_fused != s.fusing) s.planned = false;
  for (size_t i = 0; i < s.steps.size(); ++i) {
    const Step& step = s.steps[i];
    if (step.aliases_input && s.fusing) {
      const int in = step.inputs[0], out = step.outputs[0];
      slots[out] = slots[in];
      s.alloc_bytes[out] = 0;
      s.buffer_root[out] = s.buffer_root[in];
      if (observer) observer(*step.node, *s.values[out], slots[out]);
      for (int v : step.release) slots[v] = Tensor();
      continue;
    }
    ctx.Reset(step, static_cast<int>(i));
    Status st = step.kernel->Run(ctx);
    if (!st.ok()) {
      if (st.message().rfind(step.description, 0) == 0) return st;
      return st.WithContext(step.description);
    }
    for (size_t o = 0; o < step.outputs.size(); ++o) {
      int v = step.outputs[o];
      if (v < 0) continue;
      if (slots[v].dtype() == DataType::kUndefined)
        return Internal(step.description + ": kernel did not produce output " + std::to_string(o));
      // A fused step's output 0 already holds the activation's values, not its own.
      if (observer && !(s.fusing && step.fused.active && o == 0))
        observer(*step.node, *s.values[v], slots[v]);
    }
    for (int v : step.release) slots[v] = Tensor();
  }

  std::vector<Tensor> result;
  const uint8_t* arena_begin = static_cast<const uint8_t*>(s.arena.data);
  const uint8_t* arena_end = arena_begin ? arena_begin + s.arena.size : nullptr;
  for (const Value* v : s.outputs) {
    Tensor t = slots[s.index[v]];
    auto* p = static_cast<const uint8_t*>(t.raw());
    if (p && arena_begin && p >= arena_begin && p < arena_end) t = t.Clone();
    result.push_back(std::move(t));
  }
  s.recorded = true;
  s.recorded_fusing = s.fusing;
  return result;
}

}  // namespace edgefit
