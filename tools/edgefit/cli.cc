#include "cli.h"

#include <cstdio>
#include <iostream>
#include <sstream>

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

StatusOr<std::pair<std::string, std::string>> SplitAssignment(const std::string& text,
                                                              const char* flag) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    return InvalidArgument(std::string(flag) + " expects NAME=VALUE, got '" + text + "'");
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

StatusOr<std::pair<std::string, Shape>> ParseInputShape(const std::string& text) {
  ASSIGN_OR_RETURN(auto kv, SplitAssignment(text, "--input-shape"));
  Shape shape;
  std::stringstream ss(kv.second);
  for (std::string d; std::getline(ss, d, ',');) {
    try {
      size_t used = 0;
      long long v = std::stoll(d, &used);
      if (used != d.size() || v <= 0) throw std::invalid_argument(d);
      shape.push_back(v);
    } catch (const std::exception&) {
      return InvalidArgument("--input-shape " + kv.first + ": '" + d +
                             "' is not a positive integer");
    }
  }
  return std::make_pair(kv.first, shape);
}

StatusOr<DatasetOptions> DataOptionsFromFlags(const std::vector<std::string>& sources,
                                              int64_t count, uint64_t seed,
                                              const std::string& preprocess) {
  DatasetOptions data;
  if (sources.size() == 1 && sources[0] == "random") {
    data.random = true;
    data.random_count = count > 0 ? count : 16;
    data.seed = seed;
  } else {
    data.sources = sources;
    data.max_samples = count;
  }
  if (!preprocess.empty()) {
    ASSIGN_OR_RETURN(data.image, preprocess.front() == '{'
                                     ? ParseImagePreprocess(preprocess, "--preprocess")
                                     : LoadImagePreprocess(preprocess));
  }
  return data;
}

void ProgressBar::Update(const std::string& stage, int64_t done, int64_t total) {
  if (!enabled_ || total <= 0) return;
  if (stage != stage_) Finish();
  stage_ = stage;
  const int width = 30;
  const int filled = static_cast<int>(width * done / total);
  std::fprintf(stderr, "\r%-16s [%s%s] %lld/%lld", stage.c_str(), std::string(filled, '#').c_str(),
               std::string(width - filled, '.').c_str(), static_cast<long long>(done),
               static_cast<long long>(total));
  open_ = true;
}

void ProgressBar::Finish() {
  if (open_) std::fputc('\n', stderr);
  open_ = false;
}

}  // namespace edgefit::cli
