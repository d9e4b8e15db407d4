// KDFa and KDFe written per TPM 2.0 Part 1 (11.4.10) with OpenSSL EVP_MAC
// (HMAC) and EVP_Digest.
#include "concierge/evidence/tpm/kdf.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "core/ossl_util.h"

namespace concierge::evidence::tpm {
namespace {

constexpr std::size_t kMaxBits = 8 * 65535;

using MacPtr = ossl::Ptr<EVP_MAC, EVP_MAC_free>;
using MacCtxPtr = ossl::Ptr<EVP_MAC_CTX, EVP_MAC_CTX_free>;

std::array<std::uint8_t, 4> be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

// The label bytes followed by the 0x00 octet unless the label ends with one.
std::string label_with_nul(std::string_view label) {
  std::string out(label);
  if (out.empty() || out.back() != '\0') out.push_back('\0');
  return out;
}

Result<const EVP_MD*> md_of(HashAlg alg, std::size_t bits) {
  if (bits == 0 || bits > kMaxBits) {
    return fail(Errc::kInvalidArgument, "TPM KDF: bits must be 1.." + std::to_string(kMaxBits) +
                                            ", not " + std::to_string(bits));
  }
  const EVP_MD* md = ossl::md_for(alg);
  if (md == nullptr) {
    return fail(Errc::kUnsupported,
                "TPM KDF: " + std::string(hash_name(alg)) + " is not available in OpenSSL");
  }
  return md;
}

// Copies block into out[at..] (at most what is left) and wipes the block.
void take_block(std::span<std::uint8_t> block, Bytes& out, std::size_t& at) {
  const std::size_t n = std::min(block.size(), out.size() - at);
  std::copy_n(block.begin(), n, out.begin() + static_cast<std::ptrdiff_t>(at));
  at += n;
  OPENSSL_cleanse(block.data(), block.size());
}

void mask_first_byte(Bytes& out, std::size_t bits) {
  if (bits % 8 != 0) out[0] &= static_cast<std::uint8_t>((1u << (bits % 8)) - 1u);
}

}  // namespace

Result<Bytes> kdfa(HashAlg alg, ByteView key, std::string_view label, ByteView context_u,
                   ByteView context_v, std::size_t bits) {
  CONCIERGE_RETURN_IF_ERROR(md_of(alg, bits));  // checks bits and that OpenSSL has the hash
  MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  MacCtxPtr ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
  if (!ctx) return ossl::fail_ossl(Errc::kCrypto, "KDFa: cannot create an HMAC context");
  char* digest_name = const_cast<char*>(ossl::md_name(alg));
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  const std::string lbl = label_with_nul(label);
  const auto bits_be = be32(static_cast<std::uint32_t>(bits));

  Bytes out((bits + 7) / 8);
  std::size_t at = 0;
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> block{};
  for (std::uint32_t i = 1; at < out.size(); ++i) {
    const auto counter = be32(i);
    std::size_t len = 0;
    const bool ok = EVP_MAC_init(ctx.get(), key.data(), key.size(), params) == 1 &&
                    EVP_MAC_update(ctx.get(), counter.data(), counter.size()) == 1 &&
                    EVP_MAC_update(ctx.get(), reinterpret_cast<const std::uint8_t*>(lbl.data()),
                                   lbl.size()) == 1 &&
                    EVP_MAC_update(ctx.get(), context_u.data(), context_u.size()) == 1 &&
                    EVP_MAC_update(ctx.get(), context_v.data(), context_v.size()) == 1 &&
                    EVP_MAC_update(ctx.get(), bits_be.data(), bits_be.size()) == 1 &&
                    EVP_MAC_final(ctx.get(), block.data(), &len, block.size()) == 1;
    if (!ok) {
      OPENSSL_cleanse(out.data(), out.size());
      return ossl::fail_ossl(Errc::kCrypto, "KDFa: HMAC failed");
    }
    take_block(std::span<std::uint8_t>(block.data(), len), out, at);
  }
  mask_first_byte(out, bits);
  return out;
}

Result<Bytes> kdfe(HashAlg alg, ByteView z, std::string_view label, ByteView party_u_info,
                   ByteView party_v_info, std::size_t bits) {
  CONCIERGE_ASSIGN_OR_RETURN(const EVP_MD* md, md_of(alg, bits));
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return ossl::fail_ossl(Errc::kCrypto, "KDFe: cannot create a digest context");
  const std::string lbl = label_with_nul(label);

  Bytes out((bits + 7) / 8);
  std::size_t at = 0;
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> block{};
  for (std::uint32_t i = 1; at < out.size(); ++i) {
    const auto counter = be32(i);
    unsigned int len = 0;
    const bool ok = EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
                    EVP_DigestUpdate(ctx.get(), counter.data(), counter.size()) == 1 &&
                    EVP_DigestUpdate(ctx.get(), z.data(), z.size()) == 1 &&
                    EVP_DigestUpdate(ctx.get(), lbl.data(), lbl.size()) == 1 &&
                    EVP_DigestUpdate(ctx.get(), party_u_info.data(), party_u_info.size()) == 1 &&
                    EVP_DigestUpdate(ctx.get(), party_v_info.data(), party_v_info.size()) == 1 &&
                    EVP_DigestFinal_ex(ctx.get(), block.data(), &len) == 1;
    if (!ok) {
      OPENSSL_cleanse(out.data(), out.size());
      return ossl::fail_ossl(Errc::kCrypto, "KDFe: digest failed");
    }
    take_block(std::span<std::uint8_t>(block.data(), len), out, at);
  }
  mask_first_byte(out, bits);
  return out;
}

}  // namespace concierge::evidence::tpm
