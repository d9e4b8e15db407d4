// The Store contract, run against both backends: SQLite in a temporary
// folder and PostgreSQL on a throwaway server (support/postgres.h).
#include "concierge/store/store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "concierge/core/encoding.h"
#include "concierge/core/time.h"
#include "support/postgres.h"
#include "support/vectors.h"

namespace concierge::store {
namespace {

using verifier::ReferenceValue;

TimePoint at(const char* text) { return parse_rfc3339(text).value(); }

Bytes key(std::uint8_t fill) { return Bytes(32, fill); }

ResourceId rid(std::string repo, std::string type, std::string tag) {
  return ResourceId{std::move(repo), std::move(type), std::move(tag)};
}

bool contains(ByteView haystack, ByteView needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

Session challenged(std::string id, std::string nonce, TimePoint expires) {
  Session s;
  s.id = std::move(id);
  s.tee = "snp";
  s.nonce = std::move(nonce);
  s.created = at("2026-01-01T00:00:00Z");
  s.expires = expires;
  return s;
}

ReferenceValue ref(std::string name, std::string value) {
  ReferenceValue v;
  v.name = std::move(name);
  v.value = std::move(value);
  return v;
}

// ---- Raw access through each backend's own client library. --------------------

struct Raw {
  std::vector<Bytes> column;  // the first column of every row, as bytes
  bool ok = false;
  std::string error;
};

Raw sqlite_query(const std::string& path, const std::string& statement) {
  Raw raw;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    raw.error = db ? sqlite3_errmsg(db) : "open failed";
    sqlite3_close(db);
    return raw;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, statement.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    raw.error = sqlite3_errmsg(db);
    sqlite3_close(db);
    return raw;
  }
  int rc = 0;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, 0));
    const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0));
    raw.column.push_back(p ? Bytes(p, p + n) : Bytes());
  }
  raw.ok = rc == SQLITE_DONE;
  if (!raw.ok) raw.error = sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return raw;
}

Raw postgres_query(const std::string& url, const std::string& statement) {
  Raw raw;
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    raw.error = PQerrorMessage(conn);
    PQfinish(conn);
    return raw;
  }
  // Binary results: a bytea column comes back as its raw bytes.
  PGresult* res = PQexecParams(conn, statement.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 1);
  const auto status = PQresultStatus(res);
  raw.ok = status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK;
  if (!raw.ok) raw.error = PQerrorMessage(conn);
  for (int r = 0; raw.ok && r < PQntuples(res); ++r) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(PQgetvalue(res, r, 0));
    raw.column.emplace_back(p, p + PQgetlength(res, r, 0));
  }
  PQclear(res);
  PQfinish(conn);
  return raw;
}

// A temporary folder in memory (/dev/shm) when there is one: SQLite's
// fsync at each commit then costs nothing, which keeps the suite fast.
class FastTempDir {
 public:
  FastTempDir() {
    std::error_code ec;
    if (std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) {
      std::string tmpl = "/dev/shm/concierge-store-XXXXXX";
      if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
    }
    if (path_.empty()) {
      fallback_ = std::make_unique<testing::TempDir>();
      path_ = fallback_->path();
    }
  }
  ~FastTempDir() {
    std::error_code ec;
    if (!fallback_) std::filesystem::remove_all(path_, ec);
  }
  FastTempDir(const FastTempDir&) = delete;
  FastTempDir& operator=(const FastTempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::unique_ptr<testing::TempDir> fallback_;
};

// How a race ended: attempts that won (returned true) and that failed.
struct RaceOutcome {
  int wins = 0;
  int errors = 0;
};

// Runs `attempt(store, thread)` on `threads` threads released at once,
// thread t on stores[t % stores.size()] (replicas take turns).
RaceOutcome race(const std::vector<Store*>& stores, int threads,
                 const std::function<Result<bool>(Store&, int)>& attempt) {
  std::latch start(threads);
  std::atomic<int> wins{0}, errors{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      Store& s = *stores[static_cast<std::size_t>(t) % stores.size()];
      start.arrive_and_wait();
      auto r = attempt(s, t);
      if (!r) {
        ++errors;
      } else if (*r) {
        ++wins;
      }
    });
  }
  for (auto& t : pool) t.join();
  return {wins.load(), errors.load()};
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      dir_ = std::make_unique<FastTempDir>();
      db_path_ = (dir_->path() / "store.db").string();
      url_ = "sqlite:" + db_path_;
    } else {
      CONCIERGE_REQUIRE_POSTGRES(database);
      url_ = *database;
    }
    store_ = open(key(0xa1));
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<Store> open(const Bytes& kek) {
    auto box = SecretBox::from_key(kek);
    EXPECT_TRUE(box);
    if (!box) return nullptr;
    auto store = open_store(url_, std::move(*box));
    EXPECT_TRUE(store) << store.error().to_string();
    if (!store) return nullptr;
    return std::move(*store);
  }

  bool sqlite() const { return GetParam() == "sqlite"; }

  // `statement` run by the backend's own client, outside the Store.
  Raw raw(const std::string& statement) const {
    return sqlite() ? sqlite_query(db_path_, statement) : postgres_query(url_, statement);
  }

  std::unique_ptr<FastTempDir> dir_;
  std::string db_path_;
  std::string url_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param_info) { return param_info.param; });

// ---- Opening and migrations ---------------------------------------------------------

