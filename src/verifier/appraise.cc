#include "concierge/verifier/appraise.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/core/time.h"
#include "concierge/verifier/binding.h"

namespace concierge::verifier {
namespace {

// The compiled-in policy of a TEE, parsed once per process (the texts are
// constants; parsing one costs more than the appraisal that uses it).
Result<const Policy*> builtin_policy(std::string_view tee) {
  struct Parsed {
    std::string tee;
    Result<Policy> policy;
  };
  static const std::vector<Parsed> parsed = [] {
    std::vector<Parsed> all;
    for (std::string_view name : default_policy_names()) {
      all.push_back({std::string(name), default_policy(name)});
    }
    return all;
  }();
  for (const Parsed& p : parsed) {
    if (p.tee != tee) continue;
    if (!p.policy) return Unexpected(p.policy.error());
    return &*p.policy;
  }
  return Unexpected(default_policy(tee).error());
}

// The current values of a reference set, lowercase; `any`, when given, is
// set when the set has values at all, expired ones included.
Result<std::set<std::string>> reference_set(const ReferenceStore& refs, const std::string& name,
                                            TimePoint now, bool* any = nullptr) {
  CONCIERGE_ASSIGN_OR_RETURN(ReferenceLookup lookup, refs.values(name, now));
  if (any != nullptr) *any = !lookup.current.empty() || !lookup.expired.empty();
  std::set<std::string> out;
  for (const ReferenceValue& v : lookup.current) {
    std::string lower = v.value;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.insert(std::move(lower));
  }
  return out;
}

Result<DeviceAppraisal> appraise_device(const std::string& submod, const DeviceEvidence& device,
                                        const nlohmann::json& runtime_data,
                                        const AppraiseOptions& o, TimePoint now) {
  const EvidenceKind* kind = find_evidence_kind(device.tee);
  if (kind == nullptr) {
    return fail(Errc::kUnsupported, "no verifier for evidence of kind '" + device.tee + "'");
  }
  VerifierContext ctx = o.context;
  std::set<std::string> event_digests;
  bool log_required = false;  // event digests registered, expired ones included
  if (kind->event_log) {
    CONCIERGE_ASSIGN_OR_RETURN(
        event_digests, reference_set(*o.refs, device.tee + ".event_digest", now, &log_required));
    if (device.event_log) ctx.known_event_digests = event_digests;
  }
  if (kind->enrolled_keys) {
    // The kind's hardware trust is an enrolled key (TPM: the AK), checked by
    // its verifier, outside any policy.
    CONCIERGE_ASSIGN_OR_RETURN(ctx.enrolled_keys,
                               reference_set(*o.refs, std::string(kind->enrolled_keys), now));
  }
  if (kind->required_registers) {
    // Expired values still require: expiry never loosens what is demanded.
    CONCIERGE_ASSIGN_OR_RETURN(ReferenceLookup required,
                               o.refs->values(kind->required_registers, now));
    for (const auto* list : {&required.current, &required.expired}) {
      for (const ReferenceValue& v : *list) ctx.required_registers.insert(v.value);
    }
  }
  DeviceAppraisal out;
  out.submod = submod;
  out.tee = device.tee;
  CONCIERGE_ASSIGN_OR_RETURN(out.evidence, kind->verify(device, ctx));
  if (kind->event_log && !device.event_log && log_required && out.evidence.normalized.is_object()) {
    // The owner registered event digests, so the log is part of what is
    // appraised: leaving it out may not skip that appraisal.
    out.evidence.normalized["log"] = {
        {"replayed", false},
        {"matches_registers", false},
        {"mismatch", "no event log was sent, but " + device.tee +
                         ".event_digest has reference values: the log is required"}};
  }
  if (!runtime_data.is_null()) {
    CONCIERGE_ASSIGN_OR_RETURN(
        Verdict binding, check_binding(out.evidence.report_data, runtime_data, kind->binding_hash,
                                       kind->report_data_size));
    out.evidence.normalized["binding"] = binding.accepted;
    if (!binding) out.evidence.normalized["binding_reason"] = binding.reason;
    out.binding = std::move(binding);
  } else if (o.require_binding) {
    return fail(Errc::kMalformed, "runtime data is required: every device's evidence must bind it");
  }
  const auto custom = o.policies.find(device.tee);
  if (custom != o.policies.end()) {
    out.appraisal = appraise(custom->second, out.evidence.normalized, *o.refs, now);
  } else {
    CONCIERGE_ASSIGN_OR_RETURN(const Policy* policy, builtin_policy(device.tee));
    out.appraisal = appraise(*policy, out.evidence.normalized, *o.refs, now);
  }
  return out;
}

}  // namespace

Result<EnvelopeAppraisal> appraise_envelope(const Envelope& envelope,
                                            const AppraiseOptions& options) {
  if (options.refs == nullptr) {
    return fail(Errc::kInvalidArgument, "appraisal needs a reference value store");
  }
  EnvelopeAppraisal out;
  out.appraised_at = std::chrono::time_point_cast<std::chrono::seconds>(
      options.context.at.value_or(std::chrono::system_clock::now()));
  const nlohmann::json& primary_runtime = envelope.primary.runtime_data;
  if (primary_runtime.is_object()) {
    if (const auto n = primary_runtime.find("nonce");
        n != primary_runtime.end() && n->is_string()) {
      out.nonce = n->get<std::string>();
    }
  }
  CONCIERGE_ASSIGN_OR_RETURN(DeviceAppraisal primary,
                             appraise_device(envelope.primary.tee, envelope.primary,
                                             primary_runtime, options, out.appraised_at));
  out.devices.push_back(std::move(primary));
  for (const auto& [name, device] : envelope.additional_devices) {
    // Every device binds the envelope's one runtime data (envelope.h).
    if (!device.runtime_data.is_null() || name == envelope.primary.tee ||
        name.rfind(device.tee, 0) != 0) {
      return fail(Errc::kMalformed,
                  "additional_devices." + name +
                      ": carries its own runtime data, the primary's name, or a name that does "
                      "not start with its kind");
    }
    CONCIERGE_ASSIGN_OR_RETURN(DeviceAppraisal d, appraise_device(name, device, primary_runtime,
                                                                  options, out.appraised_at));
    out.devices.push_back(std::move(d));
  }
  for (const DeviceAppraisal& d : out.devices) {
    if (static_cast<int>(d.appraisal.status) > static_cast<int>(out.status)) {
      out.status = d.appraisal.status;
    }
  }
  return out;
}

bool EnvelopeAppraisal::all_bound() const {
  if (devices.empty()) return false;
  return std::all_of(devices.begin(), devices.end(),
                     [](const DeviceAppraisal& d) { return d.binding && d.binding->accepted; });
}

nlohmann::json EnvelopeAppraisal::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const DeviceAppraisal& d : devices) {
    nlohmann::json j = {{"submod", d.submod},
                        {"tee", d.tee},
                        {"status", tier_name(d.appraisal.status)},
                        {"evidence_verified", d.evidence.verdict.accepted},
                        {"normalized", d.evidence.normalized},
                        {"appraisal", d.appraisal.to_json()}};
    if (!d.evidence.verdict.accepted) j["evidence_reason"] = d.evidence.verdict.reason;
    if (d.binding) j["binding"] = d.binding->accepted;
    list.push_back(std::move(j));
  }
  return {{"status", tier_name(status)},
          {"appraised_at", format_rfc3339(appraised_at)},
          {"devices", std::move(list)}};
}

