// UEFI_IMAGE_LOAD_EVENT, UEFI_PLATFORM_FIRMWARE_BLOB(2) and
// UEFI_HANDOFF_TABLE_POINTERS(2) (PFP section 10.4.4 and 10.2.x structures).
#include <cstdio>
#include <string>

#include "measure/event_decode_internal.h"

namespace concierge::measure::decode_detail {
namespace {

std::string hex64(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// A u8-length-prefixed description (BLOB2 and HANDOFF_TABLES2).
Result<std::string> read_description(ByteReader& r, DecodedEvent& out) {
  CONCIERGE_ASSIGN_OR_RETURN(std::uint8_t size, r.u8("DescriptionSize"));
  CONCIERGE_ASSIGN_OR_RETURN(ByteView desc, r.bytes(size, "Description"));
  std::string text;
  if (is_printable_ascii(desc)) {
    text = ascii_without_trailing_nuls(desc);
  } else if (looks_like_utf16le(desc)) {
    text = utf16le_cstring(desc);
  } else if (!desc.empty()) {
    text = hex_preview(desc);
  }
  out.details["description"] = text;
  return text;
}

Result<void> parse_blob(ByteView data, bool blob2, DecodedEvent& out) {
  ByteReader r(data);
  std::string desc;
  if (blob2) {
    CONCIERGE_ASSIGN_OR_RETURN(desc, read_description(r, out));
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t base, r.u64le("BlobBase"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t length, r.u64le("BlobLength"));
  out.details["blob_base"] = base;
  out.details["blob_length"] = length;
  out.summary = "Firmware blob";
  if (!desc.empty()) out.summary += " \"" + one_line(desc) + "\"";
  out.summary += " at " + hex64(base) + " (" + std::to_string(length) + " bytes)";
  note_trailing(out, r, "UEFI_PLATFORM_FIRMWARE_BLOB");
  return {};
}

Result<void> parse_tables(ByteView data, bool tables2, DecodedEvent& out) {
  ByteReader r(data);
  std::string desc;
  if (tables2) {
    CONCIERGE_ASSIGN_OR_RETURN(desc, read_description(r, out));
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t count, r.u64le("NumberOfTables"));
  out.details["table_count"] = count;
  out.summary = "Handoff tables";
  if (!desc.empty()) out.summary += " \"" + one_line(desc) + "\"";
  out.summary += ": " + std::to_string(count) + (count == 1 ? " table" : " tables");
  // EFI_CONFIGURATION_TABLE: VendorGuid then a UINTN pointer, taken as 8
  // bytes (x64 and AArch64 firmware; 32-bit firmware logs show a problem).
  constexpr std::size_t kEntrySize = 24;
  if (count > r.remaining() / kEntrySize) {
    return fail_at(Errc::kTruncated, "TableEntry", r.offset(),
                   std::to_string(count) + " tables do not fit in " +
                       std::to_string(r.remaining()) + " bytes");
  }
  nlohmann::json tables = nlohmann::json::array();
  std::string names;
  for (std::uint64_t k = 0; k < count; ++k) {
    CONCIERGE_ASSIGN_OR_RETURN(std::string guid, read_guid(r, "VendorGuid"));
    CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t pointer, r.u64le("VendorTable"));
    nlohmann::json t = {{"vendor_guid", guid}, {"address", pointer}};
    auto name = guid_name(guid);
    if (name) t["name"] = *name;
    names += (names.empty() ? " (" : ", ") + (name ? std::string(*name) : guid);
    tables.push_back(std::move(t));
  }
  out.details["tables"] = std::move(tables);
  if (!names.empty()) out.summary += names + ")";
  note_trailing(out, r, "UEFI_HANDOFF_TABLE_POINTERS");
  return {};
}

}  // namespace

void decode_image_load(const Event& event, DecodedEvent& out) {
  ByteReader r(event.data);
  auto location = r.u64le("ImageLocationInMemory");
  auto length = r.u64le("ImageLengthInMemory");
  auto link = r.u64le("ImageLinkTimeAddress");
  auto path_len = r.u64le("LengthOfDevicePath");
  out.summary = "Image";
  if (!location || !length || !link || !path_len) {
    out.summary += " (malformed)";
    for (const auto* e : {&location, &length, &link}) {
      if (!*e) return add_problem(out, e->error());
    }
    return add_problem(out, path_len.error());
  }
  out.details["image_location"] = *location;
  out.details["image_length"] = *length;
  out.details["link_time_address"] = *link;
  out.details["device_path_length"] = *path_len;
  ByteView path = r.rest();
  if (*path_len > path.size()) {
    add_problem(out, make_error_at(Errc::kTruncated, "DevicePath", r.offset(),
                                   "needs " + std::to_string(*path_len) + " bytes, " +
                                       std::to_string(path.size()) + " remain"));
  } else {
    path = path.first(static_cast<std::size_t>(*path_len));
    if (path.size() < r.remaining()) {
      add_problem(out, std::to_string(r.remaining() - path.size()) + " bytes after DevicePath");
    }
  }
  std::vector<std::string> problems;
  std::string text = describe_device_path(path, problems);
  for (auto& p : problems) add_problem(out, std::move(p));
  out.details["device_path"] = text;
  if (!text.empty()) out.summary += " " + text;
  out.summary += " (" + std::to_string(*length) + " bytes at " + hex64(*location) + ")";
}

void decode_firmware_blob(ByteView data, bool blob2, DecodedEvent& out) {
  auto ok = parse_blob(data, blob2, out);
  if (!ok) {
    if (out.summary.empty()) out.summary = "Firmware blob (malformed)";
    add_problem(out, ok.error());
  }
}

void decode_handoff_tables(ByteView data, bool tables2, DecodedEvent& out) {
  auto ok = parse_tables(data, tables2, out);
  if (!ok) {
    if (out.summary.empty()) out.summary = "Handoff tables (malformed)";
    add_problem(out, ok.error());
  }
}

}  // namespace concierge::measure::decode_detail