TEST_P(StoreTest, OpensAtTheLatestSchemaAndReopensIdempotently) {
  EXPECT_EQ(store_->backend(), GetParam());
  auto version = store_->schema_version();
  ASSERT_TRUE(version) << version.error().to_string();
  EXPECT_EQ(*version, 3);
  ASSERT_TRUE(store_->set_policy("release:default", "{}"));

  for (int i = 0; i < 2; ++i) {
    auto again = open(key(0xa1));
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(again->schema_version().value_or(-1), 3);
    EXPECT_EQ(again->get_policy("release:default").value_or(std::nullopt), "{}");
  }
  auto rows = raw("SELECT version FROM schema_migrations");
  ASSERT_TRUE(rows.ok) << rows.error;
  EXPECT_EQ(rows.column.size(), 3u);  // each migration recorded once
}

TEST_P(StoreTest, MigratesADatabaseOfTheFirstSchema) {
  // The database as the first release left it: schema 1, with data (a
  // secret sealed under its path alone).
  const auto box = SecretBox::from_key(key(0xa1)).value();
  const std::string sealed_hex =
      hex_encode(box.seal(as_bytes("an old secret"), "default/disk/old").value());
  const std::string blob =
      sqlite() ? "X'" + sealed_hex + "'" : "decode('" + sealed_hex + "', 'hex')";
  const std::string old_secret =
      "INSERT INTO resources (path, sealed, kek_id, size, updated) VALUES ('default/disk/old', " +
      blob + ", '" + box.id() + "', 13, 0)";
  store_.reset();
  for (const std::string& statement :
       {std::string("DROP TABLE used_tokens"),
        std::string("DELETE FROM schema_migrations WHERE version >= 2"),
        std::string("ALTER TABLE policies DROP COLUMN mac"),
        std::string("ALTER TABLE reference_values DROP COLUMN mac"),
        std::string("ALTER TABLE resources DROP COLUMN generation"),
        std::string("INSERT INTO policies (key, document, updated) "
                    "VALUES ('release:default', '{}', 0)"),
        std::string("INSERT INTO reference_values (name, value, provenance, note) "
                    "VALUES ('snp.measurement', 'ab', 'first release', '')"),
        old_secret}) {
    auto done = raw(statement);
    ASSERT_TRUE(done.ok) << statement << ": " << done.error;
  }
  store_ = open(key(0xa1));
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->schema_version().value_or(-1), 3);
  // The rows the owner wrote before integrity tags existed are adopted at
  // the upgrade, once; the secret sealed under its path alone still opens.
  EXPECT_EQ(store_->get_policy("release:default").value_or(std::nullopt), "{}");
  auto refs = store_->references().list();
  ASSERT_TRUE(refs) << refs.error().to_string();
  EXPECT_EQ(refs->size(), 1u);
  auto secret = store_->get_resource(rid("default", "disk", "old"));
  ASSERT_TRUE(secret) << secret.error().to_string();
  ASSERT_TRUE(secret->has_value());
  EXPECT_EQ(std::string(as_chars(**secret)), "an old secret");
  const TimePoint now = at("2026-01-01T00:00:00Z");
  EXPECT_TRUE(store_->use_token_id("t", now + std::chrono::minutes(5), now).value());
}

TEST_P(StoreTest, RefusesADatabaseFromANewerProgram) {
  auto inserted = raw("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)");
  ASSERT_TRUE(inserted.ok) << inserted.error;
  auto box = SecretBox::from_key(key(0xa1)).value();
  auto newer = open_store(url_, std::move(box));
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.error().code, Errc::kUnsupported);
  EXPECT_NE(newer.error().message.find("99"), std::string::npos) << newer.error().message;
  auto rows = raw("SELECT version FROM schema_migrations");
  ASSERT_TRUE(rows.ok);
  EXPECT_EQ(rows.column.size(), 4u);  // nothing written
}

TEST_P(StoreTest, OpensConcurrentlyFromManyThreads) {
  store_.reset();
  std::string fresh_url;
  if (sqlite()) {
    fresh_url = "sqlite:" + (dir_->path() / "fresh.db").string();
  } else {
    CONCIERGE_REQUIRE_POSTGRES(database);
    fresh_url = *database;
  }
  constexpr int kThreads = 4;
  std::latch start(kThreads);
  std::atomic<int> opened{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      auto box = SecretBox::from_key(key(0xa1)).value();
      start.arrive_and_wait();
      auto s = open_store(fresh_url, std::move(box));
      EXPECT_TRUE(s) << s.error().to_string();
      if (s && (*s)->schema_version().value_or(0) == 3) ++opened;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened.load(), kThreads);
}

// ---- Resources ------------------------------------------------------------------------

TEST_P(StoreTest, PutsGetsReplacesListsAndDeletesResources) {
  const ResourceId a = rid("default", "key", "a");
  const ResourceId b = rid("default", "cert", "b");
  const std::string first = "first secret";
  ASSERT_TRUE(store_->put_resource(a, as_bytes(first)));
  ASSERT_TRUE(store_->put_resource(b, as_bytes("bb")));

  auto got = store_->get_resource(a);
  ASSERT_TRUE(got) << got.error().to_string();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(as_chars(**got), first);

  const std::string second = "the second, longer secret";
  ASSERT_TRUE(store_->put_resource(a, as_bytes(second)));
  got = store_->get_resource(a);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(as_chars(**got), second);

  auto list = store_->list_resources();
  ASSERT_TRUE(list) << list.error().to_string();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, b);  // sorted by path: "default/cert/b" < "default/key/a"
  EXPECT_EQ((*list)[0].size, 2u);
  EXPECT_EQ((*list)[1].id, a);
  EXPECT_EQ((*list)[1].size, second.size());
  EXPECT_EQ((*list)[1].kek_id, SecretBox::from_key(key(0xa1))->id());
  const auto age = std::chrono::system_clock::now() - (*list)[1].updated;
  EXPECT_LT(std::chrono::abs(age), std::chrono::minutes(1));

  auto deleted = store_->delete_resource(a);
  ASSERT_TRUE(deleted);
  EXPECT_TRUE(*deleted);
  deleted = store_->delete_resource(a);
  ASSERT_TRUE(deleted);
  EXPECT_FALSE(*deleted);
  got = store_->get_resource(a);
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());
  EXPECT_EQ(store_->list_resources()->size(), 1u);
}

