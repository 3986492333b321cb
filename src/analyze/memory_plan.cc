#include "analyze/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace edgefit {
namespace {

bool LifetimesOverlap(const Lifetime& a, const Lifetime& b) {
  return a.first <= b.last && b.first <= a.last;
}

int64_t AlignUp(int64_t v, int64_t a) { return a <= 1 ? v : (v + a - 1) / a * a; }

}  // namespace

OffsetPlan PlanOffsets(const std::vector<Lifetime>& blocks, int64_t alignment) {
  OffsetPlan plan;
  plan.offsets.assign(blocks.size(), 0);
  std::vector<size_t> order(blocks.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (blocks[a].size != blocks[b].size) return blocks[a].size > blocks[b].size;
    return blocks[a].first < blocks[b].first;
  });
  std::vector<size_t> placed;
  for (size_t i : order) {
    const Lifetime& b = blocks[i];
    if (b.size <= 0) continue;
    // Blocks already placed that are alive together with b, by offset.
    std::vector<size_t> live;
    for (size_t j : placed) {
      if (LifetimesOverlap(b, blocks[j])) live.push_back(j);
    }
    std::sort(live.begin(), live.end(),
              [&](size_t x, size_t y) { return plan.offsets[x] < plan.offsets[y]; });
    int64_t best = -1, best_gap = INT64_MAX, cursor = 0;
    for (size_t j : live) {
      int64_t start = AlignUp(cursor, alignment);
      int64_t gap = plan.offsets[j] - start;
      if (gap >= b.size && gap < best_gap) {
        best = start;
        best_gap = gap;
      }
      cursor = std::max(cursor, plan.offsets[j] + blocks[j].size);
    }
    if (best < 0) best = AlignUp(cursor, alignment);
    plan.offsets[i] = best;
    plan.arena_bytes = std::max(plan.arena_bytes, best + b.size);
    placed.push_back(i);
  }
  return plan;
}

Status CheckNoOverlap(const std::vector<Lifetime>& blocks, const std::vector<int64_t>& offsets) {
  if (offsets.size() != blocks.size()) {
    return Status(StatusCode::kInternal, "memory plan: one offset per block expected");
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (offsets[i] < 0) {
      return Status(StatusCode::kInternal,
                    "memory plan: block " + std::to_string(i) + " has a negative offset");
    }
    if (blocks[i].size <= 0) continue;
    for (size_t j = i + 1; j < blocks.size(); ++j) {
      if (blocks[j].size <= 0 || !LifetimesOverlap(blocks[i], blocks[j])) continue;
      bool disjoint =
          offsets[i] + blocks[i].size <= offsets[j] || offsets[j] + blocks[j].size <= offsets[i];
      if (!disjoint) {
        return Status(StatusCode::kInternal,
                      "memory plan: blocks " + std::to_string(i) + " [" +
                          std::to_string(offsets[i]) + ", +" + std::to_string(blocks[i].size) +
                          ") and " + std::to_string(j) + " [" + std::to_string(offsets[j]) + ", +" +
                          std::to_string(blocks[j].size) + ") are alive together and overlap");
      }
    }
  }
  return Status::Ok();
}

int64_t PeakLiveBytes(const std::vector<Lifetime>& blocks, int* peak_step) {
  int steps = 0;
  for (const auto& b : blocks) steps = std::max(steps, b.last + 1);
  std::vector<int64_t> live(steps + 1, 0);
  for (const auto& b : blocks) {
    if (b.size <= 0) continue;
    live[b.first] += b.size;
    live[b.last + 1] -= b.size;
  }
  int64_t cur = 0, peak = 0;
  int at = -1;
  for (int s = 0; s < steps; ++s) {
    cur += live[s];
    if (cur > peak) {
      peak = cur;
      at = s;
    }
  }
  if (peak_step) *peak_step = at;
  return peak;
}

