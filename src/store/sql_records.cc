// SqlStore: the attestation record and the audit log (append-only).
#include "store/sql_store.h"

#include <limits>

#include "concierge/core/printable.h"

namespace concierge::store {
namespace {

std::int64_t as_limit(std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(limit < kMax ? limit : kMax);
}

Result<std::int64_t> returned_id(const sql::Outcome& out) {
  if (out.rows.empty()) return fail(Errc::kInternal, "the database returned no id");
  return sql::int_at(out.rows[0], 0);
}

constexpr std::string_view kInsertAttestation =
    "INSERT INTO attestations (at, session, tee, status, policy_id, detail) "
    "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
constexpr std::string_view kInsertAudit =
    "INSERT INTO audit (at, actor, action, resource, outcome, rule, detail) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

std::vector<sql::Value> attestation_params(const AttestationRecord& r) {
  return {to_micros(r.at), r.session, r.tee, r.status, r.policy_id, r.detail};
}

// Audit text is stored printable (core/printable.h) and bounded: request
// paths and guests' values reach it, and `concierge admin audit` shows it
// on the owner's terminal.
std::vector<sql::Value> audit_params(const AuditEntry& e) {
  return {to_micros(e.at),
          printable_text(e.actor, 256),
          printable_text(e.action, 128),
          printable_text(e.resource, 512),
          printable_text(e.outcome, 128),
          printable_text(e.rule, 512),
          printable_text(e.detail, 4096)};
}

}  // namespace

Result<std::int64_t> SqlStore::record_attestation(const AttestationRecord& r) {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Outcome out, run(kInsertAttestation, attestation_params(r)));
  return returned_id(out);
}

Result<std::optional<std::int64_t>> SqlStore::attest_session(const Session& s,
                                                             std::string_view nonce, TimePoint now,
                                                             const AttestationRecord& r,
                                                             const AuditEntry& e) {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Lease lease, database_->acquire());
  sql::Connection& c = *lease;
  return sql::in_transaction(c, [&]() -> Result<std::optional<std::int64_t>> {
    // The conditional UPDATE decides, under the database's row lock, which
    // of concurrent attempts uses the challenge; the others change nothing.
    CONCIERGE_ASSIGN_OR_RETURN(
        sql::Outcome consumed,
        c.run(kConsumeChallenge, {s.id, std::string(nonce), to_micros(now)}));
    if (consumed.changes != 1) return std::optional<std::int64_t>();
    CONCIERGE_ASSIGN_OR_RETURN(sql::Outcome finished, c.run(kFinishSession, finish_params(s)));
    if (finished.changes != 1) return fail(Errc::kInternal, "the consumed session vanished");
    CONCIERGE_ASSIGN_OR_RETURN(sql::Outcome recorded,
                               c.run(kInsertAttestation, attestation_params(r)));
    CONCIERGE_RETURN_IF_ERROR(c.run(kInsertAudit, audit_params(e)));
    CONCIERGE_ASSIGN_OR_RETURN(std::int64_t id, returned_id(recorded));
    return std::optional<std::int64_t>(id);
  });
}

Result<std::vector<AttestationRecord>> SqlStore::list_attestations(std::size_t limit) {
  CONCIERGE_ASSIGN_OR_RETURN(
      sql::Outcome out,
      run("SELECT id, at, session, tee, status, policy_id, detail FROM attestations "
          "ORDER BY id DESC LIMIT $1",
          {as_limit(limit)}));
  std::vector<AttestationRecord> list;
  list.reserve(out.rows.size());
  for (const auto& row : out.rows) {
    AttestationRecord r;
    CONCIERGE_ASSIGN_OR_RETURN(r.id, sql::int_at(row, 0));
    CONCIERGE_ASSIGN_OR_RETURN(std::int64_t at, sql::int_at(row, 1));
    r.at = from_micros(at);
    CONCIERGE_ASSIGN_OR_RETURN(r.session, sql::text_at(row, 2));
    CONCIERGE_ASSIGN_OR_RETURN(r.tee, sql::text_at(row, 3));
    CONCIERGE_ASSIGN_OR_RETURN(r.status, sql::text_at(row, 4));
    CONCIERGE_ASSIGN_OR_RETURN(r.policy_id, sql::text_at(row, 5));
    CONCIERGE_ASSIGN_OR_RETURN(r.detail, sql::text_at(row, 6));
    list.push_back(std::move(r));
  }
  return list;
}

Result<std::int64_t> SqlStore::append_audit(const AuditEntry& e) {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Outcome out, run(kInsertAudit, audit_params(e)));
  return returned_id(out);
}

Result<std::vector<AuditEntry>> SqlStore::list_audit(std::size_t limit, std::int64_t after_id) {
  CONCIERGE_ASSIGN_OR_RETURN(
      sql::Outcome out,
      run("SELECT id, at, actor, action, resource, outcome, rule, detail FROM audit "
          "WHERE id > $1 ORDER BY id DESC LIMIT $2",
          {after_id, as_limit(limit)}));
  std::vector<AuditEntry> list;
  list.reserve(out.rows.size());
  for (const auto& row : out.rows) {
    AuditEntry e;
    CONCIERGE_ASSIGN_OR_RETURN(e.id, sql::int_at(row, 0));
    CONCIERGE_ASSIGN_OR_RETURN(std::int64_t at, sql::int_at(row, 1));
    e.at = from_micros(at);
    CONCIERGE_ASSIGN_OR_RETURN(e.actor, sql::text_at(row, 2));
    CONCIERGE_ASSIGN_OR_RETURN(e.action, sql::text_at(row, 3));
    CONCIERGE_ASSIGN_OR_RETURN(e.resource, sql::text_at(row, 4));
    CONCIERGE_ASSIGN_OR_RETURN(e.outcome, sql::text_at(row, 5));
    CONCIERGE_ASSIGN_OR_RETURN(e.rule, sql::text_at(row, 6));
    CONCIERGE_ASSIGN_OR_RETURN(e.detail, sql::text_at(row, 7));
    list.push_back(std::move(e));
  }
  return list;
}

}  // namespace concierge::store
