#include "support/jwcrypto.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "support/vectors.h"

namespace concierge::testing {
namespace {

// Reads {"verify": [...], "sign": [...]} from argv[1]; writes
// {"verify": [...], "sign": [...]} to stdout. Exit 3: jwcrypto missing.
constexpr const char* kScript = R"PY(
import json, sys
try:
    from jwcrypto import jwk, jws, jwt
except Exception as e:
    print("cannot import jwcrypto: %r" % (e,), file=sys.stderr)
    sys.exit(3)

keysets = {}

def keyset(j):
    text = json.dumps(j, sort_keys=True)
    if text not in keysets:
        keysets[text] = jwk.JWKSet.from_json(text)
    return keysets[text]

def verify(req):
    try:
        keys = keyset(req["jwks"])
        if req["jwt"]:
            t = jwt.JWT(jwt=req["token"], key=keys, algs=req["algs"])
            return {"valid": True, "payload": t.claims, "error": ""}
        s = jws.JWS()
        s.allowed_algs = req["algs"]
        s.deserialize(req["token"])
        kid = s.jose_header.get("kid")
        key = keys.get_key(kid) if kid is not None else None
        if key is None:
            return {"valid": False, "payload": "", "error": "no key for kid %r" % (kid,)}
        s.verify(key)
        return {"valid": True, "payload": s.payload.decode("utf-8"), "error": ""}
    except Exception as e:
        return {"valid": False, "payload": "", "error": repr(e)}

def sign(req):
    key = jwk.JWK.generate(kty="EC", crv=req["crv"], kid=req["kid"])
    header = {"alg": req["alg"], "kid": req["kid"]}
    if req["jwt"]:
        header["typ"] = "JWT"
        t = jwt.JWT(header=header, claims=req["claims"])
        t.make_signed_token(key)
        token = t.serialize()
    else:
        s = jws.JWS(req["payload"].encode("utf-8"))
        s.add_signature(key, alg=req["alg"], protected=json.dumps(header))
        token = s.serialize(compact=True)
    return {"token": token, "jwks": {"keys": [json.loads(key.export_public())]}}

with open(sys.argv[1]) as f:
    batch = json.load(f)
json.dump({"verify": [verify(r) for r in batch["verify"]],
           "sign": [sign(r) for r in batch["sign"]]}, sys.stdout)
)PY";

std::string python() {
  if (const char* env = std::getenv("CONCIERGE_JWCRYPTO_PYTHON")) return env;
  return "/usr/bin/python3";
}

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

JwcryptoRun run_jwcrypto(const std::vector<JwcryptoVerifyRequest>& verify,
                         const std::vector<JwcryptoSignRequest>& sign) {
  JwcryptoRun run;
  const std::string py = python();
  if (::access(py.c_str(), X_OK) != 0) {
    run.reason = py + " not found";
    return run;
  }
  nlohmann::json batch = {{"verify", nlohmann::json::array()}, {"sign", nlohmann::json::array()}};
  for (const auto& r : verify) {
    batch["verify"].push_back(
        {{"token", r.token}, {"jwks", r.jwks}, {"algs", r.algs}, {"jwt", r.jwt}});
  }
  for (const auto& r : sign) {
    batch["sign"].push_back({{"crv", r.crv},
                             {"alg", r.alg},
                             {"kid", r.kid},
                             {"payload", r.payload},
                             {"claims", r.claims},
                             {"jwt", r.jwt}});
  }
  TempDir tmp;
  {
    std::ofstream(tmp / "interop.py") << kScript;
    std::ofstream(tmp / "batch.json") << batch.dump();
  }
  const CliRun r = run_shell("'" + py + "' '" + (tmp / "interop.py").string() + "' '" +
                             (tmp / "batch.json").string() + "'");
  if (r.exit_code == 3) {
    run.reason = r.err.empty() ? "cannot import jwcrypto" : r.err;
    while (!run.reason.empty() && run.reason.back() == '\n') run.reason.pop_back();
    return run;
  }
  run.available = true;
  if (r.exit_code != 0) {
    run.reason = "exit " + std::to_string(r.exit_code) + ": " + r.err;
    return run;
  }
  const nlohmann::json out = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded() || !out.contains("verify") || !out.contains("sign")) {
    run.reason = "unexpected output: " + r.out;
    return run;
  }
  for (const auto& v : out["verify"]) {
    JwcryptoVerifyResult res;
    res.valid = v.value("valid", false);
    res.payload = v["payload"].is_string() ? v["payload"].get<std::string>() : v["payload"].dump();
    res.error = v.value("error", "");
    run.verified.push_back(std::move(res));
  }
  for (const auto& s : out["sign"]) {
    run.made.push_back(JwcryptoSignResult{s.value("token", ""), s.value("jwks", nlohmann::json())});
  }
  run.ok = run.verified.size() == verify.size() && run.made.size() == sign.size();
  if (!run.ok) run.reason = "result count mismatch";
  return run;
}

std::vector<std::string> tampered_tokens(const std::string& token, std::size_t every) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    const std::size_t v = kAlphabet.find(token[i]);
    if (v == std::string_view::npos) continue;  // '.'
    const bool segment_edge =
        i == 0 || i + 1 == token.size() || token[i - 1] == '.' || token[i + 1] == '.';
    if (every > 1 && i % every != 0 && !segment_edge) continue;
    std::string t = token;
    t[i] = kAlphabet[v ^ 32];
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace concierge::testing
