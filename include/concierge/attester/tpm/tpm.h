// A connection to a TPM 2.0 through the TCG software stack (tpm2-tss ESAPI and
// the TCTI loader), the same code on /dev/tpmrm0 of a real machine and on swtpm.
//
// TCTI strings are tpm2-tss's: "device:/dev/tpmrm0" (the default: the kernel's
// resource manager), "swtpm:host=127.0.0.1,port=2321", "mssim:...", "tabrmd".
//
// Ownership: a Tpm owns its ESYS context and TCTI; it is move-only. A
// TpmObject owns one transient object or session handle in that TPM and
// flushes it when destroyed, so no command sequence leaks a slot (swtpm, like
// many hardware TPMs, has three transient object slots). A TpmObject must not
// outlive the Tpm it came from.
// Thread safety: none; one thread uses a Tpm (and its objects) at a time.
//
// Errors: kIo when the TCTI cannot be loaded or the TPM does not answer;
// kDevice when the TPM returns an error code for a command (the message names
// the command and tss2-rc's decoding of the code, e.g. "TPM2_ActivateCredential:
// tpm:parameter(1):integrity check failed").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/core/result.h"
#include "concierge/evidence/tpm/quote.h"
#include "concierge/measure/event_log_writer.h"

struct ESYS_CONTEXT;
struct TSS2_TCTI_OPAQUE_CONTEXT_BLOB;

namespace concierge::attester::tpm {

inline constexpr const char* kDefaultTcti = "device:/dev/tpmrm0";

using evidence::tpm::PcrSelection;
// bank -> PCR index -> value, as evidence::tpm::verify_quote takes them.
using PcrValues = std::map<HashAlg, std::map<unsigned, Bytes>>;

class Tpm;

// One transient object or session in a TPM, flushed on destruction.
class TpmObject {
 public:
  TpmObject() = default;
  TpmObject(Tpm* tpm, std::uint32_t esys_handle) : tpm_(tpm), handle_(esys_handle) {}
  TpmObject(TpmObject&& other) noexcept;
  TpmObject& operator=(TpmObject&& other) noexcept;
  TpmObject(const TpmObject&) = delete;
  TpmObject& operator=(const TpmObject&) = delete;
  ~TpmObject();

  std::uint32_t handle() const { return handle_; }  // an ESYS_TR
  bool valid() const { return tpm_ != nullptr; }
  void reset();  // flushes now

 private:
  Tpm* tpm_ = nullptr;
  std::uint32_t handle_ = 0;
};

class Tpm {
 public:
  // Loads the TCTI named by `tcti` and starts an ESYS context. If the TPM has
  // not been started (TPM_RC_INITIALIZE), sends TPM2_Startup(CLEAR), as a
  // platform would.
  static Result<std::unique_ptr<Tpm>> open(const std::string& tcti);
  ~Tpm();
  Tpm(const Tpm&) = delete;
  Tpm& operator=(const Tpm&) = delete;

  ESYS_CONTEXT* esys() const { return esys_; }

  // The banks with at least one PCR allocated (TPM2_GetCapability(PCRS)).
  Result<std::vector<HashAlg>> pcr_banks();
  // Reads every selected PCR (TPM2_PCR_Read returns at most 8 per call; this
  // loops). A selected bank that is not allocated is kNotFound.
  Result<PcrValues> read_pcrs(const std::vector<PcrSelection>& selection);
  // TPM2_PCR_Extend with one digest per bank (banks the TPM has not allocated
  // are left out of the command).
  Result<void> extend_pcr(unsigned pcr, const std::vector<measure::OwnedDigest>& digests);
  // TPM2_PCR_Reset: only PCRs 16 (debug) and 23 (application) are resettable
  // from locality 0.
  Result<void> reset_pcr(unsigned pcr);
  // The whole content of an NV index (TPM2_NV_ReadPublic, then TPM2_NV_Read
  // in chunks with the index's own authorization). nullopt when the index is
  // not defined.
  Result<std::optional<Bytes>> read_nv(std::uint32_t nv_index);
  Result<Bytes> random(std::size_t size);

  // A policy session satisfying PolicySecret(TPM_RH_ENDORSEMENT) with the
  // (empty) endorsement authorization: the authorization an EK made from the
  // TCG default templates (adminWithPolicy, no userWithAuth) needs to be a
  // parent or to activate a credential.
  Result<TpmObject> endorsement_policy_session();

  // Flushes an ESYS_TR (errors ignored: used by TpmObject).
  void flush(std::uint32_t esys_handle);

 private:
  Tpm() = default;
  TSS2_TCTI_OPAQUE_CONTEXT_BLOB* tcti_ = nullptr;
  ESYS_CONTEXT* esys_ = nullptr;
};

// "TPM2_<command>: <tss2-rc decoding>" as a kDevice error (kIo when the TCTI
// layer failed rather than the TPM).
Error tpm_error(const char* command, std::uint32_t rc);

// Parses a PCR selection "sha256:0,1,2,3+sha1:7" (tpm2-tools syntax; "all" for
// 0-23). Banks must be known to HashAlg; indices below 24, no duplicates.
Result<std::vector<PcrSelection>> parse_pcr_selection(std::string_view text);

}  // namespace concierge::attester::tpm
