#include "concierge/evidence/dcap/verify.h"

#include <algorithm>
#include <string>
#include <utility>

#include "concierge/core/digest.h"
#include "concierge/core/encoding.h"
#include "concierge/core/signature.h"
#include "concierge/core/time.h"
#include "evidence/dcap/verify_internal.h"

namespace concierge::evidence::dcap {
namespace {

std::string_view tee_label(bool tdx) { return tdx ? "TDX" : "SGX"; }

bool all_zero(ByteView bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

// The attestation key from its x||y bytes, through the cache when there is
// one; nullptr (with the reason) when the bytes are not a P-256 point.
std::shared_ptr<const PublicKey> attestation_key_of(ByteView xy, DcapVerifyCache* cache,
                                                    std::string& why) {
  std::string key;
  if (cache != nullptr) {
    key.assign(reinterpret_cast<const char*>(xy.data()), xy.size());
    if (auto hit = cache->attestation_keys().lookup(key, TimePoint{})) return *hit;
  }
  auto imported = PublicKey::from_ec_point(EcCurve::kP256, xy);
  if (!imported) {
    why = imported.error().message;
    return nullptr;
  }
  auto shared = std::make_shared<const PublicKey>(std::move(*imported));
  if (cache != nullptr) cache->attestation_keys().store(std::move(key), shared, ValidityWindow{});
  return shared;
}

// Steps 4-6: the QE report, its binding of the attestation key, the quote.
Result<Verdict> verify_signatures(const Quote& q, ByteView data, const PublicKey& pck_key,
                                  DcapVerifyCache* cache) {
  const QuoteLayout& l = q.layout;
  CONCIERGE_ASSIGN_OR_RETURN(Verdict qe,
                             verify_ecdsa_raw(pck_key, HashAlg::kSha256, l.qe_report.of(data),
                                              l.qe_report_signature.of(data)));
  if (!qe) return Verdict::reject("QE report signature does not verify with the PCK key");

  std::array<std::uint8_t, 32> binding{};
  CONCIERGE_RETURN_IF_ERROR(
      digest2_into(HashAlg::kSha256, l.attestation_key.of(data), l.qe_auth_data.of(data), binding));
  const auto& report_data = q.sig.qe_report.report_data;
  if (!std::equal(binding.begin(), binding.end(), report_data.begin())) {
    return Verdict::reject(
        "QE report data does not bind the attestation key: SHA-256(attestation key || QE "
        "authentication data) is " +
        hex_encode(binding) + ", the QE report says " +
        hex_encode(ByteView(report_data).first(32)));
  }
  if (!all_zero(ByteView(report_data).subspan(32))) {
    return Verdict::reject("QE report data bytes 32..63 are not zero");
  }

  std::string why;
  const auto attestation_key = attestation_key_of(l.attestation_key.of(data), cache, why);
  if (attestation_key == nullptr) {
    return Verdict::reject("attestation key is not a P-256 point: " + why);
  }
  CONCIERGE_ASSIGN_OR_RETURN(
      Verdict quote, verify_ecdsa_raw(*attestation_key, HashAlg::kSha256, l.signed_data.of(data),
                                      l.signature.of(data)));
  if (!quote) return Verdict::reject("quote signature does not verify with the attestation key");
  return Verdict::accept();
}

Verdict check_report_data(const Quote& q, const Bytes& expected) {
  Bytes padded(64, 0);
  std::copy(expected.begin(), expected.end(), padded.begin());
  const auto& actual = q.td() != nullptr ? q.td()->report_data : q.sgx()->report_data;
  if (!equal_constant_time(padded, actual)) {
    return Verdict::reject("REPORT_DATA " + hex_encode(actual) + " is not the expected " +
                           hex_encode(padded));
  }
  return Verdict::accept();
}

}  // namespace

std::vector<TcbStatus> default_acceptable_tcb() {
  return {TcbStatus::kUpToDate, TcbStatus::kSWHardeningNeeded, TcbStatus::kConfigurationNeeded,
          TcbStatus::kConfigurationAndSWHardeningNeeded};
}

Result<DcapVerification> verify_dcap(ByteView data, const DcapVerifyOptions& o) {
  if (o.expected_report_data && o.expected_report_data->size() > 64) {
    return fail(Errc::kInvalidArgument, "expected report data is longer than 64 bytes");
  }
  DcapVerification out;
  CONCIERGE_ASSIGN_OR_RETURN(out.quote, parse_quote(data));
  const Quote& q = out.quote;
  const PckChainVerdict* pck = nullptr;
  const CollateralOutcome* collateral = nullptr;
  std::optional<RtmrReplay> replay;
  // Claims are built once, when the outcome is known.
  auto finish = [&](Verdict verdict) -> Result<DcapVerification> {
    out.claims = quote_claims(q);
    if (pck != nullptr) {
      nlohmann::json pck_claims = pck_extension_claims(pck->extension);
      if (pck->ca) pck_claims["ca"] = pck_ca_name(*pck->ca);
      out.claims["fmspc"] = hex_encode(pck->extension.fmspc);
      out.claims["pck"] = std::move(pck_claims);
    }
    add_collateral_claims(collateral, out.claims);
    if (replay) out.claims["ccel"] = rtmr_replay_json(*replay);
    out.claims["tcb_status"] =
        out.collateral_checked ? std::string(tcb_status_name(out.tcb_status)) : "unknown";
    out.claims["advisory_ids"] = out.advisory_ids;
    out.claims["verified"] = verdict.accepted;
    out.verdict = std::move(verdict);
    return std::move(out);
  };

  if (o.expected_tee && (*o.expected_tee == TeeType::kTdx) != q.is_tdx()) {
    return finish(Verdict::reject("quote is " + std::string(tee_label(q.is_tdx())) + ", not " +
                                  std::string(tee_label(!q.is_tdx()))));
  }
  const Certificate root = o.root ? *o.root : intel_sgx_root_ca();
  ChainOptions chain_options;
  chain_options.at = o.at;
  chain_options.crls = o.crls;

  // Only the cache keys use it.
  const Bytes root_fingerprint = o.cache != nullptr ? root.fingerprint_sha256() : Bytes{};
  CONCIERGE_ASSIGN_OR_RETURN(PckOutcome pck_outcome,
                             verify_quote_pck(q, data, o, root, root_fingerprint, chain_options));
  pck = &pck_outcome.verdict();
  if (!pck_outcome.accepted()) return finish(Verdict::reject(pck->reason));

  CONCIERGE_ASSIGN_OR_RETURN(Verdict signatures,
                             verify_signatures(q, data, pck_outcome.verified->key, o.cache));
  if (!signatures) return finish(std::move(signatures));
  if (o.expected_report_data) {
    Verdict rd = check_report_data(q, *o.expected_report_data);
    if (!rd) return finish(std::move(rd));
  }

  if (o.ccel_log) {
    if (q.td() == nullptr) {
      return fail(Errc::kInvalidArgument, "a CCEL log goes with a TDX quote, not an SGX one");
    }
    CONCIERGE_ASSIGN_OR_RETURN(replay, replay_ccel(*o.ccel_log));
    Verdict rtmrs = check_rtmrs(*replay, *q.td());
    if (rtmrs && o.rtmr_reference) rtmrs = appraise_rtmrs(*replay, *o.rtmr_reference);
    if (!rtmrs) return finish(std::move(rtmrs));
  }

  if (o.collateral == nullptr && !o.collateral_dir) return finish(Verdict::accept());
  CONCIERGE_ASSIGN_OR_RETURN(
      CollateralOutcome outcome,
      verify_quote_collateral(q, pck->extension, o, root, root_fingerprint, chain_options));
  collateral = &outcome;
  if (!outcome.verdict.accepted && outcome.verdict.reason.empty()) {
    outcome.verdict.reason = "collateral rejected";
  }
  if (outcome.appraised) {
    out.collateral_checked = true;
    out.tcb_status = outcome.verdict.status;
    out.advisory_ids = outcome.verdict.advisory_ids;
  }
  if (!outcome.verdict.accepted) return finish(Verdict::reject(outcome.verdict.reason));
  if (std::find(o.acceptable_tcb.begin(), o.acceptable_tcb.end(), out.tcb_status) ==
      o.acceptable_tcb.end()) {
    std::string why =
        "TCB status " + std::string(tcb_status_name(out.tcb_status)) + " is not acceptable";
    if (!out.advisory_ids.empty()) {
      why += " (advisories:";
      for (const std::string& id : out.advisory_ids) why += " " + id;
      why += ")";
    }
    return finish(Verdict::reject(std::move(why)));
  }
  return finish(Verdict::accept());
}

}  // namespace concierge::evidence::dcap
