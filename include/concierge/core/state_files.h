// Files for a simulator's or verifier's saved state: keys written with a
// mode (0600 for private keys) and wiped from memory once written, PEM
// certificates read back. Errors: kIo (with the path and the system's
// reason), kMalformed for contents that do not parse. Thread-safe (no
// shared state); concurrent writers to one path race as the file system
// decides.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "concierge/core/private_key.h"
#include "concierge/core/result.h"
#include "concierge/core/x509.h"

namespace concierge::state_files {

// Creates or truncates `path` (never through a symbolic link) with `mode`,
// then writes `data`.
Result<void> write_file(const std::filesystem::path& path, std::string_view data, mode_t mode);
Result<std::string> read_file(const std::filesystem::path& path);
Result<void> make_dir(const std::filesystem::path& dir);  // with parents

// PKCS#8 PEM, mode 0600; the PEM text is wiped once written.
Result<void> save_private_key(const std::filesystem::path& path, const PrivateKey& key);
// The PEM text is wiped once parsed.
Result<PrivateKey> load_private_key(const std::filesystem::path& path);
Result<Certificate> load_certificate(const std::filesystem::path& path);

// kInvalidArgument ("<what>.key does not match <what>.pem") unless `key` is
// the private half of `cert`'s public key.
Result<void> check_key_pair(const Certificate& cert, const PrivateKey& key,
                            const std::string& what);

}  // namespace concierge::state_files
