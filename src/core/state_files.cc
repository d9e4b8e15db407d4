#include "concierge/core/state_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

Result<void> write_file(const std::filesystem::path& path, std::string_view data, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    return fail(Errc::kIo, "cannot create " + path.string() + ": " + std::strerror(errno));
  }
  bool ok = ::fchmod(fd, mode) == 0;
  for (std::size_t done = 0; ok && done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  const int saved = errno;
  if (::close(fd) != 0) ok = false;
  if (!ok) return fail(Errc::kIo, "cannot write " + path.string() + ": " + std::strerror(saved));
  return {};
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

Result<void> save_private_key(const std::filesystem::path& path, const PrivateKey& key) {
  CONCIERGE_ASSIGN_OR_RETURN(std::string pem, key.to_pem());
  Result<void> r = write_file(path, pem, 0600);
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
