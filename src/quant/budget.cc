// Accuracy budget loop (see budget.h).
#include "quant/budget.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "onnx/model_io.h"

namespace edgefit {
namespace {

// The budget's measure of one comparison: larger is better for accuracy and SQNR, smaller for
// MAE; `Better` and `WithinBudget` know which.
struct Measure {
  std::string name;
  bool higher_is_better = true;
};

Measure MeasureOf(const AccuracyBudget& b) {
  if (b.labels && b.max_drop) {
    if (b.task == CompareTask::kClassification) return {"top-1 accuracy", true};
    if (b.task == CompareTask::kKeypoints) return {"keypoint error (px)", false};
    return {"MAE", false};
  }
  return {"output SQNR (dB)", true};
}

double MinOutputSqnr(const CompareReport& r) {
  double m = INFINITY;
  for (const DiffStats& d : r.outputs) m = std::min(m, d.sqnr_db);
  return m;
}

double TestMetric(const Measure& m, const CompareReport& r) {
  if (m.name == "top-1 accuracy") return r.task ? r.task->test_top1 : 0.0;
  if (m.name == "MAE") return r.task ? r.task->test_mae : INFINITY;
  if (m.name == "keypoint error (px)") return r.task ? r.task->test_error_px : INFINITY;
  return MinOutputSqnr(r);
}

double RefMetric(const Measure& m, const CompareReport& r) {
  if (m.name == "top-1 accuracy") return r.task ? r.task->ref_top1 : 0.0;
  if (m.name == "MAE") return r.task ? r.task->ref_mae : 0.0;
  if (m.name == "keypoint error (px)") return r.task ? r.task->ref_error_px : 0.0;
  return INFINITY;
}

bool Within(const Measure& m, const AccuracyBudget& b, double ref, const CompareReport& r) {
  const double test = TestMetric(m, r);
  bool ok = true;
  if (m.name == "top-1 accuracy") ok = (ref - test) * 100.0 <= *b.max_drop + 1e-9;  // points
  if (m.name == "MAE" || m.name == "keypoint error (px)") ok = test - ref <= *b.max_drop + 1e-12;
  if (b.min_sqnr_db) ok = ok && MinOutputSqnr(r) >= *b.min_sqnr_db;
  return ok;
}

bool Better(const Measure& m, double a, double b) {
  return m.higher_is_better ? a > b + 1e-12 : a < b - 1e-12;
}

const Node* FindNode(const Graph& g, const std::string& name) {
  for (const auto& up : g.nodes())
    if (up->name() == name) return up.get();
  return nullptr;
}

// The node computing `tensor` in the quantized model: through the tensor's DequantizeLinear and
// QuantizeLinear to the producer of `<tensor>_prequant` (names differ from the reference model
// where preparation folded BatchNormalization into the Conv before it).
const Node* ComputingNode(const Model& quantized, const std::string& tensor) {
  const Value* v = quantized.graph->FindValue(tensor);
  const Node* n = v ? v->producer() : nullptr;
  for (int hops = 0; n && hops < 2; ++hops) {
    if (n->op_type() != "DequantizeLinear" && n->op_type() != "QuantizeLinear") break;
    n = n->input(0) ? n->input(0)->producer() : nullptr;
  }
  return n;
}

// The nodes to return to float for a damaged tensor: its computing node and, for a Relu/Clip
// fused into a weighted op, that op too (the activation alone carries no quantization).
std::vector<std::string> NodesFor(const Model& quantized, const LayerStats& layer) {
  const Node* n = ComputingNode(quantized, layer.tensor);
  if (!n) return {};
  std::vector<std::string> nodes = {n->name()};
  if ((n->op_type() == "Relu" || n->op_type() == "Clip") && n->input(0) &&
      n->input(0)->producer()) {
    const Node* p = n->input(0)->producer();
    if (p->op_type() == "Conv" || p->op_type() == "ConvTranspose" || p->op_type() == "Gemm" ||
        p->op_type() == "MatMul")
      nodes.push_back(p->name());
  }
  return nodes;
}

}  // namespace

StatusOr<BudgetReport> QuantizeWithinBudget(Model& model, const TargetProfile* profile,
                                            const Dataset& calib, const QuantizeOptions& options,
                                            const AccuracyBudget& budget, QuantizeReport* report) {
  if (!budget.eval) return InvalidArgument("accuracy budget: no evaluation data (--eval)");
  if (!budget.max_drop && !budget.min_sqnr_db)
    return InvalidArgument("accuracy budget: give --max-drop (with --labels) or --min-sqnr");
  if (budget.max_drop && !budget.labels)
    return InvalidArgument("accuracy budget: --max-drop needs --labels for the task metric");
  const Measure measure = MeasureOf(budget);
  ASSIGN_OR_RETURN(const Model original, CloneModel(model));

  CompareOptions co;
  co.task = budget.task;
  co.labels = budget.labels;
  co.layers = true;
  co.sources = false;  // the ranking is what the loop needs
  co.num_threads = options.num_threads;
  auto attempt = [&](const std::vector<std::string>& exclude, Model* out, QuantizeReport* qr,
                     CompareReport* cr) -> Status {
    ASSIGN_OR_RETURN(*out, CloneModel(original));
    QuantizeOptions o = options;
    o.budget_exclude.insert(o.budget_exclude.end(), exclude.begin(), exclude.end());
    ASSIGN_OR_RETURN(*qr, QuantizeModel(*out, profile, calib, o));
    ASSIGN_OR_RETURN(*cr, CompareModels(original, *out, *budget.eval, co));
    return Status::Ok();
  };

  BudgetReport result;
  result.measure = measure.name;
  std::vector<std::string> exclude;
  Model best;
  QuantizeReport best_report;
  CompareReport best_compare;
  RETURN_IF_ERROR(attempt(exclude, &best, &best_report, &best_compare));
  const double ref = RefMetric(measure, best_compare);
  result.float_metric = ref;
  result.first_metric = result.final_metric = TestMetric(measure, best_compare);
  std::set<std::string> tried;
  for (int step = 0; step < budget.max_steps && !Within(measure, budget, ref, best_compare);
       ++step) {
    bool improved = false;
    int tries = 0;
    for (const LayerStats& layer : best_compare.layers) {
      if (tries >= budget.tries_per_step) break;
      std::vector<std::string> nodes = NodesFor(best, layer);
      if (nodes.empty() || tried.count(nodes[0])) continue;
      bool already_float = false;  // only a node that runs quantized can be given back
      for (const auto& f : best_report.kept_float) already_float |= f.node == nodes[0];
      if (already_float) continue;
      tried.insert(nodes[0]);
      ++tries;
      std::vector<std::string> candidate = exclude;
      candidate.insert(candidate.end(), nodes.begin(), nodes.end());
      Model m;
      QuantizeReport qr;
      CompareReport cr;
      RETURN_IF_ERROR(attempt(candidate, &m, &qr, &cr));
      const double metric = TestMetric(measure, cr);
      const Node* shown = FindNode(*best.graph, nodes.back());
      BudgetStep s{nodes.back(), shown ? shown->op_type() : layer.op, metric, false};
      // Helps: the measure improves, or (task metrics move in steps of one sample) it stays
      // equal while the output SQNR improves by at least 0.5 dB.
      const double current = TestMetric(measure, best_compare);
      const bool plateau_gain = !Better(measure, current, metric) &&
                                !Better(measure, metric, current) &&
                                MinOutputSqnr(cr) >= MinOutputSqnr(best_compare) + 0.5;
      if (Better(measure, metric, current) || plateau_gain || Within(measure, budget, ref, cr)) {
        s.kept = true;
        exclude = candidate;
        best = std::move(m);
        best_report = std::move(qr);
        best_compare = std::move(cr);
        improved = true;
      }
      result.steps.push_back(s);
      if (improved) break;
    }
    if (!improved) break;  // nothing helps
  }
  result.final_metric = TestMetric(measure, best_compare);
  result.within_budget = Within(measure, budget, ref, best_compare);
  result.returned_to_float = exclude;
  result.final_compare = std::move(best_compare);
  model = std::move(best);
  *report = std::move(best_report);
  return result;
}

std::string FormatBudgetText(const BudgetReport& r) {
  std::ostringstream out;
  out.precision(4);
  out << "accuracy budget (" << r.measure << "): float " << r.float_metric << ", INT8 "
      << r.first_metric;
  if (!r.steps.empty()) out << " -> " << r.final_metric;
  out << (r.within_budget ? " (within budget)" : " (OVER BUDGET: nothing more helped)") << "\n";
  for (const BudgetStep& s : r.steps)
    out << "  " << (s.kept ? "returned to float: " : "tried, did not help: ") << s.op << " '"
        << s.node << "' -> " << s.metric << "\n";
  if (!r.returned_to_float.empty()) {
    out << "  kept float for accuracy:";
    for (const std::string& n : r.returned_to_float) out << " '" << n << "'";
    out << " (on an NPU target these run on the CPU)\n";
  }
  return out.str();
}

}  // namespace edgefit
