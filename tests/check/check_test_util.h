// Helpers for the checker tests: a small builder for in-memory models, a test profile that
// exercises every rule, and shortcuts to run the checker and pick findings.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "check/check.h"
#include "ir/graph.h"
#include "targets/profile.h"

namespace edgefit::testing {

// Builds a Model node by node. Dims < 0 in shapes become the symbolic dim "N".
class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset = 13);

  Graph& graph() { return *model_.graph; }
  Value* Input(const std::string& name, const std::vector<int64_t>& dims,
               DataType dtype = DataType::kFloat);
  Value* Initializer(const std::string& name, Tensor tensor);
  Value* Floats(const std::string& name, const Shape& shape, float fill = 0.5f);
  Value* Ints(const std::string& name, const std::vector<int64_t>& values,
              DataType dtype = DataType::kInt64);
  // A Constant node named "<name>_node" whose output is `name`.
  Value* ConstantNode(const std::string& name, Tensor tensor);
  // A node with one output named "<name>_out" (or `outputs` outputs "<name>_out<i>").
  Node* Add(const std::string& op, const std::vector<Value*>& inputs, const std::string& name,
            std::vector<Attribute> attrs = {}, int outputs = 1);
  Value* Out(Node* node, size_t i = 0) { return node->output(i); }
  void Output(Value* v) { model_.graph->AddOutput(v); }
  Model Take() { return std::move(model_); }

 private:
  Model model_;
};

Tensor IntTensor(const std::vector<int64_t>& values, DataType dtype = DataType::kInt64,
                 Shape shape = {});
Tensor FloatTensor(const Shape& shape, float fill);

// A profile ("test-npu", all facts "documented" unless the test changes them) with a condition
// or setting for every rule; see rules_test.cc.
std::string TestProfileJson();
TargetProfile TestProfile();
TargetProfile Builtin(const std::string& id);

CheckReport Check(const Model& model, const TargetProfile& profile, bool executor = true);

// Findings of one rule.
std::vector<Finding> Of(const CheckReport& report, const std::string& rule);
// "violation rule node" lines for every finding of the given severities, in report order.
std::vector<std::string> Lines(const CheckReport& report, bool infos = false);
// Prints the report on failure.
std::string Dump(const CheckReport& report);

}  // namespace edgefit::testing
