// Graph passes: rewrites of the IR that keep the model's function.
//
// A pass has a stable kebab-case id (`fold-batchnorm`), selects what to rewrite without side
// effects, computes every replacement first and mutates the graph last, and reports whether it
// changed anything. "Not applicable" is not an error: the pass returns changed = false.
// Passes are listed in one explicit registry (registry.cc); pipelines are lists of ids, taken
// from the target profile or the command line.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgefit/status.h"
#include "ir/graph.h"

namespace edgefit {

struct TargetProfile;

struct PassOptions {
  // --input-shape NAME=1,72,36,36: shapes to freeze graph inputs to (fix-dynamic-dims).
  std::map<std::string, Shape> input_shapes;
  // fold-constants: do not fold a node whose outputs together exceed this many bytes.
  size_t fold_max_output_bytes = 1 << 20;
  // Opset to convert to (convert-opset); 0 = the target's recommended opset.
  int target_opset = 0;
  // unbatch: "auto" (documented rule), "group" (fold batch into channels) or "split".
  std::string unbatch_mode = "auto";
};

struct PassContext {
  Model& model;
  const TargetProfile* target = nullptr;  // may be null (no target)
  PassOptions options;
};

struct PassResult {
  bool changed = false;
  int rewrites = 0;                // how many places were rewritten
  std::vector<std::string> notes;  // one line per rewrite or decision worth telling the user
  // Things the pass saw but could not fix, with the reason (reported, never guessed).
  std::vector<std::string> unresolved;

  void Rewrote(std::string note) {
    changed = true;
    ++rewrites;
    notes.push_back(std::move(note));
  }
};

class Pass {
 public:
  virtual ~Pass() = default;
  virtual const char* id() const = 0;
  virtual const char* summary() const = 0;
  virtual StatusOr<PassResult> Run(PassContext& ctx) = 0;
  // Whether the pass reads value types (shapes). The pipeline re-infers shapes after a pass that
  // changed the model only before a pass that reads them (or at the end of the round).
  virtual bool reads_shapes() const { return true; }
};

struct PassInfo {
  const char* id;
  const char* summary;
  std::unique_ptr<Pass> (*create)();
};

// Every pass edgefit ships, in the registry's order.
const std::vector<PassInfo>& AllPasses();
// A new instance of the pass with this id, or NotFound listing the known ids.
StatusOr<std::unique_ptr<Pass>> CreatePass(const std::string& id);

}  // namespace edgefit
