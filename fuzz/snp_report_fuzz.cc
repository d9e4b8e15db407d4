// libFuzzer target: SEV-SNP attestation report parsing, decoding to claims, and
// the encode/parse round trip of whatever parses.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "concierge/evidence/snp/report.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge::evidence::snp;
  auto report = parse_report(concierge::ByteView(data, size));
  if (!report) return 0;
  (void)report_claims(*report, report->cpuid_product()).dump();
  const concierge::Bytes again = serialize_report(*report);
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
  return 0;
}
