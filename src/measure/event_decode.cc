// decode_event: dispatch on the event type, and the decoders of the simple
// (text and fixed-size) event types. The structured ones live in
// event_decode_{variable,siglist,firmware,gpt,no_action}.cc.
#include "concierge/measure/event_decode.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>

#include "concierge/measure/event_types.h"
#include "measure/event_decode_internal.h"

namespace concierge::measure {
namespace decode_detail {

void add_problem(DecodedEvent& out, const Error& error) {
  out.problems.push_back(sanitize_utf8(error.to_string()));
}

void add_problem(DecodedEvent& out, std::string message) {
  out.problems.push_back(sanitize_utf8(message));
}

void note_trailing(DecodedEvent& out, const ByteReader& r, std::string_view what) {
  if (!r.empty()) {
    add_problem(out, std::to_string(r.remaining()) + " unexpected bytes after " +
                         std::string(what) + " at offset " + std::to_string(r.offset()));
  }
}

namespace {

// Printable ASCII or UTF-16 text, else a hex preview.
void decode_text_or_hex(ByteView data, DecodedEvent& out) {
  if (data.empty()) {
    out.summary = "(empty)";
  } else if (auto text = decode_text(data, out)) {
    out.summary = one_line(*text);
  } else {
    out.summary = hex_preview(data);
  }
  out.details["size"] = data.size();
}

void decode_separator(ByteView data, DecodedEvent& out) {
  ByteReader r(data);
  auto value = r.u32le("separator");
  if (!value || !r.empty()) {
    out.summary = "Separator: " + hex_preview(data);
    add_problem(out, "separator data is " + std::to_string(data.size()) + " bytes, not 4");
    return;
  }
  out.details["value"] = *value;
  if (*value == 0) {
    out.details["error"] = false;
    out.summary = "Separator (normal)";
  } else if (*value == 0xFFFFFFFFu || *value == 1) {
    out.details["error"] = true;
    out.summary = "Separator (error)";
  } else {
    out.summary = "Separator: " + hex_preview(data);
    add_problem(out, "separator value is neither 0x00000000 nor 0xFFFFFFFF");
  }
}

// EV_ACTION and EV_EFI_ACTION: an ASCII string (PFP section 10.4.3).
void decode_action(ByteView data, DecodedEvent& out) {
  if (is_printable_ascii(data)) {
    std::string text = ascii_without_trailing_nuls(data);
    out.details["text"] = text;
    out.summary = one_line(text);
    return;
  }
  decode_text_or_hex(data, out);
  if (!data.empty() && !out.details.contains("text")) {
    add_problem(out, "action string is not printable ASCII");
  }
}

// EV_IPL: GRUB measures ASCII "grub_cmd: ..." / "kernel_cmdline: ..." strings,
// systemd-boot UTF-16LE command lines.
void decode_ipl(ByteView data, DecodedEvent& out) {
  decode_text_or_hex(data, out);
  if (!out.details.contains("text")) return;
  const std::string text = out.details["text"].get<std::string>();
  static constexpr std::array<std::string_view, 4> kPrefixes = {
      "grub_cmd", "kernel_cmdline", "module_cmdline", "grub_kernel_cmdline"};
  for (std::string_view prefix : kPrefixes) {
    if (text.size() > prefix.size() + 1 && text.compare(0, prefix.size(), prefix) == 0 &&
        text[prefix.size()] == ':') {
      out.details["kind"] = prefix;
      std::size_t start = prefix.size() + 1;
      if (start < text.size() && text[start] == ' ') ++start;
      out.details["value"] = text.substr(start);
      return;
    }
  }
}

// EV_S_CRTM_VERSION: usually a UTF-16 string, sometimes a GUID or zeros.
void decode_crtm_version(ByteView data, DecodedEvent& out) {
  bool all_zero = std::all_of(data.begin(), data.end(), [](std::uint8_t b) { return b == 0; });
  if (!data.empty() && all_zero) {
    out.summary = "S-CRTM version (empty)";
    out.details["text"] = "";
    out.details["size"] = data.size();
    return;
  }
  decode_text_or_hex(data, out);
  if (!out.details.contains("text") && data.size() == 16) {
    out.details["guid"] = format_guid(data);
    out.summary = "S-CRTM version {" + format_guid(data) + "}";
  }
}

// EV_POST_CODE / EV_S_CRTM_CONTENTS: an ASCII label ("POST CODE", "ACPI DATA",
// "SMM CODE", ...) or a UEFI_PLATFORM_FIRMWARE_BLOB (base, length).
void decode_post_code(ByteView data, DecodedEvent& out, bool blob2) {
  if (data.size() == 16 && !is_printable_ascii(data)) {
    decode_firmware_blob(data, false, out);
  } else if (blob2 && !data.empty() && data[0] + 17u == data.size()) {
    decode_firmware_blob(data, true, out);
  } else {
    decode_text_or_hex(data, out);
  }
}

// TCG_PCClientTaggedEvent: taggedEventID u32, taggedEventDataSize u32, data.
void decode_tagged(ByteView data, DecodedEvent& out) {
  ByteReader r(data);
  auto id = r.u32le("taggedEventID");
  auto size = r.u32le("taggedEventDataSize");
  if (!id || !size || *size != r.remaining()) {
    decode_text_or_hex(data, out);
    add_problem(out, "not a TCG_PCClientTaggedEvent (size field does not match)");
    return;
  }
  DecodedEvent inner;
  decode_text_or_hex(r.rest(), inner);
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", *id);
  out.details = inner.details;
  out.details["tag_id"] = *id;
  out.summary = std::string("Tag ") + buf + ": " + inner.summary;
}

}  // namespace
}  // namespace decode_detail

DecodedEvent decode_event(const Event& event) {
  using namespace event_type;
  using namespace decode_detail;
  DecodedEvent out;
  ByteView data = event.data;
  switch (event.type) {
    case kEfiVariableDriverConfig:
    case kEfiVariableBoot:
    case kEfiVariableBoot2:
    case kEfiVariableAuthority:
      decode_variable(event, out);
      break;
    case kEfiBootServicesApplication:
    case kEfiBootServicesDriver:
    case kEfiRuntimeServicesDriver:
      decode_image_load(event, out);
      break;
    case kEfiGptEvent:
    case kEfiGptEvent2:
      decode_gpt(data, out);
      break;
    case kEfiPlatformFirmwareBlob:
    case kEfiPlatformFirmwareBlob2:
      decode_firmware_blob(data, event.type == kEfiPlatformFirmwareBlob2, out);
      break;
    case kEfiHandoffTables:
    case kEfiHandoffTables2:
      decode_handoff_tables(data, event.type == kEfiHandoffTables2, out);
      break;
    case kNoAction:
      decode_no_action(data, out);
      break;
    case kSeparator:
      decode_separator(data, out);
      break;
    case kAction:
    case kEfiAction:
      decode_action(data, out);
      break;
    case kIpl:
      decode_ipl(data, out);
      break;
    case kSCrtmVersion:
      decode_crtm_version(data, out);
      break;
    case kPostCode:
    case kSCrtmContents:
      decode_post_code(data, out, false);
      break;
    case kPostCode2:
      decode_post_code(data, out, true);
      break;
    case kEventTag:
      decode_tagged(data, out);
      break;
    default:  // EV_COMPACT_HASH, EV_PLATFORM_CONFIG_FLAGS, EV_NONHOST_*, unknown
      decode_text_or_hex(data, out);
      break;
  }
  return out;
}

}  // namespace concierge::measure
