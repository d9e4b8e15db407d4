// Private helpers of the TPM attester: ownership of ESAPI outputs and PCR
// selections in TPM form.
#pragma once

#include <tss2/tss2_esys.h>

#include <memory>
#include <vector>

#include "concierge/attester/tpm/tpm.h"
#include "concierge/core/result.h"

namespace concierge::attester::tpm {

// Frees an ESAPI-allocated output on scope exit.
struct EsysFree {
  void operator()(void* p) const { Esys_Free(p); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFree>;

// A TPML_PCR_SELECTION (three select bytes: PCRs 0-23) for `selection`.
// kInvalidArgument for more banks than the structure holds or a PCR >= 24.
inline Result<TPML_PCR_SELECTION> to_tpml(const std::vector<PcrSelection>& selection) {
  TPML_PCR_SELECTION out{};
  if (selection.size() > TPM2_NUM_PCR_BANKS) {
    return fail(Errc::kInvalidArgument, "too many PCR banks selected");
  }
  for (const auto& s : selection) {
    auto& sel = out.pcrSelections[out.count++];
    sel.hash = static_cast<TPMI_ALG_HASH>(s.bank);
    sel.sizeofSelect = 3;
    for (unsigned pcr : s.pcrs) {
      if (pcr >= 24) return fail(Errc::kInvalidArgument, "PCR index out of range");
      sel.pcrSelect[pcr / 8] |= static_cast<BYTE>(1u << (pcr % 8));
    }
  }
  return out;
}

}  // namespace concierge::attester::tpm
