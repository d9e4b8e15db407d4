// libFuzzer target: SEV-SNP extended-report certificate tables. Whatever
// parses is re-encoded, and the re-encoded table must parse to the same
// entries (GUIDs and certificate bytes, in order).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "concierge/evidence/snp/cert_table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concierge::evidence::snp;
  auto entries = parse_cert_table(concierge::ByteView(data, size));
  if (!entries) {
    (void)entries.error().to_string();
    return 0;
  }
  for (const CertTableEntry& e : *entries) {
    (void)cert_kind_name(e.kind());
    auto text = guid_to_string(e.guid);
    auto back = guid_from_string(text);
    if (!back || !(*back == e.guid)) std::abort();
  }
  auto encoded = encode_cert_table(*entries);
  if (!encoded) std::abort();  // everything parse accepts must encode
  auto again = parse_cert_table(*encoded);
  if (!again || again->size() != entries->size()) std::abort();
  for (std::size_t i = 0; i < entries->size(); ++i) {
    if (!((*again)[i].guid == (*entries)[i].guid) || (*again)[i].data != (*entries)[i].data) {
      std::abort();
    }
  }
  return 0;
}
