// UEFI_GPT_DATA (PFP section 10.4.4, EV_EFI_GPT_EVENT): the GPT header
// (UEFI spec 2.10 section 5.3.2, 92 bytes), NumberOfPartitions u64, then that
// many partition entries of the header's SizeOfPartitionEntry bytes.
#include <string>

#include "measure/event_decode_internal.h"

namespace concierge::measure::decode_detail {
namespace {

constexpr std::size_t kHeaderSize = 92;
constexpr std::size_t kMinEntrySize = 128;
constexpr std::size_t kMaxNamesInSummary = 8;

Result<void> parse_gpt(ByteView data, DecodedEvent& out) {
  ByteReader r(data);
  CONCIERGE_ASSIGN_OR_RETURN(ByteReader header, r.sub(kHeaderSize, "EFI_PARTITION_TABLE_HEADER"));
  CONCIERGE_ASSIGN_OR_RETURN(ByteView signature, header.bytes(8, "Signature"));
  if (as_chars(signature) != "EFI PART") {
    add_problem(out, "GPT header signature is not \"EFI PART\"");
  }
  CONCIERGE_RETURN_IF_ERROR(header.skip(4 + 4 + 4 + 4, "Revision..Reserved"));
  CONCIERGE_RETURN_IF_ERROR(header.skip(8 * 4, "MyLBA..LastUsableLBA"));
  CONCIERGE_ASSIGN_OR_RETURN(std::string disk_guid, read_guid(header, "DiskGUID"));
  CONCIERGE_RETURN_IF_ERROR(header.skip(8, "PartitionEntryLBA"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t entries_in_header,
                             header.u32le("NumberOfPartitionEntries"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t entry_size, header.u32le("SizeOfPartitionEntry"));
  out.details["disk_guid"] = disk_guid;
  out.details["header_partition_entries"] = entries_in_header;
  out.summary = "GPT disk " + disk_guid;
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t count, r.u64le("NumberOfPartitions"));
  out.details["partition_count"] = count;
  out.summary += ", " + std::to_string(count) + (count == 1 ? " partition" : " partitions");
  if (entry_size < kMinEntrySize) {
    return fail_at(Errc::kMalformed, "SizeOfPartitionEntry", 84,
                   "entry size " + std::to_string(entry_size) + " is below 128");
  }
  if (count > r.remaining() / entry_size) {
    return fail_at(Errc::kTruncated, "Partitions", r.offset(),
                   std::to_string(count) + " entries of " + std::to_string(entry_size) +
                       " bytes do not fit in " + std::to_string(r.remaining()));
  }
  nlohmann::json parts = nlohmann::json::array();
  std::string names;
  for (std::uint64_t k = 0; k < count; ++k) {
    CONCIERGE_ASSIGN_OR_RETURN(ByteReader e, r.sub(entry_size, "PartitionEntry"));
    CONCIERGE_ASSIGN_OR_RETURN(std::string type, read_guid(e, "PartitionTypeGUID"));
    CONCIERGE_ASSIGN_OR_RETURN(std::string unique, read_guid(e, "UniquePartitionGUID"));
    CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t first, e.u64le("StartingLBA"));
    CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t last, e.u64le("EndingLBA"));
    CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t attributes, e.u64le("Attributes"));
    CONCIERGE_ASSIGN_OR_RETURN(ByteView name_bytes, e.bytes(72, "PartitionName"));
    bool invalid = false;
    std::string name = utf16le_cstring(name_bytes, &invalid);
    if (invalid) add_problem(out, "invalid UTF-16 in a partition name");
    nlohmann::json p = {{"type_guid", type},  {"unique_guid", unique},    {"starting_lba", first},
                        {"ending_lba", last}, {"attributes", attributes}, {"name", name}};
    if (auto type_name = guid_name(type)) p["type_name"] = *type_name;
    parts.push_back(std::move(p));
    if (k < kMaxNamesInSummary) {
      names += (names.empty() ? ": " : ", ") +
               (name.empty() ? std::string("(unnamed)") : "\"" + one_line(name) + "\"");
    } else if (k == kMaxNamesInSummary) {
      names += ", ...";
    }
  }
  out.details["partitions"] = std::move(parts);
  out.summary += names;
  note_trailing(out, r, "UEFI_GPT_DATA");
  return {};
}

}  // namespace

void decode_gpt(ByteView data, DecodedEvent& out) {
  auto ok = parse_gpt(data, out);
  if (!ok) {
    if (out.summary.empty()) out.summary = "GPT (malformed)";
    add_problem(out, ok.error());
  }
}

}  // namespace concierge::measure::decode_detail
