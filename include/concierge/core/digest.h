// Message digests through OpenSSL 3 (EVP), named by TCG algorithm IDs.
//
// The algorithm objects are fetched once per process and shared; every
// function here is thread-safe. SM3 is available only when the OpenSSL build
// provides it (sm3_available()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge {

// Values are the TCG algorithm IDs (TCG Algorithm Registry, TPM_ALG_ID).
enum class HashAlg : std::uint16_t {
  kSha1 = 0x0004,
  kSha256 = 0x000B,
  kSha384 = 0x000C,
  kSha512 = 0x000D,
  kSm3_256 = 0x0012,
};

// Size in bytes of the algorithm's output.
std::size_t digest_size(HashAlg alg);
// "sha1", "sha256", "sha384", "sha512", "sm3_256" (bank names in JSON output).
std::string_view hash_name(HashAlg alg);
std::optional<HashAlg> hash_from_name(std::string_view name);
// nullopt when the TCG ID is not one of the algorithms above.
std::optional<HashAlg> hash_from_tcg_id(std::uint16_t alg_id);
bool sm3_available();

// One-shot digest. Fails only when OpenSSL lacks the algorithm.
Result<Bytes> digest(HashAlg alg, ByteView data);

// Writes the digest of the concatenation a || b into out (which must have
// digest_size(alg) bytes): the PCR extend operation without allocating.
// `out` may overlap `a` or `b`: both are consumed before `out` is written.
Result<void> digest2_into(HashAlg alg, ByteView a, ByteView b, std::span<std::uint8_t> out);

// Incremental hashing. Move-only; not thread-safe (one context).
class Hasher {
 public:
  static Result<Hasher> create(HashAlg alg);
  Hasher(Hasher&& other) noexcept;
  Hasher& operator=(Hasher&& other) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  ~Hasher();

  Hasher& update(ByteView data);
  Result<Bytes> finish();
  HashAlg alg() const { return alg_; }

 private:
  Hasher(HashAlg alg, void* ctx) : alg_(alg), ctx_(ctx) {}
  HashAlg alg_;
  void* ctx_;  // EVP_MD_CTX*
  bool failed_ = false;
};

}  // namespace concierge
