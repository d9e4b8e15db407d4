// libFuzzer target: Intel DCAP quote parsing (v3, v4, v5), decoding to claims,
// and the encode/parse round trip of whatever parses.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "concierge/evidence/dcap/quote.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge::evidence::dcap;
  const concierge::ByteView input(data, size);
  auto quote = parse_quote(input);
  if (!quote) return 0;
  (void)quote_claims(*quote).dump();
  if (const auto pem = quote->pck_chain_pem()) (void)pem->size();
  // Every layout range lies inside the input.
  for (const ByteRange& r :
       {quote->layout.signed_data, quote->layout.body, quote->layout.signature,
        quote->layout.attestation_key, quote->layout.qe_report, quote->layout.qe_report_signature,
        quote->layout.qe_auth_data, quote->layout.certification_data}) {
    if (r.offset > quote->layout.quote_size || r.size > quote->layout.quote_size - r.offset) {
      std::abort();
    }
  }
  auto again = serialize_quote(*quote);
  if (!again) std::abort();
  // Equal up to quote_size; what follows is zero padding.
  if (again->size() != quote->layout.quote_size || again->size() > size ||
      !std::equal(again->begin(), again->end(), data) ||
      !std::all_of(data + again->size(), data + size, [](std::uint8_t b) { return b == 0; })) {
    std::abort();
  }
  return 0;
}