TEST_P(StoreTest, RefusesBadResourcesAndValues) {
  auto empty = store_->put_resource(rid("r", "t", "x"), {});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Errc::kInvalidArgument);
  const Bytes big(1024 * 1024 + 1, 'x');
  auto too_big = store_->put_resource(rid("r", "t", "x"), big);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(store_->put_resource(rid("r", "t", "x"), ByteView(big.data(), 1024 * 1024)));

  for (const ResourceId& bad : {rid("", "t", "x"), rid("r", "..", "x"), rid("r", "t", "a/b"),
                                rid("r", "t", "sp ace"), rid("r", "t", std::string(129, 'a'))}) {
    auto put = store_->put_resource(bad, as_bytes("v"));
    ASSERT_FALSE(put) << bad.path();
    EXPECT_EQ(put.error().code, Errc::kInvalidArgument);
    auto get = store_->get_resource(bad);
    ASSERT_FALSE(get);
    EXPECT_EQ(get.error().code, Errc::kInvalidArgument);
  }
}

TEST_P(StoreTest, KeepsSecretsSealedAtRest) {
  const std::string secret = "correct horse battery staple 0123456789";
  ASSERT_TRUE(store_->put_resource(rid("default", "key", "db"), as_bytes(secret)));
  auto rows = raw("SELECT sealed FROM resources");
  ASSERT_TRUE(rows.ok) << rows.error;
  ASSERT_EQ(rows.column.size(), 1u);
  const Bytes& sealed = rows.column[0];
  EXPECT_EQ(sealed.size(), 1 + 12 + secret.size() + 16);
  EXPECT_EQ(sealed[0], 1);
  EXPECT_FALSE(contains(sealed, as_bytes(secret)));
  EXPECT_FALSE(contains(sealed, as_bytes(secret.substr(0, 8))));
  // Nor is the KEK stored anywhere: only its id.
  auto ids = raw("SELECT kek_id FROM resources");
  ASSERT_TRUE(ids.ok);
  EXPECT_EQ(as_chars(ids.column[0]), SecretBox::from_key(key(0xa1))->id());
  if (sqlite()) {
    // The files themselves (database and write-ahead log).
    for (const char* suffix : {"", "-wal"}) {
      const Bytes file = testing::read_file(db_path_ + suffix);
      EXPECT_FALSE(contains(file, as_bytes(secret))) << suffix;
      EXPECT_FALSE(contains(file, key(0xa1))) << suffix;
    }
  }
}

TEST_P(StoreTest, AValueSealedUnderAnotherKekIsACryptoError) {
  ASSERT_TRUE(store_->put_resource(rid("default", "key", "a"), as_bytes("secret")));
  auto other = open(key(0xb2));
  ASSERT_NE(other, nullptr);
  auto got = other->get_resource(rid("default", "key", "a"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::kCrypto);
  const std::string& message = got.error().message;
  EXPECT_NE(message.find(SecretBox::from_key(key(0xa1))->id()), std::string::npos) << message;
  EXPECT_NE(message.find(SecretBox::from_key(key(0xb2))->id()), std::string::npos) << message;
  EXPECT_EQ(message.find(hex_encode(key(0xb2))), std::string::npos);
  EXPECT_EQ(message.find("secret"), std::string::npos);
  // Still listed, and replaceable under the new KEK.
  EXPECT_EQ(other->list_resources()->size(), 1u);
  ASSERT_TRUE(other->put_resource(rid("default", "key", "a"), as_bytes("new")));
  EXPECT_EQ(as_chars(**other->get_resource(rid("default", "key", "a"))), "new");
}

TEST_P(StoreTest, AValueMovedToAnotherResourceDoesNotOpen) {
  ASSERT_TRUE(store_->put_resource(rid("default", "key", "a"), as_bytes("secret")));
  auto moved = raw("UPDATE resources SET path = 'default/key/b' WHERE path = 'default/key/a'");
  ASSERT_TRUE(moved.ok) << moved.error;
  auto got = store_->get_resource(rid("default", "key", "b"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::kCrypto);
}

// ---- Policies -------------------------------------------------------------------------

TEST_P(StoreTest, StoresPoliciesByKey) {
  ASSERT_TRUE(store_->set_policy("resource:default/key/a", R"({"allow":true})"));
  ASSERT_TRUE(store_->set_policy("attestation:snp", "{}"));
  ASSERT_TRUE(store_->set_policy("release:default", "[]"));
  EXPECT_EQ(store_->get_policy("resource:default/key/a").value(),
            std::optional<std::string>(R"({"allow":true})"));
  ASSERT_TRUE(store_->set_policy("resource:default/key/a", R"({"allow":false})"));
  EXPECT_EQ(store_->get_policy("resource:default/key/a").value(),
            std::optional<std::string>(R"({"allow":false})"));
  EXPECT_EQ(store_->get_policy("missing").value(), std::nullopt);

  auto keys = store_->list_policy_keys();
  ASSERT_TRUE(keys);
  EXPECT_EQ(*keys, (std::vector<std::string>{"attestation:snp", "release:default",
                                             "resource:default/key/a"}));
  EXPECT_TRUE(store_->delete_policy("attestation:snp").value());
  EXPECT_FALSE(store_->delete_policy("attestation:snp").value());
  EXPECT_EQ(store_->list_policy_keys()->size(), 2u);

  auto empty = store_->set_policy("", "{}");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Errc::kInvalidArgument);
}

// ---- Sessions -------------------------------------------------------------------------

TEST_P(StoreTest, CreatesAndReadsSessions) {
  Session s = challenged("session-1", "bm9uY2U=", at("2026-01-01T00:05:00Z"));
  s.created += std::chrono::microseconds(123456);  // microseconds survive
  ASSERT_TRUE(store_->create_session(s));
  auto got = store_->get_session("session-1");
  ASSERT_TRUE(got) << got.error().to_string();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->id, s.id);
  EXPECT_EQ((*got)->tee, "snp");
  EXPECT_EQ((*got)->nonce, s.nonce);
  EXPECT_EQ((*got)->created, s.created);
  EXPECT_EQ((*got)->expires, s.expires);
  EXPECT_EQ((*got)->state, SessionState::kChallenged);
  EXPECT_EQ((*got)->token, "");

  auto duplicate = store_->create_session(challenged("session-1", "other", s.expires));
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(duplicate.error().message.find("session-1"), std::string::npos);
  EXPECT_EQ((*store_->get_session("session-1"))->nonce, s.nonce);  // unchanged

  EXPECT_FALSE(store_->get_session("session-2")->has_value());
}

