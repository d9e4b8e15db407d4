// The store's view of a SQL database (private to src/store): one small
// interface that the SQLite and PostgreSQL backends implement, so that the
// store's logic and its SQL are written once.
//
// Statements use PostgreSQL's numbered placeholders ($1, $2, ...); the
// SQLite backend rewrites them to its own ?1, ?2 form. Values always travel
// as bound parameters, never inside the SQL text.
//
// Thread safety: a Database may be shared by any number of threads; a
// Connection is used by one thread at a time, between acquire() and the end
// of its Lease.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge::store::sql {

enum class Dialect { kSqlite, kPostgres };

// NULL, an integer, text, or bytes (BLOB / BYTEA).
using Value = std::variant<std::monostate, std::int64_t, std::string, Bytes>;
using Row = std::vector<Value>;

struct Outcome {
  std::vector<Row> rows;
  std::int64_t changes = 0;  // rows inserted, updated or deleted
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  // Runs one statement. kIo with the database's message on failure.
  virtual Result<Outcome> run(std::string_view statement, const std::vector<Value>& params) = 0;
  Result<Outcome> run(std::string_view statement) { return run(statement, {}); }
  // Starts a write transaction: BEGIN IMMEDIATE on SQLite (takes the write
  // lock now, so the transaction never fails half-way for want of it), BEGIN
  // on PostgreSQL.
  virtual Result<void> begin_write() = 0;
  // Inside a write transaction: serialises schema migrations between
  // processes (a transaction-scoped advisory lock on PostgreSQL; SQLite's
  // write lock already does).
  virtual Result<void> lock_migrations() = 0;
  Result<void> commit();
  void rollback();  // best effort: errors are ignored
};

// A connection borrowed from a Database; given back when destroyed.
class Lease {
 public:
  Lease(Connection* connection, std::function<void(Connection*)> give_back)
      : connection_(connection), give_back_(std::move(give_back)) {}
  Lease(Lease&& other) noexcept
      : connection_(std::exchange(other.connection_, nullptr)),
        give_back_(std::move(other.give_back_)) {}
  Lease& operator=(Lease&&) = delete;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() {
    if (connection_ != nullptr && give_back_) give_back_(connection_);
  }
  Connection& operator*() const { return *connection_; }
  Connection* operator->() const { return connection_; }

 private:
  Connection* connection_;
  std::function<void(Connection*)> give_back_;
};

class Database {
 public:
  virtual ~Database() = default;
  virtual std::string_view backend() const = 0;  // "sqlite", "postgresql"
  // Waits for a free connection (reconnecting one the server dropped).
  virtual Result<Lease> acquire() = 0;
};

// `path`: a file (created with mode 0600 when absent) or ":memory:".
Result<std::unique_ptr<Database>> open_sqlite(std::string_view path);
// `conninfo`: a libpq connection URI or key=value string.
Result<std::unique_ptr<Database>> open_postgres(std::string_view conninfo);

// Runs `body` (returning some Result<T>) inside a write transaction:
// commits when it succeeds, rolls back when it or the commit fails.
template <typename Body>
auto in_transaction(Connection& c, Body&& body) -> decltype(body()) {
  CONCIERGE_RETURN_IF_ERROR(c.begin_write());
  auto result = body();
  if (!result) {
    c.rollback();
    return result;
  }
  if (auto committed = c.commit(); !committed) {
    c.rollback();
    return Unexpected(std::move(committed).error());
  }
  return result;
}

// Column readers for rows the store itself selected. A type the schema does
// not allow is kInternal (the database was changed under us).
Result<std::int64_t> int_at(const Row& row, std::size_t column);
Result<std::optional<std::int64_t>> optional_int_at(const Row& row, std::size_t column);
Result<std::string> text_at(const Row& row, std::size_t column);  // NULL reads as ""
Result<Bytes> bytes_at(const Row& row, std::size_t column);

}  // namespace concierge::store::sql