MemoryPlan PlanActivationMemory(const CostReport& cost, const MemoryPlanOptions& options) {
  MemoryPlan plan;
  const int steps = static_cast<int>(cost.layers.size());
  const int last_step = std::max(0, steps - 1);
  const size_t n = cost.tensors.size();

  // Lifetime of each tensor on its own.
  std::vector<Lifetime> life(n);
  for (size_t i = 0; i < n; ++i) {
    const TensorCost& t = cost.tensors[i];
    life[i].size = t.bytes;
    life[i].first = t.producer < 0 ? 0 : t.producer;
    life[i].last = std::max(life[i].first, t.last_use);
    if (t.graph_output) life[i].last = last_step;
    plan.naive_bytes += t.alias_of < 0 ? t.bytes : 0;
  }

  // Union of tensors into buffers: aliases first.
  std::vector<int> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  std::vector<Lifetime> root_life = life;
  std::vector<bool> pinned(n, false);  // holds a graph input or output
  for (size_t i = 0; i < n; ++i) {
    pinned[i] = cost.tensors[i].graph_input || cost.tensors[i].graph_output;
  }
  auto merge = [&](int into, int from) {
    int a = find(into), b = find(from);
    if (a == b) return;
    parent[b] = a;
    root_life[a].size = std::max(root_life[a].size, root_life[b].size);
    root_life[a].first = std::min(root_life[a].first, root_life[b].first);
    root_life[a].last = std::max(root_life[a].last, root_life[b].last);
    pinned[a] = pinned[a] || pinned[b];
  };
  for (size_t i = 0; i < n; ++i) {
    if (cost.tensors[i].alias_of >= 0) merge(cost.tensors[i].alias_of, static_cast<int>(i));
  }

  // In place, in layer order.
  if (options.inplace) {
    for (int s = 0; s < steps; ++s) {
      const LayerCost& layer = cost.layers[s];
      if (!layer.may_inplace || layer.kind != LayerKind::kCompute) continue;
      for (int out : layer.outputs) {
        const TensorCost& o = cost.tensors[out];
        if (o.alias_of >= 0 || find(out) != out || pinned[out] || o.bytes <= 0) continue;
        for (int in : layer.inputs) {
          const TensorCost& it = cost.tensors[in];
          int r = find(in);
          if (pinned[r] || root_life[r].last != s || root_life[r].size < o.bytes) continue;
          if (!it.has_shape || it.shape != o.shape) continue;  // broadcast inputs are smaller
          merge(in, out);
          plan.inplace.push_back(layer.op + " '" + layer.name + "' writes '" + o.name + "' over '" +
                                 it.name + "'");
          break;
        }
      }
    }
  }

  // Buffers.
  std::vector<int> root_buffer(n, -1);
  plan.tensor_buffer.assign(n, -1);
  for (size_t i = 0; i < n; ++i) {
    int r = find(static_cast<int>(i));
    if (root_life[r].size <= 0) continue;
    if (root_buffer[r] < 0) {
      root_buffer[r] = static_cast<int>(plan.buffers.size());
      PlannedBuffer b;
      b.life = root_life[r];
      plan.buffers.push_back(b);
    }
    plan.buffers[root_buffer[r]].tensors.push_back(static_cast<int>(i));
    plan.tensor_buffer[i] = root_buffer[r];
  }
  std::vector<Lifetime> blocks;
  for (const auto& b : plan.buffers) blocks.push_back(b.life);
  OffsetPlan offsets = PlanOffsets(blocks, options.alignment);
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    plan.buffers[i].offset = offsets.offsets[i];
    plan.largest_buffer = std::max(plan.largest_buffer, plan.buffers[i].life.size);
  }
  plan.arena_bytes = offsets.arena_bytes;
  plan.peak_live_bytes = PeakLiveBytes(blocks, &plan.peak_layer);
  plan.live_bytes.assign(steps, 0);
  for (const auto& b : blocks) {
    for (int s = b.first; s <= b.last && s < steps; ++s) plan.live_bytes[s] += b.size;
  }
  return plan;
}

Status CheckMemoryPlan(const MemoryPlan& plan) {
  std::vector<Lifetime> blocks;
  std::vector<int64_t> offsets;
  for (const auto& b : plan.buffers) {
    blocks.push_back(b.life);
    offsets.push_back(b.offset);
  }
  Status s = CheckNoOverlap(blocks, offsets);
  if (!s.ok()) return s;
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (offsets[i] + blocks[i].size > plan.arena_bytes) {
      return Status(StatusCode::kInternal, "memory plan: a buffer ends past the arena");
    }
  }
  return Status::Ok();
}

}  // namespace edgefit
