// The profile texts compiled into the binary. The definition of BuiltinTargetTexts() is
// generated at build time from targets/*.json by cmake/EmbedTargets.cmake.
#pragma once

#include <cstddef>
#include <string_view>

namespace edgefit {

struct BuiltinTargetText {
  std::string_view id;    // the file name without ".json"
  std::string_view json;  // the file's bytes
};

struct BuiltinTargetTable {
  const BuiltinTargetText* entries;
  std::size_t size;
};

BuiltinTargetTable BuiltinTargetTexts();

}  // namespace edgefit
