// The evidence envelope: what an attester sends the verifier, one JSON
// document for every kind of evidence.
//
//   {
//     "tee": "snp" | "tdx" | "sgx" | "tpm",
//     "evidence": "<base64>",          the hardware-signed evidence
//     "endorsements": {...},           kind-specific, all optional (below)
//     "event_log": "<base64>",         optional: TCG log (TPM), CCEL (TDX)
//     "runtime_data": {"nonce": "...", "tee-pubkey": {JWK}},   optional
//     "additional_devices": {"gpu0": {same members but additional_devices
//                                     and runtime_data}}
//   }
//
// The envelope has one runtime data, the primary's: every device's evidence
// must bind it (appraise.h), so an additional device cannot bring evidence
// bound to another (older, replayed) nonce or key. Device names are 1-32
// characters of [a-z0-9_-], start with the device's kind ("tpm0" for a
// "tpm") and differ from the primary's TEE name, which names the primary's
// submod in the attestation result.
//
// Endorsements, by kind (base64 for binary, PEM as text):
//   snp: "vcek" (DER), "cert_table" (the extended report's table),
//        "certs" (PEM bundle)
//   tdx, sgx: "pck" (PEM: PCK certificate, then its CA) when the quote does
//        not carry its chain; "collateral": {"tcb_info", "qe_identity"
//        (the PCS responses as text), "tcb_signing_chain" (PEM)}
//   tpm: "signature" (TPMT_SIGNATURE), "ak" (TPM2B_PUBLIC, or a PEM public
//        key), "pcrs" ({"sha256": {"0": "<hex>", ...}}: the quoted values)
//
// The envelope is untrusted input: parsing checks shapes and encodings only
// (kMalformed naming the member, e.g. "additional_devices.gpu0.evidence").
// Unknown members are rejected, so a misspelt member cannot silently drop
// evidence. Plain values; thread-safe as any value type.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge::verifier {

struct DeviceEvidence {
  std::string tee;
  Bytes evidence;
  nlohmann::json endorsements = nlohmann::json::object();
  std::optional<Bytes> event_log;
  // null when absent; otherwise an object (the binding needs "nonce" and
  // "tee-pubkey", binding.h).
  nlohmann::json runtime_data;
};

struct Envelope {
  DeviceEvidence primary;
  std::map<std::string, DeviceEvidence> additional_devices;
};

Result<Envelope> parse_envelope(std::string_view json_text);
Result<Envelope> parse_envelope(const nlohmann::json& j);
nlohmann::json envelope_json(const Envelope& envelope);

}  // namespace concierge::verifier
