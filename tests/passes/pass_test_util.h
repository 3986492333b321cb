// Pass tests: run a pass on a model, check the graph is valid, that the outputs are unchanged
// on edgefit's executor, and that a second run changes nothing.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "onnx/model_io.h"
#include "passes/equivalence.h"
#include "passes/pass.h"

namespace edgefit::testing {

inline std::string FixturePath(const std::string& name) {
  return std::string(EDGEFIT_SOURCE_DIR) + "/tests/fixtures/" + name;
}

inline Model LoadFixture(const std::string& name) {
  auto m = LoadModel(FixturePath(name));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(m).value();
}

inline PassResult RunPass(Model& model, const std::string& id, PassOptions options = {}) {
  auto pass = CreatePass(id);
  EXPECT_TRUE(pass.ok()) << pass.status().ToString();
  PassContext ctx{model, nullptr, options};
  auto r = (*pass)->Run(ctx);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(model.graph->Verify().ok()) << model.graph->Verify().ToString();
  return r.ok() ? std::move(r).value() : PassResult{};
}

// Runs the pass on a copy of `model`, asserts it changed, the outputs match the original within
// `tolerance` on seeded random inputs, and a second run changes nothing. Returns the result.
inline Model ExpectEquivalentRewrite(const Model& model, const std::string& id,
                                     PassOptions options = {}, double tolerance = 1e-5) {
  auto copy = CloneModel(model);
  EXPECT_TRUE(copy.ok());
  Model m = std::move(copy).value();
  PassResult first = RunPass(m, id, options);
  EXPECT_TRUE(first.changed) << id << " did not fire";
  auto eq = CheckEquivalence(model, m, EquivalenceOptions{4, 1, {}, tolerance, 1});
  EXPECT_TRUE(eq.ok()) << eq.status().ToString();
  if (eq.ok()) {
    EXPECT_TRUE(eq->equivalent) << eq->Summary();
  }
  PassResult second = RunPass(m, id, options);
  EXPECT_FALSE(second.changed) << id << " is not idempotent: "
                               << (second.notes.empty() ? "" : second.notes[0]);
  return m;
}

inline int CountOps(const Model& m, const std::string& op) {
  int n = 0;
  for (const auto& node : m.graph->nodes()) n += node->op_type() == op;
  return n;
}

}  // namespace edgefit::testing