std::string EnvelopeAppraisal::explain_text() const {
  std::string out;
  for (const DeviceAppraisal& d : devices) {
    out +=
        "== " + d.submod + " (" + d.tee + "): " + std::string(tier_name(d.appraisal.status)) + "\n";
    if (!d.evidence.verdict.accepted) {
      out += "evidence rejected: " + d.evidence.verdict.reason + "\n";
    }
    if (d.binding && !d.binding->accepted) out += d.binding->reason + "\n";
    out += d.appraisal.explain_text();
    if (!out.empty() && out.back() != '\n') out += '\n';
  }
  return out;
}

AttestationResult EnvelopeAppraisal::attestation_result(std::chrono::seconds validity,
                                                        const std::string& verifier_build) const {
  AttestationResult r;
  r.iat = unix_seconds(appraised_at);
  r.exp = r.iat + validity.count();
  r.verifier_build = verifier_build;
  r.nonce = nonce;
  if (!devices.empty()) r.primary = devices.front().submod;
  for (const DeviceAppraisal& d : devices) {
    EarSubmod s;
    s.status = d.appraisal.status;
    s.trust_vector = d.appraisal.vector;
    s.appraisal_policy_id = d.appraisal.policy_id;
    nlohmann::json annotated = d.evidence.normalized;
    annotated.erase("native");  // the normalized claims; the native ones stay with the verifier
    s.annotated_evidence = std::move(annotated);
    r.submods.emplace(d.submod, std::move(s));
  }
  return r;
}

}  // namespace concierge::verifier
