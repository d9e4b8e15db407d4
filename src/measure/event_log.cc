// Parser for TCG PC Client firmware event logs; see event_log.h for the
// formats and the PFP specification sections they come from.
#include "concierge/measure/event_log.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "concierge/core/byte_reader.h"
#include "concierge/core/digest.h"
#include "concierge/measure/event_types.h"
#include "concierge/measure/pcr_bank.h"

namespace concierge::measure {
namespace {

constexpr char kSpecIdSignature03[] = "Spec ID Event03";  // 16 bytes with the NUL
constexpr std::size_t kSha1Size = 20;

bool all_bytes_are(ByteView b, std::uint8_t value) {
  return std::all_of(b.begin(), b.end(), [value](std::uint8_t x) { return x == value; });
}

bool is_spec_id_03(const Event& first) {
  return first.type == event_type::kNoAction && first.data.size() >= 16 &&
         std::memcmp(first.data.data(), kSpecIdSignature03, 16) == 0;
}

Result<void> check_pcr(std::uint32_t pcr, std::size_t offset) {
  if (pcr >= kPcrCount) {
    return fail_at(Errc::kMalformed, "pcrIndex", offset,
                   "PCR index " + std::to_string(pcr) + " is out of range 0-23");
  }
  return {};
}

// TCG_PCClientPCREvent (PFP 10.2.1): the legacy SHA-1 record, also the
// first record of a crypto-agile log.
Result<Event> read_legacy_record(ByteReader& r, std::size_t index,
                                 std::vector<EventDigest>& digests) {
  Event e;
  e.index = index;
  e.offset = r.offset();
  ByteReader probe = r;  // the record is consumed only when whole
  CONCIERGE_ASSIGN_OR_RETURN(e.pcr, probe.u32le("pcrIndex"));
  CONCIERGE_RETURN_IF_ERROR(check_pcr(e.pcr, e.offset));
  CONCIERGE_ASSIGN_OR_RETURN(e.type, probe.u32le("eventType"));
  CONCIERGE_ASSIGN_OR_RETURN(ByteView sha1, probe.bytes(kSha1Size, "digest"));
  digests.push_back(EventDigest{static_cast<std::uint16_t>(HashAlg::kSha1), sha1});
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t size, probe.u32le("eventDataSize"));
  CONCIERGE_ASSIGN_OR_RETURN(e.data, probe.bytes(size, "event"));
  r = probe;
  return e;
}

// TCG_PCR_EVENT2 (PFP 10.2.2).
Result<Event> read_agile_record(ByteReader& r, std::size_t index, const SpecIdEvent& spec,
                                std::vector<EventDigest>& digests) {
  Event e;
  e.index = index;
  e.offset = r.offset();
  ByteReader probe = r;
  CONCIERGE_ASSIGN_OR_RETURN(e.pcr, probe.u32le("pcrIndex"));
  CONCIERGE_RETURN_IF_ERROR(check_pcr(e.pcr, e.offset));
  CONCIERGE_ASSIGN_OR_RETURN(e.type, probe.u32le("eventType"));
  std::size_t count_offset = probe.offset();
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t count, probe.u32le("digests.count"));
  if (count > kMaxDigests) {
    return fail_at(
        Errc::kMalformed, "digests.count", count_offset,
        std::to_string(count) + " digests (at most " + std::to_string(kMaxDigests) + ")");
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    std::size_t alg_offset = probe.offset();
    CONCIERGE_ASSIGN_OR_RETURN(std::uint16_t alg, probe.u16le("digests.hashAlg"));
    auto known = std::find_if(spec.algorithms.begin(), spec.algorithms.end(),
                              [alg](const AlgorithmSize& a) { return a.alg_id == alg; });
    if (known == spec.algorithms.end()) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%04x", alg);
      return fail_at(Errc::kMalformed, "digests.hashAlg", alg_offset,
                     std::string("algorithm ") + buf + " is not in the Spec ID header");
    }
    CONCIERGE_ASSIGN_OR_RETURN(ByteView value, probe.bytes(known->digest_size, "digests.digest"));
    digests.push_back(EventDigest{alg, value});
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t size, probe.u32le("eventSize"));
  CONCIERGE_ASSIGN_OR_RETURN(e.data, probe.bytes(size, "event"));
  r = probe;
  return e;
}

// Padding after the last record: all zero (CCEL as the issue describes it) or
// all 0xFF (erased flash, as real CCEL areas are).
bool is_padding(const ByteReader& r) {
  ByteView rest = r.rest();
  return all_bytes_are(rest, 0x00) || all_bytes_are(rest, 0xff);
}

