// Secrets at rest: AES-256-GCM (NIST SP 800-38D) under a key-encryption key
// (KEK) that is held by the server process only.
//
// Sealed format (all of it is stored; none of it is secret):
//   byte 0      version, 1
//   bytes 1..12 a random 96-bit IV (never reused: fresh per seal)
//   then        the ciphertext, as long as the plaintext
//   last 16     the GCM tag
// The additional authenticated data is the caller's context (the resource
// path), so a sealed value copied to another resource does not open.
//
// The KEK is 32 bytes, read from a file (raw 32 bytes, or 64 hex digits
// with an optional trailing newline; a file group or others may read or
// write is refused) or from an environment variable (64 hex digits). Its id is the
// first 8 bytes of SHA-256("concierge-kek" || key) in hex: it names the key
// without revealing it.
//
// Move-only; the key is wiped on destruction and when moved from (a
// moved-from box has an empty id, and seal/open refuse with
// kInvalidArgument). seal/open are const and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge::store {

class SecretBox {
 public:
  // kInvalidArgument unless `key` is 32 bytes.
  static Result<SecretBox> from_key(ByteView key);
  // kNotFound when the file does not exist; kIo when it cannot be read;
  // kInvalidArgument for a mode that lets group or others read or write it,
  // or content of neither form. Messages never quote the content.
  static Result<SecretBox> from_file(const std::filesystem::path& path);
  // kNotFound when the variable is unset; kInvalidArgument when not 64 hex digits.
  static Result<SecretBox> from_env(const char* variable);
  // A fresh random key (tests, first start of the demo).
  static Result<SecretBox> generate();
  // Writes a fresh key as 64 hex digits and a newline to `path`, mode 0600,
  // refusing to overwrite (kInvalidArgument when it exists).
  static Result<SecretBox> create_file(const std::filesystem::path& path);

  SecretBox(SecretBox&& other) noexcept;
  SecretBox& operator=(SecretBox&& other) noexcept;
  SecretBox(const SecretBox&) = delete;
  SecretBox& operator=(const SecretBox&) = delete;
  ~SecretBox();

  Result<Bytes> seal(ByteView plaintext, std::string_view aad) const;
  // kMalformed for a sealed value too short or of another version; kCrypto
  // when authentication fails (wrong key, wrong aad, tampered).
  Result<Bytes> open(ByteView sealed, std::string_view aad) const;

  // Integrity of rows the store keeps in clear (policies, reference values,
  // enrolled keys): HMAC-SHA256 under a key derived from the KEK
  // (HMAC-SHA256(KEK, "concierge store integrity v1")), over `fields`, each
  // prefixed with its length (8 bytes, big-endian), so no two field lists
  // share an encoding. Someone who can write to the database but does not
  // hold the KEK cannot make a row that verifies. Lowercase hex.
  Result<std::string> row_mac(const std::vector<std::string_view>& fields) const;
  // Constant time; false for any mismatch (a missing or malformed MAC too).
  Result<bool> row_mac_matches(const std::vector<std::string_view>& fields,
                               std::string_view mac) const;
  const std::string& id() const { return id_; }

 private:
  explicit SecretBox(const std::array<std::uint8_t, 32>& key);
  std::array<std::uint8_t, 32> key_{};
  std::string id_;
};

}  // namespace concierge::store