TEST_P(StoreTest, ConsumesAChallengeOnceOnly) {
  const TimePoint expires = at("2026-01-01T00:05:00Z");
  const TimePoint before = at("2026-01-01T00:01:00Z");
  ASSERT_TRUE(store_->create_session(challenged("s", "nonce", expires)));

  EXPECT_FALSE(store_->consume_challenge("s", "wrong", before).value());
  EXPECT_FALSE(store_->consume_challenge("unknown", "nonce", before).value());
  EXPECT_EQ((*store_->get_session("s"))->state, SessionState::kChallenged);

  EXPECT_TRUE(store_->consume_challenge("s", "nonce", before).value());
  EXPECT_EQ((*store_->get_session("s"))->state, SessionState::kAttested);
  EXPECT_FALSE(store_->consume_challenge("s", "nonce", before).value());
}

TEST_P(StoreTest, AnExpiredChallengeCannotBeConsumed) {
  const TimePoint expires = at("2026-01-01T00:05:00Z");
  ASSERT_TRUE(store_->create_session(challenged("s", "nonce", expires)));
  EXPECT_FALSE(store_->consume_challenge("s", "nonce", expires).value());  // at the deadline
  EXPECT_FALSE(store_->consume_challenge("s", "nonce", expires + std::chrono::seconds(1)).value());
  EXPECT_TRUE(
      store_->consume_challenge("s", "nonce", expires - std::chrono::microseconds(1)).value());
}

TEST_P(StoreTest, OneOfManyConcurrentConsumersWins) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 5;
  const TimePoint expires = at("2026-01-01T00:05:00Z");
  const TimePoint now = at("2026-01-01T00:01:00Z");
  for (int round = 0; round < kRounds; ++round) {
    const std::string id = "race-" + std::to_string(round);
    ASSERT_TRUE(store_->create_session(challenged(id, "n", expires)));
    const RaceOutcome r = race({store_.get()}, kThreads,
                               [&](Store& st, int) { return st.consume_challenge(id, "n", now); });
    EXPECT_EQ(r.wins, 1) << "round " << round;
    EXPECT_EQ(r.errors, 0) << "round " << round;
  }
}

TEST_P(StoreTest, FinishesAndPurgesSessions) {
  const TimePoint expires = at("2026-01-01T00:05:00Z");
  const TimePoint now = at("2026-01-01T00:01:00Z");
  ASSERT_TRUE(store_->create_session(challenged("s", "n", expires)));

  Session outcome = challenged("s", "n", at("2026-01-01T01:00:00Z"));
  outcome.state = SessionState::kAttested;
  outcome.token = "eyJ.token.sig";
  outcome.tee_pubkey = R"({"kty":"EC"})";
  outcome.status = "affirming";
  auto early = store_->finish_session(outcome);
  ASSERT_FALSE(early);  // the challenge has not been used
  EXPECT_EQ(early.error().code, Errc::kInvalidArgument);

  ASSERT_TRUE(store_->consume_challenge("s", "n", now).value());
  ASSERT_TRUE(store_->finish_session(outcome));
  auto got = store_->get_session("s").value();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, SessionState::kAttested);
  EXPECT_EQ(got->token, outcome.token);
  EXPECT_EQ(got->tee_pubkey, outcome.tee_pubkey);
  EXPECT_EQ(got->status, "affirming");
  EXPECT_EQ(got->explanation, "");
  EXPECT_EQ(got->expires, outcome.expires);
  EXPECT_EQ(got->nonce, "n");

  Session missing = outcome;
  missing.id = "nope";
  auto not_found = store_->finish_session(missing);
  ASSERT_FALSE(not_found);
  EXPECT_EQ(not_found.error().code, Errc::kNotFound);

  ASSERT_TRUE(store_->create_session(challenged("old", "n", at("2026-01-01T00:00:10Z"))));
  ASSERT_TRUE(store_->create_session(challenged("edge", "n", at("2026-01-01T00:00:20Z"))));
  auto purged = store_->purge_sessions(at("2026-01-01T00:00:20Z"));  // at or before
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 2u);
  EXPECT_FALSE(store_->get_session("old")->has_value());
  EXPECT_TRUE(store_->get_session("s")->has_value());
  EXPECT_EQ(store_->purge_sessions(at("2026-01-01T00:00:20Z")).value(), 0u);
}

