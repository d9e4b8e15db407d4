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

enum class DataDigest {
  kNone,          // the digest is of something the log does not carry
  kWholeData,     // digest == H(event data)
  kVariableData,  // H(event data) or H(UEFI_VARIABLE_DATA.VariableData)
};

// PFP v1.05 section 10.4.1 (Table 9) and 10.4.4: the event types whose
// digest is a hash of the event data itself.
DataDigest data_digest_rule(std::uint32_t type) {
  switch (type) {
    case event_type::kSeparator:
    case event_type::kAction:
    case event_type::kEfiAction:
    case event_type::kSCrtmVersion:
    case event_type::kEfiVariableDriverConfig:
    case event_type::kEfiGptEvent:
    case event_type::kOmitBootDeviceEvents:
      return DataDigest::kWholeData;
    // EV_EFI_VARIABLE_BOOT measures VariableData only (PFP 10.4.4); some
    // firmware hashes the whole UEFI_VARIABLE_DATA, as it does for authority
    // variables. Either form is consistent with the data.
    case event_type::kEfiVariableBoot:
    case event_type::kEfiVariableBoot2:
    case event_type::kEfiVariableAuthority:
      return DataDigest::kVariableData;
    default:
      return DataDigest::kNone;
  }
}

// UEFI_VARIABLE_DATA.VariableData (PFP 10.4.4), or empty when malformed.
std::optional<ByteView> variable_data(ByteView data) {
  ByteReader r(data);
  if (!r.skip(16, "VariableName")) return std::nullopt;
  auto name_len = r.u64le("UnicodeNameLength");
  auto data_len = r.u64le("VariableDataLength");
  if (!name_len || !data_len || *name_len > r.remaining() / 2) return std::nullopt;
  if (!r.skip(*name_len * 2, "UnicodeName")) return std::nullopt;
  auto value = r.bytes(*data_len, "VariableData");
  if (!value) return std::nullopt;
  return *value;
}

bool digest_matches(HashAlg alg, ByteView expected, ByteView data) {
  std::array<std::uint8_t, 64> d{};
  std::span<std::uint8_t> out(d.data(), digest_size(alg));
  return digest2_into(alg, data, {}, out) && equal_constant_time(out, expected);
}

std::optional<std::uint8_t> startup_locality(const Event& e) {
  if (e.type != event_type::kNoAction || e.pcr != 0 || e.data.size() != 17 ||
      std::memcmp(e.data.data(), kStartupLocality, 16) != 0) {
    return std::nullopt;
  }
  return e.data[16];
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
  DataDigest rule = data_digest_rule(e.type);
  if (rule == DataDigest::kNone) return;
  std::optional<ByteView> var;
  if (rule == DataDigest::kVariableData) var = variable_data(e.data);
  std::string bad;
  for (const PcrBank& bank : banks) {
    const EventDigest* d = e.digest_for(static_cast<std::uint16_t>(bank.alg()));
    if (d == nullptr) continue;
    bool ok = digest_matches(bank.alg(), d->value, e.data) ||
              (var && digest_matches(bank.alg(), d->value, *var));
    if (!ok) bad += (bad.empty() ? "" : ", ") + std::string(hash_name(bank.alg()));
  }
  if (!bad.empty()) {
    warn(out, e,
         std::string(event_type::name(e.type)) + " digest (" + bad +
             ") is not the hash of its event data");
  }
}

}  // namespace

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
