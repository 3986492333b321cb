#include "passes/equivalence.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <thread>

namespace edgefit {

std::string EquivalenceReport::Summary() const {
  std::ostringstream os;
  os.precision(3);
  for (const OutputDifference& o : outputs) {
    os << "  " << o.name << ": ";
    if (o.shape_mismatch) {
      os << "SHAPE MISMATCH\n";
      continue;
    }
    os << "max abs " << std::scientific << o.max_abs << ", max rel " << o.max_rel
       << std::defaultfloat << (o.within_tolerance ? "" : "  ABOVE TOLERANCE") << "\n";
  }
  return os.str();
}

StatusOr<std::vector<NamedTensor>> RandomInputs(const Model& model, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<NamedTensor> feeds;
  for (const Value* v : model.graph->inputs()) {
    if (v->has_initializer()) continue;
    auto shape = v->type().StaticShape();
    if (!shape)
      return InvalidArgument("input '" + v->name() + "' has a non-static shape " +
                             v->type().ShapeString() + "; give it with --input-shape");
    DataType dt = v->type().elem_type;
    ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dt, *shape));
    if (dt == DataType::kFloat) {
      for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
    } else if (dt == DataType::kDouble) {
      for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = dist(rng);
    }
    feeds.push_back({v->name(), std::move(t)});
  }
  return feeds;
}

StatusOr<EquivalenceReport> CheckEquivalence(const Model& reference, const Model& candidate,
                                             const EquivalenceOptions& options) {
  // With more than one thread allowed, the two models run side by side, each on one thread
  // (a model's own nodes rarely have work for two: measured on the 10,000-node fix benchmark,
  // verification 0.10 -> 0.06 s); otherwise one after the other with the threads given.
  const bool side_by_side =
      options.num_threads != 1 && std::max(1u, std::thread::hardware_concurrency()) >= 2;
  // Runs a() on a second thread and b() here.
  auto both = [side_by_side](const auto& a, const auto& b) {
    if (!side_by_side) {
      a();
      b();
      return;
    }
    std::thread t(a);
    b();
    t.join();
  };
  SessionOptions so;
  so.num_threads = side_by_side ? 1 : options.num_threads;
  StatusOr<std::unique_ptr<Session>> ref = Internal("not created"), cand = ref.status();
  both([&] { ref = Session::Create(reference, so); },
       [&] { cand = Session::Create(candidate, so); });
  if (!ref.ok()) return ref.status().WithContext("running the original model");
  if (!cand.ok()) return cand.status().WithContext("running the rewritten model");
  EquivalenceReport report;
  const auto& outs = (*cand)->outputs();
  if (outs.size() != (*ref)->outputs().size())
    return FailedPrecondition("the rewritten model has " + std::to_string(outs.size()) +
                              " outputs, the original " + std::to_string((*ref)->outputs().size()));
  for (const Value* v : outs) report.outputs.push_back({v->name()});
  std::vector<double> ref_scale(outs.size(), 0.0);

  std::vector<std::vector<NamedTensor>> samples = options.samples;
  for (int i = 0; i < options.random_samples; ++i) {
    ASSIGN_OR_RETURN(auto feeds, RandomInputs(candidate, options.seed + i));
    samples.push_back(std::move(feeds));
  }
  for (const auto& feeds : samples) {
    // The reference sees the same tensors under its own input names (matched by position).
    std::vector<NamedTensor> ref_feeds;
    const auto& ref_inputs = (*ref)->inputs();
    for (size_t i = 0; i < feeds.size() && i < ref_inputs.size(); ++i)
      ref_feeds.push_back({ref_inputs[i]->name(), feeds[i].tensor});
    StatusOr<std::vector<Tensor>> a = Internal("not run"), b = a.status();
    both([&] { a = (*ref)->Run(ref_feeds); }, [&] { b = (*cand)->Run(feeds); });
    if (!a.ok()) return a.status().WithContext("running the original model");
    if (!b.ok()) return b.status().WithContext("running the rewritten model");
    ++report.samples;
    for (size_t o = 0; o < outs.size(); ++o) {
      const Tensor& x = (*a)[o];
      const Tensor& y = (*b)[o];
      OutputDifference& d = report.outputs[o];
      if (x.shape() != y.shape() || x.dtype() != y.dtype()) {
        d.shape_mismatch = true;
        continue;
      }
      auto xv = x.ToDoubleVector(), yv = y.ToDoubleVector();
      for (size_t i = 0; i < xv.size(); ++i) {
        if (std::isnan(xv[i]) && std::isnan(yv[i])) continue;
        double diff = std::fabs(xv[i] - yv[i]);
        if (std::isnan(diff)) diff = INFINITY;
        d.max_abs = std::max(d.max_abs, diff);
        if (std::isfinite(xv[i])) ref_scale[o] = std::max(ref_scale[o], std::fabs(xv[i]));
      }
    }
  }
  for (size_t o = 0; o < outs.size(); ++o) {
    OutputDifference& d = report.outputs[o];
    d.max_rel = d.max_abs / std::max(ref_scale[o], 1e-12);
    d.within_tolerance = !d.shape_mismatch && (d.max_abs == 0 || d.max_rel <= options.tolerance);
    report.equivalent = report.equivalent && d.within_tolerance;
  }
  return report;
}

}  // namespace edgefit
