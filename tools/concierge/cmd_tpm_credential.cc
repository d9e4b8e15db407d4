// The verifier side of EK / AK enrolment under `concierge tpm`, from public
// data only (no TPM): make-credential and verify-ek.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "concierge/core/encoding.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/tpm/credential.h"
#include "concierge/evidence/tpm/ek_certificate.h"
#include "concierge/evidence/tpm/tpm_public.h"
#include "pcr_json.h"

namespace concierge::cli {
namespace {

// An EK given as a TPM2B_PUBLIC / TPMT_PUBLIC, a PEM public key or an X.509
// certificate (PEM or DER): the last two are taken to be the key of a default
// template EK.
Result<evidence::tpm::TpmPublic> load_ek(const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes data, read_file(path));
  std::string_view text = as_chars(data);
  if (text.find("-----BEGIN CERTIFICATE") != std::string_view::npos) {
    CONCIERGE_ASSIGN_OR_RETURN(auto cert, Certificate::from_pem(text));
    CONCIERGE_ASSIGN_OR_RETURN(auto key, cert.public_key());
    return evidence::tpm::ek_public_from_key(key);
  }
  if (text.find("-----BEGIN") != std::string_view::npos) {
    CONCIERGE_ASSIGN_OR_RETURN(auto key, PublicKey::from_pem(text));
    return evidence::tpm::ek_public_from_key(key);
  }
  if (auto cert = Certificate::from_der(data)) {
    CONCIERGE_ASSIGN_OR_RETURN(auto key, cert->public_key());
    return evidence::tpm::ek_public_from_key(key);
  }
  return evidence::tpm::parse_tpm_public(data);
}

Result<std::vector<Certificate>> load_certs(const std::vector<std::string>& paths) {
  std::vector<Certificate> out;
  for (const auto& p : paths) {
    CONCIERGE_ASSIGN_OR_RETURN(Bytes data, read_file(p));
    if (as_chars(data).find("-----BEGIN") != std::string_view::npos) {
      CONCIERGE_ASSIGN_OR_RETURN(auto certs, Certificate::from_pem_bundle(as_chars(data)));
      out.insert(out.end(), certs.begin(), certs.end());
    } else {
      CONCIERGE_ASSIGN_OR_RETURN(auto cert, Certificate::from_der(data));
      out.push_back(std::move(cert));
    }
  }
  return out;
}

// --- tpm make-credential ------------------------------------------------------

struct MakeCredentialOptions {
  std::string ek;
  std::string ak;
  std::string ak_name;
  std::string secret;
  std::string out;
};

int make_credential(const MakeCredentialOptions& o) {
  auto ek = load_ek(o.ek);
  if (!ek) return report(o.ek, ek.error());
  // The AK's public area is required: a name alone is a digest that cannot
  // show the attributes, and a credential activated for it would enrol any
  // key the TPM holds (one that can leave it, or decrypt) as an AK.
  if (o.ak.empty()) {
    return report("make-credential",
                  make_error(Errc::kInvalidArgument,
                             "give --ak (its TPM2B_PUBLIC): the AK's attributes must be checked, "
                             "which its name alone cannot show"));
  }
  auto data = read_file(o.ak);
  if (!data) return report(o.ak, data.error());
  auto ak = evidence::tpm::parse_tpm_public(*data);
  if (!ak) return report(o.ak, ak.error());
  // Only a restricted signing key bound to its TPM is worth a credential.
  Verdict v = evidence::tpm::check_ak_attributes(*ak);
  if (!v.accepted) return report_rejected("AK: " + v.reason);
  Bytes name = ak->name;
  if (!o.ak_name.empty()) {
    auto given = read_file(o.ak_name);
    if (!given) return report(o.ak_name, given.error());
    if (*given != name) {
      return report_rejected("AK: the name in " + o.ak_name + " is not the name of " + o.ak);
    }
  }
  auto secret = read_file(o.secret);
  if (!secret) return report(o.secret, secret.error());
  auto credential = evidence::tpm::make_credential(*ek, name, *secret);
  wipe(*secret);
  if (!credential) return report("make-credential", credential.error());
  if (auto w = write_file(o.out, evidence::tpm::encode_credential_file(*credential)); !w) {
    return report(o.out, w.error());
  }
  std::printf("credential for AK %s written to %s\n", hex_encode(name).c_str(), o.out.c_str());
  return kExitOk;
}

// --- tpm verify-ek ------------------------------------------------------------

struct VerifyEkOptions {
  std::string cert;
  std::vector<std::string> roots;
  std::vector<std::string> intermediates;
  std::string ek;
  bool json = false;
};

int verify_ek(const VerifyEkOptions& o) {
  auto leaf = load_certs({o.cert});
  if (!leaf) return report(o.cert, leaf.error());
  auto roots = load_certs(o.roots);
  if (!roots) return report("--roots", roots.error());
  auto intermediates = load_certs(o.intermediates);
  if (!intermediates) return report("--intermediates", intermediates.error());
  std::optional<evidence::tpm::TpmPublic> ek;
  if (!o.ek.empty()) {
    auto e = load_ek(o.ek);
    if (!e) return report(o.ek, e.error());
    ek = std::move(*e);
  }
  auto result = evidence::tpm::verify_ek_certificate(leaf->front(), *intermediates, *roots, {},
                                                     ek ? &*ek : nullptr);
  if (!result) return report(o.cert, result.error());
  const Verdict& v = result->verdict;
  if (o.json) {
    nlohmann::json out{{"verified", v.accepted}};
    if (!v.accepted) out["reason"] = v.reason;
    out["claims"] = {{"tpm_manufacturer", result->manufacturer},
                     {"tpm_model", result->model},
                     {"tpm_version", result->version}};
    print_json(out);
  } else if (v.accepted) {
    std::printf("EK certificate verified: TPM manufacturer %s, model %s, version %s\n",
                result->manufacturer.c_str(), result->model.c_str(), result->version.c_str());
  }
  return v.accepted ? kExitOk : report_rejected(v.reason);
}

}  // namespace

