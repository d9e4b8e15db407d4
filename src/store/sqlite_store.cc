// The SQLite backend: one connection to one file in WAL mode, guarded by a
// mutex (SQLite serialises writers anyway), with a cache of prepared
// statements. Other processes (replicas on the same host) open the same file
// and wait for its write lock up to the busy timeout.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "store/sql_database.h"

namespace concierge::store::sql {
namespace {

constexpr int kBusyTimeoutMs = 5000;

// $1, $2, ... become ?1, ?2, ... (the store's SQL has no '$' elsewhere).
std::string to_sqlite_placeholders(std::string_view statement) {
  std::string out(statement);
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && out[i + 1] >= '0' && out[i + 1] <= '9') out[i] = '?';
  }
  return out;
}

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [text, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  using Connection::run;
  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<Outcome> run(std::string_view statement, const std::vector<Value>& params) override {
    CONCIERGE_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, prepare(statement));
    // Leave the statement reset and unbound however this ends, so that a
    // cached statement never holds a read snapshot or a bound value.
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};

    for (std::size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      const Value& v = params[i];
      if (std::holds_alternative<std::monostate>(v)) {
        rc = sqlite3_bind_null(stmt, index);
      } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* t = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(stmt, index, t->data(), t->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      } else {
        const Bytes& b = std::get<Bytes>(v);
        rc = b.empty() ? sqlite3_bind_zeroblob(stmt, index, 0)
                       : sqlite3_bind_blob64(stmt, index, b.data(), b.size(), SQLITE_TRANSIENT);
      }
      if (rc != SQLITE_OK) return error("cannot bind a parameter");
    }

    Outcome out;
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return error("statement failed");
      const int columns = sqlite3_column_count(stmt);
      Row row;
      row.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER:
            row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_NULL:
            row.emplace_back(std::monostate());
            break;
          case SQLITE_BLOB: {
            const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, c));
            const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, c));
            row.emplace_back(p == nullptr ? Bytes() : Bytes(p, p + n));
            break;
          }
          default: {  // TEXT (and FLOAT, which the schema does not use)
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, c));
            row.emplace_back(p == nullptr ? std::string() : std::string(p, n));
            break;
          }
        }
      }
      out.rows.push_back(std::move(row));
    }
    if (!sqlite3_stmt_readonly(stmt)) out.changes = sqlite3_changes64(db_);
    return out;
  }

  Result<void> begin_write() override {
    CONCIERGE_RETURN_IF_ERROR(run("BEGIN IMMEDIATE"));
    return {};
  }

  Result<void> lock_migrations() override { return {}; }

  Unexpected error(const std::string& what) const {
    return fail(Errc::kIo, "sqlite: " + what + ": " + sqlite3_errmsg(db_));
  }

 private:
  Result<sqlite3_stmt*> prepare(std::string_view statement) {
    std::string key(statement);
    if (auto it = statements_.find(key); it != statements_.end()) return it->second;
    const std::string text = to_sqlite_placeholders(statement);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size() + 1),
                           SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK ||
        stmt == nullptr) {
      return error("cannot prepare a statement");
    }
    statements_.emplace(std::move(key), stmt);
    return stmt;
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(std::unique_ptr<SqliteConnection> connection)
      : connection_(std::move(connection)) {}
  std::string_view backend() const override { return "sqlite"; }
  Result<Lease> acquire() override {
    mu_.lock();
    return Lease(connection_.get(), [this](Connection*) { mu_.unlock(); });
  }

 private:
  std::mutex mu_;
  std::unique_ptr<SqliteConnection> connection_;
};

// Creates the file with mode 0600 when absent: the database holds sealed
// secrets, session tokens and the audit log. SQLite gives its -wal and -shm
// files the database file's permissions.
Result<void> create_private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return {};
  }
  if (errno == EEXIST) return {};
  return fail(Errc::kIo, "sqlite: cannot create " + path + ": " + std::strerror(errno));
}

}  // namespace

Result<std::unique_ptr<Database>> open_sqlite(std::string_view path) {
  if (path.empty()) return fail(Errc::kInvalidArgument, "sqlite: empty database path");
  const std::string file(path);
  if (file != ":memory:") CONCIERGE_RETURN_IF_ERROR(create_private_file(file));
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(file.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return fail(Errc::kIo, "sqlite: cannot open " + file + ": " + message);
  }
  auto connection = std::make_unique<SqliteConnection>(db);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  auto journal = connection->run("PRAGMA journal_mode=WAL");
  if (!journal) return Unexpected(std::move(journal).error());
  if (file != ":memory:") {
    const std::string mode =
        journal->rows.empty() ? std::string() : text_at(journal->rows[0], 0).value_or("");
    if (mode != "wal") {
      return fail(Errc::kIo,
                  "sqlite: " + file + " cannot use WAL mode (journal mode " + mode + ")");
    }
  }
  for (const char* pragma : {"PRAGMA foreign_keys=ON", "PRAGMA synchronous=FULL"}) {
    CONCIERGE_RETURN_IF_ERROR(connection->run(pragma));
  }
  return std::unique_ptr<Database>(std::make_unique<SqliteDatabase>(std::move(connection)));
}

}  // namespace concierge::store::sql
