// Reference values for appraisal (RFC 9334 section 3.4, "reference value
// providers"): named sets of known-good values — launch measurements,
// register values, signer identities — each with an expiry and a record of
// who or what vouched for it.
//
// A reference value belongs to a set named after what it is compared with;
// the default policies (policy.h, docs/policy.md) use:
//
//   snp.measurement            AMD SEV-SNP MEASUREMENT (48 bytes, hex)
//   tdx.mrtd                   Intel TDX MRTD (48 bytes, hex)
//   tdx.rtmr0 .. tdx.rtmr3     Intel TDX RTMRs (48 bytes, hex)
//   sgx.mrenclave              Intel SGX MRENCLAVE (32 bytes, hex)
//   sgx.mrsigner               Intel SGX MRSIGNER (32 bytes, hex)
//   tpm.pcr0 .. tpm.pcr23      TPM PCRs of the quoted bank (hex)
//   <tee>.event_digest         known-good event log digests (tdx., tpm.)
//
// A set may hold any number of values (one per known-good build); a claim
// matches the set when it equals one of its *unexpired* values. Values are
// compared as strings, except that two strings made only of hex digits
// compare case-insensitively ("AB01" matches "ab01"): see
// reference_value_matches.
//
// Expiry: a value whose `expires` is at or before the appraisal time is
// ignored. values() hands the ignored ones back separately so that an
// appraisal can say which value it did not use and why.
//
// JSON document (import/export, and the file backend), UTF-8:
//
//   {"version": 1,                                   optional; 1 if given
//    "reference_values": [
//      {"name": "snp.measurement",                   required, see below
//       "value": "<hex or text>",                    required, non-empty
//       "expires": "2026-12-31T00:00:00Z",           optional, RFC 3339
//       "provenance": "build pipeline run 42",       optional
//       "added": "2025-06-01T12:00:00Z",             optional, RFC 3339
//       "note": "..."}]}                             optional
//
// Parsing is strict: an unknown member, a member of the wrong type, an
// invalid name or value, or a time that is not RFC 3339 is kMalformed with
// Error::field naming where ("reference_values[3].expires"); a JSON syntax
// error carries the byte offset. Names are 1..128 characters of
// [A-Za-z0-9._-]; values and texts must not contain control characters.
// Times are written at whole seconds, in UTC.
//
// Storage: ReferenceStore is the interface an appraisal reads through, so
// that the key broker can keep reference values in its database; the
// MemoryReferenceStore below is the in-process implementation, and a JSON
// file (load_reference_file / save_reference_file) is one backend for it.
//
// Thread safety: implementations must allow concurrent calls to every
// member (appraisals read while an operator adds). MemoryReferenceStore
// guards its values with a reader/writer lock. The free functions are pure
// apart from the file they name.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/core/result.h"
#include "concierge/core/x509.h"  // TimePoint

namespace concierge::verifier {

struct ReferenceValue {
  std::string name;   // the set it belongs to, e.g. "snp.measurement"
  std::string value;  // hex or text
  std::optional<TimePoint> expires;
  std::string provenance;  // who or what vouched: "build pipeline run 42", "imported from ..."
  std::optional<TimePoint> added;
  std::string note;

  // True when `expires` is set and at or before `now`.
  bool expired_at(TimePoint now) const { return expires && *expires <= now; }
  bool operator==(const ReferenceValue&) const = default;
};

// The values of one set as of a time.
struct ReferenceLookup {
  std::vector<ReferenceValue> current;  // unexpired: the ones a claim is compared with
  std::vector<ReferenceValue> expired;  // ignored, kept to explain why
};

// kMalformed (Error::field "name", "value", "provenance" or "note") unless
// the value follows the rules in the file comment.
Result<void> validate_reference_value(const ReferenceValue& value);

// True when `actual` equals `reference`, or when both are non-empty strings
// of hex digits that are equal ignoring case.
bool reference_value_matches(std::string_view reference, std::string_view actual);

class ReferenceStore {
 public:
  virtual ~ReferenceStore() = default;

