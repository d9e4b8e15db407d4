// Test helper: JOSE interoperability with python3-jwcrypto (Debian's package,
// run by /usr/bin/python3, or $CONCIERGE_JWCRYPTO_PYTHON). One call runs one
// Python process that verifies a batch of tokens and makes a batch of its own
// (fresh keys each time), so a test suite pays the interpreter start once.
//
// When the interpreter or the module is missing, JwcryptoRun::available is
// false with the reason; tests skip through CONCIERGE_REQUIRE_JWCRYPTO.
// Not thread-safe (uses a temporary folder and std::system).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace concierge::testing {

struct JwcryptoVerifyRequest {
  std::string token;
  nlohmann::json jwks;            // {"keys":[...]}; the key is chosen by the header's kid
  std::vector<std::string> algs;  // jwcrypto's allowed algorithms
  // false: a JWS (jws.JWS, no claim checks); true: a JWT (jwt.JWT, which also
  // checks "exp"/"nbf" against the current time).
  bool jwt = false;
};

struct JwcryptoVerifyResult {
  bool valid = false;
  std::string payload;  // when valid
  std::string error;    // jwcrypto's exception, when not
};

struct JwcryptoSignRequest {
  std::string crv;  // "P-256" or "P-384"
  std::string alg;  // "ES256" or "ES384"
  std::string kid;
  std::string payload;    // a JWS's payload (jwt == false)
  nlohmann::json claims;  // a JWT's claims (jwt == true)
  bool jwt = false;
};

struct JwcryptoSignResult {
  std::string token;    // compact serialization
  nlohmann::json jwks;  // {"keys":[the public key, with kid]}
};

struct JwcryptoRun {
  bool available = false;
  std::string reason;                          // why not available, or why the run failed
  bool ok = false;                             // available and the script produced its output
  std::vector<JwcryptoVerifyResult> verified;  // in request order
  std::vector<JwcryptoSignResult> made;        // in request order
};

JwcryptoRun run_jwcrypto(const std::vector<JwcryptoVerifyRequest>& verify,
                         const std::vector<JwcryptoSignRequest>& sign);

// Variants of `token` with one base64url character changed so that the
// decoded bytes change (the high bit of its 6-bit value flipped; '.' kept):
// every position when `every` is 1, else every `every`-th position plus the
// first and last character of each segment.
std::vector<std::string> tampered_tokens(const std::string& token, std::size_t every = 1);

}  // namespace concierge::testing

// Skips the current test, with the reason, when jwcrypto cannot be run; fails
// it when the run itself broke.
#define CONCIERGE_REQUIRE_JWCRYPTO(run)                                                    \
  do {                                                                                     \
    if (!(run).available) {                                                                \
      GTEST_SKIP() << "python3-jwcrypto is not usable (" << (run).reason                   \
                   << "); install it with scripts/install-deps.sh (apt python3-jwcrypto)"; \
    }                                                                                      \
    ASSERT_TRUE((run).ok) << "jwcrypto run failed: " << (run).reason;                      \
  } while (0)
