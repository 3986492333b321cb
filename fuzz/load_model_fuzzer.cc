// libFuzzer target: arbitrary bytes as an ONNX model file.
//
// Loading must never crash, hang or allocate without bound; a model that loads must pass
// Verify, export with ModelToProto, load again from its own export (the importer accepts what
// the exporter writes), and survive `inspect` (ONNX shape inference included) in text and JSON.
// Build and run: fuzz/run.sh [SECONDS].
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "analyze/inspect.h"
#include "onnx/model_io.h"
#include "onnx/onnx_pb.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "load_model_fuzzer: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgefit;
  // No base folder: external data is refused (a fuzzer must not read files).
  auto model = LoadModelFromBytes(data, size, "fuzz");
  if (!model.ok()) {
    const std::string& msg = model.status().message();
    if (msg.find('\n') != std::string::npos) Fail("multi-line error message", msg);
    if (model.status().code() == StatusCode::kInternal) Fail("internal error", msg);
    return 0;
  }
  Status st = model->graph->Verify();
  if (!st.ok()) Fail("a loaded model fails Verify", st.ToString());

  onnx::ModelProto proto;
  st = ModelToProto(*model, &proto);
  if (!st.ok()) Fail("ModelToProto failed", st.ToString());
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) Fail("serializing the export failed", "");
  auto again = LoadModelFromBytes(bytes.data(), bytes.size(), "fuzz-export");
  if (!again.ok()) Fail("the export of a loaded model does not load", again.status().ToString());

  InspectReport report = InspectModel(*model, "fuzz");
  std::string text = FormatInspectText(report);
  std::string json =
      InspectToJson(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.empty() || json.empty()) Fail("empty inspect output", "");
  return 0;
}
