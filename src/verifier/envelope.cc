#include "concierge/verifier/envelope.h"

#include <algorithm>
#include <set>
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/core/json.h"

namespace concierge::verifier {
namespace {

using Json = nlohmann::json;

Error malformed(const std::string& where, const std::string& what) {
  Error e = make_error(Errc::kMalformed, "envelope: " + where + ": " + what);
  e.field = where;
  return e;
}

Result<Bytes> read_base64(const Json& j, const std::string& where) {
  if (!j.is_string()) return Unexpected(malformed(where, "not a base64 string"));
  auto bytes = base64_decode(j.get<std::string>());
  if (!bytes) return Unexpected(malformed(where, bytes.error().message));
  return bytes;
}

Result<DeviceEvidence> parse_device(const Json& j, const std::string& prefix, bool primary) {
  if (!j.is_object())
    return Unexpected(malformed(prefix.empty() ? "envelope" : prefix, "not an object"));
  auto at = [&prefix](const std::string& member) {
    return prefix.empty() ? member : prefix + "." + member;
  };
  static const std::set<std::string> kPrimary = {"tee",       "evidence",     "endorsements",
                                                 "event_log", "runtime_data", "additional_devices"};
  for (const auto& [key, value] : j.items()) {
    if (kPrimary.count(key) == 0 || (!primary && key == "additional_devices")) {
      return Unexpected(malformed(at(key), "unknown member"));
    }
    // One runtime data per envelope: every device is bound to it, so a
    // device cannot bring its own (older, replayed) nonce and key.
    if (!primary && key == "runtime_data") {
      return Unexpected(
          malformed(at(key),
                    "an additional device may not carry runtime data: every device is bound to "
                    "the envelope's runtime_data"));
    }
  }
  DeviceEvidence d;
  const auto tee = j.find("tee");
  if (tee == j.end() || !tee->is_string() || tee->get<std::string>().empty()) {
    return Unexpected(malformed(at("tee"), "missing or not a string"));
  }
  d.tee = tee->get<std::string>();
  const auto evidence = j.find("evidence");
  if (evidence == j.end()) return Unexpected(malformed(at("evidence"), "missing"));
  CONCIERGE_ASSIGN_OR_RETURN(d.evidence, read_base64(*evidence, at("evidence")));
  if (d.evidence.empty()) return Unexpected(malformed(at("evidence"), "empty"));
  if (const auto e = j.find("endorsements"); e != j.end()) {
    if (!e->is_object()) return Unexpected(malformed(at("endorsements"), "not an object"));
    d.endorsements = *e;
  }
  if (const auto log = j.find("event_log"); log != j.end() && !log->is_null()) {
    CONCIERGE_ASSIGN_OR_RETURN(d.event_log, read_base64(*log, at("event_log")));
  }
  if (const auto rd = j.find("runtime_data"); rd != j.end() && !rd->is_null()) {
    if (!rd->is_object()) return Unexpected(malformed(at("runtime_data"), "not an object"));
    d.runtime_data = *rd;
  }
  return d;
}

bool valid_device_name(const std::string& name) {
  if (name.empty() || name.size() > 32) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

Json device_json(const DeviceEvidence& d) {
  Json out = {{"tee", d.tee}, {"evidence", base64_encode(d.evidence)}};
  if (!d.endorsements.empty()) out["endorsements"] = d.endorsements;
  if (d.event_log) out["event_log"] = base64_encode(*d.event_log);
  if (!d.runtime_data.is_null()) out["runtime_data"] = d.runtime_data;
  return out;
}

}  // namespace

Result<Envelope> parse_envelope(const nlohmann::json& j) {
  Envelope out;
  CONCIERGE_ASSIGN_OR_RETURN(out.primary, parse_device(j, "", /*primary=*/true));
  if (const auto more = j.find("additional_devices"); more != j.end()) {
    if (!more->is_object()) {
      return Unexpected(malformed("additional_devices", "not an object"));
    }
    for (const auto& [name, device] : more->items()) {
      if (!valid_device_name(name)) {
        return Unexpected(malformed(
            "additional_devices",
            "device name '" + name.substr(0, 64) + "' is not 1-32 characters of [a-z0-9_-]"));
      }
      if (name == out.primary.tee) {
        return Unexpected(malformed("additional_devices." + name,
                                    "a device may not take the primary's name (its TEE)"));
      }
      CONCIERGE_ASSIGN_OR_RETURN(DeviceEvidence d,
                                 parse_device(device, "additional_devices." + name, false));
      // A device's name starts with its kind ("tpm", "tpm0", "tpm-vtpm"), so
      // a release policy that names a device ("submods.tpm0") cannot be met
      // by evidence of another kind under that name.
      if (name.rfind(d.tee, 0) != 0) {
        return Unexpected(
            malformed("additional_devices." + name,
                      "a device's name starts with its kind (" + d.tee.substr(0, 16) + ")"));
      }
      out.additional_devices.emplace(name, std::move(d));
    }
  }
  return out;
}

Result<Envelope> parse_envelope(std::string_view json_text) {
  CONCIERGE_ASSIGN_OR_RETURN(const Json j,
                             parse_json_with_offset(json_text, "envelope", "envelope: "));
  return parse_envelope(j);
}

nlohmann::json envelope_json(const Envelope& envelope) {
  Json out = device_json(envelope.primary);
  if (!envelope.additional_devices.empty()) {
    Json more = Json::object();
    for (const auto& [name, d] : envelope.additional_devices) more[name] = device_json(d);
    out["additional_devices"] = std::move(more);
  }
  return out;
}

}  // namespace concierge::verifier
