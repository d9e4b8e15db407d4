// The store's schema, as an ordered list of migrations shared by both
// backends (private to src/store).
//
// Each migration is a list of statements written once; two tokens stand for
// what the dialects spell differently: {id} (an auto-assigned, never reused
// 64-bit key: INTEGER PRIMARY KEY AUTOINCREMENT / BIGSERIAL PRIMARY KEY) and
// {bytes} (BLOB / BYTEA). Times are integer microseconds since the Unix
// epoch, UTC.
//
// The table schema_migrations(version, applied_at) records what has been
// applied. migrate() applies each missing migration in its own write
// transaction, holding the migration lock (Connection::lock_migrations) and
// re-reading the version inside it, so that processes opening one database
// at once apply each migration exactly once. A database at a version newer
// than the newest known here is refused (kUnsupported) and left untouched.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "concierge/core/result.h"
#include "store/sql_database.h"

namespace concierge::store {

struct Migration {
  int version;
  std::string_view summary;
  std::vector<std::string_view> statements;
};

// In increasing version order, starting at 1.
const std::vector<Migration>& migrations();
int latest_schema_version();

// `statement` with the dialect's spelling of {id} and {bytes}.
std::string dialect_sql(std::string_view statement, sql::Dialect dialect);

// The highest version in schema_migrations; 0 when it is empty.
Result<int> read_schema_version(sql::Connection& connection);

// Brings the database up to latest_schema_version(); returns the version.
// `applied`, when given, receives the versions this call applied, and
// `from` the version the database had before (0 for a new one).
Result<int> migrate(sql::Database& database, std::vector<int>* applied = nullptr,
                    int* from = nullptr);

}  // namespace concierge::store
