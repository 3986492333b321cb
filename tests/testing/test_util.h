// Helpers shared by the edgefit tests: source-tree paths, temporary folders, file I/O and
// running a command with its output captured.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "edgefit/status.h"

namespace edgefit::testing {

// <source>/<relative>.
std::string SourcePath(const std::string& relative);
// <source>/tests/fixtures/<name>.
std::string FixturePath(const std::string& name);
// Debian's libonnx-testdata folder (holding node/, pytorch-converted/, ...); may not exist.
std::string OnnxTestdataDir();
// The model.onnx files under OnnxTestdataDir()/<folder>/*/, sorted.
std::vector<std::string> TestdataModels(const std::string& folder);

// A fresh folder under the system temp folder, deleted with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path()/<name>
  std::string File(const std::string& name) const;

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& bytes);

// True if `s` is non-empty and has no line break.
bool IsOneLine(const std::string& s);

struct CommandResult {
  int exit_code = -1;  // -1 when the process did not exit normally (e.g. a signal)
  int signal = 0;
  std::string out, err;
};
// Runs argv[0] with arguments argv[1..] (no shell), stdin from /dev/null, and captures its output.
CommandResult RunCommand(const std::vector<std::string>& argv);

}  // namespace edgefit::testing

// gtest assertions on Status / StatusOr.
#define EDGEFIT_ASSERT_OK(expr)                                                   \
  do {                                                                            \
    const auto& _edgefit_st = (expr);                                             \
    ASSERT_TRUE(_edgefit_st.ok()) << ::edgefit::testing::StatusText(_edgefit_st); \
  } while (0)
#define EDGEFIT_EXPECT_OK(expr)                                                   \
  do {                                                                            \
    const auto& _edgefit_st = (expr);                                             \
    EXPECT_TRUE(_edgefit_st.ok()) << ::edgefit::testing::StatusText(_edgefit_st); \
  } while (0)

namespace edgefit::testing {
inline std::string StatusText(const Status& s) { return s.ToString(); }
template <typename T>
std::string StatusText(const StatusOr<T>& s) {
  return s.status().ToString();
}
}  // namespace edgefit::testing
