// libFuzzer target: parse_reference_document (reference values documents,
// JSON text). Parsing must never crash and fails only with kMalformed (a
// syntax error's offset inside the input); whatever parses must survive
// reference_document_json and parse back to the same values. Times are
// written at whole seconds (reference_store.h), so a parsed fraction of a
// second is expected to be dropped and nothing else.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/core/time.h"
#include "concierge/verifier/reference_store.h"

namespace {

std::optional<concierge::TimePoint> whole_seconds(const std::optional<concierge::TimePoint>& t) {
  if (!t) return t;
  return concierge::TimePoint(std::chrono::seconds(concierge::unix_seconds(*t)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto values = verifier::parse_reference_document(text);
  if (!values) {
    const Error& e = values.error();
    if (e.code != Errc::kMalformed) __builtin_trap();
    if (e.offset && *e.offset > size) __builtin_trap();
    return 0;
  }
  for (const auto& v : *values) {
    if (!verifier::validate_reference_value(v)) __builtin_trap();
  }
  const nlohmann::json document = verifier::reference_document_json(*values);
  // Names are [A-Za-z0-9._-] and the other strings came out of nlohmann's
  // parser (well-formed UTF-8 only): dump() cannot throw.
  auto reparsed = verifier::parse_reference_document(document.dump());
  if (!reparsed) __builtin_trap();
  std::vector<verifier::ReferenceValue> expected = *values;
  for (auto& v : expected) {
    v.expires = whole_seconds(v.expires);
    v.added = whole_seconds(v.added);
  }
  if (*reparsed != expected) __builtin_trap();
  if (verifier::reference_document_json(*reparsed) != document) __builtin_trap();
  return 0;
}
