// The ACPI CCEL table (ACPI 6.5 section 5.2.34); see ccel.h for the layout.
#include <algorithm>
#include <cstdio>
#include <string>

#include "concierge/core/byte_reader.h"
#include "concierge/core/encoding.h"
#include "concierge/evidence/dcap/ccel.h"

namespace concierge::evidence::dcap {
namespace {

constexpr char kSignature[] = "CCEL";
constexpr std::size_t kLengthOffset = 4;
constexpr std::size_t kChecksumOffset = 9;

std::string hex_byte(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", v & 0xffu);
  return buf;
}

// An ACPI text field for display: printable ASCII kept, anything else as \xNN
// (JSON needs valid UTF-8, and the bytes are the firmware's choice).
std::string ascii(ByteView b) {
  std::string out;
  for (std::uint8_t c : b) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

template <std::size_t N>
Result<void> read_array(ByteReader& r, std::array<std::uint8_t, N>& out, std::string_view field) {
  CONCIERGE_ASSIGN_OR_RETURN(ByteView b, r.bytes(N, field));
  std::copy(b.begin(), b.end(), out.begin());
  return {};
}

template <std::size_t N>
std::string ascii(const std::array<std::uint8_t, N>& a) {
  return ascii(ByteView(a.data(), a.size()));
}

}  // namespace

Result<CcelTable> parse_ccel_table(ByteView data) { return parse_ccel_table(data, {}); }

Result<CcelTable> parse_ccel_table(ByteView data, const CcelParseOptions& options) {
  ByteReader r(data);
  CcelTable t;
  CONCIERGE_ASSIGN_OR_RETURN(ByteView sig, r.bytes(4, "signature"));
  if (as_chars(sig) != kSignature) {
    return fail_at(Errc::kMalformed, "signature", 0,
                   "expected \"CCEL\", found " + hex_encode(sig) + " (\"" + ascii(sig) + "\")");
  }
  CONCIERGE_ASSIGN_OR_RETURN(t.length, r.u32le("length"));
  if (t.length < kCcelTableSize) {
    return fail_at(Errc::kMalformed, "length", kLengthOffset,
                   "the table claims " + std::to_string(t.length) +
                       " bytes; a CCEL table has at least " + std::to_string(kCcelTableSize));
  }
  CONCIERGE_ASSIGN_OR_RETURN(t.revision, r.u8("revision"));
  CONCIERGE_ASSIGN_OR_RETURN(t.checksum, r.u8("checksum"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, t.oem_id, "oem_id"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, t.oem_table_id, "oem_table_id"));
  CONCIERGE_ASSIGN_OR_RETURN(t.oem_revision, r.u32le("oem_revision"));
  CONCIERGE_RETURN_IF_ERROR(read_array(r, t.creator_id, "creator_id"));
  CONCIERGE_ASSIGN_OR_RETURN(t.creator_revision, r.u32le("creator_revision"));
  CONCIERGE_ASSIGN_OR_RETURN(t.cc_type, r.u8("cc_type"));
  CONCIERGE_ASSIGN_OR_RETURN(t.cc_subtype, r.u8("cc_subtype"));
  const std::size_t reserved_at = r.offset();
  CONCIERGE_ASSIGN_OR_RETURN(std::uint16_t reserved, r.u16le("reserved"));
  if (reserved != 0) {
    return fail_at(Errc::kMalformed, "reserved", reserved_at,
                   "must be zero, is " + std::to_string(reserved));
  }
  CONCIERGE_ASSIGN_OR_RETURN(t.laml, r.u64le("laml"));
  CONCIERGE_ASSIGN_OR_RETURN(t.lasa, r.u64le("lasa"));

  if (data.size() < t.length) {
    return fail_at(Errc::kTruncated, "length", kLengthOffset,
                   "the table claims " + std::to_string(t.length) + " bytes, " +
                       std::to_string(data.size()) + " given");
  }
  if (data.size() > t.length) {
    return fail_at(Errc::kTrailingData, "table", t.length,
                   std::to_string(data.size() - t.length) + " bytes after the " +
                       std::to_string(t.length) + "-byte table its length field declares");
  }
  unsigned sum = 0;
  for (std::uint8_t b : data) sum += b;
  t.checksum_ok = (sum & 0xffu) == 0;
  if (!t.checksum_ok && !options.accept_bad_checksum) {
    return fail_at(Errc::kMalformed, "checksum", kChecksumOffset,
                   "the table's bytes sum to " + hex_byte(sum) +
                       " mod 256, not 0 (the checksum byte is " + hex_byte(t.checksum) + ")");
  }
  return t;
}

std::string cc_type_name(std::uint8_t cc_type) {
  switch (cc_type) {
    case kCcTypeSev:
      return "SEV";
    case kCcTypeTdx:
      return "TDX";
    default:
      return "unknown (" + std::to_string(cc_type) + ")";
  }
}

nlohmann::json ccel_table_json(const CcelTable& t) {
  char lasa[24];
  std::snprintf(lasa, sizeof lasa, "0x%llx", static_cast<unsigned long long>(t.lasa));
  return {{"cc_type", t.cc_type},
          {"cc_type_name", cc_type_name(t.cc_type)},
          {"cc_subtype", t.cc_subtype},
          {"laml", t.laml},
          {"lasa", lasa},
          {"length", t.length},
          {"revision", t.revision},
          {"oem_id", ascii(t.oem_id)},
          {"oem_table_id", ascii(t.oem_table_id)},
          {"oem_revision", t.oem_revision},
          {"creator_id", ascii(t.creator_id)},
          {"creator_revision", t.creator_revision},
          {"checksum_ok", t.checksum_ok}};
}

}  // namespace concierge::evidence::dcap
