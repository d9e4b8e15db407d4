// The chain of trust of measure/boot_chain.h, extended into a real TPM.
//
// A real TPM's PCRs 0-7 belong to the platform firmware, which extended them
// before we ran; extending them again would make the machine's own firmware
// log disagree with its PCRs. So the stages of a manifest run against a TPM
// must use PCRs the firmware does not own: 8-15 (the OS-loader range) when
// they are still in their reset state (all zeros: true on a fresh swtpm, not
// on a machine booted through GRUB or shim), or the resettable PCRs 16
// (debug) and 23 (application), which this function resets to zero first.
// Then the TCG log written beside the TPM replays from the reset state to the
// PCR values the TPM will quote. examples/boot-chain/manifest-tpm.json is the
// demo's manifest laid out that way.
//
// Thread safety: as tpm.h (one run per TPM at a time).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "concierge/attester/tpm/tpm.h"
#include "concierge/core/result.h"
#include "concierge/measure/boot_chain.h"

namespace concierge::attester::tpm {

// A MeasurementSink extending PCRs of a TPM. The startup locality of a TPM is
// set by the platform, not by us: only 0 is accepted.
class TpmPcrSink : public measure::MeasurementSink {
 public:
  explicit TpmPcrSink(Tpm& tpm) : tpm_(tpm) {}
  Result<void> set_startup_locality(std::uint8_t locality) override;
  Result<void> extend(std::uint32_t pcr, const std::vector<measure::OwnedDigest>& digests) override;

 private:
  Tpm& tpm_;
};

// Checks the manifest's PCRs (8-16 or 23; kInvalidArgument otherwise), resets
// 16 and 23 where used, requires 8-15 where used to read zero in every bank
// the TPM has allocated (kInvalidArgument naming the PCR otherwise), then runs
// the chain into the TPM.
Result<measure::BootRecord> run_boot_chain_in_tpm(Tpm& tpm, const measure::BootManifest& manifest);

// The kernel's copies of the logs (securityfs). nullopt when the file does not
// exist (no TPM, no IMA, securityfs not mounted); kIo when it cannot be read
// (usually: not root).
inline constexpr const char* kFirmwareLogPath =
    "/sys/kernel/security/tpm0/binary_bios_measurements";
inline constexpr const char* kImaLogPath = "/sys/kernel/security/ima/binary_runtime_measurements";
Result<std::optional<Bytes>> read_kernel_log(const std::string& path);

}  // namespace concierge::attester::tpm
