// Test helper: an exclusive advisory lock (flock) on a file, held while the
// object lives, shared by test processes that make or start something once
// (cached keys, the ctest run's PostgreSQL server). Not thread-safe per
// object; the lock is per open file, so it also excludes other threads of
// the same process that open the file themselves.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <sys/types.h>
#include <unistd.h>

#include <filesystem>

namespace concierge::testing {

class FileLock {
 public:
  // Opens (creating with `mode` if needed) and locks `path`; blocks until
  // the lock is granted. ok() is false when the file cannot be opened or
  // locked.
  explicit FileLock(const std::filesystem::path& path, mode_t mode = 0600) {
    fd_ = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, mode);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace concierge::testing