void register_tpm_verifier(CLI::App& tpm, Context& ctx) {
  auto mo = std::make_shared<MakeCredentialOptions>();
  auto* mc = tpm.add_subcommand(
      "make-credential",
      "Seal a secret to an EK and an AK name (TPM2_MakeCredential in software, no TPM)");
  mc->add_option("--ek", mo->ek, "EK: ek.pub (TPM2B_PUBLIC), PEM key, or EK certificate")
      ->required();
  mc->add_option("--ak", mo->ak, "AK public area (ak.pub); its attributes are checked");
  mc->add_option("--ak-name", mo->ak_name, "AK name (ak.name): checked against --ak");
  mc->add_option("--secret", mo->secret, "File with the secret (1 to 32 bytes)")->required();
  mc->add_option("--out", mo->out, "Credential file (tpm2_makecredential format)")->required();
  mc->callback([&ctx, mo] { ctx.exit_code = make_credential(*mo); });

  auto vo = std::make_shared<VerifyEkOptions>();
  auto* ve = tpm.add_subcommand(
      "verify-ek", "Verify an EK certificate to manufacturer roots (exit 0 ok, 1 rejected)");
  ve->add_option("--cert", vo->cert, "EK certificate (DER or PEM)")->required();
  ve->add_option("--roots", vo->roots, "Trusted manufacturer root certificates (PEM/DER)")
      ->required();
  ve->add_option("--intermediates", vo->intermediates, "Intermediate CA certificates");
  ve->add_option("--ek", vo->ek, "The EK (ek.pub or PEM): the certificate must be for it");
  ve->add_flag("--json", vo->json, "Print the verdict and the TPM's identity as JSON");
  ve->callback([&ctx, vo] { ctx.exit_code = verify_ek(*vo); });
}

}  // namespace concierge::cli
