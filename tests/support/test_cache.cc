#include "support/test_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "concierge/core/encoding.h"
#include "support/file_lock.h"

namespace concierge::testing {
namespace {

namespace fs = std::filesystem;
namespace snp = evidence::snp;

// The running executable's identity; empty when it cannot be read.
std::string build_id() {
  struct stat st {};
  if (::stat("/proc/self/exe", &st) != 0) return "";
  std::ostringstream id;
  id << std::hex << st.st_dev << "-" << st.st_ino << "-" << st.st_size << "-" << st.st_mtim.tv_sec
     << "-" << st.st_mtim.tv_nsec;
  return id.str();
}

// This build's cache folder (created; other builds' removed); empty when
// there is none to be had.
fs::path make_cache_dir() {
  const std::string id = build_id();
  if (id.empty()) return {};
  const fs::path root = fs::path(CONCIERGE_TEST_STATE_DIR) / "cache";
  const fs::path dir = root / id;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return dir;
  fs::create_directories(root, ec);
  FileLock lock(root / ".lock");
  if (!lock.ok()) return {};
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.path() != dir && entry.path().filename() != ".lock") {
      std::error_code ignored;
      fs::remove_all(entry.path(), ignored);
    }
  }
  fs::create_directories(dir, ec);
  return fs::is_directory(dir, ec) ? dir : fs::path();
}

const fs::path& cache_dir() {
  static const fs::path dir = make_cache_dir();
  return dir;
}

// Loads entry `name` with `load`. When it is absent or does not load: under
// the entry's lock, loads it again (another process may just have made it),
// or else has `make` write it under a temporary name, renames that into
// place and loads it. False when the cache cannot be used.
bool through_cache(const std::string& name, const std::function<bool(const fs::path&)>& load,
                   const std::function<bool(const fs::path&)>& make) {
  const fs::path& dir = cache_dir();
  if (dir.empty()) return false;
  const fs::path entry = dir / name;
  std::error_code ec;
  if (fs::exists(entry, ec) && load(entry)) return true;
  FileLock lock(dir / (name + ".lock"));
  if (!lock.ok()) return false;
  if (fs::exists(entry, ec) && load(entry)) return true;
  fs::remove_all(entry, ec);
  const fs::path tmp = dir / (name + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  bool ok = false;
  if (make(tmp)) {
    fs::rename(tmp, entry, ec);
    ok = !ec && load(entry);
  }
  fs::remove_all(tmp, ec);
  return ok;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

PrivateKey must(Result<PrivateKey> key, const char* what) {
  if (!key) {
    std::cerr << what << ": " << key.error().to_string() << "\n";
    std::abort();
  }
  return std::move(key).value();
}

}  // namespace

PrivateKey cached_rsa_key(int bits, int index) {
  std::optional<PrivateKey> key;
  const auto load = [&](const fs::path& file) {
    auto k = PrivateKey::from_pem(read_text(file));
    if (!k || k->type() != KeyType::kRsa) return false;
    auto pub = k->public_key();
    if (!pub || pub->bits() != bits) return false;
    key.emplace(std::move(k).value());
    return true;
  };
  const auto make = [&](const fs::path& file) {
    auto pem = must(PrivateKey::generate_rsa(bits), "generate_rsa").to_pem();
    if (!pem) return false;
    const int fd = ::open(file.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    const bool written = ::write(fd, pem->data(), pem->size()) == static_cast<ssize_t>(pem->size());
    ::close(fd);
    return written;
  };
  const std::string name = "rsa-" + std::to_string(bits) + "-" + std::to_string(index) + ".pem";
  if (through_cache(name, load, make)) return std::move(*key);
  return must(PrivateKey::generate_rsa(bits), "generate_rsa");
}

snp::SnpSimulator cached_snp_simulator(const snp::SimulatorOptions& options,
                                       const std::string& name) {
  std::string entry = "snp-" + std::string(snp::product_name(options.product)) + "-" +
                      std::to_string(options.ark_bits);
  if (options.vlek_csp_id) entry += "-vlek-" + hex_encode(as_bytes(*options.vlek_csp_id));
  if (options.chip_id) entry += "-chip-" + hex_encode(*options.chip_id);
  if (options.tcb) {
    entry += "-tcb-" + std::to_string(snp::encode_tcb(*options.tcb, options.product));
  }
  if (!name.empty()) entry += "-" + name;

  std::optional<snp::SnpSimulator> sim;
  const auto load = [&](const fs::path& dir) {
    auto s = snp::SnpSimulator::load(dir);
    if (!s || s->product() != options.product) return false;
    sim.emplace(std::move(s).value());
    return true;
  };
  const auto make = [&](const fs::path& dir) {
    auto s = snp::SnpSimulator::create(options);
    return s && s->save(dir);
  };
  if (through_cache(entry, load, make)) return std::move(*sim);
  auto s = snp::SnpSimulator::create(options);
  if (!s) {
    std::cerr << "SnpSimulator::create: " << s.error().to_string() << "\n";
    std::abort();
  }
  return std::move(s).value();
}

}  // namespace concierge::testing
