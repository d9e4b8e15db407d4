#include "concierge/measure/event_log_writer.h"

#include <cstring>

#include "concierge/measure/event_types.h"

namespace concierge::measure {
namespace {

void put_u8(Bytes& out, std::uint8_t v) { out.push_back(v); }
void put_u16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put_u32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_bytes(Bytes& out, ByteView b) { out.insert(out.end(), b.begin(), b.end()); }

}  // namespace

EventLogWriter::EventLogWriter(std::vector<HashAlg> algs) : algs_(std::move(algs)) {}

void EventLogWriter::add_startup_locality(std::uint8_t locality) {
  Bytes data(16 + 1, 0);
  std::memcpy(data.data(), "StartupLocality", 15);
  data[16] = locality;
  std::vector<OwnedDigest> zeros;
  for (HashAlg a : algs_) {
    zeros.push_back(OwnedDigest{static_cast<std::uint16_t>(a), Bytes(digest_size(a), 0)});
  }
  add_raw(0, event_type::kNoAction, zeros, data);
}

Result<std::vector<OwnedDigest>> EventLogWriter::add_measured(std::uint32_t pcr, std::uint32_t type,
                                                              ByteView measured, ByteView data) {
  std::vector<OwnedDigest> digests;
  for (HashAlg a : algs_) {
    CONCIERGE_ASSIGN_OR_RETURN(Bytes d, digest(a, measured));
    digests.push_back(OwnedDigest{static_cast<std::uint16_t>(a), std::move(d)});
  }
  add_raw(pcr, type, digests, data);
  return digests;
}

Result<std::vector<OwnedDigest>> EventLogWriter::add(std::uint32_t pcr, std::uint32_t type,
                                                     ByteView data) {
  return add_measured(pcr, type, data, data);
}

void EventLogWriter::add_raw(std::uint32_t pcr, std::uint32_t type,
                             const std::vector<OwnedDigest>& digests, ByteView data) {
  // TCG_PCR_EVENT2 (PFP 10.2.2).
  put_u32(records_, pcr);
  put_u32(records_, type);
  put_u32(records_, static_cast<std::uint32_t>(digests.size()));
  for (const auto& d : digests) {
    put_u16(records_, d.alg_id);
    put_bytes(records_, d.value);
  }
  put_u32(records_, static_cast<std::uint32_t>(data.size()));
  put_bytes(records_, data);
}

Bytes EventLogWriter::bytes() const {
  // TCG_EfiSpecIDEvent (PFP 10.4.5.1), carried by a TCG_PCClientPCREvent.
  Bytes spec;
  const char signature[16] = "Spec ID Event03";
  put_bytes(spec, ByteView(reinterpret_cast<const std::uint8_t*>(signature), 16));
  put_u32(spec, 0);  // platformClass: client
  put_u8(spec, 0);   // specVersionMinor
  put_u8(spec, 2);   // specVersionMajor
  put_u8(spec, 0);   // specErrata
  put_u8(spec, 2);   // uintnSize: 64-bit UINTN
  put_u32(spec, static_cast<std::uint32_t>(algs_.size()));
  for (HashAlg a : algs_) {
    put_u16(spec, static_cast<std::uint16_t>(a));
    put_u16(spec, static_cast<std::uint16_t>(digest_size(a)));
  }
  put_u8(spec, 0);  // vendorInfoSize

  Bytes out;
  put_u32(out, 0);                      // pcrIndex
  put_u32(out, event_type::kNoAction);  // eventType
  out.insert(out.end(), 20, 0);         // SHA-1 digest: zero
  put_u32(out, static_cast<std::uint32_t>(spec.size()));
  put_bytes(out, spec);
  put_bytes(out, records_);
  return out;
}

}  // namespace concierge::measure
