// Human-readable decoding of TCG PC Client event data.
//
// Turns the data of one event log record into a one-line summary and a JSON
// object of structured fields, enough for a person to see which boot stage was
// measured. Covers the common event types of the TCG PC Client Platform
// Firmware Profile Specification (PFP) v1.05 section 10.4 and the UEFI data
// structures they carry: UEFI_VARIABLE_DATA (with BootOrder, Boot####,
// SecureBoot and EFI_SIGNATURE_LIST contents), UEFI_IMAGE_LOAD_EVENT with EFI
// device paths, UEFI_PLATFORM_FIRMWARE_BLOB(2), UEFI_HANDOFF_TABLE_POINTERS(2),
// UEFI_GPT_DATA, EV_IPL strings (GRUB ASCII, systemd-boot UTF-16LE), separators,
// actions, tagged events and the EV_NO_ACTION structures (Spec ID,
// StartupLocality, SP800-155, NvIndexInstance, NvIndexDynamic).
//
// Contracts:
//  - Decoding never throws and never reads outside the given bytes: every
//    length field is bounded by the input. Malformed data yields what could be
//    decoded plus one or more entries in `problems`.
//  - Decoding is descriptive only. It does not validate a measurement; the
//    digests of a record are not looked at (replay does that).
//  - Every string in `summary` and `details` is valid UTF-8 (UTF-16 input is
//    converted, invalid code units become U+FFFD and are reported as problems;
//    bytes that are not text are shown as hex). `summary` is one line: control
//    characters are escaped.
//  - Pure functions of their arguments; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/measure/event_log.h"

namespace concierge::measure {

struct DecodedEvent {
  // One line, e.g. "EFI variable db {d719b2cb-3d3a-4596-a3bc-dad00e67656f} (3143 bytes)".
  std::string summary;
  // Structured fields; always a JSON object (possibly empty), e.g.
  // {"variable_name": "db", "vendor_guid": "...", "data_size": 3143}.
  nlohmann::json details = nlohmann::json::object();
  // Decoding problems (malformed event data), one line each. Empty when the
  // data followed its format.
  std::vector<std::string> problems;
};

// Decodes event.data according to event.type (and, for EV_NO_ACTION, the
// signature at the start of the data). Unknown types are shown as text when
// the data is printable ASCII, otherwise as a hex prefix and the size.
DecodedEvent decode_event(const Event& event);

// Formats a 16-byte EFI_GUID (first three fields little-endian, last eight
// bytes in order) as lowercase "8be4df61-93ca-11d2-aa0d-00e098032b8c". Input
// that is not 16 bytes gives "<invalid GUID: N bytes>".
std::string format_guid(ByteView sixteen_bytes);

// Summarises an EFI device path (UEFI spec 2.10 section 10) in the UEFI text
// form, e.g. "PciRoot(0x0)/Pci(0x1,0x1)/Sata(0x0,0xffff,0x0)/
// HD(1,GPT,<guid>,0x800,0x100000)/\EFI\BOOT\BOOTX64.EFI". Nodes this code does
// not know are shown as "Node(type,subtype)"; an End Instance node as ",";
// several paths after End Entire nodes are joined with " ; ". A malformed node
// (length < 4 or past the end of the input) ends the summary with
// "<malformed: ...>". Empty input gives "".
std::string describe_device_path(ByteView device_path);

}  // namespace concierge::measure
