#include "report/analysis.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "shape/concrete_shapes.h"

namespace edgefit {
namespace {

const char* MemoryKindName(MemoryKind k) {
  switch (k) {
    case MemoryKind::kNpuRam: return "npu_ram";
    case MemoryKind::kSram: return "sram";
    case MemoryKind::kExternalRam: return "external_ram";
    case MemoryKind::kFlash: return "flash";
  }
  return "sram";
}

RegionUse ToUse(const MemoryRegion& r) {
  return {r.name, MemoryKindName(r.kind), r.bytes, r.address};
}

std::optional<uint64_t> ParseAddress(const std::string& s) {
  if (s.empty()) return std::nullopt;
  try {
    size_t pos = 0;
    uint64_t v = std::stoull(s, &pos, 0);
    if (pos != s.size()) return std::nullopt;
    return v;
  } catch (...) {
    return std::nullopt;
  }
}

std::string Percent(int64_t part, int64_t whole) {
  if (whole <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * static_cast<double>(part) / whole);
  return buf;
}

std::string Pad(std::string s, size_t width, bool right = false) {
  if (s.size() >= width) return s + " ";
  std::string fill(width - s.size(), ' ');
  return right ? fill + s + " " : s + fill + " ";
}

}  // namespace

const char* BudgetVerdictName(BudgetVerdict v) {
  switch (v) {
    case BudgetVerdict::kUnknown: return "unknown";
    case BudgetVerdict::kFits: return "fits";
    case BudgetVerdict::kFitsExternal: return "fits_external";
    case BudgetVerdict::kDoesNotFit: return "does_not_fit";
  }
  return "unknown";
}

std::string TensorShapeString(const TensorCost& t) {
  if (!t.has_shape) return "?";
  return ShapeToString(t.shape);
}

MemoryBudgetCheck CheckMemoryBudget(const TargetProfile& profile, int64_t weight_bytes,
                                    int64_t activation_bytes, int64_t largest_buffer) {
  MemoryBudgetCheck b;
  b.target = profile.id;
  b.activation_need = activation_bytes;
  b.weight_need = weight_bytes;
  std::vector<const MemoryRegion*> on_chip;
  for (const MemoryRegion& r : profile.memory.regions) {
    bool act_use = r.use == MemoryUse::kActivations || r.use == MemoryUse::kAny;
    bool on = r.kind == MemoryKind::kNpuRam || r.kind == MemoryKind::kSram;
    if (on && act_use) {
      on_chip.push_back(&r);
      b.activation_regions.push_back(ToUse(r));
      b.activation_capacity += r.bytes;
    } else if (r.kind == MemoryKind::kExternalRam && act_use) {
      b.spill_regions.push_back(ToUse(r));
      b.spill_capacity += r.bytes;
    }
    if (r.use == MemoryUse::kWeights ||
        (r.use == MemoryUse::kAny && r.kind == MemoryKind::kFlash)) {
      b.weight_regions.push_back(ToUse(r));
      b.weight_capacity += r.bytes;
    }
  }
  if (profile.memory.regions.empty()) {
    b.notes.push_back("the profile has no memory regions: budget unknown");
    return b;
  }
  // Largest run of address-contiguous on-chip regions (a region without an address is a run
  // of its own).
  std::vector<std::pair<uint64_t, int64_t>> spans;
  for (const MemoryRegion* r : on_chip) {
    auto a = ParseAddress(r->address);
    if (a) {
      spans.push_back({*a, r->bytes});
    } else {
      b.largest_contiguous = std::max(b.largest_contiguous, r->bytes);
    }
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 0; i < spans.size();) {
    uint64_t end = spans[i].first + spans[i].second;
    int64_t run = spans[i].second;
    size_t j = i + 1;
    while (j < spans.size() && spans[j].first == end) {
      run += spans[j].second;
      end += spans[j].second;
      ++j;
    }
    b.largest_contiguous = std::max(b.largest_contiguous, run);
    i = j;
  }
  b.activation_margin = b.activation_capacity - activation_bytes;
  b.activations_on_chip = b.activation_margin >= 0 && largest_buffer <= b.largest_contiguous;
  if (b.activation_margin >= 0 && largest_buffer > b.largest_contiguous) {
    b.notes.push_back("the largest activation buffer (" + FormatBytes(largest_buffer) +
                      ") is larger than the largest contiguous on-chip region (" +
                      FormatBytes(b.largest_contiguous) + ")");
  }
  b.weight_margin = b.weight_capacity - weight_bytes;
  b.weights_fit = b.weight_capacity > 0 && b.weight_margin >= 0;
  if (b.weight_capacity == 0) b.notes.push_back("the profile has no region for weights");
  bool spill_ok = !b.activations_on_chip && activation_bytes <= b.spill_capacity;
  // A profile without any region for activations or for weights (e.g. kl730: the NPU's SRAM
  // sizes are not published) cannot say "does not fit" for that side: unknown, unless the
  // side it does know already fails.
  const bool activations_known = b.activation_capacity > 0 || b.spill_capacity > 0;
  const bool weights_known = b.weight_capacity > 0;
  const bool known_failure = (activations_known && !b.activations_on_chip && !spill_ok) ||
                             (weights_known && !b.weights_fit);
  if (!known_failure && (!activations_known || !weights_known)) {
    b.verdict = BudgetVerdict::kUnknown;
    if (!activations_known)
      b.notes.push_back("the profile has no region for activations: budget unknown");
  } else if (b.activations_on_chip && b.weights_fit) {
    b.verdict = BudgetVerdict::kFits;
  } else if (spill_ok && b.weights_fit) {
    b.verdict = BudgetVerdict::kFitsExternal;
    b.notes.push_back("activations spill to external RAM (" +
                      (b.spill_regions.empty() ? std::string("-") : b.spill_regions[0].name) +
                      "): expect a large slowdown");
  } else {
    b.verdict = BudgetVerdict::kDoesNotFit;
  }
  for (const MemoryRegion& r : profile.memory.regions) {
    if (!r.provenance.note.empty() &&
        (r.kind == MemoryKind::kExternalRam || r.kind == MemoryKind::kFlash)) {
      b.notes.push_back(r.name + ": " + r.provenance.note);
    }
  }
  return b;
}

StatusOr<AnalyzeReport> AnalyzeModel(Model& model, const std::string& path,
                                     const AnalyzeOptions& options) {
  AnalyzeReport report;
  report.model = path;
  report.opset = model.OpsetVersion("");
  Status sorted = model.graph->TopologicalSort();
  if (!sorted.ok()) return sorted;
  // Declared I/O before the batch is frozen.
  for (const Value* v : model.graph->inputs()) {
    if (v->has_initializer()) continue;
    report.inputs.push_back(
        {v->name(), DataTypeName(v->type().elem_type), v->type().ShapeString(), "", 0});
  }
  for (const Value* v : model.graph->outputs()) {
    report.outputs.push_back(
        {v->name(), DataTypeName(v->type().elem_type), v->type().ShapeString(), "", 0});
  }
  // Shapes with the batch fixed to 1, completed by one executor run where inference stops.
  auto frozen = InferFrozenShapes(model);
  if (!frozen.ok()) return frozen.status();
  for (const std::string& f : frozen->frozen) report.warnings.push_back("frozen: " + f);
  if (!frozen->executor_note.empty()) report.warnings.push_back(frozen->executor_note);
  for (Value* v : model.graph->AllValues()) {
    if (v->has_initializer()) continue;
    auto it = frozen->types.find(v->name());
    if (it != frozen->types.end() && it->second.is_tensor()) v->type() = it->second;
  }
  auto cost = AnalyzeCost(model);
  if (!cost.ok()) return cost.status();
  report.cost = std::move(*cost);
  report.memory = PlanActivationMemory(report.cost, options.memory);
  Status planned = CheckMemoryPlan(report.memory);
  if (!planned.ok()) return planned;
  auto fill = [&](std::vector<IoTensor>& io, const std::vector<int>& indices) {
    for (int i : indices) {
      const TensorCost& t = report.cost.tensors[i];
      for (IoTensor& x : io) {
        if (x.name != t.name) continue;
        x.deployed_dtype = DataTypeName(t.dtype);
        x.bytes = t.bytes;
        if (x.shape != TensorShapeString(t)) x.shape += " -> " + TensorShapeString(t);
      }
    }
  };
  fill(report.inputs, report.cost.inputs);
  fill(report.outputs, report.cost.outputs);
  if (options.target) {
    report.budget = CheckMemoryBudget(*options.target, report.cost.weight_bytes,
                                      report.memory.arena_bytes, report.memory.largest_buffer);
  }
  return report;
}

std::string FormatAnalyzeText(const AnalyzeReport& r, bool layers) {
  std::ostringstream o;
  const CostReport& c = r.cost;
  const MemoryPlan& m = r.memory;
  o << r.model << "\n";
  o << "  opset " << r.opset << ", " << c.LayerCount() << " layers"
    << (c.quantized ? " (QDQ: int8 as deployed)" : " (float)") << "\n\n";
  auto io = [&](const char* title, const std::vector<IoTensor>& v) {
    o << title << "\n";
    for (const IoTensor& t : v) {
      o << "  " << t.name << ": " << t.dtype << " " << t.shape;
      if (!t.deployed_dtype.empty() && t.deployed_dtype != t.dtype) {
        o << " (deployed " << t.deployed_dtype << ")";
      }
      o << ", " << FormatBytes(t.bytes) << "\n";
    }
  };
  io("Inputs", r.inputs);
  io("Outputs", r.outputs);
  o << "\n";
  o << "MACs:            " << FormatCount(c.macs) << " (" << c.macs << ")\n";
  o << "other ops:       " << FormatCount(c.ops) << " (pooling, activations, elementwise)\n";
  o << "params:          " << FormatCount(c.params) << " (" << c.params << ")\n";
  o << "weights (ROM):   " << FormatBytes(c.weight_bytes) << " (" << c.weight_bytes << " B";
  if (c.weight_bytes != c.weight_bytes_float32) {
    char ratio[32];
    std::snprintf(
        ratio, sizeof ratio, "%.2fx",
        c.weight_bytes > 0 ? static_cast<double>(c.weight_bytes_float32) / c.weight_bytes : 0.0);
    o << "; float32 would be " << FormatBytes(c.weight_bytes_float32) << ", " << ratio << " more";
  }
  o << ")";
  if (c.qparam_bytes > 0) o << " + " << FormatBytes(c.qparam_bytes) << " scales/zero points";
  o << "\n";
  o << "activations (RAM): " << FormatBytes(m.arena_bytes) << " (" << m.arena_bytes
    << " B) planned; peak live " << FormatBytes(m.peak_live_bytes);
  if (m.peak_layer >= 0 && m.peak_layer < static_cast<int>(c.layers.size())) {
    const LayerCost& l = c.layers[m.peak_layer];
    o << " at " << l.op << " '" << l.name << "'";
  }
  o << "; without reuse " << FormatBytes(m.naive_bytes) << "\n";
  o << "  largest buffer " << FormatBytes(m.largest_buffer) << ", " << m.buffers.size()
    << " buffers, " << m.inplace.size() << " in place\n";
  if (r.budget) {
    const MemoryBudgetCheck& b = *r.budget;
    o << "\nBudget (" << b.target << "): ";
    switch (b.verdict) {
      case BudgetVerdict::kFits: o << "FITS"; break;
      case BudgetVerdict::kFitsExternal: o << "FITS WITH EXTERNAL RAM"; break;
      case BudgetVerdict::kDoesNotFit: o << "DOES NOT FIT"; break;
      case BudgetVerdict::kUnknown: o << "UNKNOWN"; break;
    }
    o << "\n";
    if (b.verdict != BudgetVerdict::kUnknown) {
      o << "  activations " << FormatBytes(b.activation_need) << " of "
        << FormatBytes(b.activation_capacity) << " on chip (" << b.activation_regions.size()
        << " regions, " << Percent(b.activation_need, b.activation_capacity) << " used, margin "
        << (b.activation_margin < 0 ? "-" : "") << FormatBytes(std::abs(b.activation_margin))
        << ")\n";
      o << "  weights     " << FormatBytes(b.weight_need) << " of "
        << FormatBytes(b.weight_capacity) << " flash (" << Percent(b.weight_need, b.weight_capacity)
        << " used, margin " << (b.weight_margin < 0 ? "-" : "")
        << FormatBytes(std::abs(b.weight_margin)) << ")\n";
    }
    for (const std::string& n : b.notes) o << "  note: " << n << "\n";
  }
  for (const std::string& n : c.notes) o << "note: " << n << "\n";
  for (const std::string& w : r.warnings) o << "warning: " << w << "\n";
  if (layers) {
    o << "\n"
      << Pad("#", 4) << Pad("op", 18) << Pad("name", 32) << Pad("output", 18) << Pad("dtype", 8)
      << Pad("MACs", 12, true) << Pad("ops", 10, true) << Pad("params", 9, true)
      << Pad("ROM", 11, true) << Pad("live RAM", 11, true) << "\n";
    for (size_t i = 0; i < c.layers.size(); ++i) {
      const LayerCost& l = c.layers[i];
      if (l.kind == LayerKind::kFusedQdq) continue;  // Q/DQ folded into int8 layers
      std::string shape = l.outputs.empty() ? "-" : TensorShapeString(c.tensors[l.outputs[0]]);
      std::string name = l.name.size() > 31 ? "..." + l.name.substr(l.name.size() - 28) : l.name;
      std::string op = l.op;
      if (l.kind == LayerKind::kView) op += " (view)";
      o << Pad(std::to_string(i), 4) << Pad(op, 18) << Pad(name, 32) << Pad(shape, 18)
        << Pad(l.outputs.empty() ? "-" : DataTypeName(c.tensors[l.outputs[0]].dtype), 8)
        << Pad(std::to_string(l.macs), 12, true) << Pad(std::to_string(l.ops), 10, true)
        << Pad(std::to_string(l.params), 9, true)
        << Pad(l.weight_bytes ? FormatBytes(l.weight_bytes) : "-", 11, true)
        << Pad(i < m.live_bytes.size() ? FormatBytes(m.live_bytes[i]) : "-", 11, true);
      if (static_cast<int>(i) == m.peak_layer) o << "<- peak";
      o << "\n";
    }
  }
  return o.str();
}

nlohmann::json AnalyzeToJson(const AnalyzeReport& r) {
  using nlohmann::json;
  const CostReport& c = r.cost;
  const MemoryPlan& m = r.memory;
  json j;
  j["schema"] = "edgefit-analyze/1";
  j["model"] = r.model;
  j["opset"] = r.opset;
  j["quantized"] = c.quantized;
  auto io = [](const std::vector<IoTensor>& v) {
    json a = json::array();
    for (const IoTensor& t : v) {
      a.push_back({{"name", t.name},
                   {"dtype", t.dtype},
                   {"shape", t.shape},
                   {"deployed_dtype", t.deployed_dtype},
                   {"bytes", t.bytes}});
    }
    return a;
  };
  j["inputs"] = io(r.inputs);
  j["outputs"] = io(r.outputs);
  j["macs"] = c.macs;
  j["ops"] = c.ops;
  j["params"] = c.params;
  j["weight_bytes"] = c.weight_bytes;
  j["weight_bytes_float32"] = c.weight_bytes_float32;
  j["qparam_bytes"] = c.qparam_bytes;
  j["layer_count"] = c.LayerCount();
  json mem;
  mem["arena_bytes"] = m.arena_bytes;
  mem["peak_live_bytes"] = m.peak_live_bytes;
  mem["peak_layer"] = m.peak_layer;
  mem["peak_layer_name"] = m.peak_layer >= 0 && m.peak_layer < static_cast<int>(c.layers.size())
                               ? c.layers[m.peak_layer].name
                               : "";
  mem["naive_bytes"] = m.naive_bytes;
  mem["largest_buffer"] = m.largest_buffer;
  mem["buffers"] = m.buffers.size();
  mem["inplace"] = m.inplace;
  mem["timeline"] = m.live_bytes;
  j["memory"] = mem;
  if (r.budget) {
    const MemoryBudgetCheck& b = *r.budget;
    auto regions = [](const std::vector<RegionUse>& v) {
      json a = json::array();
      for (const RegionUse& x : v) {
        a.push_back(
            {{"name", x.name}, {"kind", x.kind}, {"bytes", x.bytes}, {"address", x.address}});
      }
      return a;
    };
    j["budget"] = {{"target", b.target},
                   {"verdict", BudgetVerdictName(b.verdict)},
                   {"activations",
                    {{"need", b.activation_need},
                     {"capacity", b.activation_capacity},
                     {"margin", b.activation_margin},
                     {"largest_contiguous", b.largest_contiguous},
                     {"on_chip", b.activations_on_chip},
                     {"regions", regions(b.activation_regions)},
                     {"spill_capacity", b.spill_capacity},
                     {"spill_regions", regions(b.spill_regions)}}},
                   {"weights",
                    {{"need", b.weight_need},
                     {"capacity", b.weight_capacity},
                     {"margin", b.weight_margin},
                     {"fits", b.weights_fit},
                     {"regions", regions(b.weight_regions)}}},
                   {"notes", b.notes}};
  } else {
    j["budget"] = nullptr;
  }
  json layers = json::array();
  for (size_t i = 0; i < c.layers.size(); ++i) {
    const LayerCost& l = c.layers[i];
    json outs = json::array();
    for (int t : l.outputs) {
      outs.push_back({{"name", c.tensors[t].name},
                      {"dtype", DataTypeName(c.tensors[t].dtype)},
                      {"shape", TensorShapeString(c.tensors[t])},
                      {"bytes", c.tensors[t].bytes},
                      {"buffer", m.tensor_buffer.empty() ? -1 : m.tensor_buffer[t]}});
    }
    layers.push_back({{"index", i},
                      {"name", l.name},
                      {"op", l.op},
                      {"kind", LayerKindName(l.kind)},
                      {"precision", DataTypeName(l.precision)},
                      {"macs", l.macs},
                      {"ops", l.ops},
                      {"params", l.params},
                      {"weight_bytes", l.weight_bytes},
                      {"modelled", l.modelled},
                      {"outputs", outs},
                      {"live_bytes", i < m.live_bytes.size() ? m.live_bytes[i] : 0}});
  }
  j["layers"] = layers;
  j["notes"] = c.notes;
  j["warnings"] = r.warnings;
  return j;
}

}  // namespace edgefit
