#include "concierge/measure/replay.h"

#include <array>
#include <cstdio>
#include <cstring>

#include "concierge/core/byte_reader.h"
#include "concierge/core/encoding.h"
#include "concierge/measure/event_types.h"

namespace concierge::measure {
namespace {

constexpr char kStartupLocality[] = "StartupLocality";  // 16 bytes with the NUL

bool digest_matches(HashAlg alg, ByteView expected, ByteView data) {
  std::array<std::uint8_t, 64> d{};
  std::span<std::uint8_t> out(d.data(), digest_size(alg));
  return digest2_into(alg, data, {}, out) && equal_constant_time(out, expected);
}

std::string alg_label(std::uint16_t alg_id) {
  if (auto a = hash_from_tcg_id(alg_id)) return std::string(hash_name(*a));
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04x", alg_id);
  return buf;
}

void warn(ReplayResult& out, const Event& e, std::string message) {
  out.warnings.push_back(ReplayWarning{e.index, e.offset, std::move(message)});
}

void check_event_data(const Event& e, const std::vector<PcrBank>& banks, ReplayResult& out) {
  std::array<ByteView, 2> candidates;
  std::size_t n = event_data_candidates(e, candidates);
  if (n == 0) return;
  std::string bad;
  for (const PcrBank& bank : banks) {
    const EventDigest* d = e.digest_for(static_cast<std::uint16_t>(bank.alg()));
    if (d == nullptr) continue;
    bool ok = false;
    for (std::size_t i = 0; i < n && !ok; ++i)
      ok = digest_matches(bank.alg(), d->value, candidates[i]);
    if (!ok) bad += (bad.empty() ? "" : ", ") + std::string(hash_name(bank.alg()));
  }
  if (!bad.empty()) {
    warn(out, e,
         std::string(event_type::name(e.type)) + " digest (" + bad +
             ") is not the hash of its event data");
  }
}

}  // namespace

// PFP v1.05 section 10.4.1 (Table 9) and 10.4.4.
EventDataDigest event_data_digest(std::uint32_t type) {
  switch (type) {
    case event_type::kSeparator:
    case event_type::kAction:
    case event_type::kEfiAction:
    case event_type::kSCrtmVersion:
    case event_type::kEfiVariableDriverConfig:
    case event_type::kEfiGptEvent:
    case event_type::kOmitBootDeviceEvents:
      return EventDataDigest::kWholeData;
    case event_type::kEfiVariableBoot:
    case event_type::kEfiVariableBoot2:
      return EventDataDigest::kVariableData;
    case event_type::kEfiVariableAuthority:
      return EventDataDigest::kVariableRecord;
    default:
      return EventDataDigest::kNone;
  }
}

std::optional<ByteView> uefi_variable_data(ByteView event_data) {
  ByteReader r(event_data);
  if (!r.skip(16, "VariableName")) return std::nullopt;
  auto name_len = r.u64le("UnicodeNameLength");
  auto data_len = r.u64le("VariableDataLength");
  if (!name_len || !data_len || *name_len > r.remaining() / 2) return std::nullopt;
  if (!r.skip(*name_len * 2, "UnicodeName")) return std::nullopt;
  auto value = r.bytes(*data_len, "VariableData");
  if (!value) return std::nullopt;
  return *value;
}

std::size_t event_data_candidates(const Event& event, std::array<ByteView, 2>& out) {
  EventDataDigest rule = event_data_digest(event.type);
  if (rule == EventDataDigest::kNone) return 0;
  if (rule == EventDataDigest::kWholeData) {
    out[0] = event.data;
    return 1;
  }
  std::optional<ByteView> var = uefi_variable_data(event.data);
  if (!var) {
    out[0] = event.data;
    return 1;
  }
  bool variable_first = rule == EventDataDigest::kVariableData;
  out[0] = variable_first ? *var : event.data;
  out[1] = variable_first ? event.data : *var;
  return 2;
}

std::optional<std::uint8_t> startup_locality(const Event& e) {
  if (e.type != event_type::kNoAction || e.pcr != 0 || e.data.size() != 17 ||
      std::memcmp(e.data.data(), kStartupLocality, 16) != 0) {
    return std::nullopt;
  }
  return e.data[16];
}

std::string ReplayWarning::to_string() const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "event %zu at offset 0x%zx: ", event_index, offset);
  return buf + message;
}

const PcrBank* ReplayResult::bank(HashAlg alg) const {
  for (const auto& b : banks) {
    if (b.alg() == alg) return &b;
  }
  return nullptr;
}

Result<ReplayResult> replay(const EventLog& log, const ReplayOptions& options) {
  ReplayResult out;
  out.banks.reserve(log.spec_id ? log.spec_id->algorithms.size() : 1);
  if (log.format == LogFormat::kLegacySha1) {
    out.banks.emplace_back(HashAlg::kSha1);
  } else {
    if (log.spec_id->vendor_info_outside_event && !log.events.empty()) {
      warn(out, log.events.front(),
           "Spec ID header: vendorInfo lies outside the event's declared size");
    }
    for (const AlgorithmSize& a : log.spec_id->algorithms) {
      auto alg = hash_from_tcg_id(a.alg_id);
      if (alg && (*alg != HashAlg::kSm3_256 || sm3_available())) {
        out.banks.emplace_back(*alg);
      } else if (!log.events.empty()) {
        warn(out, log.events.front(),
             "algorithm " + alg_label(a.alg_id) + " is not supported: its bank is not replayed");
      }
    }
  }

  // Events that carry no digest for a bank: one warning per bank, at the end.
  struct Missing {
    std::size_t count = 0;
    const Event* first = nullptr;
  };
  std::vector<Missing> missing(out.banks.size());

  // Every record, the first included: in a crypto-agile log it is the
  // EV_NO_ACTION header; in a legacy log it is a real measurement.
  for (const Event& e : log.events) {
    if (e.type == event_type::kNoAction) {
      if (auto loc = startup_locality(e)) {
        out.startup_locality = *loc;
        for (PcrBank& bank : out.banks) {
          if (auto r = bank.set_startup_locality(*loc); !r) warn(out, e, r.error().message);
        }
      }
      continue;  // EV_NO_ACTION is never extended (PFP 10.4.5)
    }
    for (std::size_t b = 0; b < out.banks.size(); ++b) {
      PcrBank& bank = out.banks[b];
      const EventDigest* d = e.digest_for(static_cast<std::uint16_t>(bank.alg()));
      if (d == nullptr) {
        if (missing[b].count++ == 0) missing[b].first = &e;
        continue;
      }
      CONCIERGE_RETURN_IF_ERROR(bank.extend(e.pcr, d->value));
    }
    if (options.check_event_data) check_event_data(e, out.banks, out);
  }
  for (std::size_t b = 0; b < out.banks.size(); ++b) {
    if (missing[b].count == 0) continue;
    warn(out, *missing[b].first,
         std::to_string(missing[b].count) + " event(s) from here on carry no " +
             std::string(hash_name(out.banks[b].alg())) +
             " digest: the bank was not extended by them");
  }
  return out;
}

}  // namespace concierge::measure
