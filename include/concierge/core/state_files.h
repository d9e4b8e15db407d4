// Files the program writes: secrets (private keys, tokens, credentials,
// released secrets) and saved state, through one function, create_file;
// PEM keys and certificates read back. Errors: kIo (with the path and the
// system's reason), kInvalidArgument for a path that may not be written,
// kMalformed for contents that do not parse. Thread-safe (no shared
// state); of concurrent creators of one path with kRefuse, one wins.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "concierge/core/private_key.h"
#include "concierge/core/result.h"
#include "concierge/core/x509.h"

namespace concierge::state_files {

enum class IfExists {
  kRefuse,   // something at `path` (a file, a symbolic link, ...): kInvalidArgument
  kReplace,  // a regular file at `path` is replaced; anything else: kInvalidArgument
};

// Writes `data` to `path` with exactly `mode` (0600 for anything secret),
// never through a symbolic link, never visible half-written:
//   1. a new file beside it, ".<name>.tmp-<random>", is opened with
//      O_CREAT|O_EXCL|O_NOFOLLOW and `mode` and fchmod'ed to `mode` (the
//      umask neither widens nor narrows it) before the first byte, written
//      and fsync'ed;
//   2. kRefuse: it is hard-linked as `path` (link() never replaces, and a
//      symbolic link there, dangling or not, counts as existing); kReplace:
//      renamed over `path` (rename() replaces the link itself, never its
//      target);
//   3. the temporary name is removed.
// A reader sees the old file or the whole new one. Only the last component
// of `path` is protected: its folders must be the caller's own.
Result<void> create_file(const std::filesystem::path& path, std::string_view data, mode_t mode,
                         IfExists if_exists);

// create_file(path, data, mode, IfExists::kReplace): saved state.
Result<void> write_file(const std::filesystem::path& path, std::string_view data, mode_t mode);
Result<std::string> read_file(const std::filesystem::path& path);
Result<void> make_dir(const std::filesystem::path& dir);  // with parents

// PKCS#8 PEM, mode 0600 (create_file); the PEM text is wiped once written.
Result<void> save_private_key(const std::filesystem::path& path, const PrivateKey& key,
                              IfExists if_exists = IfExists::kReplace);
// The PEM text is wiped once parsed.
Result<PrivateKey> load_private_key(const std::filesystem::path& path);
Result<Certificate> load_certificate(const std::filesystem::path& path);

// kInvalidArgument ("<what>.key does not match <what>.pem") unless `key` is
// the private half of `cert`'s public key.
Result<void> check_key_pair(const Certificate& cert, const PrivateKey& key,
                            const std::string& what);

}  // namespace concierge::state_files
