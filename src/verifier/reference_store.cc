#include "concierge/verifier/reference_store.h"

#include "concierge/core/json.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <utility>

#include "concierge/core/time.h"

namespace concierge::verifier {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxNameLength = 128;
constexpr std::size_t kMaxTextLength = 4096;

Unexpected bad(std::string field, std::string message) {
  Error e = make_error(Errc::kMalformed, "reference values: " + field + ": " + message);
  e.field = std::move(field);
  return Unexpected(std::move(e));
}

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// Sort key: name, then the value with hex digits folded to lowercase so that
// equivalent values sit next to each other.
std::string fold(std::string_view value) {
  std::string out(value);
  if (!out.empty() && std::all_of(out.begin(), out.end(), is_hex_digit)) {
    std::transform(out.begin(), out.end(), out.begin(), lower);
  }
  return out;
}

bool less(const ReferenceValue& a, const ReferenceValue& b) {
  if (a.name != b.name) return a.name < b.name;
  return fold(a.value) < fold(b.value);
}

Result<Json> parse_json_text(std::string_view text) {
  return parse_json_with_offset(text, "reference values", "reference values: ");
}

Result<std::string> read_string(const Json& j, const std::string& field) {
  if (!j.is_string()) return bad(field, "not a string");
  return j.get<std::string>();
}

Result<TimePoint> read_time(const Json& j, const std::string& field) {
  if (!j.is_string()) return bad(field, "not an RFC 3339 string");
  auto t = parse_rfc3339(j.get<std::string>());
  if (!t) return bad(field, t.error().message);
  return *t;
}

Result<ReferenceValue> parse_one(const Json& j, const std::string& where) {
  if (!j.is_object()) return bad(where, "not an object");
  static const std::set<std::string> kMembers = {"name",       "value", "expires",
                                                 "provenance", "added", "note"};
  for (const auto& [key, value] : j.items()) {
    if (kMembers.count(key) == 0) return bad(where + "." + key, "unknown member");
  }
  ReferenceValue v;
  const auto name = j.find("name");
  if (name == j.end()) return bad(where + ".name", "missing");
  CONCIERGE_ASSIGN_OR_RETURN(v.name, read_string(*name, where + ".name"));
  const auto value = j.find("value");
  if (value == j.end()) return bad(where + ".value", "missing");
  CONCIERGE_ASSIGN_OR_RETURN(v.value, read_string(*value, where + ".value"));
  if (const auto e = j.find("expires"); e != j.end()) {
    CONCIERGE_ASSIGN_OR_RETURN(v.expires, read_time(*e, where + ".expires"));
  }
  if (const auto a = j.find("added"); a != j.end()) {
    CONCIERGE_ASSIGN_OR_RETURN(v.added, read_time(*a, where + ".added"));
  }
  if (const auto p = j.find("provenance"); p != j.end()) {
    CONCIERGE_ASSIGN_OR_RETURN(v.provenance, read_string(*p, where + ".provenance"));
  }
  if (const auto n = j.find("note"); n != j.end()) {
    CONCIERGE_ASSIGN_OR_RETURN(v.note, read_string(*n, where + ".note"));
  }
  if (auto ok = validate_reference_value(v); !ok) {
    // Re-anchor the field at the document position.
    return bad(where + "." + ok.error().field, ok.error().message);
  }
  return v;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

Result<void> validate_reference_value(const ReferenceValue& v) {
  auto invalid = [](std::string field, std::string message) {
    Error e = make_error(Errc::kMalformed, std::move(message));
    e.field = std::move(field);
    return Unexpected(std::move(e));
  };
  if (v.name.empty()) return invalid("name", "empty set name");
  if (v.name.size() > kMaxNameLength) return invalid("name", "set name longer than 128 characters");
  for (char c : v.name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok)
      return invalid("name", "set name '" + v.name + "' has a character outside [A-Za-z0-9._-]");
  }
  if (v.value.empty()) return invalid("value", "empty value");
  if (v.value.size() > kMaxTextLength) return invalid("value", "value longer than 4096 bytes");
  if (has_control(v.value)) return invalid("value", "value has a control character");
  if (v.provenance.size() > kMaxTextLength || has_control(v.provenance)) {
    return invalid("provenance", "longer than 4096 bytes or has a control character");
  }
  if (v.note.size() > kMaxTextLength || has_control(v.note)) {
    return invalid("note", "longer than 4096 bytes or has a control character");
  }
  return {};
}

bool reference_value_matches(std::string_view reference, std::string_view actual) {
  if (reference == actual) return true;
  if (reference.empty() || reference.size() != actual.size()) return false;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    if (!is_hex_digit(reference[i]) || !is_hex_digit(actual[i])) return false;
    if (lower(reference[i]) != lower(actual[i])) return false;
  }
  return true;
}

