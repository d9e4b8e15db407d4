// libFuzzer target: DCAP collateral responses (TCB info and QE identity) from
// arbitrary bytes, then matching whatever parses against a fixed platform.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "concierge/evidence/dcap/collateral.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge::evidence::dcap;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto tcb = parse_tcb_info_response(text)) {
    PlatformTcb p;
    p.fmspc = tcb->info.fmspc;
    p.pce_id = tcb->info.pce_id;
    p.sgx_components.fill(3);
    p.pcesvn = 3;
    if (tcb->info.tee == TeeType::kTdx) p.tee_tcb_svn = p.sgx_components;
    (void)match_tcb_level(tcb->info, p);
  }
  if (auto qe = parse_qe_identity_response(text)) {
    QeReportFields r;
    r.mrsigner = qe->identity.mrsigner;
    r.isvprodid = qe->identity.isvprodid;
    r.isvsvn = 5;
    (void)match_qe_identity(qe->identity, r);
  }
  (void)parse_tcb_info(text);
  (void)parse_qe_identity(text);
  return 0;
}
