// The Store over a sql::Database (private to src/store): the one
// implementation of store.h's logic and SQL, whichever backend runs it.
#pragma once

#include <memory>

#include "concierge/store/store.h"
#include "store/sql_database.h"

namespace concierge::store {

// Times in the database: integer microseconds since the Unix epoch, UTC.
std::int64_t to_micros(TimePoint t);
TimePoint from_micros(std::int64_t micros);

// Stores attest's outcome on an attested session (finish_session).
// Uses a session's challenge: $1 id, $2 nonce, $3 now (microseconds).
inline constexpr std::string_view kConsumeChallenge =
    "UPDATE sessions SET state = 'attested' "
    "WHERE id = $1 AND state = 'challenged' AND nonce = $2 AND expires > $3";
inline constexpr std::string_view kFinishSession =
    "UPDATE sessions SET token = $2, tee_pubkey = $3, status = $4, explanation = $5, "
    "expires = $6 WHERE id = $1 AND state = 'attested'";
inline std::vector<sql::Value> finish_params(const Session& s) {
  return {s.id, s.token, s.tee_pubkey, s.status, s.explanation, to_micros(s.expires)};
}

// kInvalidArgument unless every part of `id` is valid (see ResourceId).
Result<void> check_resource_id(const ResourceId& id);

// The integrity tag of a row (SecretBox::row_mac), by table.
Result<std::string> policy_mac(const SecretBox& kek, std::string_view key,
                               std::string_view document);
Result<std::string> reference_mac(const SecretBox& kek, const verifier::ReferenceValue& v);

// Gives every row of policies and reference_values without a tag one: run
// once, when the schema is upgraded to version 3 (the rows already there
// were written by the owner, under no integrity protection yet).
Result<std::size_t> adopt_untagged_rows(sql::Database& database, const SecretBox& kek);

// ReferenceStore on the table reference_values. Every row read must carry
// its integrity tag; one that does not is an Error (kCrypto), so a value
// inserted without the KEK can never match a claim.
class SqlReferenceStore final : public verifier::ReferenceStore {
 public:
  SqlReferenceStore(sql::Database& database, const SecretBox& kek)
      : database_(database), kek_(kek) {}
  Result<void> add_all(std::vector<verifier::ReferenceValue> values) override;
  Result<std::size_t> remove(std::string_view name,
                             std::optional<std::string_view> value = std::nullopt) override;
  Result<std::vector<verifier::ReferenceValue>> list(
      std::optional<std::string_view> name = std::nullopt) const override;

 private:
  sql::Database& database_;
  const SecretBox& kek_;
};

// The Store. Members are defined by topic: sql_store.cc (resources,
// policies), sql_sessions.cc, sql_records.cc (attestations, audit).
class SqlStore final : public Store {
 public:
  SqlStore(std::unique_ptr<sql::Database> database, SecretBox kek)
      : database_(std::move(database)), kek_(std::move(kek)), references_(*database_, kek_) {}

  std::string_view backend() const override { return database_->backend(); }
  Result<int> schema_version() override;

  Result<void> put_resource(const ResourceId& id, ByteView secret) override;
  Result<std::optional<Bytes>> get_resource(const ResourceId& id) override;
  Result<bool> delete_resource(const ResourceId& id) override;
  Result<std::vector<ResourceInfo>> list_resources() override;

  Result<void> set_policy(std::string_view key, std::string_view document) override;
  Result<std::optional<std::string>> get_policy(std::string_view key) override;
  Result<bool> delete_policy(std::string_view key) override;
  Result<std::vector<std::string>> list_policy_keys() override;

  Result<void> create_session(const Session& session) override;
  Result<std::optional<Session>> get_session(std::string_view id) override;
  Result<bool> consume_challenge(std::string_view id, std::string_view nonce,
                                 TimePoint now) override;
  Result<void> finish_session(const Session& session) override;
  Result<std::optional<std::int64_t>> attest_session(const Session& session, std::string_view nonce,
                                                     TimePoint now, const AttestationRecord& record,
                                                     const AuditEntry& entry) override;
  Result<std::size_t> purge_sessions(TimePoint now) override;
  Result<bool> use_token_id(std::string_view id, TimePoint expires, TimePoint now) override;

  Result<std::int64_t> record_attestation(const AttestationRecord& record) override;
  Result<std::vector<AttestationRecord>> list_attestations(std::size_t limit) override;
  Result<std::int64_t> append_audit(const AuditEntry& entry) override;
  Result<std::vector<AuditEntry>> list_audit(std::size_t limit, std::int64_t after_id = 0) override;

  verifier::ReferenceStore& references() override { return references_; }

  // Runs one statement on a borrowed connection.
  Result<sql::Outcome> run(std::string_view statement, const std::vector<sql::Value>& params);

 private:
  std::unique_ptr<sql::Database> database_;
  SecretBox kek_;
  SqlReferenceStore references_;
};

// Migrates `database` (see migrations.h), then serves it.
Result<std::unique_ptr<Store>> open_sql_store(std::unique_ptr<sql::Database> database,
                                              SecretBox kek);

}  // namespace concierge::store
