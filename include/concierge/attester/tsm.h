// In-guest attestation reports through the Linux configfs-tsm report interface
// (Documentation/ABI/testing/configfs-tsm, drivers/virt/coco/tsm.c, Linux 6.7+),
// and detection of the confidential-computing interfaces a guest offers.
//
// configfs-tsm: mkdir /sys/kernel/config/tsm/report/<name> makes a report
// entry whose attribute files the kernel creates itself:
//   inblob          (write) up to 64 bytes of caller data (SEV-SNP: REPORT_DATA,
//                   which the sev_guest provider requires to be exactly 64 bytes)
//   outblob         (read)  the report (or quote) generated from inblob
//   auxblob         (read)  optional; for "sev_guest" the GHCB certificate table
//   provider        (read)  the report format: "sev_guest", "tdx_guest", ...
//   generation      (read)  counts the writes to inblob and the options
//   privlevel       (write) SEV-SNP VMPL 0-3, when the provider supports it
//   privlevel_floor (read)  the lowest privlevel the provider accepts
// inblob is a configfs binary attribute: the kernel takes the data when the
// file is closed, so a refused write surfaces as an error from close().
//
// Protocol (the ABI document's conflict detection): read generation, write the
// options and inblob, read outblob (and auxblob), then read generation again;
// it must equal the first value plus our writes. If not, another process wrote
// to the entry meanwhile and the report may not be ours: the whole sequence is
// retried (max_attempts), then the call fails with kDevice. The entry is
// uniquely named per call, so a conflict needs a process that goes looking
// for it; the check is kept as the ABI document's safeguard all the same.
// The entry is always removed (rmdir) before the call returns, on every path.
// Making entries needs the right to mkdir under the root (normally root).
//
// Errors: kInvalidArgument for unusable options (inblob empty or over 64
// bytes, privlevel over 3 or below privlevel_floor); kNotFound when there is
// no configfs-tsm at the root, no provider is registered (mkdir: ENXIO), or
// the provider is not expected_provider; kUnsupported when privlevel is
// requested from a provider without it; kIo when the entry cannot be made
// (permissions); kDevice when the provider refuses a write or fails to produce
// the report (or an empty one), when an attribute configfs-tsm always makes is
// missing, or when the generation check keeps failing.
//
// Tests: a plain folder stands in for configfs through `test_hook`, which the
// code calls at each step so the test can do what the kernel would do (make
// the attribute files after mkdir, count writes in `generation`, remove the
// attribute files before rmdir) or simulate a racing writer. Production code
// leaves it empty.
//
// Thread safety: calls share no state; concurrent calls use distinct entries.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge::attester {

inline constexpr const char* kDefaultTsmRoot = "/sys/kernel/config/tsm/report";
inline constexpr std::size_t kTsmInblobMax = 64;  // TSM_INBLOB_MAX
inline constexpr unsigned kTsmPrivlevelMax = 3;   // TSM_PRIVLEVEL_MAX

// The steps at which test_hook is called.
enum class TsmEvent {
  kCreated,   // after mkdir of the entry (attribute is empty)
  kWrote,     // after a write to `attribute` was accepted ("privlevel", "inblob")
  kRead,      // after `attribute` was read ("outblob", "auxblob")
  kRemoving,  // just before rmdir of the entry (attribute is empty)
};
// TEST-ONLY: see the header comment.
using TsmHook = std::function<void(TsmEvent event, std::string_view attribute,
                                   const std::filesystem::path& entry)>;

struct TsmOptions {
  std::filesystem::path root = kDefaultTsmRoot;
  // Name of the report entry; empty: "concierge-<pid>-<16 random hex digits>".
  // The entry must not exist yet: it is created and removed by the call.
  std::string entry_name;
  // Written to privlevel when set (SEV-SNP: the VMPL the report is for).
  std::optional<unsigned> privlevel;
  // When set, the entry's provider must be this ("sev_guest"), checked
  // before anything is written (kNotFound otherwise: no such provider here).
  std::optional<std::string> expected_provider;
  // Attempts of the write/read sequence when the generation check fails.
  unsigned max_attempts = 3;
  TsmHook test_hook;  // TEST-ONLY
};

struct TsmReport {
  std::string provider;          // e.g. "sev_guest" (trailing newline removed)
  Bytes outblob;                 // the report, as the provider formats it
  std::optional<Bytes> auxblob;  // absent when the provider has none or it is empty
  std::uint64_t generation = 0;  // the entry's generation after the last read
  unsigned attempts = 1;         // how many write/read sequences it took
};

// Generates one report for `inblob` (1 to 64 bytes, written as given).
Result<TsmReport> tsm_report(ByteView inblob, const TsmOptions& options = {});

// The provider behind the root: makes an entry, reads provider, removes the
// entry. Uses options.root, entry_name and test_hook. Same errors as above.
Result<std::string> tsm_provider(const TsmOptions& options = {});
Result<std::string> tsm_provider(const std::filesystem::path& root);

// --- TEE detection ------------------------------------------------------------

struct TeeDetectOptions {
  std::filesystem::path tsm_root = kDefaultTsmRoot;
  std::filesystem::path sev_guest_device = "/dev/sev-guest";  // AMD SEV-SNP guest driver
  std::filesystem::path tdx_guest_device = "/dev/tdx_guest";  // Intel TDX guest driver
  std::filesystem::path tpm_device = "/dev/tpmrm0";           // TPM resource manager
  TsmHook tsm_test_hook;                                      // TEST-ONLY
};

// Which attestation interfaces this machine offers. Nothing here is evidence:
// an absent path means "not offered", and a present one still has to work.
struct TeeDetection {
  bool tsm_present = false;                 // the configfs-tsm root exists
  std::optional<std::string> tsm_provider;  // its provider, when one could be read
  std::string tsm_detail;                   // why no provider was read (empty if one was)
  bool sev_guest_device = false;
  bool tdx_guest_device = false;
  bool tpm_device = false;

  bool snp_guest() const { return tsm_provider == "sev_guest" || sev_guest_device; }
  bool tdx_guest() const { return tsm_provider == "tdx_guest" || tdx_guest_device; }
};

// Never fails: probing the configfs-tsm provider needs the right to mkdir in
// the root (normally root); when it fails, tsm_detail says why.
TeeDetection detect_tee(const TeeDetectOptions& options = {});

// {"configfs_tsm": {"root": path, "present": b, "provider": "sev_guest"|null
//                   [, "detail": why no provider]},
//  "sev_guest_device": path|null, "tdx_guest_device": path|null, "tpm_device": path|null,
//  "snp_guest": b, "tdx_guest": b}
nlohmann::json tee_detection_json(const TeeDetection& detection, const TeeDetectOptions& options);

}  // namespace concierge::attester
