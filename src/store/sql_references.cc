// SqlReferenceStore: reference values in the table reference_values.
//
// Matching follows reference_value_matches (hex compares without case), which
// SQL cannot express portably, so add_all and remove read the set's values
// and decide in C++, inside one write transaction.
#include <algorithm>

#include "store/sql_store.h"

namespace concierge::store {
namespace {

using verifier::ReferenceValue;

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The listing order of MemoryReferenceStore: name, then the value with hex
// strings folded to lowercase (then the value itself, for a total order).
std::string fold(const std::string& value) {
  std::string out = value;
  if (!out.empty() && std::all_of(out.begin(), out.end(), is_hex_digit)) {
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
      return c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c;
    });
  }
  return out;
}

sql::Value optional_time(const std::optional<TimePoint>& t) {
  if (!t) return std::monostate();
  return to_micros(*t);
}

// The stored values of set `name` that match `value` (all of them when nullopt).
Result<std::vector<std::string>> matching(sql::Connection& c, const std::string& name,
                                          std::optional<std::string_view> value) {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Outcome out,
                             c.run("SELECT value FROM reference_values WHERE name = $1", {name}));
  std::vector<std::string> found;
  for (const auto& row : out.rows) {
    CONCIERGE_ASSIGN_OR_RETURN(std::string stored, sql::text_at(row, 0));
    if (!value || verifier::reference_value_matches(stored, *value)) {
      found.push_back(std::move(stored));
    }
  }
  return found;
}

Result<std::size_t> delete_values(sql::Connection& c, const std::string& name,
                                  const std::vector<std::string>& values) {
  std::size_t removed = 0;
  for (const auto& v : values) {
    CONCIERGE_ASSIGN_OR_RETURN(
        sql::Outcome out,
        c.run("DELETE FROM reference_values WHERE name = $1 AND value = $2", {name, v}));
    removed += static_cast<std::size_t>(out.changes);
  }
  return removed;
}

// A row of (name, value, expires, provenance, added, note, ...).
Result<ReferenceValue> value_of(const sql::Row& row) {
  ReferenceValue v;
  CONCIERGE_ASSIGN_OR_RETURN(v.name, sql::text_at(row, 0));
  CONCIERGE_ASSIGN_OR_RETURN(v.value, sql::text_at(row, 1));
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<std::int64_t> expires, sql::optional_int_at(row, 2));
  if (expires) v.expires = from_micros(*expires);
  CONCIERGE_ASSIGN_OR_RETURN(v.provenance, sql::text_at(row, 3));
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<std::int64_t> added, sql::optional_int_at(row, 4));
  if (added) v.added = from_micros(*added);
  CONCIERGE_ASSIGN_OR_RETURN(v.note, sql::text_at(row, 5));
  return v;
}

std::string optional_time_text(const std::optional<TimePoint>& t) {
  return t ? std::to_string(to_micros(*t)) : std::string();
}

}  // namespace

Result<std::string> reference_mac(const SecretBox& kek, const ReferenceValue& v) {
  const std::string expires = optional_time_text(v.expires);
  const std::string added = optional_time_text(v.added);
  return kek.row_mac({"reference_values", v.name, v.value, expires, v.provenance, added, v.note});
}

Result<std::size_t> adopt_untagged_rows(sql::Database& database, const SecretBox& kek) {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Lease lease, database.acquire());
  sql::Connection& c = *lease;
  return sql::in_transaction(c, [&]() -> Result<std::size_t> {
    std::size_t adopted = 0;
    CONCIERGE_ASSIGN_OR_RETURN(sql::Outcome policies,
                               c.run("SELECT key, document FROM policies WHERE mac = ''"));
    for (const auto& row : policies.rows) {
      CONCIERGE_ASSIGN_OR_RETURN(std::string key, sql::text_at(row, 0));
      CONCIERGE_ASSIGN_OR_RETURN(std::string document, sql::text_at(row, 1));
      CONCIERGE_ASSIGN_OR_RETURN(std::string mac, policy_mac(kek, key, document));
      CONCIERGE_RETURN_IF_ERROR(c.run("UPDATE policies SET mac = $1 WHERE key = $2", {mac, key}));
      ++adopted;
    }
    CONCIERGE_ASSIGN_OR_RETURN(
        sql::Outcome refs,
        c.run("SELECT name, value, expires, provenance, added, note FROM reference_values "
              "WHERE mac = ''"));
    for (const auto& row : refs.rows) {
      CONCIERGE_ASSIGN_OR_RETURN(ReferenceValue v, value_of(row));
      CONCIERGE_ASSIGN_OR_RETURN(std::string mac, reference_mac(kek, v));
      CONCIERGE_RETURN_IF_ERROR(
          c.run("UPDATE reference_values SET mac = $1 WHERE name = $2 AND value = $3",
                {mac, v.name, v.value}));
      ++adopted;
    }
    return adopted;
  });
}

