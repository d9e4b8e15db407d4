// Internal helpers shared by the event decoders (event_decode*.cc,
// efi_device_path.cc, efi_guid.cc). Not part of the public API.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/core/byte_reader.h"
#include "concierge/core/bytes.h"
#include "concierge/core/result.h"
#include "concierge/measure/event_decode.h"

namespace concierge::measure::decode_detail {

// --- text (event_decode_text.cc) ---

// UTF-16LE to UTF-8. Surrogate pairs are combined; lone surrogates and a
// trailing odd byte become U+FFFD and set *invalid (when given).
std::string utf16le_to_utf8(ByteView data, bool* invalid = nullptr);
// Like utf16le_to_utf8 but stops at the first NUL code unit.
std::string utf16le_cstring(ByteView data, bool* invalid = nullptr);
// Heuristic: even length, at least one code unit, and the high byte of (almost)
// every code unit is zero while low bytes are printable (alternating NULs).
bool looks_like_utf16le(ByteView data);
// True when every byte is printable ASCII or \t \n \r, ignoring trailing NULs;
// false for empty data.
bool is_printable_ascii(ByteView data);
// The bytes as a string with trailing NUL bytes removed (no other change).
std::string ascii_without_trailing_nuls(ByteView data);
// Replaces invalid UTF-8 sequences with U+FFFD (so JSON can hold the text).
std::string sanitize_utf8(std::string_view text);
// One line: control characters escaped as \n, \t, \xNN.
std::string one_line(std::string_view text);
// "0a1b2c... (N bytes)": up to max_bytes bytes in hex, then an ellipsis.
std::string hex_preview(ByteView data, std::size_t max_bytes = 32);
// Decodes data as text when it is UTF-16LE or printable ASCII, filling
// details["text"] and details["encoding"]; returns the text, or nullopt.
std::optional<std::string> decode_text(ByteView data, DecodedEvent& out);

// --- GUIDs (efi_guid.cc) ---

// Reads 16 bytes and formats them as a GUID.
Result<std::string> read_guid(ByteReader& r, std::string_view field);
// A short name for well-known GUIDs ("EFI_GLOBAL_VARIABLE", "X.509", ...).
std::optional<std::string_view> guid_name(std::string_view guid);

// --- device paths (efi_device_path.cc) ---

// describe_device_path that reports problems instead of marking the text.
std::string describe_device_path(ByteView data, std::vector<std::string>& problems);

// --- shared plumbing (event_decode.cc) ---

void add_problem(DecodedEvent& out, const Error& error);
void add_problem(DecodedEvent& out, std::string message);
// Appends a problem when the reader has unread bytes (naming the structure).
void note_trailing(DecodedEvent& out, const ByteReader& r, std::string_view what);

// --- per-structure decoders; each fills out.summary/details/problems ---

void decode_variable(const Event& event, DecodedEvent& out);  // event_decode_variable.cc
void decode_variable_payload(std::string_view name, std::string_view vendor, std::uint32_t type,
                             ByteView data, DecodedEvent& out);  // event_decode_variable.cc
void decode_signature_lists(ByteView data, DecodedEvent& out);   // event_decode_siglist.cc
void decode_signature_data(ByteView data, DecodedEvent& out);    // event_decode_siglist.cc
void decode_image_load(const Event& event, DecodedEvent& out);   // event_decode_firmware.cc
void decode_firmware_blob(ByteView data, bool blob2, DecodedEvent& out);
void decode_handoff_tables(ByteView data, bool tables2, DecodedEvent& out);
void decode_gpt(ByteView data, DecodedEvent& out);        // event_decode_gpt.cc
void decode_no_action(ByteView data, DecodedEvent& out);  // event_decode_no_action.cc

}  // namespace concierge::measure::decode_detail
