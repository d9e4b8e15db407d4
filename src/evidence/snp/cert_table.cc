// The extended-report certificate table: strict parsing and encoding.
#include "concierge/evidence/snp/cert_table.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "concierge/core/byte_reader.h"
#include "concierge/core/encoding.h"

namespace concierge::evidence::snp {
namespace {

constexpr std::size_t kEntrySize = 24;

struct KnownGuid {
  CertKind kind;
  std::string_view text;
};
constexpr KnownGuid kKnown[] = {
    {CertKind::kVcek, "63da758d-e664-4564-adc5-f4b93be8accd"},
    {CertKind::kVlek, "a8074bc2-a25a-483e-aae6-39c045a0b8a1"},
    {CertKind::kAsk, "4ab7b379-bbac-4fe4-a02f-05aef327c782"},
    {CertKind::kArk, "c0b406a4-a803-4952-9743-3fb6014cd0ae"},
};

bool is_hyphen_position(std::size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

bool is_zero(const CertGuid& g) {
  return std::all_of(g.bytes.begin(), g.bytes.end(), [](std::uint8_t b) { return b == 0; });
}

std::string hex_offset(std::size_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[v & 0xF]);
    v >>= 4;
  } while (v != 0);
  return "0x" + out;
}

std::string entry_name(std::size_t i) { return "entry[" + std::to_string(i) + "]"; }

struct RawEntry {
  std::size_t index = 0;
  std::size_t at = 0;  // offset of the entry in the table
  CertGuid guid;
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

void put_u32le(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

}  // namespace

std::string guid_to_string(const CertGuid& guid) {
  const std::string hex = hex_encode(guid.bytes);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

Result<CertGuid> guid_from_string(std::string_view text) {
  if (text.size() != 36) return fail(Errc::kMalformed, "a GUID has 36 characters");
  std::string digits;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_hyphen_position(i) != (text[i] == '-')) {
      return fail(Errc::kMalformed, "GUID '" + std::string(text) + "' is not 8-4-4-4-12 hex");
    }
    if (text[i] != '-') digits.push_back(text[i]);
  }
  Result<Bytes> bytes = hex_decode(digits);
  if (!bytes) return fail(Errc::kMalformed, "GUID '" + std::string(text) + "' is not hex");
  CertGuid g;
  std::copy(bytes->begin(), bytes->end(), g.bytes.begin());
  return g;
}

std::string_view cert_kind_name(CertKind kind) {
  switch (kind) {
    case CertKind::kVcek:
      return "vcek";
    case CertKind::kVlek:
      return "vlek";
    case CertKind::kAsk:
      return "ask";
    case CertKind::kArk:
      return "ark";
    case CertKind::kOther:
      break;
  }
  return "other";
}

CertGuid cert_guid_of(CertKind kind) {
  for (const KnownGuid& k : kKnown) {
    if (k.kind == kind) return guid_from_string(k.text).value();
  }
  return CertGuid{};
}

CertKind cert_kind_of(const CertGuid& guid) {
  for (const KnownGuid& k : kKnown) {
    if (guid_from_string(k.text).value() == guid) return k.kind;
  }
  return CertKind::kOther;
}

Result<std::vector<CertTableEntry>> parse_cert_table(ByteView table) {
  std::vector<CertTableEntry> out;
  if (table.empty()) return out;
  ByteReader r(table);
  std::vector<RawEntry> raw;
  for (std::size_t i = 0;; ++i) {
    const std::string field = entry_name(i);
    if (r.remaining() < kEntrySize) {
      return fail_at(Errc::kTruncated, field, r.offset(),
                     "certificate table ends after " + std::to_string(i) +
                         " entries without the all-zero terminator");
    }
    RawEntry e;
    e.index = i;
    e.at = r.offset();
    CONCIERGE_ASSIGN_OR_RETURN(ByteView guid, r.bytes(16, field));
    std::copy(guid.begin(), guid.end(), e.guid.bytes.begin());
    CONCIERGE_ASSIGN_OR_RETURN(e.offset, r.u32le(field));
    CONCIERGE_ASSIGN_OR_RETURN(e.length, r.u32le(field));
    if (is_zero(e.guid)) {
      if (e.offset != 0 || e.length != 0) {
        return fail_at(Errc::kMalformed, field, e.at,
                       "zero GUID (the terminator) with a non-zero offset or length");
      }
      break;
    }
    raw.push_back(e);
  }
  const std::size_t header_end = r.offset();

  for (const RawEntry& e : raw) {
    const std::string field = entry_name(e.index);
    const std::size_t end = std::size_t{e.offset} + e.length;
    if (e.length == 0) {
      return fail_at(Errc::kMalformed, field, e.at + 20, "certificate length is 0");
    }
    if (e.offset < header_end) {
      return fail_at(Errc::kMalformed, field, e.at + 16,
                     "certificate offset " + hex_offset(e.offset) +
                         " points into the table header (which ends at " + hex_offset(header_end) +
                         ")");
    }
    if (end > table.size()) {
      return fail_at(Errc::kMalformed, field, e.at + 16,
                     "certificate [" + hex_offset(e.offset) + ", " + hex_offset(end) +
                         ") ends past the table (" + hex_offset(table.size()) + " bytes)");
    }
  }
  std::vector<RawEntry> by_guid = raw;  // stable: equal GUIDs keep their table order
  std::stable_sort(by_guid.begin(), by_guid.end(), [](const RawEntry& a, const RawEntry& b) {
    return a.guid.bytes < b.guid.bytes;
  });
  for (std::size_t i = 1; i < by_guid.size(); ++i) {
    const RawEntry& e = by_guid[i];
    if (e.guid == by_guid[i - 1].guid) {
      return fail_at(
          Errc::kMalformed, entry_name(e.index), e.at,
          "GUID " + guid_to_string(e.guid) + " repeats " + entry_name(by_guid[i - 1].index));
    }
  }

  std::vector<RawEntry> by_offset = raw;
  std::stable_sort(by_offset.begin(), by_offset.end(),
                   [](const RawEntry& a, const RawEntry& b) { return a.offset < b.offset; });
  std::size_t covered = header_end;  // every byte before this is header or certificate
  for (std::size_t i = 0; i < by_offset.size(); ++i) {
    const RawEntry& e = by_offset[i];
    if (e.offset < covered) {
      // The first one starts after the header, so i > 0; sorted by offset, the
      // entry before this one is the one it overlaps.
      const RawEntry& prev = by_offset[i - 1];
      return fail_at(Errc::kMalformed, entry_name(e.index), e.offset,
                     "certificate at " + hex_offset(e.offset) + " overlaps " +
                         entry_name(prev.index) + "'s at " + hex_offset(prev.offset));
    }
    for (std::size_t p = covered; p < e.offset; ++p) {
      if (table[p] != 0) return fail_at(Errc::kMalformed, "padding", p, "non-zero padding byte");
    }
    covered = std::size_t{e.offset} + e.length;
  }
  for (std::size_t p = covered; p < table.size(); ++p) {
    if (table[p] != 0) return fail_at(Errc::kMalformed, "padding", p, "non-zero padding byte");
  }

  out.reserve(raw.size());
  for (const RawEntry& e : raw) {
    const ByteView cert = table.subspan(e.offset, e.length);
    out.push_back(CertTableEntry{e.guid, Bytes(cert.begin(), cert.end()), e.offset});
  }
  return out;
}

Result<Bytes> encode_cert_table(const std::vector<CertTableEntry>& entries) {
  std::size_t total = (entries.size() + 1) * kEntrySize;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const CertTableEntry& e = entries[i];
    if (is_zero(e.guid)) {
      return fail(Errc::kInvalidArgument, "certificate table " + entry_name(i) + ": zero GUID");
    }
    if (e.data.empty()) {
      return fail(Errc::kInvalidArgument, "certificate table " + entry_name(i) + ": no data");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (entries[j].guid == e.guid) {
        return fail(Errc::kInvalidArgument,
                    "certificate table " + entry_name(i) + ": GUID repeats " + entry_name(j));
      }
    }
    total += e.data.size();
    if (total > std::numeric_limits<std::uint32_t>::max()) {
      return fail(Errc::kInvalidArgument, "certificate table larger than 4 GiB");
    }
  }
  Bytes out;
  out.reserve(total);
  std::size_t offset = (entries.size() + 1) * kEntrySize;
  for (const CertTableEntry& e : entries) {
    out.insert(out.end(), e.guid.bytes.begin(), e.guid.bytes.end());
    put_u32le(out, static_cast<std::uint32_t>(offset));
    put_u32le(out, static_cast<std::uint32_t>(e.data.size()));
    offset += e.data.size();
  }
  out.resize(out.size() + kEntrySize, 0);
  for (const CertTableEntry& e : entries) out.insert(out.end(), e.data.begin(), e.data.end());
  return out;
}

const CertTableEntry* find_cert(const std::vector<CertTableEntry>& entries, CertKind kind) {
  for (const CertTableEntry& e : entries) {
    if (e.kind() == kind) return &e;
  }
  return nullptr;
}

}  // namespace concierge::evidence::snp
