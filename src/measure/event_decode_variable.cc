// UEFI_VARIABLE_DATA (PFP section 10.4.3 / UEFI_VARIABLE_DATA): the data of
// EV_EFI_VARIABLE_DRIVER_CONFIG, _BOOT, _BOOT2 and _AUTHORITY, and the
// contents of the variables people look for: BootOrder, Boot####, SecureBoot
// and the signature databases.
#include <cstdio>
#include <string>

#include "concierge/measure/event_types.h"
#include "measure/event_decode_internal.h"

namespace concierge::measure::decode_detail {
namespace {

constexpr std::string_view kGlobal = "EFI_GLOBAL_VARIABLE";
constexpr std::string_view kImageDb = "EFI_IMAGE_SECURITY_DATABASE";
constexpr std::string_view kShim = "SHIM_LOCK";

std::string boot_name(std::uint16_t n) {
  char buf[12];
  std::snprintf(buf, sizeof buf, "Boot%04X", n);
  return buf;
}

bool is_hex_upper(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

bool is_load_option_name(std::string_view name) {
  if (name.size() != 8) return false;
  if (name.substr(0, 4) != "Boot" && name.substr(0, 4) != "Driv") return false;
  for (char c : name.substr(4)) {
    if (!is_hex_upper(c)) return false;
  }
  return true;
}

void decode_boot_order(ByteView data, DecodedEvent& out) {
  ByteReader r(data);
  nlohmann::json order = nlohmann::json::array();
  std::string text;
  while (r.remaining() >= 2) {
    std::string entry = boot_name(*r.u16le("BootOrder"));
    text += (text.empty() ? "" : ", ") + entry;
    order.push_back(entry);
  }
  if (!r.empty()) add_problem(out, "BootOrder has an odd number of bytes");
  out.details["boot_order"] = order;
  out.summary += ": " + (text.empty() ? std::string("(empty)") : text);
}

// EFI_LOAD_OPTION (UEFI spec 2.10 section 3.1.3).
Result<void> parse_load_option(ByteView data, DecodedEvent& out) {
  ByteReader r(data);
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t attributes, r.u32le("Attributes"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint16_t path_len, r.u16le("FilePathListLength"));
  out.details["attributes"] = attributes;
  out.details["active"] = (attributes & 1u) != 0;
  // Description: NUL-terminated UTF-16 string.
  ByteView rest = r.rest();
  std::size_t units = 0;
  while (2 * units + 1 < rest.size() && (rest[2 * units] != 0 || rest[2 * units + 1] != 0)) {
    ++units;
  }
  if (2 * units + 1 >= rest.size()) {
    return fail_at(Errc::kTruncated, "Description", r.offset(), "no terminating NUL");
  }
  bool invalid = false;
  std::string description = utf16le_to_utf8(rest.first(2 * units), &invalid);
  if (invalid) add_problem(out, "invalid UTF-16 in the load option description");
  CONCIERGE_RETURN_IF_ERROR(r.skip(2 * units + 2, "Description"));
  out.details["description"] = description;
  out.summary += ": \"" + one_line(description) + "\"" + ((attributes & 1u) ? " active" : "");
  CONCIERGE_ASSIGN_OR_RETURN(ByteView paths, r.bytes(path_len, "FilePathList"));
  std::vector<std::string> problems;
  std::string path = describe_device_path(paths, problems);
  for (auto& p : problems) add_problem(out, std::move(p));
  out.details["device_path"] = path;
  out.details["optional_data_size"] = r.remaining();
  if (!path.empty()) out.summary += " " + path;
  return {};
}

void decode_one_byte_flag(ByteView data, DecodedEvent& out) {
  if (data.empty()) return;
  if (data.size() != 1) {
    add_problem(out, "expected a 1-byte value, got " + std::to_string(data.size()) + " bytes");
  }
  out.details["value"] = data[0];
  if (data[0] == 0 || data[0] == 1) {
    out.details["enabled"] = data[0] == 1;
    out.summary += data[0] == 1 ? ": enabled" : ": disabled";
  } else {
    out.summary += ": value " + std::to_string(data[0]);
  }
}

void decode_generic(ByteView data, DecodedEvent& out) {
  if (data.empty()) return;
  if (auto text = decode_text(data, out)) {
    out.summary += ": \"" + one_line(*text) + "\"";
  } else if (data.size() <= 8) {
    out.summary += ": " + hex_preview(data, 8);
  }
}

}  // namespace

void decode_variable_payload(std::string_view name, std::string_view vendor, std::uint32_t type,
                             ByteView data, DecodedEvent& out) {
  if (data.empty()) {  // firmware measures absent variables with no data
    out.summary += ": empty";
    return;
  }
  if (type == event_type::kEfiVariableAuthority) {
    if (data.size() == 1) {  // shim's MokListTrusted and similar flags
      decode_one_byte_flag(data, out);
    } else {
      decode_signature_data(data, out);
    }
    return;
  }
  bool global = vendor == kGlobal;
  if (global && name == "BootOrder") {
    decode_boot_order(data, out);
  } else if (global && (name == "BootCurrent" || name == "BootNext") && data.size() == 2) {
    std::string entry = boot_name(static_cast<std::uint16_t>(data[0] | (data[1] << 8)));
    out.details["boot_entry"] = entry;
    out.summary += ": " + entry;
  } else if (global && is_load_option_name(name)) {
    auto ok = parse_load_option(data, out);
    if (!ok) add_problem(out, ok.error());
  } else if (global && (name == "SecureBoot" || name == "SetupMode" || name == "AuditMode" ||
                        name == "DeployedMode")) {
    decode_one_byte_flag(data, out);
  } else if ((global && (name == "PK" || name == "KEK")) ||
             (vendor == kImageDb &&
              (name == "db" || name == "dbx" || name == "dbt" || name == "dbr")) ||
             (vendor == kShim && (name == "MokList" || name == "MokListX"))) {
    decode_signature_lists(data, out);
  } else {
    decode_generic(data, out);
  }
}

void decode_variable(const Event& event, DecodedEvent& out) {
  ByteReader r(event.data);
  auto guid = read_guid(r, "VariableName");
  auto name_len = r.u64le("UnicodeNameLength");
  auto data_len = r.u64le("VariableDataLength");
  if (!guid || !name_len || !data_len) {
    out.summary = "EFI variable (malformed)";
    add_problem(out, !guid ? guid.error() : !name_len ? name_len.error() : data_len.error());
    return;
  }
  auto vendor = guid_name(*guid);
  out.details["vendor_guid"] = *guid;
  if (vendor) out.details["vendor"] = *vendor;
  std::string name;
  if (*name_len > r.remaining() / 2) {
    add_problem(out,
                make_error_at(Errc::kTruncated, "UnicodeName", r.offset(),
                              "name of " + std::to_string(*name_len) + " characters does not fit"));
  } else {
    ByteView name_bytes = *r.bytes(static_cast<std::size_t>(*name_len) * 2, "UnicodeName");
    bool invalid = false;
    name = utf16le_to_utf8(name_bytes, &invalid);
    while (!name.empty() && name.back() == '\0') name.pop_back();
    if (invalid) add_problem(out, "invalid UTF-16 in the variable name");
  }
  out.details["variable_name"] = name;
  ByteView data = r.rest();
  if (*data_len > data.size()) {
    add_problem(out, make_error_at(Errc::kTruncated, "VariableData", r.offset(),
                                   "needs " + std::to_string(*data_len) + " bytes, " +
                                       std::to_string(data.size()) + " remain"));
  } else {
    data = data.first(static_cast<std::size_t>(*data_len));
    if (data.size() < r.remaining()) {
      add_problem(out, std::to_string(r.remaining() - data.size()) + " bytes after VariableData");
    }
  }
  out.details["data_size"] = *data_len;
  out.summary = "EFI variable " + one_line(name) + " {" + *guid + "} (" +
                std::to_string(*data_len) + " bytes)";
  if (*data_len > data.size()) return;  // do not interpret a truncated value
  decode_variable_payload(name, vendor.value_or(""), event.type, data, out);
}

}  // namespace concierge::measure::decode_detail