// --- ReferenceStore (non-virtual helpers) ---------------------------------

Result<void> ReferenceStore::add(ReferenceValue value) {
  std::vector<ReferenceValue> one;
  one.push_back(std::move(value));
  return add_all(std::move(one));
}

Result<ReferenceLookup> ReferenceStore::values(std::string_view name, TimePoint now) const {
  CONCIERGE_ASSIGN_OR_RETURN(std::vector<ReferenceValue> all, list(name));
  ReferenceLookup out;
  for (auto& v : all) {
    if (v.name != name) continue;  // a backend that filters loosely
    (v.expired_at(now) ? out.expired : out.current).push_back(std::move(v));
  }
  return out;
}

Result<std::size_t> ReferenceStore::import_json(std::string_view json_text,
                                                std::string_view default_provenance) {
  CONCIERGE_ASSIGN_OR_RETURN(std::vector<ReferenceValue> values,
                             parse_reference_document(json_text));
  const std::size_t n = values.size();
  if (!default_provenance.empty()) {
    for (auto& v : values) {
      if (v.provenance.empty()) v.provenance = std::string(default_provenance);
    }
  }
  CONCIERGE_RETURN_IF_ERROR(add_all(std::move(values)));
  return n;
}

Result<nlohmann::json> ReferenceStore::export_json() const {
  CONCIERGE_ASSIGN_OR_RETURN(std::vector<ReferenceValue> all, list());
  return reference_document_json(all);
}

// --- MemoryReferenceStore --------------------------------------------------

MemoryReferenceStore::MemoryReferenceStore(std::vector<ReferenceValue> values)
    : values_(std::move(values)) {
  std::stable_sort(values_.begin(), values_.end(), less);
}

MemoryReferenceStore::MemoryReferenceStore(const MemoryReferenceStore& other)
    : ReferenceStore(), values_(other.snapshot()) {}

MemoryReferenceStore::MemoryReferenceStore(MemoryReferenceStore&& other) noexcept
    : ReferenceStore() {
  std::unique_lock<std::shared_mutex> lock(other.mu_);
  values_ = std::move(other.values_);
  other.values_.clear();
}

MemoryReferenceStore& MemoryReferenceStore::operator=(const MemoryReferenceStore& other) {
  if (this == &other) return *this;
  std::vector<ReferenceValue> copy = other.snapshot();
  std::unique_lock<std::shared_mutex> lock(mu_);
  values_ = std::move(copy);
  return *this;
}

MemoryReferenceStore& MemoryReferenceStore::operator=(MemoryReferenceStore&& other) noexcept {
  if (this == &other) return *this;
  std::scoped_lock lock(mu_, other.mu_);
  values_ = std::move(other.values_);
  other.values_.clear();
  return *this;
}

std::vector<ReferenceValue> MemoryReferenceStore::snapshot() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return values_;
}

std::size_t MemoryReferenceStore::size() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return values_.size();
}

Result<void> MemoryReferenceStore::add_all(std::vector<ReferenceValue> values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (auto ok = validate_reference_value(values[i]); !ok) {
      Error e = std::move(ok).error();
      if (values.size() > 1) e.message = "reference value " + std::to_string(i) + ": " + e.message;
      return Unexpected(std::move(e));
    }
  }
  std::unique_lock<std::shared_mutex> lock(mu_);
  for (auto& v : values) {
    auto it = std::find_if(values_.begin(), values_.end(), [&v](const ReferenceValue& s) {
      return s.name == v.name && reference_value_matches(s.value, v.value);
    });
    if (it != values_.end()) {
      *it = std::move(v);
    } else {
      values_.push_back(std::move(v));
    }
  }
  std::stable_sort(values_.begin(), values_.end(), less);
  return {};
}

Result<std::size_t> MemoryReferenceStore::remove(std::string_view name,
                                                 std::optional<std::string_view> value) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  const auto before = values_.size();
  std::erase_if(values_, [&](const ReferenceValue& s) {
    return s.name == name && (!value || reference_value_matches(s.value, *value));
  });
  return before - values_.size();
}