Result<EventLog> parse(std::shared_ptr<const Bytes> storage) {
  const Bytes& bytes = *storage;
  EventLog log;
  log.storage = storage;
  if (bytes.empty()) return fail_at(Errc::kTruncated, "log", 0, "the event log is empty");
  ByteReader r{ByteView(bytes)};

  // Digests go to one array; each event's range is fixed up at the end,
  // once the array no longer moves.
  auto digests = std::make_shared<std::vector<EventDigest>>();
  std::vector<std::size_t> first_digest;
  // A typical record is well over 64 bytes; this avoids most regrowth.
  log.events.reserve(bytes.size() / 64 + 1);
  first_digest.reserve(bytes.size() / 64 + 2);
  digests->reserve(bytes.size() / 32 + 1);

  first_digest.push_back(0);
  CONCIERGE_ASSIGN_OR_RETURN(Event first, read_legacy_record(r, 0, *digests));
  if (is_spec_id_03(first)) {
    log.format = LogFormat::kCryptoAgile;
    auto spec = parse_spec_id_event(first.data, first.offset + 32);
    if (!spec && spec.error().field == "SpecIdEvent.vendorInfo" && !first.data.empty()) {
      // tpm2-tools' layout: eventSize ends at vendorInfoSize and the vendor
      // bytes follow the record. Accept it, and say so in the result.
      CONCIERGE_ASSIGN_OR_RETURN(ByteView extra,
                                 r.bytes(first.data.back(), "SpecIdEvent.vendorInfo"));
      Bytes whole(first.data.begin(), first.data.end());
      whole.insert(whole.end(), extra.begin(), extra.end());
      spec = parse_spec_id_event(whole, first.offset + 32);
      if (spec) spec->vendor_info_outside_event = true;
    }
    if (!spec) return Unexpected(std::move(spec).error());
    log.spec_id = std::move(*spec);
  }
  log.events.push_back(std::move(first));

  while (!r.empty()) {
    if (is_padding(r)) {
      log.padding = r.remaining();
      break;
    }
    std::size_t index = log.events.size();
    first_digest.push_back(digests->size());
    Result<Event> e = log.format == LogFormat::kCryptoAgile
                          ? read_agile_record(r, index, *log.spec_id, *digests)
                          : read_legacy_record(r, index, *digests);
    if (!e) {
      Error err = std::move(e).error();
      err.message += " (event " + std::to_string(index) + ")";
      return Unexpected(std::move(err));
    }
    log.events.push_back(std::move(*e));
  }
  log.size = bytes.size() - log.padding;
  first_digest.resize(log.events.size());
  first_digest.push_back(digests->size());
  for (std::size_t i = 0; i < log.events.size(); ++i) {
    log.events[i].digests = std::span<const EventDigest>(digests->data() + first_digest[i],
                                                         first_digest[i + 1] - first_digest[i]);
  }
  log.digest_storage = std::move(digests);
  return log;
}

}  // namespace

const EventDigest* Event::digest_for(std::uint16_t alg_id) const {
  for (const auto& d : digests) {
    if (d.alg_id == alg_id) return &d;
  }
  return nullptr;
}

// TCG_EfiSpecIDEvent (PFP 10.4.5.1).
Result<SpecIdEvent> parse_spec_id_event(ByteView data, std::size_t base_offset) {
  ByteReader r(data, base_offset);
  SpecIdEvent spec;
  CONCIERGE_ASSIGN_OR_RETURN(ByteView sig, r.bytes(16, "SpecIdEvent.signature"));
  if (std::memcmp(sig.data(), kSpecIdSignature03, 16) != 0) {
    return fail_at(Errc::kMalformed, "SpecIdEvent.signature", base_offset,
                   "expected \"Spec ID Event03\"");
  }
  CONCIERGE_ASSIGN_OR_RETURN(spec.platform_class, r.u32le("SpecIdEvent.platformClass"));
  CONCIERGE_ASSIGN_OR_RETURN(spec.spec_version_minor, r.u8("SpecIdEvent.specVersionMinor"));
  CONCIERGE_ASSIGN_OR_RETURN(spec.spec_version_major, r.u8("SpecIdEvent.specVersionMajor"));
  CONCIERGE_ASSIGN_OR_RETURN(spec.spec_errata, r.u8("SpecIdEvent.specErrata"));
  CONCIERGE_ASSIGN_OR_RETURN(spec.uintn_size, r.u8("SpecIdEvent.uintnSize"));
  std::size_t count_offset = r.offset();
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t count, r.u32le("SpecIdEvent.numberOfAlgorithms"));
  if (count == 0 || count > kMaxDigests || count * 4ull > r.remaining()) {
    return fail_at(Errc::kMalformed, "SpecIdEvent.numberOfAlgorithms", count_offset,
                   std::to_string(count) + " algorithms do not fit the header");
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    std::size_t at = r.offset();
    AlgorithmSize a;
    CONCIERGE_ASSIGN_OR_RETURN(a.alg_id, r.u16le("SpecIdEvent.digestSizes.algorithmId"));
    CONCIERGE_ASSIGN_OR_RETURN(a.digest_size, r.u16le("SpecIdEvent.digestSizes.digestSize"));
    if (auto known = hash_from_tcg_id(a.alg_id); known && digest_size(*known) != a.digest_size) {
      return fail_at(Errc::kMalformed, "SpecIdEvent.digestSizes", at,
                     std::string(hash_name(*known)) + " digests have " +
                         std::to_string(digest_size(*known)) + " bytes, header says " +
                         std::to_string(a.digest_size));
    }
    for (const auto& seen : spec.algorithms) {
      if (seen.alg_id == a.alg_id) {
        return fail_at(Errc::kMalformed, "SpecIdEvent.digestSizes", at, "algorithm listed twice");
      }
    }
    spec.algorithms.push_back(a);
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::uint8_t vendor_size, r.u8("SpecIdEvent.vendorInfoSize"));
  CONCIERGE_ASSIGN_OR_RETURN(ByteView vendor, r.bytes(vendor_size, "SpecIdEvent.vendorInfo"));
  spec.vendor_info.assign(vendor.begin(), vendor.end());
  CONCIERGE_RETURN_IF_ERROR(r.expect_end("SpecIdEvent"));
  return spec;
}

Result<EventLog> parse_event_log(ByteView data) {
  return parse(std::make_shared<const Bytes>(data.begin(), data.end()));
}

Result<EventLog> parse_event_log(Bytes&& data) {
  return parse(std::make_shared<const Bytes>(std::move(data)));
}

}  // namespace concierge::measure
