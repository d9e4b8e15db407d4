// Test helpers: the shared vectors folder, files, and running the CLI.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "concierge/core/bytes.h"

namespace concierge::testing {

// The folder given by the CMake cache variable CONCIERGE_VECTORS.
std::filesystem::path vectors_dir();

// Path of a vector relative to vectors_dir(); empty when absent.
std::filesystem::path vector_path(const std::string& relative);

Bytes read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, ByteView data);

// A fresh temporary folder, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs build/bin/concierge with the given argument string (shell-quoted by the
// caller), capturing stdout and stderr.
CliRun run_cli(const std::string& args);
// Runs a shell command line, capturing stdout and stderr.
CliRun run_shell(const std::string& command);

}  // namespace concierge::testing

// Skips the current test, with a clear message, when a vector is absent.
#define CONCIERGE_REQUIRE_VECTOR(var, relative)                                                   \
  const std::filesystem::path var = ::concierge::testing::vector_path(relative);                  \
  if (var.empty()) {                                                                              \
    GTEST_SKIP() << "vector " << (relative)                                                       \
                 << " not found under CONCIERGE_VECTORS=" << ::concierge::testing::vectors_dir(); \
  }
