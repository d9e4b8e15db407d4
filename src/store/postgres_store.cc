// The PostgreSQL backend: a small pool of libpq connections. Every statement
// goes through PQexecParams with its values as parameters (bytes in binary
// form), results come back as text and are typed by column OID. A connection
// the server dropped is reset when next borrowed; one left inside a
// transaction by a failure is rolled back when given back.
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <mutex>

#include "store/sql_database.h"

namespace concierge::store::sql {
namespace {

constexpr std::size_t kPoolSize = 4;
// Any fixed number: the key of the advisory lock that serialises migrations.
constexpr std::int64_t kMigrationLockKey = 0x436f6e63;  // "Conc"

// Type OIDs (pg_type.oid) of the columns the schema uses.
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

std::string trimmed(const char* text) {
  std::string s = text != nullptr ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

class PostgresConnection final : public Connection {
 public:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  using Connection::run;
  Dialect dialect() const override { return Dialect::kPostgres; }

  Result<Outcome> run(std::string_view statement, const std::vector<Value>& params) override {
    const std::string text(statement);
    std::vector<std::string> numbers;  // storage for integers as text
    numbers.reserve(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<int> lengths(params.size(), 0);
    std::vector<int> formats(params.size(), 0);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        numbers.push_back(std::to_string(*n));
        values[i] = numbers.back().c_str();
      } else if (const auto* t = std::get_if<std::string>(&v)) {
        values[i] = t->c_str();
      } else if (const auto* b = std::get_if<Bytes>(&v)) {
        static const char kEmpty = 0;
        values[i] = b->empty() ? &kEmpty : reinterpret_cast<const char*>(b->data());
        lengths[i] = static_cast<int>(b->size());
        formats[i] = 1;  // binary
      }
    }
    ResultPtr res(PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                               values.data(), lengths.data(), formats.data(), 0));
    if (!res) return fail(Errc::kIo, "postgresql: " + trimmed(PQerrorMessage(conn_)));
    const ExecStatusType status = PQresultStatus(res.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      // The primary message only: details may quote values.
      std::string message = trimmed(PQresultErrorField(res.get(), PG_DIAG_MESSAGE_PRIMARY));
      if (message.empty()) message = trimmed(PQerrorMessage(conn_));
      const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
      if (state != nullptr) message += std::string(" (SQLSTATE ") + state + ")";
      return fail(Errc::kIo, "postgresql: " + message);
    }
    Outcome out;
    const int rows = PQntuples(res.get());
    const int columns = PQnfields(res.get());
    out.rows.reserve(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      Row row;
      row.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(res.get(), r, c)) {
          row.emplace_back(std::monostate());
          continue;
        }
        const char* cell = PQgetvalue(res.get(), r, c);
        const auto size = static_cast<std::size_t>(PQgetlength(res.get(), r, c));
        const Oid type = PQftype(res.get(), c);
        if (type == kInt8Oid || type == kInt4Oid || type == kInt2Oid) {
          std::int64_t n = 0;
          const auto [end, ec] = std::from_chars(cell, cell + size, n);
          if (ec != std::errc() || end != cell + size) {
            return fail(Errc::kInternal,
                        "postgresql: integer column reads '" + std::string(cell, size) + "'");
          }
          row.emplace_back(n);
        } else if (type == kByteaOid) {
          std::size_t n = 0;
          unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(cell), &n);
          if (raw == nullptr) return fail(Errc::kIo, "postgresql: cannot decode a bytea value");
          row.emplace_back(Bytes(raw, raw + n));
          PQfreemem(raw);
        } else {
          row.emplace_back(std::string(cell, size));
        }
      }
      out.rows.push_back(std::move(row));
    }
    const char* tuples = PQcmdTuples(res.get());
    if (tuples != nullptr && *tuples != '\0') {
      std::from_chars(tuples, tuples + std::char_traits<char>::length(tuples), out.changes);
    }
    return out;
  }

  Result<void> begin_write() override {
    CONCIERGE_RETURN_IF_ERROR(run("BEGIN"));
    return {};
  }

  Result<void> lock_migrations() override {
    CONCIERGE_RETURN_IF_ERROR(run("SELECT pg_advisory_xact_lock($1)", {kMigrationLockKey}));
    return {};
  }

  // Ready for the next borrower: reconnected when the server dropped it.
  // Reading whatever arrived while it was idle (a server that ends a session
  // sends an error, then closes) notices a connection closed in the meantime.
  bool healthy() {
    for (int i = 0; i < 8 && PQstatus(conn_) == CONNECTION_OK; ++i) {
      pollfd p{PQsocket(conn_), POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) break;  // nothing arrived
      PQconsumeInput(conn_);             // sets CONNECTION_BAD at end of stream
    }
    if (PQstatus(conn_) == CONNECTION_OK) return true;
    PQreset(conn_);
    return PQstatus(conn_) == CONNECTION_OK;
  }

  // Called when given back: ends a transaction a failure left open.
  void settle() {
    if (PQstatus(conn_) != CONNECTION_OK) return;
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) rollback();
  }

 private:
  PGconn* conn_;
};

void ignore_notice(void*, const char*) {}

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  std::string_view backend() const override { return "postgresql"; }

  Result<std::unique_ptr<PostgresConnection>> connect() const {
    // Keywords before "dbname" are defaults the connection string may
    // override; "fallback_application_name" applies only when it names none.
    const char* keywords[] = {"connect_timeout", "dbname", "fallback_application_name", nullptr};
    const char* values[] = {"10", conninfo_.c_str(), "concierge", nullptr};
    PGconn* conn = PQconnectdbParams(keywords, values, 1);
    if (conn == nullptr) return fail(Errc::kIo, "postgresql: out of memory");
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string message = trimmed(PQerrorMessage(conn));
      PQfinish(conn);
      return fail(Errc::kIo, "postgresql: cannot connect: " + message);
    }
    PQsetNoticeProcessor(conn, ignore_notice, nullptr);
    return std::make_unique<PostgresConnection>(conn);
  }

  Result<Lease> acquire() override {
    std::unique_ptr<PostgresConnection> conn;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !idle_.empty() || open_ < kPoolSize; });
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
      } else {
        ++open_;
      }
    }
    if (conn && !conn->healthy()) {
      conn.reset();  // a fresh one below
    }
    if (!conn) {
      auto fresh = connect();
      if (!fresh) {
        std::lock_guard lock(mu_);
        --open_;
        cv_.notify_one();
        return Unexpected(std::move(fresh).error());
      }
      conn = std::move(*fresh);
    }
    PostgresConnection* raw = conn.release();
    return Lease(raw, [this](Connection* c) { give_back(static_cast<PostgresConnection*>(c)); });
  }

  ~PostgresDatabase() override {
    std::lock_guard lock(mu_);
    idle_.clear();
  }

 private:
  void give_back(PostgresConnection* c) {
    std::unique_ptr<PostgresConnection> conn(c);
    conn->settle();
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(conn));
    cv_.notify_one();
  }

  const std::string conninfo_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PostgresConnection>> idle_;
  std::size_t open_ = 0;  // connections in existence, idle or lent
};

}  // namespace

Result<std::unique_ptr<Database>> open_postgres(std::string_view conninfo) {
  auto db = std::make_unique<PostgresDatabase>(std::string(conninfo));
  {
    // Connect once now so that a bad URL or an unreachable server fails here.
    auto lease = db->acquire();
    if (!lease) return Unexpected(std::move(lease).error());
  }
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace concierge::store::sql
