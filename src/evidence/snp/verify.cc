#include "concierge/evidence/snp/verify.h"

#include <string>

#include "concierge/core/encoding.h"
#include "concierge/core/signature.h"
#include "concierge/evidence/snp/kds_cache.h"
#include "concierge/evidence/snp/vcek.h"

namespace concierge::evidence::snp {
namespace {

std::string_view key_label(SigningKey key) { return key == SigningKey::kVlek ? "VLEK" : "VCEK"; }

// True when `cert` carries AMD extensions of the wanted kind.
bool is_endorsement_key(const Certificate& cert, SigningKey wanted) {
  auto info = parse_vcek_extensions(cert);
  return info && info->kind == wanted;
}

struct Found {
  Certificate cert;
  std::string source;
};

// The VCEK or VLEK for the report, from the first source that has one.
Result<std::optional<Found>> find_endorsement_key(const AttestationReport& report,
                                                  const SnpVerifyOptions& o) {
  const SigningKey wanted = report.signer.signing_key;
  if (o.endorsement_key) return Found{*o.endorsement_key, "given"};
  const CertKind table_kind = wanted == SigningKey::kVlek ? CertKind::kVlek : CertKind::kVcek;
  if (const CertTableEntry* entry = find_cert(o.cert_table, table_kind)) {
    auto cert = o.cache != nullptr ? o.cache->parse_certificate(entry->data)
                                   : Certificate::from_der(entry->data);
    if (!cert) {
      Error e = cert.error();
      e.message = "certificate table " + std::string(key_label(wanted)) + " entry: " + e.message;
      return Unexpected(std::move(e));
    }
    return Found{*cert, "certificate table"};
  }
  for (const Certificate& c : o.supplied) {
    if (is_endorsement_key(c, wanted)) return Found{c, "supplied certificates"};
  }
  if (o.kds_dir && wanted == SigningKey::kVcek) {
    CONCIERGE_ASSIGN_OR_RETURN(auto kds, kds_find_vcek(*o.kds_dir, report.cpuid_product(),
                                                       report.chip_id, report.reported_tcb));
    if (kds) return Found{kds->cert, kds->path.string()};
  }
  return std::optional<Found>();
}

Bytes padded_report_data(ByteView expected) {
  Bytes padded(64, 0);
  std::copy(expected.begin(), expected.end(), padded.begin());
  return padded;
}

}  // namespace

Result<SnpVerification> verify_snp(ByteView data, const SnpVerifyOptions& o) {
  if (o.expected_report_data && o.expected_report_data->size() > 64) {
    return fail(Errc::kInvalidArgument, "expected report data is longer than 64 bytes");
  }
  SnpVerification out;
  CONCIERGE_ASSIGN_OR_RETURN(out.report, parse_report(data));
  const AttestationReport& report = out.report;
  out.product = report.cpuid_product();
  // Claims are built once, when the outcome is known (they cost as much as a
  // tenth of the signature check).
  const VcekInfo* endorsement = nullptr;
  auto finish = [&](Verdict verdict) -> Result<SnpVerification> {
    out.claims = report_claims(report, out.product);
    if (endorsement != nullptr) {
      out.claims["endorsement"] = vcek_claims(*endorsement);
      if (endorsement->kind == SigningKey::kVlek) out.claims["csp_id"] = endorsement->csp_id;
    }
    out.claims["verified"] = verdict.accepted;
    out.verdict = std::move(verdict);
    return std::move(out);
  };
  auto reject = [&](std::string why) { return finish(Verdict::reject(std::move(why))); };
  if (report.signer.signing_key == SigningKey::kNone) {
    return reject("the report is not signed (SIGNING_KEY is none)");
  }
  if (report.signer.mask_chip_key) {
    // SNP_CONFIG MASK_CHIP_KEY: the firmware does not sign with the chip's
    // key, so the signature is zero and nothing vouches for the report.
    return reject("the report is not signed: MASK_CHIP_KEY is set (the host disabled the VCEK)");
  }

  CONCIERGE_ASSIGN_OR_RETURN(auto found, find_endorsement_key(report, o));
  if (!found) {
    return fail(Errc::kNotFound,
                "no " + std::string(key_label(report.signer.signing_key)) +
                    " certificate for this report: give one, or the extended report's "
                    "certificate table, or a KDS cache folder");
  }

  // Untrusted candidates for intermediates; CRLs from the caller and the folder.
  std::vector<Certificate> supplied = o.supplied;
  for (const CertTableEntry& e : o.cert_table) {
    if (e.kind() != CertKind::kAsk && e.kind() != CertKind::kArk) continue;
    auto c =
        o.cache != nullptr ? o.cache->parse_certificate(e.data) : Certificate::from_der(e.data);
    if (c) supplied.push_back(*c);
  }
  ChainOptions chain_options;
  chain_options.at = o.at;
  chain_options.crls = o.crls;
  if (o.kds_dir && out.product != Product::kUnknown) {
    CONCIERGE_ASSIGN_OR_RETURN(
        auto chain, kds_find_cert_chain(*o.kds_dir, out.product, report.signer.signing_key));
    if (chain) supplied.insert(supplied.end(), chain->begin(), chain->end());
    CONCIERGE_ASSIGN_OR_RETURN(auto crl,
                               kds_find_crl(*o.kds_dir, out.product, report.signer.signing_key));
    if (crl) chain_options.crls.push_back(*crl);
  }

  const std::vector<AmdRootSet>& trusted =
      o.trusted_roots.empty() ? builtin_amd_roots() : o.trusted_roots;
  Result<AmdChainVerdict> chain =
      o.cache != nullptr
          ? o.cache->verify(found->cert, supplied, trusted, out.product, chain_options)
          : verify_amd_chain(found->cert, supplied, trusted, out.product, chain_options);
  if (!chain) return Unexpected(chain.error());
  if (!chain->accepted) {
    return reject(std::string(key_label(report.signer.signing_key)) + " (" + found->source +
                  ") does not chain to a trusted AMD root: " + chain->reason);
  }
  out.product = chain->product;
  endorsement = &chain->info;

  if (Verdict match = vcek_matches_report(chain->info, report, out.product); !match) {
    return reject(match.reason);
  }

  CONCIERGE_ASSIGN_OR_RETURN(PublicKey key, found->cert.public_key());
  if (key.curve() != EcCurve::kP384) {
    return reject(std::string(key_label(report.signer.signing_key)) + " key is not ECDSA P-384");
  }
  CONCIERGE_ASSIGN_OR_RETURN(
      Verdict sig, verify_ecdsa_le(key, HashAlg::kSha384, signed_part(data), report.signature,
                                   kSignatureComponentSize));
  if (!sig) {
    return reject("report signature does not verify with the " +
                  std::string(key_label(report.signer.signing_key)) + ": " + sig.reason);
  }

  if (o.expected_report_data) {
    const Bytes want = padded_report_data(*o.expected_report_data);
    if (!equal_constant_time(want, report.report_data)) {
      return reject("REPORT_DATA " + hex_encode(report.report_data) +
                    " differs from the expected " + hex_encode(want));
    }
  }
  return finish(Verdict::accept());
}

}  // namespace concierge::evidence::snp