Result<void> SqlReferenceStore::add_all(std::vector<ReferenceValue> values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (auto ok = verifier::validate_reference_value(values[i]); !ok) {
      Error e = std::move(ok).error();
      if (values.size() > 1) e.message = "reference value " + std::to_string(i) + ": " + e.message;
      return Unexpected(std::move(e));
    }
  }
  if (values.empty()) return {};
  CONCIERGE_ASSIGN_OR_RETURN(sql::Lease lease, database_.acquire());
  sql::Connection& c = *lease;
  return sql::in_transaction(c, [&]() -> Result<void> {
    for (const auto& v : values) {
      CONCIERGE_ASSIGN_OR_RETURN(std::vector<std::string> same, matching(c, v.name, v.value));
      CONCIERGE_RETURN_IF_ERROR(delete_values(c, v.name, same));
      CONCIERGE_ASSIGN_OR_RETURN(std::string mac, reference_mac(kek_, v));
      CONCIERGE_RETURN_IF_ERROR(
          c.run("INSERT INTO reference_values (name, value, expires, provenance, added, note, mac) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                {v.name, v.value, optional_time(v.expires), v.provenance, optional_time(v.added),
                 v.note, std::move(mac)}));
    }
    return {};
  });
}

Result<std::size_t> SqlReferenceStore::remove(std::string_view name,
                                              std::optional<std::string_view> value) {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Lease lease, database_.acquire());
  sql::Connection& c = *lease;
  const std::string set(name);
  return sql::in_transaction(c, [&]() -> Result<std::size_t> {
    CONCIERGE_ASSIGN_OR_RETURN(std::vector<std::string> found, matching(c, set, value));
    return delete_values(c, set, found);
  });
}

Result<std::vector<ReferenceValue>> SqlReferenceStore::list(
    std::optional<std::string_view> name) const {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Lease lease, database_.acquire());
  constexpr std::string_view kColumns =
      "SELECT name, value, expires, provenance, added, note, mac FROM reference_values";
  auto out = name ? lease->run(std::string(kColumns) + " WHERE name = $1", {std::string(*name)})
                  : lease->run(kColumns);
  if (!out) return Unexpected(std::move(out).error());
  std::vector<ReferenceValue> list;
  list.reserve(out->rows.size());
  for (const auto& row : out->rows) {
    CONCIERGE_ASSIGN_OR_RETURN(ReferenceValue v, value_of(row));
    CONCIERGE_ASSIGN_OR_RETURN(std::string mac, sql::text_at(row, 6));
    CONCIERGE_ASSIGN_OR_RETURN(std::string want, reference_mac(kek_, v));
    if (want.size() != mac.size() || !equal_constant_time(as_bytes(want), as_bytes(mac))) {
      // A row someone wrote without the KEK: never compared with a claim.
      return fail(Errc::kCrypto, "store: reference value " + v.name +
                                     " fails its integrity check: it was not written with this "
                                     "broker's KEK (edited in the database?)");
    }
    list.push_back(std::move(v));
  }
  std::sort(list.begin(), list.end(), [](const ReferenceValue& a, const ReferenceValue& b) {
    if (a.name != b.name) return a.name < b.name;
    const std::string fa = fold(a.value), fb = fold(b.value);
    if (fa != fb) return fa < fb;
    return a.value < b.value;
  });
  return list;
}

}  // namespace concierge::store
