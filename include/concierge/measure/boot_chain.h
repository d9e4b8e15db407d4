// The chain of trust, in software.
//
// A boot manifest (JSON) describes a root of trust and its ordered stages.
// run_boot_chain() lets the root of trust measure itself, then has each stage
// measured by the stage before it: the measurement (the hash of the stage's
// content in every bank) is extended into the stage's PCR through a
// MeasurementSink and recorded in a TCG crypto-agile event log. Substituting
// any stage changes its digest, hence the final PCRs; the event log says
// which event changed (see event_log_diff.h).
//
// Manifest (all paths relative to the manifest's folder):
//   {
//     "name": "example",
//     "banks": ["sha256", "sha384"],            // default: sha256, sha384
//     "startup_locality": 0,                     // 0, 3, or 4 (H-CRTM)
//     "root_of_trust": { <stage> },
//     "stages": [ { <stage> }, ... ]
//   }
//   stage: {"name": "shim", "file": "stages/shim.efi" | "content": "text",
//           "pcr": 4, "event_type": "EV_EFI_BOOT_SERVICES_APPLICATION",
//           "path": "\\EFI\\BOOT\\BOOTX64.EFI"  (optional, for image loads)}
//   An EV_SEPARATOR stage needs no content (it measures 00000000).
//
// The sink is where measurements go: a software PCR bank here, a real TPM in
// the TPM attester. Not thread-safe; one run at a time per sink.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/result.h"
#include "concierge/measure/event_log_writer.h"
#include "concierge/measure/pcr_bank.h"

namespace concierge::measure {

struct BootStage {
  std::string name;
  Bytes content;  // what is measured
  std::uint32_t pcr = 0;
  std::uint32_t event_type = 0;
  std::string path;  // device path file name for image-load events
};

struct BootManifest {
  std::string name;
  std::vector<HashAlg> banks;
  std::uint8_t startup_locality = 0;
  BootStage root_of_trust;
  std::vector<BootStage> stages;
};

// Parses a manifest; files are read relative to `base_dir`.
Result<BootManifest> parse_boot_manifest(std::string_view json_text,
                                         const std::filesystem::path& base_dir);
// Replaces the content of the named stage (the demo's "substituted stage").
Result<void> replace_stage(BootManifest& manifest, const std::string& stage, Bytes content);

class MeasurementSink {
 public:
  virtual ~MeasurementSink() = default;
  virtual Result<void> set_startup_locality(std::uint8_t locality) = 0;
  virtual Result<void> extend(std::uint32_t pcr, const std::vector<OwnedDigest>& digests) = 0;
};

// Software PCR banks as a sink.
class SoftwarePcrSink : public MeasurementSink {
 public:
  explicit SoftwarePcrSink(const std::vector<HashAlg>& algs);
  Result<void> set_startup_locality(std::uint8_t locality) override;
  Result<void> extend(std::uint32_t pcr, const std::vector<OwnedDigest>& digests) override;
  const std::vector<PcrBank>& banks() const { return banks_; }

 private:
  std::vector<PcrBank> banks_;
};

struct MeasuredStage {
  std::string name;
  std::string measured_by;  // the previous stage; the root measures itself
  std::uint32_t pcr = 0;
  std::uint32_t event_type = 0;
  std::vector<OwnedDigest> digests;
};

struct BootRecord {
  Bytes event_log;
  std::vector<MeasuredStage> stages;
};

Result<BootRecord> run_boot_chain(const BootManifest& manifest, MeasurementSink& sink);

// The event data recorded for a stage: a UEFI_IMAGE_LOAD_EVENT with a file
// path for image loads, a UEFI_PLATFORM_FIRMWARE_BLOB2 for firmware blobs,
// the path for an EV_IPL stage that has one (as GRUB logs a loaded kernel),
// otherwise the measured content itself (separators, actions, tags).
Bytes stage_event_data(const BootStage& stage);

}  // namespace concierge::measure