// Two Store objects on one database: two processes, or two replicas.
// attest_session: the challenge used and the outcome stored in one commit.
TEST_P(StoreTest, AttestsASessionInOneTransaction) {
  const TimePoint now = at("2026-01-01T00:01:00Z");
  const TimePoint expires = at("2026-01-01T00:05:00Z");
  ASSERT_TRUE(store_->create_session(challenged("s", "n", expires)));
  Session outcome = challenged("s", "n", at("2026-01-01T01:00:00Z"));
  outcome.token = "eyJ.token.sig";
  outcome.tee_pubkey = R"({"kty":"EC"})";
  outcome.status = "affirming";
  AttestationRecord record;
  record.at = now;
  record.session = "s";
  record.tee = "snp";
  record.status = "affirming";
  record.detail = "{}";
  AuditEntry audit;
  audit.at = now;
  audit.actor = "session:s";
  audit.action = "attest";
  audit.outcome = "affirming";
  const auto nothing_written = [&] {
    EXPECT_TRUE(store_->list_attestations(10).value().empty());
    EXPECT_TRUE(store_->list_audit(10).value().empty());
    const auto s = store_->get_session("s").value();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->state, SessionState::kChallenged);
    EXPECT_TRUE(s->token.empty());
  };

  // Another nonce, the deadline, another session: nothing changes.
  auto wrong = store_->attest_session(outcome, "other", now, record, audit);
  ASSERT_TRUE(wrong) << wrong.error().to_string();
  EXPECT_FALSE(*wrong);
  auto late = store_->attest_session(outcome, "n", expires, record, audit);
  ASSERT_TRUE(late);
  EXPECT_FALSE(*late);
  Session stranger = outcome;
  stranger.id = "unknown";
  auto unknown = store_->attest_session(stranger, "n", now, record, audit);
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);
  nothing_written();

  auto id = store_->attest_session(outcome, "n", now, record, audit);
  ASSERT_TRUE(id) << id.error().to_string();
  ASSERT_TRUE(*id);
  const auto records = store_->list_attestations(10).value();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].id, **id);
  EXPECT_EQ(store_->list_audit(10).value().size(), 1u);
  const auto stored = store_->get_session("s").value();
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->state, SessionState::kAttested);
  EXPECT_EQ(stored->token, "eyJ.token.sig");
  EXPECT_EQ(stored->tee_pubkey, R"({"kty":"EC"})");
  EXPECT_EQ(stored->expires, at("2026-01-01T01:00:00Z"));

  // Used once: a second attempt changes nothing.
  outcome.token = "eyJ.second.sig";
  auto again = store_->attest_session(outcome, "n", now, record, audit);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_EQ(store_->list_attestations(10).value().size(), 1u);
  EXPECT_EQ(store_->get_session("s").value()->token, "eyJ.token.sig");
  EXPECT_FALSE(store_->consume_challenge("s", "n", now).value());
}

TEST_P(StoreTest, OfConcurrentAttemptsOnReplicasOneAttestsTheSession) {
  auto replica = open(key(0xa1));
  ASSERT_NE(replica, nullptr);
  const TimePoint now = at("2026-01-01T00:01:00Z");
  for (int round = 0; round < 4; ++round) {
    const std::string id = "race-" + std::to_string(round);
    ASSERT_TRUE(store_->create_session(challenged(id, "n", at("2026-01-01T00:05:00Z"))));
    const RaceOutcome r =
        race({store_.get(), replica.get()}, 6, [&](Store& st, int t) -> Result<bool> {
          Session outcome = challenged(id, "n", at("2026-01-01T01:00:00Z"));
          outcome.token = "token-of-" + std::to_string(t);
          AttestationRecord record;
          record.at = now;
          record.session = id;
          record.tee = "snp";
          record.status = "affirming";
          record.detail = "{}";
          AuditEntry audit;
          audit.at = now;
          audit.action = "attest";
          CONCIERGE_ASSIGN_OR_RETURN(auto stored,
                                     st.attest_session(outcome, "n", now, record, audit));
          return stored.has_value();
        });
    EXPECT_EQ(r.wins, 1) << "round " << round;
    EXPECT_EQ(r.errors, 0) << "round " << round;
    EXPECT_EQ(store_->list_attestations(100).value().size(), static_cast<std::size_t>(round + 1));
    EXPECT_EQ(store_->list_audit(100).value().size(), static_cast<std::size_t>(round + 1));
    EXPECT_EQ((*replica->get_session(id))->token.rfind("token-of-", 0), 0u);
  }
}

