// Text that came from outside the process (a request path, a guest's
// values, a peer's error message) made safe to store and to print on a
// terminal: nothing in it can move the cursor, clear the screen, retitle
// the window or reorder what is shown.
//
// printable_text() replaces, and keeps everything else (UTF-8 included):
//   - bytes 0x00-0x1F and 0x7F by "\xNN" (lowercase hex; so "\n" too);
//   - the C1 controls U+0080-U+009F (U+009B is a one-byte CSI on some
//     terminals), the bidirectional formatting characters (U+200E, U+200F,
//     U+202A-U+202E, U+2066-U+2069) and U+2028/U+2029 by "\uNNNN";
//   - each byte that is not part of well-formed UTF-8 by "\xNN";
// then cuts the result to at most `max_bytes` (on a character boundary,
// ending in "..." when cut; max_bytes >= 3). Backslashes are kept as they
// are, so the function is idempotent: text already made printable comes
// back unchanged, and an old stored value can be made printable again when
// shown.
//
// Pure function; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace concierge {

std::string printable_text(std::string_view text, std::size_t max_bytes = 4096);

}  // namespace concierge
