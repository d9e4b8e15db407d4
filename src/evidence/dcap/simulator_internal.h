// Helpers shared by the DCAP simulator's source files (simulator.h); not part
// of the API.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "concierge/core/result.h"

namespace concierge::evidence::dcap::sim_detail {

// Writes `data` to `path` with `mode` (also applied to an existing file),
// never following a symbolic link at `path`. kIo on failure.
Result<void> write_file(const std::filesystem::path& path, std::string_view data, mode_t mode);

// The whole file. kIo when it cannot be read.
Result<std::string> read_file(const std::filesystem::path& path);

// Creates `dir` and its parents. kIo on failure.
Result<void> make_dir(const std::filesystem::path& dir);

}  // namespace concierge::evidence::dcap::sim_detail
