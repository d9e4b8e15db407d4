#include "concierge/core/digest.h"

#include "core/ossl_util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>
#include <string>

namespace concierge {
namespace {

// The algorithm objects are fetched once and shared (core/ossl_util.h).
const char* ossl_name(HashAlg alg) { return ossl::md_name(alg); }
const EVP_MD* fetch(HashAlg alg) { return ossl::md_for(alg); }

Unexpected missing(HashAlg alg) {
  return fail(Errc::kUnsupported,
              std::string("digest ") + ossl_name(alg) + " is not available in this OpenSSL build");
}

struct CtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// One reusable context per thread keeps the extend loop free of allocations.
EVP_MD_CTX* thread_ctx() {
  thread_local std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
  return ctx.get();
}

}  // namespace

std::size_t digest_size(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1:
      return 20;
    case HashAlg::kSha256:
      return 32;
    case HashAlg::kSha384:
      return 48;
    case HashAlg::kSha512:
      return 64;
    case HashAlg::kSm3_256:
      return 32;
  }
  return 0;
}

std::string_view hash_name(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1:
      return "sha1";
    case HashAlg::kSha256:
      return "sha256";
    case HashAlg::kSha384:
      return "sha384";
    case HashAlg::kSha512:
      return "sha512";
    case HashAlg::kSm3_256:
      return "sm3_256";
  }
  return "unknown";
}

std::optional<HashAlg> hash_from_name(std::string_view name) {
  for (HashAlg a :
       {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512, HashAlg::kSm3_256}) {
    if (hash_name(a) == name) return a;
  }
  if (name == "sm3") return HashAlg::kSm3_256;
  return std::nullopt;
}

std::optional<HashAlg> hash_from_tcg_id(std::uint16_t alg_id) {
  switch (alg_id) {
    case 0x0004:
      return HashAlg::kSha1;
    case 0x000B:
      return HashAlg::kSha256;
    case 0x000C:
      return HashAlg::kSha384;
    case 0x000D:
      return HashAlg::kSha512;
    case 0x0012:
      return HashAlg::kSm3_256;
    default:
      return std::nullopt;
  }
}

bool sm3_available() { return fetch(HashAlg::kSm3_256) != nullptr; }

Result<Bytes> digest(HashAlg alg, ByteView data) {
  const EVP_MD* md = fetch(alg);
  if (md == nullptr) return missing(alg);
  Bytes out(digest_size(alg));
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(thread_ctx(), md, nullptr) != 1 ||
      EVP_DigestUpdate(thread_ctx(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(thread_ctx(), out.data(), &len) != 1 || len != out.size()) {
    return fail(Errc::kCrypto, std::string("digest ") + ossl_name(alg) + " failed");
  }
  return out;
}

Result<void> digest2_into(HashAlg alg, ByteView a, ByteView b, std::span<std::uint8_t> out) {
  const EVP_MD* md = fetch(alg);
  if (md == nullptr) return missing(alg);
  if (out.size() != digest_size(alg)) {
    return fail(Errc::kInternal, "digest2_into: output buffer has the wrong size");
  }
  unsigned int len = 0;
  EVP_MD_CTX* ctx = thread_ctx();
  if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1 || EVP_DigestUpdate(ctx, a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx, b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, out.data(), &len) != 1) {
    return fail(Errc::kCrypto, std::string("digest ") + ossl_name(alg) + " failed");
  }
  return {};
}

Result<Hasher> Hasher::create(HashAlg alg) {
  const EVP_MD* md = fetch(alg);
  if (md == nullptr) return missing(alg);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx, md, nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return fail(Errc::kCrypto, "cannot start a digest context");
  }
  return Hasher(alg, ctx);
}

Hasher::Hasher(Hasher&& other) noexcept
    : alg_(other.alg_), ctx_(other.ctx_), failed_(other.failed_) {
  other.ctx_ = nullptr;
}

Hasher& Hasher::operator=(Hasher&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
    alg_ = other.alg_;
    ctx_ = other.ctx_;
    failed_ = other.failed_;
    other.ctx_ = nullptr;
  }
  return *this;
}

Hasher::~Hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

Hasher& Hasher::update(ByteView data) {
  if (ctx_ == nullptr ||
      EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()) != 1) {
    failed_ = true;
  }
  return *this;
}

Result<Bytes> Hasher::finish() {
  Bytes out(digest_size(alg_));
  unsigned int len = 0;
  if (failed_ || ctx_ == nullptr ||
      EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out.data(), &len) != 1) {
    return fail(Errc::kCrypto, "digest failed");
  }
  return out;
}

bool equal_constant_time(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void wipe(std::span<std::uint8_t> secret) {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
}

}  // namespace concierge