TEST_P(StoreTest, ReplicasShareSessionsAndOnlyOneConsumesAChallenge) {
  auto replica = open(key(0xa1));
  ASSERT_NE(replica, nullptr);
  const TimePoint expires = at("2026-01-01T00:05:00Z");
  const TimePoint now = at("2026-01-01T00:01:00Z");
  ASSERT_TRUE(store_->create_session(challenged("shared", "n", expires)));
  auto seen = replica->get_session("shared");
  ASSERT_TRUE(seen && seen->has_value());
  auto duplicate = replica->create_session(challenged("shared", "n", expires));
  ASSERT_FALSE(duplicate);

  for (int round = 0; round < 5; ++round) {
    const std::string id = "replicated-" + std::to_string(round);
    ASSERT_TRUE(replica->create_session(challenged(id, "n", expires)));
    const RaceOutcome r = race({store_.get(), replica.get()}, 6,
                               [&](Store& st, int) { return st.consume_challenge(id, "n", now); });
    EXPECT_EQ(r.wins, 1) << "round " << round;
    EXPECT_EQ(r.errors, 0) << "round " << round;
    EXPECT_EQ((*store_->get_session(id))->state, SessionState::kAttested);
  }
  // What one writes, the other reads.
  ASSERT_TRUE(replica->put_resource(rid("r", "t", "x"), as_bytes("v")));
  EXPECT_EQ(as_chars(**store_->get_resource(rid("r", "t", "x"))), "v");
}

// ---- Single-use tokens ----------------------------------------------------------------

TEST_P(StoreTest, UsesATokenIdOnceUntilItExpires) {
  const TimePoint now = at("2026-01-01T00:00:00Z");
  const TimePoint expires = now + std::chrono::minutes(15);
  EXPECT_TRUE(store_->use_token_id("admin:a", expires, now).value());
  EXPECT_FALSE(store_->use_token_id("admin:a", expires, now).value());
  EXPECT_FALSE(store_->use_token_id("admin:a", expires + std::chrono::hours(1), now).value());
  EXPECT_TRUE(store_->use_token_id("admin:b", expires, now).value());
  // Still remembered up to its expiry and for the margin after it (a
  // replica whose clock is behind may still accept the token); forgotten
  // (deleted) after that.
  EXPECT_FALSE(store_->use_token_id("admin:a", expires, expires - std::chrono::seconds(1)).value());
  EXPECT_FALSE(
      store_->use_token_id("admin:a", expires, expires + std::chrono::minutes(30)).value());
  const TimePoint later = expires + Store::kUsedTokenMargin;
  EXPECT_TRUE(store_->use_token_id("admin:c", later + std::chrono::minutes(1), later).value());
  auto rows = raw("SELECT id FROM used_tokens");
  ASSERT_TRUE(rows.ok) << rows.error;
  EXPECT_EQ(rows.column.size(), 1u);  // a and b expired and were deleted
}

TEST_P(StoreTest, OfConcurrentUsesOfATokenIdOnReplicasOneWins) {
  auto replica = open(key(0xa1));
  ASSERT_NE(replica, nullptr);
  const TimePoint now = at("2026-01-01T00:00:00Z");
  for (int round = 0; round < 4; ++round) {
    const std::string id = "admin:race-" + std::to_string(round);
    const RaceOutcome r = race({store_.get(), replica.get()}, 6, [&](Store& st, int) {
      return st.use_token_id(id, now + std::chrono::minutes(5), now);
    });
    EXPECT_EQ(r.wins, 1) << "round " << round;
    EXPECT_EQ(r.errors, 0) << "round " << round;
  }
}

// ---- Attestation record and audit log -------------------------------------------------

TEST_P(StoreTest, RecordsAttestationsNewestFirst) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 4; ++i) {
    AttestationRecord r;
    r.at = at("2026-01-01T00:00:00Z") + std::chrono::seconds(i);
    r.session = "s" + std::to_string(i);
    r.tee = "tdx";
    r.status = i % 2 ? "affirming" : "contraindicated";
    r.policy_id = "default";
    r.detail = R"({"i":)" + std::to_string(i) + "}";
    auto id = store_->record_attestation(r);
    ASSERT_TRUE(id) << id.error().to_string();
    if (!ids.empty()) {
      EXPECT_GT(*id, ids.back());
    }
    ids.push_back(*id);
  }
  auto list = store_->list_attestations(3);
  ASSERT_TRUE(list) << list.error().to_string();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id, ids[3]);
  EXPECT_EQ((*list)[0].session, "s3");
  EXPECT_EQ((*list)[0].at, at("2026-01-01T00:00:03Z"));
  EXPECT_EQ((*list)[0].tee, "tdx");
  EXPECT_EQ((*list)[0].status, "affirming");
  EXPECT_EQ((*list)[0].policy_id, "default");
  EXPECT_EQ((*list)[0].detail, R"({"i":3})");
  EXPECT_EQ((*list)[2].id, ids[1]);
  EXPECT_EQ(store_->list_attestations(100)->size(), 4u);
  EXPECT_TRUE(store_->list_attestations(0)->empty());
}

TEST_P(StoreTest, AppendsToTheAuditLog) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    AuditEntry e;
    e.at = at("2026-01-01T00:00:00Z") + std::chrono::seconds(i);
    e.actor = "session:abc";
    e.action = "release";
    e.resource = "default/key/" + std::to_string(i);
    e.outcome = "allowed";
    e.rule = "rule-" + std::to_string(i);
    e.detail = "released";
    auto id = store_->append_audit(e);
    ASSERT_TRUE(id) << id.error().to_string();
    if (!ids.empty()) {
      EXPECT_GT(*id, ids.back());
    }
    ids.push_back(*id);
  }
  auto newest = store_->list_audit(2);
  ASSERT_TRUE(newest) << newest.error().to_string();
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].id, ids[4]);
  EXPECT_EQ((*newest)[0].resource, "default/key/4");
  EXPECT_EQ((*newest)[0].rule, "rule-4");
  EXPECT_EQ((*newest)[0].actor, "session:abc");
  EXPECT_EQ((*newest)[0].at, at("2026-01-01T00:00:04Z"));
  EXPECT_EQ((*newest)[1].id, ids[3]);

  auto after = store_->list_audit(10, ids[2]);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].id, ids[4]);
  EXPECT_EQ((*after)[1].id, ids[3]);
  EXPECT_TRUE(store_->list_audit(10, ids[4])->empty());
  EXPECT_EQ(store_->list_audit(100)->size(), 5u);
}