  // Adds every value, all or nothing: each is validated first. A value with
  // the same name as a stored one and a matching value (as
  // reference_value_matches) replaces it, so adding again updates the
  // expiry and provenance. kMalformed for an invalid value; a backend may
  // fail with kIo.
  virtual Result<void> add_all(std::vector<ReferenceValue> values) = 0;

  // Removes the values of set `name` that match `value`, or the whole set
  // when `value` is nullopt. Returns how many were removed (0 is not an
  // error; the caller decides whether "nothing to remove" is one).
  virtual Result<std::size_t> remove(std::string_view name,
                                     std::optional<std::string_view> value = std::nullopt) = 0;

  // Every stored value, expired ones included, sorted by name then value;
  // only set `name` when given.
  virtual Result<std::vector<ReferenceValue>> list(
      std::optional<std::string_view> name = std::nullopt) const = 0;

  // add_all with one value.
  Result<void> add(ReferenceValue value);

  // The values of set `name` as of `now`, split into the unexpired ones and
  // the ignored (expired) ones. An unknown set is empty, not an error.
  Result<ReferenceLookup> values(std::string_view name, TimePoint now) const;

  // Parses a document (see above) and adds its values (add_all). Returns how
  // many values the document held. `default_provenance`, when not empty, is
  // given to values that have none (e.g. "imported from refs.json").
  Result<std::size_t> import_json(std::string_view json_text,
                                  std::string_view default_provenance = {});

  // The document of every stored value.
  Result<nlohmann::json> export_json() const;
};

// In memory, sorted by (name, value). Copying and moving copy the values
// under the source's lock.
class MemoryReferenceStore final : public ReferenceStore {
 public:
  MemoryReferenceStore() = default;
  explicit MemoryReferenceStore(std::vector<ReferenceValue> values);  // unvalidated: trusted input
  MemoryReferenceStore(const MemoryReferenceStore& other);
  MemoryReferenceStore(MemoryReferenceStore&& other) noexcept;
  MemoryReferenceStore& operator=(const MemoryReferenceStore& other);
  MemoryReferenceStore& operator=(MemoryReferenceStore&& other) noexcept;
  ~MemoryReferenceStore() override = default;

  Result<void> add_all(std::vector<ReferenceValue> values) override;
  Result<std::size_t> remove(std::string_view name,
                             std::optional<std::string_view> value = std::nullopt) override;
  Result<std::vector<ReferenceValue>> list(
      std::optional<std::string_view> name = std::nullopt) const override;

  std::size_t size() const;

 private:
  std::vector<ReferenceValue> snapshot() const;

  mutable std::shared_mutex mu_;
  std::vector<ReferenceValue> values_;  // sorted by (name, value)
};

// The document format above.
Result<std::vector<ReferenceValue>> parse_reference_document(std::string_view json_text);
Result<std::vector<ReferenceValue>> parse_reference_document_json(const nlohmann::json& document);
nlohmann::json reference_document_json(const std::vector<ReferenceValue>& values);
nlohmann::json reference_value_json(const ReferenceValue& value);

// The file backend. load_reference_file reads a document; a file that does
// not exist is an empty store when `missing_ok`, otherwise kNotFound. Other
// read failures are kIo; a bad document kMalformed (Error::field names where
// in it). save_reference_file writes the store's document atomically: to a
// temporary file in the same folder, flushed to disk, then renamed over
// `path` (a concurrent reader sees the old file or the new one, never a
// part). Two writers racing each other are not merged: the last rename
// wins. A new file gets mode 0644; an existing file keeps its mode.
Result<MemoryReferenceStore> load_reference_file(const std::filesystem::path& path,
                                                 bool missing_ok = false);
Result<void> save_reference_file(const ReferenceStore& store, const std::filesystem::path& path);

}  // namespace concierge::verifier
