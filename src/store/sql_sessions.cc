// SqlStore: attestation sessions.
#include "store/sql_store.h"

namespace concierge::store {
namespace {

constexpr std::string_view kChallenged = "challenged";
constexpr std::string_view kAttested = "attested";

std::string_view state_name(SessionState s) {
  return s == SessionState::kChallenged ? kChallenged : kAttested;
}

}  // namespace

Result<void> SqlStore::create_session(const Session& s) {
  if (s.id.empty()) return fail(Errc::kInvalidArgument, "a session id cannot be empty");
  CONCIERGE_ASSIGN_OR_RETURN(
      sql::Outcome out,
      run("INSERT INTO sessions (id, tee, nonce, created, expires, state, token, tee_pubkey, "
          "status, explanation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
          "ON CONFLICT (id) DO NOTHING",
          {s.id, s.tee, s.nonce, to_micros(s.created), to_micros(s.expires),
           std::string(state_name(s.state)), s.token, s.tee_pubkey, s.status, s.explanation}));
  // The id is a bearer cookie: it stays out of the message.
  if (out.changes == 0) return fail(Errc::kInvalidArgument, "a session with this id exists");
  return {};
}

Result<std::optional<Session>> SqlStore::get_session(std::string_view id) {
  CONCIERGE_ASSIGN_OR_RETURN(
      sql::Outcome out,
      run("SELECT id, tee, nonce, created, expires, state, token, tee_pubkey, status, "
          "explanation FROM sessions WHERE id = $1",
          {std::string(id)}));
  if (out.rows.empty()) return std::optional<Session>();
  const sql::Row& row = out.rows[0];
  Session s;
  CONCIERGE_ASSIGN_OR_RETURN(s.id, sql::text_at(row, 0));
  CONCIERGE_ASSIGN_OR_RETURN(s.tee, sql::text_at(row, 1));
  CONCIERGE_ASSIGN_OR_RETURN(s.nonce, sql::text_at(row, 2));
  CONCIERGE_ASSIGN_OR_RETURN(std::int64_t created, sql::int_at(row, 3));
  s.created = from_micros(created);
  CONCIERGE_ASSIGN_OR_RETURN(std::int64_t expires, sql::int_at(row, 4));
  s.expires = from_micros(expires);
  CONCIERGE_ASSIGN_OR_RETURN(std::string state, sql::text_at(row, 5));
  if (state == kChallenged) {
    s.state = SessionState::kChallenged;
  } else if (state == kAttested) {
    s.state = SessionState::kAttested;
  } else {
    return fail(Errc::kInternal, "a session has the unknown state '" + state + "'");
  }
  CONCIERGE_ASSIGN_OR_RETURN(s.token, sql::text_at(row, 6));
  CONCIERGE_ASSIGN_OR_RETURN(s.tee_pubkey, sql::text_at(row, 7));
  CONCIERGE_ASSIGN_OR_RETURN(s.status, sql::text_at(row, 8));
  CONCIERGE_ASSIGN_OR_RETURN(s.explanation, sql::text_at(row, 9));
  return std::optional<Session>(std::move(s));
}

Result<bool> SqlStore::consume_challenge(std::string_view id, std::string_view nonce,
                                         TimePoint now) {
  // One statement: the database's row lock makes it single-use across
  // connections, processes and replicas.
  CONCIERGE_ASSIGN_OR_RETURN(
      sql::Outcome out,
      run(kConsumeChallenge, {std::string(id), std::string(nonce), to_micros(now)}));
  return out.changes == 1;
}

Result<void> SqlStore::finish_session(const Session& s) {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Outcome out, run(kFinishSession, finish_params(s)));
  if (out.changes == 1) return {};
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<Session> existing, get_session(s.id));
  if (!existing) return fail(Errc::kNotFound, "no such session");
  return fail(Errc::kInvalidArgument, "the session's challenge has not been used yet");
}

Result<bool> SqlStore::use_token_id(std::string_view id, TimePoint expires, TimePoint now) {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Lease lease, database_->acquire());
  sql::Connection& c = *lease;
  return sql::in_transaction(c, [&]() -> Result<bool> {
    // Records are kept an hour past the time this replica thinks the token
    // stops being usable, so a replica whose clock is behind (by less than
    // that) still finds them.
    CONCIERGE_RETURN_IF_ERROR(
        c.run("DELETE FROM used_tokens WHERE expires <= $1", {to_micros(now - kUsedTokenMargin)}));
    // The primary key decides between concurrent uses (both backends know
    // ON CONFLICT DO NOTHING: SQLite since 3.24, PostgreSQL since 9.5).
    CONCIERGE_ASSIGN_OR_RETURN(
        sql::Outcome out,
        c.run("INSERT INTO used_tokens (id, expires) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
              {std::string(id), to_micros(expires)}));
    return out.changes == 1;
  });
}

Result<std::size_t> SqlStore::purge_sessions(TimePoint now) {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Outcome out,
                             run("DELETE FROM sessions WHERE expires <= $1", {to_micros(now)}));
  return static_cast<std::size_t>(out.changes);
}

}  // namespace concierge::store