// ---- Reference values (the ReferenceStore contract) ----------------------------------

TEST_P(StoreTest, ReferenceValuesAddListRemove) {
  verifier::ReferenceStore& refs = store_->references();
  ASSERT_TRUE(refs.add(ref("snp.measurement", "bb")));
  ASSERT_TRUE(refs.add(ref("snp.measurement", "AA")));
  ASSERT_TRUE(refs.add(ref("tdx.mrtd", "cc")));
  ASSERT_TRUE(refs.add(ref("snp.measurement", "zeta")));

  auto all = refs.list();
  ASSERT_TRUE(all) << all.error().to_string();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].value, "AA");  // by name, then value, hex folded
  EXPECT_EQ((*all)[1].value, "bb");
  EXPECT_EQ((*all)[2].value, "zeta");
  EXPECT_EQ((*all)[3].name, "tdx.mrtd");
  EXPECT_EQ(refs.list("snp.measurement")->size(), 3u);
  EXPECT_TRUE(refs.list("sgx.mrenclave")->empty());

  EXPECT_EQ(refs.remove("snp.measurement", "aa").value(), 1u);  // hex ignores case
  EXPECT_EQ(refs.remove("snp.measurement", "aa").value(), 0u);
  EXPECT_EQ(refs.remove("snp.measurement", "Zeta").value(), 0u);  // text does not
  EXPECT_EQ(refs.remove("snp.measurement").value(), 2u);
  EXPECT_EQ(refs.list()->size(), 1u);
}

TEST_P(StoreTest, ReferenceValueAddedAgainReplacesTheOld) {
  verifier::ReferenceStore& refs = store_->references();
  ReferenceValue v = ref("snp.measurement", "ABCD");
  v.provenance = "first";
  v.note = "n";
  ASSERT_TRUE(refs.add(v));
  v.value = "abcd";
  v.provenance = "second";
  v.expires = at("2030-01-01T00:00:00Z");
  v.added = at("2026-02-03T04:05:06Z");
  ASSERT_TRUE(refs.add(v));
  auto all = refs.list().value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0], v);  // every field round-trips

  // Within one batch too: the later value wins.
  ReferenceValue a = ref("tdx.mrtd", "00ff");
  ReferenceValue b = ref("tdx.mrtd", "00FF");
  b.provenance = "later";
  ASSERT_TRUE(refs.add_all({a, b}));
  auto mrtd = refs.list("tdx.mrtd").value();
  ASSERT_EQ(mrtd.size(), 1u);
  EXPECT_EQ(mrtd[0].provenance, "later");
}

TEST_P(StoreTest, ReferenceValuesSplitByExpiry) {
  verifier::ReferenceStore& refs = store_->references();
  ReferenceValue old = ref("snp.measurement", "aa");
  old.expires = at("2025-01-01T00:00:00Z");
  ReferenceValue fresh = ref("snp.measurement", "bb");
  fresh.expires = at("2027-01-01T00:00:00Z");
  ReferenceValue forever = ref("snp.measurement", "cc");
  ASSERT_TRUE(refs.add_all({old, fresh, forever}));

  auto l = refs.values("snp.measurement", at("2026-01-01T00:00:00Z"));
  ASSERT_TRUE(l);
  ASSERT_EQ(l->current.size(), 2u);
  EXPECT_EQ(l->current[0].value, "bb");
  EXPECT_EQ(l->current[1].value, "cc");
  ASSERT_EQ(l->expired.size(), 1u);
  EXPECT_EQ(l->expired[0].value, "aa");
  l = refs.values("snp.measurement", at("2027-01-01T00:00:00Z"));
  ASSERT_TRUE(l);
  EXPECT_EQ(l->current.size(), 1u);
  EXPECT_EQ(l->expired.size(), 2u);
  EXPECT_TRUE(refs.values("unknown.set", at("2026-01-01T00:00:00Z"))->current.empty());
}

TEST_P(StoreTest, InvalidReferenceValuesAreRejectedAllOrNothing) {
  verifier::ReferenceStore& refs = store_->references();
  ASSERT_TRUE(refs.add(ref("snp.measurement", "aa")));
  ReferenceValue replaced = ref("snp.measurement", "AA");
  replaced.provenance = "should not land";
  auto r = refs.add_all({replaced, ref("tdx.mrtd", "bb"), ref("bad name", "cc")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_EQ(r.error().field, "name");
  auto all = refs.list().value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].provenance, "");

  auto control = refs.add(ref("snp.measurement", "a\nb"));
  ASSERT_FALSE(control);
  EXPECT_EQ(control.error().field, "value");
}

TEST_P(StoreTest, ReferenceValuesPersistAndImport) {
  auto imported = store_->references().import_json(
      R"({"version":1,"reference_values":[
          {"name":"tpm.pcr0","value":"00","expires":"2030-01-01T00:00:00Z"},
          {"name":"tpm.pcr1","value":"11","provenance":"mine"}]})",
      "imported from refs.json");
  ASSERT_TRUE(imported) << imported.error().to_string();
  EXPECT_EQ(*imported, 2u);
  auto reopened = open(key(0xa1));
  ASSERT_NE(reopened, nullptr);
  auto all = reopened->references().list().value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].provenance, "imported from refs.json");
  EXPECT_EQ(all[0].expires, at("2030-01-01T00:00:00Z"));
  EXPECT_EQ(all[1].provenance, "mine");
  auto exported = reopened->references().export_json();
  ASSERT_TRUE(exported);
  EXPECT_EQ((*exported)["reference_values"].size(), 2u);
}

