// core/state_files.h: create_file, the one way secrets reach the disk.
#include "concierge/core/state_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "support/vectors.h"

namespace concierge::state_files {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string contents(const fs::path& p) { return std::string(as_chars(testing::read_file(p))); }

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0);
  return st.st_mode & 07777;
}

// Restores the process's umask.
struct Umask {
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
  mode_t old;
};

TEST(StateFiles, CreateFileHasItsModeWhateverTheUmask) {
  TempDir dir;
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0777}}) {
    Umask u(mask);
    const fs::path p = dir / ("secret-" + std::to_string(mask));
    ASSERT_TRUE(create_file(p, "s3cret", 0600, IfExists::kRefuse));
    EXPECT_EQ(mode_of(p), 0600u) << "umask " << mask;
    EXPECT_EQ(contents(p), "s3cret");
  }
  // Nothing is left beside it.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 3u);
}

TEST(StateFiles, AnExistingPathIsRefusedOrAFileReplacedButNoLinkFollowed) {
  TempDir dir;
  const fs::path target = dir / "target";
  testing::write_file(target, as_bytes(std::string("untouched")));
  const fs::path link = dir / "link";
  fs::create_symlink(target, link);
  const fs::path dangling = dir / "dangling";
  fs::create_symlink(dir / "nowhere", dangling);

  for (IfExists how : {IfExists::kRefuse, IfExists::kReplace}) {
    for (const fs::path& p : {link, dangling}) {
      auto r = create_file(p, "secret", 0600, how);
      ASSERT_FALSE(r) << p;
      EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
      EXPECT_TRUE(fs::is_symlink(p));
    }
  }
  EXPECT_EQ(contents(target), "untouched");
  EXPECT_FALSE(fs::exists(dir / "nowhere"));

  auto refused = create_file(target, "new", 0600, IfExists::kRefuse);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("exists"), std::string::npos);
  EXPECT_EQ(contents(target), "untouched");

  fs::permissions(target, fs::perms::all);  // a file left world-readable
  ASSERT_TRUE(create_file(target, "replaced", 0600, IfExists::kReplace));
  EXPECT_EQ(contents(target), "replaced");
  EXPECT_EQ(mode_of(target), 0600u);

  EXPECT_FALSE(create_file(dir.path(), "x", 0600, IfExists::kReplace));  // a folder
}

}  // namespace
}  // namespace concierge::state_files
