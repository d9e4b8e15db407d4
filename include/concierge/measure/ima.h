// Linux IMA runtime measurement lists (security/integrity/ima), ASCII and
// binary, and their replay into software PCR banks.
//
// Formats (kernel ima_fs.c ima_measurements_show / ima_ascii_measurements_show,
// ima_template_lib.c, Documentation/security/IMA-templates.rst):
//
// Binary (binary_runtime_measurements; little-endian, as written on x86 or by a
// kernel booted with ima_canonical_fmt), per entry:
//   u32 pcr | 20-byte template digest (always SHA-1) | u32 name_len | name |
//   then, for the template "ima":        20-byte 'd' digest, no length prefix;
//                                        u32 len | file name (no NUL)
//        for every other template:       u32 template_data_len | template data,
//                                        a sequence of fields (u32 len | bytes)
// ASCII (ascii_runtime_measurements[_<algo>]), one line per entry:
//   "%2d <template hash hex> <template name>" then " <field>" per field, an empty
//   field printing nothing (so ima-sig without signature ends in a space).
//   The template hash column is SHA-1 in ascii_runtime_measurements and
//   SHA-256/384/512 in the _sha256/_sha384/_sha512 files; the algorithm is
//   inferred from its hex length (40/64/96/128) and must be the same on every
//   line.
//
// Template data (the bytes the template hash and the PCR extend are computed
// over, kernel ima_calc_field_array_hash_tfm):
//   "ima":    'd' (20 bytes) || file name + NUL, zero-padded to 256 bytes
//             (IMA_EVENT_NAME_LEN_MAX + 1); no length prefixes.
//   others:   for each field, u32le length || field bytes, where
//             d-ng / d-modsig = "<algo>:" NUL digest,  n-ng = name NUL,
//             sig / buf / modsig = raw bytes.
// Known templates: ima (d|n), ima-ng (d-ng|n-ng), ima-sig (d-ng|n-ng|sig),
// ima-buf (d-ng|n-ng|buf), ima-modsig (d-ng|n-ng|sig|d-modsig|modsig).
// An unknown template in a binary log keeps its template data as recorded (so
// it can still be verified and replayed) with a warning; in an ASCII log its
// template data cannot be rebuilt, so its hash is not verified.
//
// Violations: an all-zero template hash. They are not verified and are
// extended into every bank as all 0xFF bytes of the bank's size.
//
// Replay (kernel >= 5.8): every bank extends, into the entry's PCR, the bank's
// own hash of the template data (0xFF... for a violation).
//
// Thread safety: pure functions over caller-owned inputs; the returned values
// own their bytes (nothing points into the input). Safe to call concurrently.
// Every length read from the input is bounded by the input's size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/result.h"
#include "concierge/measure/pcr_bank.h"

namespace concierge::measure {

// IMA_EVENT_NAME_LEN_MAX: longest file name of the "ima" template.
inline constexpr std::size_t kImaNameMax = 255;
// Size of the SHA-1 template digest of the binary format and of the 'd' field.
inline constexpr std::size_t kImaDigestSize = 20;

// A non-fatal finding about one entry (or the log, when entry_index is npos).
struct ImaWarning {
  static constexpr std::size_t kNoEntry = static_cast<std::size_t>(-1);
  std::size_t entry_index = kNoEntry;
  std::string location;  // "line 12" (ASCII) or "offset 0x1f4" (binary)
  std::string message;
  std::string to_string() const;  // "entry 11 (line 12): ..."
};

struct ImaEntry {
  std::size_t index = 0;   // 0-based position in the log
  std::size_t line = 0;    // 1-based line number (ASCII); 0 for binary logs
  std::size_t offset = 0;  // byte offset of the entry (line) in the input
  std::uint32_t pcr = 10;
  Bytes template_hash;  // as recorded, in the log's template hash algorithm
  std::string template_name;
  bool template_known = false;     // one of the templates listed above
  bool has_template_data = false;  // template_data below is valid
  Bytes template_data;             // the hashed bytes (see the header comment)
  // The file digest: algorithm name as written ("sha256", "unknown"...; "sha1"
  // for the 'd' field of the "ima" template) and whether it is an algorithm
  // the kernel defines (hash_algo_name[]). Unknown names get a warning and are
  // never mapped onto a known algorithm.
  std::string file_digest_alg;
  bool file_digest_alg_known = false;
  Bytes file_digest;
  std::string file_name;   // n / n-ng without the NUL
  Bytes signature;         // ima-sig / ima-modsig 'sig' field
  Bytes buffer;            // ima-buf 'buf' field
  bool violation = false;  // all-zero template hash
};

struct ImaLog {
  bool ascii = false;
  HashAlg template_hash_alg = HashAlg::kSha1;
  std::vector<ImaEntry> entries;
  std::vector<ImaWarning> warnings;  // found while parsing, in entry order
};

// Detects the format: binary logs start with a u32le PCR index below 24, so
// their first byte is < 24; ASCII logs start with a digit or a space. Empty
// input is an error (kMalformed).
Result<ImaLog> parse_ima_log(ByteView data);
// Errors name the line (in the message), the field, and the byte offset.
Result<ImaLog> parse_ima_ascii(std::string_view text);
// Errors name the field and the absolute byte offset.
Result<ImaLog> parse_ima_binary(ByteView data);

// Serializers (used by tests and conversion). The binary writer needs every
// entry's template data; its template digest is the recorded one when the
// log's column is SHA-1, otherwise SHA-1 of the template data (zeros for a
// violation). The ASCII writer needs known templates (it formats the fields
// from the template data) and uses the recorded template hashes.
Result<Bytes> write_ima_binary(const ImaLog& log);
Result<std::string> write_ima_ascii(const ImaLog& log);

enum class ImaStatus {
  kVerified,      // the template hash matches the template data
  kViolation,     // all-zero template hash: not verified, extended as 0xFF...
  kMismatch,      // template hash differs from the hash of the template data
  kUnverifiable,  // template data could not be rebuilt (unknown ASCII template)
};
std::string_view ima_status_name(ImaStatus status);  // "verified", ...

struct ImaReplayResult {
  // One bank per requested algorithm, in the order requested, except banks in
  // omitted_banks (an entry's template data was unavailable, so that bank's
  // value cannot be computed; the column's own bank still can).
  std::vector<PcrBank> banks;
  std::vector<HashAlg> omitted_banks;
  std::vector<ImaStatus> status;  // per entry
  // The log's parse warnings followed by the replay's (mismatches, ...).
  std::vector<ImaWarning> warnings;
  std::size_t verified = 0;
  std::size_t violations = 0;
  std::size_t mismatches = 0;
  std::size_t unverifiable = 0;

  const PcrBank* bank(HashAlg alg) const;
};

// The banks replayed when the caller names none.
std::vector<HashAlg> default_ima_banks();  // sha1, sha256, sha384, sha512

// Verifies every entry's template hash and replays the log into the banks
// (default_ima_banks() when empty). Fails on duplicate banks, an algorithm the
// crypto library lacks, or a PCR index >= 24. Mismatches are warnings.
Result<ImaReplayResult> replay_ima(const ImaLog& log, std::vector<HashAlg> banks = {});

}  // namespace concierge::measure
