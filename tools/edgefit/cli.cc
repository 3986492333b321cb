#include "cli.h"

#include <iostream>

namespace edgefit::cli {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kInvalidArgument: return kExitUsage;
    case StatusCode::kInvalidModel:
    case StatusCode::kNotFound: return kExitInvalidModel;
    case StatusCode::kFailedPrecondition:
    case StatusCode::kIoError: return kExitOutputRefused;
    case StatusCode::kInvalidProfile: return kExitInvalidProfile;
    case StatusCode::kUnsupported:
    case StatusCode::kResourceExhausted: return kExitUnsupported;
    case StatusCode::kInternal: return kExitInternal;
  }
  return kExitInternal;
}

int ReportError(const std::string& command, const Status& status) {
  std::cerr << "edgefit " << command << ": error: " << status.message() << "\n";
  return ExitCodeFor(status);
}

}  // namespace edgefit::cli
