// libFuzzer target: IMA measurement lists, ASCII and binary, and their replay.
// Invariants checked beyond "no crash": a binary log that parses is rewritten
// byte for byte, and every log the writers produce parses again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "concierge/measure/ima.h"

using namespace concierge;
using namespace concierge::measure;

namespace {

void exercise(const Result<ImaLog>& log) {
  if (!log) return;
  auto r = replay_ima(*log, {HashAlg::kSha1, HashAlg::kSha256});
  if (!r) std::abort();  // parsed logs always replay with the default banks
  if (r->status.size() != log->entries.size()) std::abort();
  if (auto bin = write_ima_binary(*log)) {
    auto again = parse_ima_binary(*bin);
    if (!again || again->entries.size() != log->entries.size()) std::abort();
  }
  if (auto text = write_ima_ascii(*log)) {
    auto again = parse_ima_ascii(*text);
    if (!again || again->entries.size() != log->entries.size()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  exercise(parse_ima_log(input));
  auto bin = parse_ima_binary(input);
  if (bin) {
    auto out = write_ima_binary(*bin);
    if (!out || Bytes(input.begin(), input.end()) != *out) std::abort();
  }
  exercise(bin);
  exercise(parse_ima_ascii(as_chars(input)));
  return 0;
}
