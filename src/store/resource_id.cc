#include <algorithm>

#include "concierge/store/store.h"
#include "store/sql_store.h"

namespace concierge::store {
namespace {

constexpr std::size_t kMaxPartLength = 128;

bool valid_part(std::string_view part) {
  if (part.empty() || part.size() > kMaxPartLength || part == "." || part == "..") return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

const char* kRule =
    "a resource path is repo/type/tag, each part 1..128 characters of [A-Za-z0-9._-], "
    "neither '.' nor '..'";

}  // namespace

Result<ResourceId> parse_resource_id(std::string_view path) {
  auto malformed = [&] {
    Error e = make_error(Errc::kMalformed, std::string("resource '") +
                                               std::string(path.substr(0, 400)) + "': " + kRule);
    e.field = "resource";
    return Unexpected(std::move(e));
  };
  const std::size_t first = path.find('/');
  if (first == std::string_view::npos) return malformed();
  const std::size_t second = path.find('/', first + 1);
  if (second == std::string_view::npos) return malformed();
  if (path.find('/', second + 1) != std::string_view::npos) return malformed();
  ResourceId id{std::string(path.substr(0, first)),
                std::string(path.substr(first + 1, second - first - 1)),
                std::string(path.substr(second + 1))};
  if (!valid_part(id.repo) || !valid_part(id.type) || !valid_part(id.tag)) return malformed();
  return id;
}

Result<void> check_resource_id(const ResourceId& id) {
  if (valid_part(id.repo) && valid_part(id.type) && valid_part(id.tag)) return {};
  return fail(Errc::kInvalidArgument, std::string("invalid resource id: ") + kRule);
}

}  // namespace concierge::store
