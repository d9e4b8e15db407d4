// verify_chain: X509_verify_cert with a private store holding only the given
// roots, and a verify callback that scopes CRL checking to the issuers whose
// CRLs were supplied.
//
// With X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL OpenSSL demands a CRL
// for every certificate of the chain and reports X509_V_ERR_UNABLE_TO_GET_CRL
// when it finds none. The callback forgives exactly that error when no CRL from
// the certificate's issuer was supplied (unless require_crl_for_every_ca asks
// for full coverage, which still exempts the self-signed anchor). If a CRL of
// that issuer *was* supplied but OpenSSL could not use it, the error stands:
// the caller asked for that check.
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <ctime>
#include <string>

#include "concierge/core/x509.h"
#include "core/ossl_util.h"

namespace concierge {
namespace {

using StorePtr = ossl::Ptr<X509_STORE, X509_STORE_free>;
using StoreCtxPtr = ossl::Ptr<X509_STORE_CTX, X509_STORE_CTX_free>;

struct CertStackDeleter {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }  // borrowed entries
};
struct CrlStackDeleter {
  void operator()(STACK_OF(X509_CRL) * s) const { sk_X509_CRL_free(s); }  // borrowed
};

struct CallbackState {
  const ChainOptions* options = nullptr;
};

bool crl_supplied_for_issuer(const ChainOptions& options, X509* cert) {
  const X509_NAME* issuer = X509_get_issuer_name(cert);
  for (const Crl& crl : options.crls) {
    if (crl.get() != nullptr && X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), issuer) == 0) {
      return true;
    }
  }
  return false;
}

int verify_callback(int ok, X509_STORE_CTX* ctx) {
  if (ok == 1) return 1;
  if (X509_STORE_CTX_get_error(ctx) != X509_V_ERR_UNABLE_TO_GET_CRL) return 0;
  const auto* state = static_cast<const CallbackState*>(X509_STORE_CTX_get_app_data(ctx));
  X509* cert = X509_STORE_CTX_get_current_cert(ctx);
  if (state == nullptr || cert == nullptr) return 0;
  if (crl_supplied_for_issuer(*state->options, cert)) return 0;
  if (!state->options->require_crl_for_every_ca) return 1;
  // Full coverage: only the self-signed anchor at the top may lack a CRL.
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx);
  const int depth = X509_STORE_CTX_get_error_depth(ctx);
  const bool anchor = chain != nullptr && depth == sk_X509_num(chain) - 1 &&
                      X509_check_issued(cert, cert) == X509_V_OK;
  return anchor ? 1 : 0;
}

std::string subject_of(X509* cert) {
  if (cert == nullptr) return "unknown certificate";
  X509_up_ref(cert);
  return Certificate::adopt(cert).subject();
}

}  // namespace

Result<ChainVerdict> verify_chain(const Certificate& leaf,
                                  const std::vector<Certificate>& intermediates,
                                  const std::vector<Certificate>& roots,
                                  const ChainOptions& options) {
  if (roots.empty()) return fail(Errc::kInvalidArgument, "verify_chain: no trust anchor given");
  if (leaf.get() == nullptr) return fail(Errc::kInvalidArgument, "verify_chain: empty leaf");

  StorePtr store(X509_STORE_new());
  std::unique_ptr<STACK_OF(X509), CertStackDeleter> untrusted(sk_X509_new_null());
  std::unique_ptr<STACK_OF(X509_CRL), CrlStackDeleter> crls(sk_X509_CRL_new_null());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !crls || !ctx) {
    return ossl::fail_ossl(Errc::kCrypto, "verify_chain: out of memory");
  }
  for (const Certificate& root : roots) {
    // Adding the same certificate twice is harmless (OpenSSL ignores it).
    if (root.get() == nullptr || X509_STORE_add_cert(store.get(), root.get()) != 1) {
      return ossl::fail_ossl(Errc::kCrypto, "verify_chain: cannot add a root");
    }
  }
  for (const Certificate& c : intermediates) {
    if (c.get() != nullptr && sk_X509_push(untrusted.get(), c.get()) <= 0) {
      return ossl::fail_ossl(Errc::kCrypto, "verify_chain: out of memory");
    }
  }
  for (const Crl& crl : options.crls) {
    if (crl.get() != nullptr && sk_X509_CRL_push(crls.get(), crl.get()) <= 0) {
      return ossl::fail_ossl(Errc::kCrypto, "verify_chain: out of memory");
    }
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
    return ossl::fail_ossl(Errc::kCrypto, "verify_chain: cannot initialise the context");
  }

  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  unsigned long flags = X509_V_FLAG_CHECK_SS_SIGNATURE;
  if (!options.crls.empty()) flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
  X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_flags(param, flags);
  if (options.at) {
    const auto t = std::chrono::system_clock::to_time_t(*options.at);
    X509_VERIFY_PARAM_set_time(param, t);
  }
  X509_STORE_CTX_set0_crls(ctx.get(), crls.get());
  CallbackState state{&options};
  X509_STORE_CTX_set_app_data(ctx.get(), &state);
  X509_STORE_CTX_set_verify_cb(ctx.get(), verify_callback);

  const int rc = X509_verify_cert(ctx.get());
  ChainVerdict out;
  if (rc == 1) {
    ossl::clear_errors();
    STACK_OF(X509)* chain = X509_STORE_CTX_get1_chain(ctx.get());
    if (chain == nullptr) return fail(Errc::kCrypto, "verify_chain: no chain after success");
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      out.chain.push_back(Certificate::adopt(sk_X509_value(chain, i)));  // owns the get1 ref
    }
    sk_X509_free(chain);
    out.accepted = true;
    return out;
  }
  const int err = X509_STORE_CTX_get_error(ctx.get());
  if (rc < 0 || err == X509_V_OK) {
    return ossl::fail_ossl(Errc::kCrypto, "verify_chain: OpenSSL failed to verify");
  }
  ossl::clear_errors();
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  out.accepted = false;
  out.reason = "certificate chain rejected at depth " + std::to_string(depth) + " (" +
               subject_of(X509_STORE_CTX_get_current_cert(ctx.get())) +
               "): " + X509_verify_cert_error_string(err);
  return out;
}

}  // namespace concierge
