// libFuzzer target: the ACPI CCEL table and the CCEL log's replay into RTMRs,
// with the invariants a replay must keep (it accepts its own RTMRs and its
// own reference values).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "concierge/evidence/dcap/ccel.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge::evidence::dcap;
  const concierge::ByteView input(data, size);

  auto table = parse_ccel_table(input);
  if (!table && !table.error().offset) std::abort();  // every error says where
  CcelParseOptions tolerant;
  tolerant.accept_bad_checksum = true;
  auto lenient = parse_ccel_table(input, tolerant);
  if (table && (!lenient || !lenient->checksum_ok)) std::abort();
  if (lenient) (void)ccel_table_json(*lenient).dump();

  auto replay = replay_ccel(input);
  if (!replay) {
    if (!replay.error().offset) std::abort();
    return 0;
  }
  (void)rtmr_replay_json(*replay).dump();
  TdReportBody body;
  body.rtmr = replay->rtmr;
  if (!check_rtmrs(*replay, body).accepted) std::abort();
  if (!appraise_rtmrs(*replay, rtmr_reference_values(*replay)).accepted) std::abort();
  body.rtmr[size % kRtmrCount][0] ^= 1;
  if (check_rtmrs(*replay, body).accepted) std::abort();
  return 0;
}