// ---- Not per backend --------------------------------------------------------------------

TEST(StoreOpen, RefusesUnknownUrls) {
  for (const char* url : {"", "mysql://x", "file:/tmp/x", "sqlite"}) {
    auto s = open_store(url, SecretBox::generate().value());
    ASSERT_FALSE(s) << url;
    EXPECT_EQ(s.error().code, Errc::kInvalidArgument) << url;
  }
  auto empty_path = open_store("sqlite:", SecretBox::generate().value());
  ASSERT_FALSE(empty_path);
  EXPECT_EQ(empty_path.error().code, Errc::kInvalidArgument);
}

TEST(StoreOpen, ReportsUnreachableDatabasesAsIo) {
  testing::TempDir dir;
  auto sqlite =
      open_store("sqlite:" + (dir / "no/such/folder/x.db").string(), SecretBox::generate().value());
  ASSERT_FALSE(sqlite);
  EXPECT_EQ(sqlite.error().code, Errc::kIo);
  auto pg = open_store("postgresql:///x?host=" + (dir / "nobody-listens").string() +
                           "&password=hunter2&connect_timeout=2",
                       SecretBox::generate().value());
  ASSERT_FALSE(pg);
  EXPECT_EQ(pg.error().code, Errc::kIo);
  EXPECT_EQ(pg.error().message.find("hunter2"), std::string::npos) << pg.error().message;

  // A file that is not a database.
  const std::string junk = (dir / "junk.db").string();
  testing::write_file(junk, Bytes(4096, 'j'));
  auto not_db = open_store("sqlite:" + junk, SecretBox::generate().value());
  ASSERT_FALSE(not_db);
  EXPECT_EQ(not_db.error().code, Errc::kIo);
}

TEST(StoreOpen, CreatesTheSqliteFileForItsOwnerOnly) {
  testing::TempDir dir;
  const auto path = dir / "private.db";
  auto s = open_store("sqlite:" + path.string(), SecretBox::generate().value());
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST(PostgresStore, ReconnectsWhenTheServerDropsItsConnections) {
  CONCIERGE_REQUIRE_POSTGRES(url);
  auto s = open_store(*url, SecretBox::from_key(key(1)).value());
  ASSERT_TRUE(s) << s.error().to_string();
  Store& store = **s;
  ASSERT_TRUE(store.set_policy("k", "v"));
  // Ends the store's sessions (it names itself "concierge"), waiting until
  // they are gone.
  auto killed = postgres_query(*url,
                               "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                               "AND application_name = 'concierge'");
  ASSERT_TRUE(killed.ok) << killed.error;
  ASSERT_FALSE(killed.column.empty());
  auto got = store.get_policy("k");
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(*got, std::optional<std::string>("v"));
}

}  // namespace
}  // namespace concierge::store

namespace concierge::store {
namespace {

// Write access to the database is not enough: rows written without the KEK
// never count, and a secret's row cannot be rolled back to an older
// ciphertext of the same path.
TEST_P(StoreTest, RowsWrittenWithoutTheKekAreRefused) {
  ASSERT_TRUE(
      store_->references().add({"tpm.ak", "ak:00", std::nullopt, "owner", std::nullopt, ""}));
  ASSERT_TRUE(store_->set_policy("release:default", R"({"id": "p"})"));
  // An attacker's INSERT of its own AK fingerprint, with any tag it likes.
  auto inserted =
      raw("INSERT INTO reference_values (name, value, provenance, note, mac) "
          "VALUES ('tpm.ak', 'ak:attacker', 'x', '', '" +
          std::string(64, '0') + "')");
  ASSERT_TRUE(inserted.ok) << inserted.error;
  auto values = store_->references().values("tpm.ak", at("2026-01-01T00:00:00Z"));
  ASSERT_FALSE(values);
  EXPECT_EQ(values.error().code, Errc::kCrypto);
  EXPECT_NE(values.error().message.find("integrity"), std::string::npos);
  // A policy edited in place.
  auto edited = raw("UPDATE policies SET document = '{\"id\": \"lax\"}'");
  ASSERT_TRUE(edited.ok) << edited.error;
  auto policy = store_->get_policy("release:default");
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().code, Errc::kCrypto);
}

TEST_P(StoreTest, ASecretRowCannotBeRolledBackToAnOlderCiphertext) {
  const ResourceId id = rid("default", "disk", "key");
  ASSERT_TRUE(store_->put_resource(id, as_bytes("first key")));
  auto old_row = raw("SELECT sealed FROM resources");
  ASSERT_TRUE(old_row.ok && old_row.column.size() == 1) << old_row.error;
  ASSERT_TRUE(store_->put_resource(id, as_bytes("rotated key")));
  const std::string hex = hex_encode(old_row.column[0]);
  const std::string blob = sqlite() ? "X'" + hex + "'" : "decode('" + hex + "', 'hex')";
  auto rolled = raw("UPDATE resources SET sealed = " + blob);
  ASSERT_TRUE(rolled.ok) << rolled.error;
  auto secret = store_->get_resource(id);
  ASSERT_FALSE(secret);
  EXPECT_EQ(secret.error().code, Errc::kCrypto);
}

}  // namespace
}  // namespace concierge::store
