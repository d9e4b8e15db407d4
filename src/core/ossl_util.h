// Private helpers shared by the OpenSSL wrappers of src/core (not installed).
//
// Every failing OpenSSL call leaves entries on the calling thread's error
// queue; the wrappers drain it (ossl_fail / clear_ossl_errors) before returning
// so that a later, unrelated call does not report a stale error. Error
// messages carry OpenSSL's reason strings only, never key material.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/public_key.h"
#include "concierge/core/result.h"

namespace concierge::ossl {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

using BioPtr = Ptr<BIO, BIO_free_all>;
using BnPtr = Ptr<BIGNUM, BN_free>;
using PkeyPtr = Ptr<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxPtr = Ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtxPtr = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using EcdsaSigPtr = Ptr<ECDSA_SIG, ECDSA_SIG_free>;
using X509Ptr = Ptr<X509, X509_free>;
using CrlPtr = Ptr<X509_CRL, X509_CRL_free>;

// The last OpenSSL reason on this thread's queue ("" when empty); drains it.
std::string take_errors();
void clear_errors();

// fail(code, what + ": " + OpenSSL reason), draining the queue.
Unexpected fail_ossl(Errc code, std::string what);

// A read-only memory BIO over `data` (which must outlive the BIO).
BioPtr mem_bio(ByteView data);
// Everything written to a memory BIO, as a string.
std::string bio_string(BIO* bio);

// Seconds since the Unix epoch of an ASN1_TIME (UTCTime or GeneralizedTime);
// nullopt when it cannot be converted.
std::optional<std::int64_t> unix_seconds(const ASN1_TIME* t);

// The EVP_MD for a digest algorithm, or nullptr when the build lacks it.
// Fetched once per process; safe to share between threads.
const EVP_MD* md_for(HashAlg alg);
const char* md_name(HashAlg alg);

// Key type and curve of any key (public or private); defined in public_key.cc.
KeyType key_type_of(const EVP_PKEY* pkey);
std::optional<EcCurve> curve_of(const EVP_PKEY* pkey);
// The public point of an EC key on `curve`, uncompressed (0x04 || X || Y),
// whatever form the key keeps it in; kCrypto when the key does not give it.
Result<Bytes> ec_public_point(const EVP_PKEY* pkey, EcCurve curve);
// True when an EC key keeps its point uncompressed (OpenSSL's encoders then
// write it so); false for the compressed or hybrid form, or on error.
bool ec_point_format_is_uncompressed(const EVP_PKEY* pkey);

}  // namespace concierge::ossl
