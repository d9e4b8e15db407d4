#include "concierge/core/state_files.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>
#include <system_error>

#include "concierge/core/bytes.h"

namespace concierge::state_files {
namespace {

std::span<std::uint8_t> writable_bytes(std::string& s) {
  return std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(s.data()), s.size());
}

}  // namespace

Result<void> create_file(const std::filesystem::path& path, std::string_view data, mode_t mode,
                         IfExists if_exists) {
  const auto io = [&path](const char* what, int err) {
    return fail(Errc::kIo, std::string(what) + " " + path.string() + ": " + std::strerror(err));
  };
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (if_exists == IfExists::kRefuse) {
      return fail(Errc::kInvalidArgument, path.string() + " exists; refusing to replace it");
    }
    if (!S_ISREG(st.st_mode)) {
      return fail(Errc::kInvalidArgument,
                  path.string() +
                      " exists and is not a regular file (a symbolic link, a device "
                      "or a folder); refusing to replace it");
    }
  } else if (errno != ENOENT) {
    return io("cannot inspect", errno);
  }
  // The temporary file, beside `path` (rename and link stay in one file system).
  std::array<std::uint8_t, 8> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return fail(Errc::kCrypto, "the random generator failed");
  }
  std::string suffix;
  for (std::uint8_t b : random) {
    static constexpr char kHex[] = "0123456789abcdef";
    suffix += kHex[b >> 4];
    suffix += kHex[b & 0xF];
  }
  const std::filesystem::path tmp =
      path.parent_path() / ("." + path.filename().string() + ".tmp-" + suffix);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return io("cannot create a file beside", errno);
  bool ok = ::fchmod(fd, mode) == 0;
  for (std::size_t done = 0; ok && done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  if (ok) ok = ::fsync(fd) == 0;
  int err = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return io("cannot write", err);
  }
  const int placed = if_exists == IfExists::kRefuse ? ::link(tmp.c_str(), path.c_str())
                                                    : ::rename(tmp.c_str(), path.c_str());
  err = errno;
  if (if_exists == IfExists::kRefuse || placed != 0) ::unlink(tmp.c_str());
  if (placed != 0) {
    if (err == EEXIST) {
      return fail(Errc::kInvalidArgument, path.string() + " exists; refusing to replace it");
    }
    return io("cannot create", err);
  }
  return {};
}

Result<void> write_file(const std::filesystem::path& path, std::string_view data, mode_t mode) {
  return create_file(path, data, mode, IfExists::kReplace);
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::kIo, "cannot read " + path.string());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail(Errc::kIo, "cannot read " + path.string());
  return text;
}

Result<void> make_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(Errc::kIo, "cannot create " + dir.string() + ": " + ec.message());
  return {};
}

Result<void> save_private_key(const std::filesystem::path& path, const PrivateKey& key,
                              IfExists if_exists) {
  CONCIERGE_ASSIGN_OR_RETURN(std::string pem, key.to_pem());
  Result<void> r = create_file(path, pem, 0600, if_exists);
  wipe(writable_bytes(pem));
  return r;
}

Result<PrivateKey> load_private_key(const std::filesystem::path& path) {
  CONCIERGE_ASSIGN_OR_RETURN(std::string pem, read_file(path));
  Result<PrivateKey> key = PrivateKey::from_pem(pem);
  wipe(writable_bytes(pem));
  if (!key) return fail(Errc::kMalformed, path.string() + ": " + key.error().message);
  return key;
}

Result<Certificate> load_certificate(const std::filesystem::path& path) {
  CONCIERGE_ASSIGN_OR_RETURN(const std::string pem, read_file(path));
  Result<Certificate> cert = Certificate::from_pem(pem);
  if (!cert) return fail(Errc::kMalformed, path.string() + ": " + cert.error().message);
  return cert;
}

Result<void> check_key_pair(const Certificate& cert, const PrivateKey& key,
                            const std::string& what) {
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey from_cert, cert.public_key());
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey from_key, key.public_key());
  CONCIERGE_ASSIGN_OR_RETURN(const Bytes a, from_cert.to_der());
  CONCIERGE_ASSIGN_OR_RETURN(const Bytes b, from_key.to_der());
  if (a != b) return fail(Errc::kInvalidArgument, what + ".key does not match " + what + ".pem");
  return {};
}

}  // namespace concierge::state_files