Result<std::vector<ReferenceValue>> MemoryReferenceStore::list(
    std::optional<std::string_view> name) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (!name) return values_;
  std::vector<ReferenceValue> out;
  for (const auto& v : values_) {
    if (v.name == *name) out.push_back(v);
  }
  return out;
}

// --- documents -------------------------------------------------------------

Result<std::vector<ReferenceValue>> parse_reference_document(std::string_view json_text) {
  CONCIERGE_ASSIGN_OR_RETURN(Json j, parse_json_text(json_text));
  return parse_reference_document_json(j);
}

Result<std::vector<ReferenceValue>> parse_reference_document_json(const nlohmann::json& j) {
  if (!j.is_object()) return bad("document", "not a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (key != "version" && key != "reference_values") return bad(key, "unknown member");
  }
  if (const auto v = j.find("version"); v != j.end()) {
    if (!v->is_number_integer() || v->get<std::int64_t>() != 1) {
      return bad("version", "unsupported version (only 1 is known)");
    }
  }
  const auto list = j.find("reference_values");
  if (list == j.end()) return bad("reference_values", "missing");
  if (!list->is_array()) return bad("reference_values", "not an array");
  std::vector<ReferenceValue> out;
  out.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    CONCIERGE_ASSIGN_OR_RETURN(
        ReferenceValue v, parse_one((*list)[i], "reference_values[" + std::to_string(i) + "]"));
    out.push_back(std::move(v));
  }
  return out;
}

nlohmann::json reference_value_json(const ReferenceValue& v) {
  Json out = Json::object();
  out["name"] = v.name;
  out["value"] = v.value;
  if (v.expires) out["expires"] = format_rfc3339(*v.expires);
  if (!v.provenance.empty()) out["provenance"] = v.provenance;
  if (v.added) out["added"] = format_rfc3339(*v.added);
  if (!v.note.empty()) out["note"] = v.note;
  return out;
}

nlohmann::json reference_document_json(const std::vector<ReferenceValue>& values) {
  Json list = Json::array();
  for (const auto& v : values) list.push_back(reference_value_json(v));
  return Json{{"version", 1}, {"reference_values", std::move(list)}};
}

// --- the file backend -------------------------------------------------------

Result<MemoryReferenceStore> load_reference_file(const std::filesystem::path& path,
                                                 bool missing_ok) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) return fail(Errc::kIo, "cannot stat " + path.string() + ": " + ec.message());
    if (missing_ok) return MemoryReferenceStore();
    return fail(Errc::kNotFound, "reference value file " + path.string() + " does not exist");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::kIo, "cannot open " + path.string() + ": " + errno_text());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail(Errc::kIo, "cannot read " + path.string());
  auto values = parse_reference_document(text);
  if (!values) {
    Error e = std::move(values).error();
    e.message = path.string() + ": " + e.message;
    return Unexpected(std::move(e));
  }
  return MemoryReferenceStore(std::move(*values));
}

Result<void> save_reference_file(const ReferenceStore& store, const std::filesystem::path& path) {
  CONCIERGE_ASSIGN_OR_RETURN(Json document, store.export_json());
  const std::string text = document.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";

  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::string tmpl = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    return fail(Errc::kIo,
                "cannot create a temporary file in " + dir.string() + ": " + errno_text());
  auto abandon = [&](std::string what) {
    const std::string why = what + ": " + errno_text();
    ::close(fd);
    ::unlink(tmpl.c_str());
    return fail(Errc::kIo, why);
  };
  struct stat st {};
  const mode_t mode = ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
  if (::fchmod(fd, mode) != 0) return abandon("cannot set the mode of " + tmpl);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return abandon("cannot write " + tmpl);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return abandon("cannot flush " + tmpl);
  if (::close(fd) != 0) {
    const std::string why = "cannot close " + tmpl + ": " + errno_text();
    ::unlink(tmpl.c_str());
    return fail(Errc::kIo, why);
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    const std::string why = "cannot rename " + tmpl + " to " + path.string() + ": " + errno_text();
    ::unlink(tmpl.c_str());
    return fail(Errc::kIo, why);
  }
  // Make the rename itself durable; failing to open the folder is not fatal.
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace concierge::verifier
