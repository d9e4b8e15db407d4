#include "store/migrations.h"

#include <chrono>

namespace concierge::store {
namespace {

constexpr std::string_view kCreateMigrationTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)";

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void replace_all(std::string& text, std::string_view token, std::string_view with) {
  for (std::size_t at = text.find(token); at != std::string::npos;
       at = text.find(token, at + with.size())) {
    text.replace(at, token.size(), with);
  }
}

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
      {1,
       "resources, policies, sessions, attestations, audit, reference values",
       {
           "CREATE TABLE resources ("
           "path TEXT PRIMARY KEY, "
           "sealed {bytes} NOT NULL, "
           "kek_id TEXT NOT NULL, "
           "size BIGINT NOT NULL, "
           "updated BIGINT NOT NULL)",

           "CREATE TABLE policies ("
           "key TEXT PRIMARY KEY, "
           "document TEXT NOT NULL, "
           "updated BIGINT NOT NULL)",

           "CREATE TABLE sessions ("
           "id TEXT PRIMARY KEY, "
           "tee TEXT NOT NULL, "
           "nonce TEXT NOT NULL, "
           "created BIGINT NOT NULL, "
           "expires BIGINT NOT NULL, "
           "state TEXT NOT NULL CHECK (state IN ('challenged', 'attested')), "
           "token TEXT NOT NULL DEFAULT '', "
           "tee_pubkey TEXT NOT NULL DEFAULT '', "
           "status TEXT NOT NULL DEFAULT '', "
           "explanation TEXT NOT NULL DEFAULT '')",

           "CREATE INDEX sessions_by_expiry ON sessions (expires)",

           "CREATE TABLE attestations ("
           "id {id}, "
           "at BIGINT NOT NULL, "
           "session TEXT NOT NULL, "
           "tee TEXT NOT NULL, "
           "status TEXT NOT NULL, "
           "policy_id TEXT NOT NULL, "
           "detail TEXT NOT NULL)",

           "CREATE TABLE audit ("
           "id {id}, "
           "at BIGINT NOT NULL, "
           "actor TEXT NOT NULL, "
           "action TEXT NOT NULL, "
           "resource TEXT NOT NULL, "
           "outcome TEXT NOT NULL, "
           "rule TEXT NOT NULL, "
           "detail TEXT NOT NULL)",

           "CREATE TABLE reference_values ("
           "name TEXT NOT NULL, "
           "value TEXT NOT NULL, "
           "expires BIGINT, "
           "provenance TEXT NOT NULL, "
           "added BIGINT, "
           "note TEXT NOT NULL, "
           "PRIMARY KEY (name, value))",
       }},
      {2,
       "token ids already used (admin tokens are single-use)",
       {
           "CREATE TABLE used_tokens ("
           "id TEXT PRIMARY KEY, "
           "expires BIGINT NOT NULL)",

           "CREATE INDEX used_tokens_by_expiry ON used_tokens (expires)",
       }},
      {3,
       "integrity: policies and reference values carry an HMAC under a key derived from the "
       "KEK; sealed secrets a generation in their AAD",
       {
           "ALTER TABLE policies ADD COLUMN mac TEXT NOT NULL DEFAULT ''",
           "ALTER TABLE reference_values ADD COLUMN mac TEXT NOT NULL DEFAULT ''",
           "ALTER TABLE resources ADD COLUMN generation BIGINT NOT NULL DEFAULT 0",
       }},
  };
  return kMigrations;
}

int latest_schema_version() { return migrations().back().version; }

std::string dialect_sql(std::string_view statement, sql::Dialect dialect) {
  std::string out(statement);
  const bool sqlite = dialect == sql::Dialect::kSqlite;
  replace_all(out, "{id}", sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY");
  replace_all(out, "{bytes}", sqlite ? "BLOB" : "BYTEA");
  return out;
}

Result<int> read_schema_version(sql::Connection& connection) {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Outcome out,
                             connection.run("SELECT max(version) FROM schema_migrations"));
  if (out.rows.empty()) return 0;
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<std::int64_t> v, sql::optional_int_at(out.rows[0], 0));
  return static_cast<int>(v.value_or(0));
}

Result<int> migrate(sql::Database& database, std::vector<int>* applied, int* from) {
  const int latest = latest_schema_version();
  bool first = true;
  for (;;) {
    CONCIERGE_ASSIGN_OR_RETURN(sql::Lease lease, database.acquire());
    sql::Connection& c = *lease;
    int version = 0;
    bool done = false;
    auto step = sql::in_transaction(c, [&]() -> Result<void> {
      CONCIERGE_RETURN_IF_ERROR(c.lock_migrations());
      CONCIERGE_RETURN_IF_ERROR(c.run(kCreateMigrationTable));
      CONCIERGE_ASSIGN_OR_RETURN(version, read_schema_version(c));
      if (first && from != nullptr) *from = version;
      first = false;
      if (version > latest) {
        return fail(Errc::kUnsupported, "the database's schema version " + std::to_string(version) +
                                            " is newer than this program's (" +
                                            std::to_string(latest) + "); upgrade the program");
      }
      const Migration* next = nullptr;
      for (const auto& m : migrations()) {
        if (m.version > version) {
          next = &m;
          break;
        }
      }
      if (next == nullptr) {
        done = true;
        return {};
      }
      for (std::string_view statement : next->statements) {
        auto ran = c.run(dialect_sql(statement, c.dialect()));
        if (!ran) {
          Error e = std::move(ran).error();
          e.message = "schema migration " + std::to_string(next->version) + ": " + e.message;
          return Unexpected(std::move(e));
        }
      }
      CONCIERGE_RETURN_IF_ERROR(
          c.run("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                {std::int64_t{next->version}, now_micros()}));
      version = next->version;
      if (applied != nullptr) applied->push_back(version);
      return {};
    });
    if (!step) return Unexpected(std::move(step).error());
    if (done) return version;
  }
}

}  // namespace concierge::store
