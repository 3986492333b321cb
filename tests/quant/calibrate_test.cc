// RunCalibration: samples in parallel end with exactly the observers of one sequential pass (the
// histogram methods depend on the order of the samples), and a failing sample is reported as a
// sequential pass would report it.
#include "quant/calibrate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "io/npy.h"
#include "onnx/model_io.h"
#include "testing/test_util.h"

namespace edgefit {
namespace {

const std::string kFixtures = std::string(EDGEFIT_SOURCE_DIR) + "/tests/fixtures/quant/";

struct Calibrated {
  std::map<std::string, std::unique_ptr<RangeObserver>> observers;
  Status status;
  int64_t progress_calls = 0, last_done = 0;
};

// Observers on every float node output and on the graph input of `model`.
Calibrated Calibrate(const Model& model, const Dataset& data, const ObserverOptions& options,
                     int threads) {
  Calibrated c;
  for (const auto& node : model.graph->nodes())
    for (const Value* v : node->outputs()) c.observers[v->name()] = MakeRangeObserver(options);
  for (const Value* v : model.graph->inputs()) c.observers[v->name()] = MakeRangeObserver(options);
  CalibrationRunOptions run;
  run.num_threads = threads;
  run.progress = [&](int64_t done, int64_t total) {
    ++c.progress_calls;
    c.last_done = done;
    EXPECT_EQ(total, data.size());
  };
  c.status = RunCalibration(model, data, c.observers, run);
  return c;
}

Dataset Open(const Model& model, const std::string& path, int64_t count = 0) {
  auto specs = InputSpecsOf(model);
  EXPECT_TRUE(specs.ok()) << specs.status().ToString();
  DatasetOptions o;
  o.sources = {path};
  o.max_samples = count;
  auto data = Dataset::Open(o, *specs);
  EXPECT_TRUE(data.ok()) << data.status().ToString();
  return std::move(data).value();
}

TEST(RunCalibrationTest, ParallelSamplesGiveTheSequentialObserversBitForBit) {
  auto model = LoadModel(kFixtures + "digits_dw.onnx");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const Dataset data = Open(*model, kFixtures + "digits_dw.calib.npy", 40);
  ASSERT_EQ(data.size(), 40);
  for (CalibrationMethod method : {CalibrationMethod::kMinMax, CalibrationMethod::kEntropy,
                                   CalibrationMethod::kPercentile, CalibrationMethod::kMse}) {
    ObserverOptions options;
    options.method = method;
    options.moving_average = method == CalibrationMethod::kMinMax;  // order-dependent too
    const Calibrated one = Calibrate(*model, data, options, 1);
    ASSERT_TRUE(one.status.ok()) << one.status.ToString();
    EXPECT_EQ(one.progress_calls, 40);
    int64_t seen = 0;
    for (const auto& [name, obs] : one.observers) seen += obs->samples() > 0;
    EXPECT_GT(seen, 5);  // the input and the fused activations at least
    for (int threads : {2, 3, 7}) {
      const Calibrated many = Calibrate(*model, data, options, threads);
      ASSERT_TRUE(many.status.ok()) << many.status.ToString();
      EXPECT_EQ(many.progress_calls, 40);
      EXPECT_EQ(many.last_done, 40);
      for (const auto& [name, obs] : one.observers) {
        const RangeObserver& other = *many.observers.at(name);
        SCOPED_TRACE(std::string(CalibrationMethodName(method)) + " threads " +
                     std::to_string(threads) + " tensor " + name);
        EXPECT_EQ(other.samples(), obs->samples());
        for (bool symmetric : {false, true}) {
          EXPECT_EQ(other.Range(symmetric).min, obs->Range(symmetric).min);
          EXPECT_EQ(other.Range(symmetric).max, obs->Range(symmetric).max);
        }
      }
    }
  }
}

TEST(RunCalibrationTest, FirstFailingSampleIsReportedWhateverTheThreads) {
  auto model = LoadModel(kFixtures + "digits_cnn.onnx");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto calib = ReadNpy(kFixtures + "digits_cnn.calib.npy");
  ASSERT_TRUE(calib.ok()) << calib.status().ToString();
  const int64_t rows = 12, row_size = calib->numel() / calib->dim(0);
  Shape shape = calib->shape();
  shape[0] = rows;
  Tensor bad(DataType::kFloat, shape);
  std::copy(calib->data<float>(), calib->data<float>() + rows * row_size, bad.data<float>());
  bad.data<float>()[9 * row_size + 3] = std::numeric_limits<float>::quiet_NaN();
  bad.data<float>()[5 * row_size + 7] = std::numeric_limits<float>::infinity();
  testing::TempDir dir;
  ASSERT_TRUE(WriteNpy(dir.File("bad.npy"), bad).ok());
  const Dataset data = Open(*model, dir.File("bad.npy"));
  for (int threads : {1, 2, 4}) {
    ObserverOptions options;
    options.method = CalibrationMethod::kEntropy;
    const Calibrated c = Calibrate(*model, data, options, threads);
    ASSERT_FALSE(c.status.ok()) << "threads " << threads;
    EXPECT_NE(c.status.message().find("bad.npy[5]"), std::string::npos) << c.status.ToString();
    EXPECT_LE(c.last_done, 5) << "threads " << threads;  // samples after 5 are not counted
  }
}

}  // namespace
}  // namespace edgefit
