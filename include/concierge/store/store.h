// The key broker's storage: secrets (encrypted at rest), policies,
// attestation sessions, reference values, the attestation record and the
// audit log, behind one interface with two backends sharing one schema:
//
//   SQLite (the embedded default): one file in WAL mode, "sqlite:PATH";
//   PostgreSQL through libpq: "postgresql://..." or "postgres://..." (a libpq
//   connection URI; any libpq conninfo after "postgresql:" works too).
//
// Schema and migrations: a table `schema_migrations(version, applied_at)`;
// open_store applies the migrations it knows in order, each in a
// transaction, so two processes opening one database at once are safe (the
// PostgreSQL backend takes an advisory lock; SQLite a write transaction). A
// database whose version is newer than this program's is refused
// (kUnsupported), never written.
//
// Secrets at rest: a resource's value is sealed with AES-256-GCM (secret_box.h)
// under the key-encryption key (KEK) given to open_store, with the resource's
// path as additional authenticated data, so a value moved to another row
// does not open. The KEK never goes into the database; the store keeps only
// its identifier (kek_id) beside each value, and a value sealed under another
// KEK is kCrypto "sealed under KEK <id>, this server has <id>".
//
// Sessions make the KBS exchange (auth -> attest -> resource) independent of
// the process: any replica on the same database can continue an exchange
// begun by another, and a restart loses nothing. consume_challenge is the
// single atomic step that makes a nonce single-use across replicas.
//
// Times are kept to the microsecond (TimePoints read back are truncated to
// whole microseconds).
//
// Thread safety: every member may be called concurrently from many threads
// (the backends serialise or pool their connections). Results are plain
// values owned by the caller. Secret values returned by get_resource are the
// caller's to wipe() after use.
#pragma once

#include <chrono>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"
#include "concierge/core/x509.h"  // TimePoint
#include "concierge/store/secret_box.h"
#include "concierge/verifier/reference_store.h"

namespace concierge::store {

// "repo/type/tag", the KBS resource path. Each part is 1..128 characters of
// [A-Za-z0-9._-] and is neither "." nor "..".
struct ResourceId {
  std::string repo, type, tag;
  std::string path() const { return repo + "/" + type + "/" + tag; }
  bool operator==(const ResourceId&) const = default;
};
// kMalformed (field "resource") unless `path` has exactly three valid parts.
Result<ResourceId> parse_resource_id(std::string_view path);

struct ResourceInfo {
  ResourceId id;
  std::size_t size = 0;  // plaintext bytes
  TimePoint updated;
  std::string kek_id;
};

enum class SessionState {
  kChallenged,  // auth issued a nonce; attest has not used it
  kAttested,    // attest used the nonce (whatever the verdict)
};

struct Session {
  std::string id;  // the kbs-session-id cookie: 32 random bytes, base64url
  std::string tee;
  std::string nonce;  // the challenge, as sent (base64)
  TimePoint created;
  TimePoint expires;  // the challenge's deadline; after attest, the token's
  SessionState state = SessionState::kChallenged;
  // After attest:
  std::string token;        // the EAR JWT ("" when appraisal refused one)
  std::string tee_pubkey;   // the runtime data's JWK, as JSON text
  std::string status;       // the EAR status name ("affirming", ...)
  std::string explanation;  // one line: why not affirming ("" when affirming)
};

// One line of the audit log: who did what to which resource, and why.
// The store keeps each text printable and bounded (core/printable.h:
// control characters and ill-formed UTF-8 escaped; actor, action and
// outcome at most 256/128/128 bytes, resource and rule 512, detail 4096).
struct AuditEntry {
  std::int64_t id = 0;  // assigned by the store, increasing
  TimePoint at;
  std::string actor;     // "session:<id>", "passport:<jti or kid>", "admin:<kid>"
  std::string action;    // "attest", "release", "refuse", "admin.put-resource", ...
  std::string resource;  // "repo/type/tag" or ""
  std::string outcome;   // "allowed", "denied", "affirming", "contraindicated", ...
  std::string rule;      // the policy rule that decided, or ""
  std::string detail;    // one line for people; never a secret
};

// One completed appraisal.
struct AttestationRecord {
  std::int64_t id = 0;  // assigned by the store
  TimePoint at;
  std::string session;
  std::string tee;
  std::string status;  // the EAR status
  std::string policy_id;
  std::string detail;  // JSON text: the appraisal summary (EnvelopeAppraisal::to_json)
};

class Store {
 public:
  virtual ~Store() = default;

  // "sqlite" or "postgresql".
  virtual std::string_view backend() const = 0;
  // The schema version in the database (the highest migration applied).
  virtual Result<int> schema_version() = 0;

  // ---- Resources (secrets). ----
  // Seals and stores `secret` (replacing a previous value) under this
  // store's KEK, whose id list_resources reports. kInvalidArgument for an
  // invalid id, an empty secret or one over 1 MiB.
  virtual Result<void> put_resource(const ResourceId& id, ByteView secret) = 0;
  // The opened secret, or nullopt when there is none. kCrypto when it does
  // not open (another KEK, tampered, or moved from another path).
  // kInvalidArgument for an invalid id (as for delete_resource).
  virtual Result<std::optional<Bytes>> get_resource(const ResourceId& id) = 0;
  virtual Result<bool> delete_resource(const ResourceId& id) = 0;  // false: none
  virtual Result<std::vector<ResourceInfo>> list_resources() = 0;  // sorted by path

  // ---- Policies: JSON documents by key. ----
  // Keys used by the broker: "resource:<repo/type/tag>" (release policy of a
  // resource), "release:default", "attestation:<tee>" (appraisal policy).
  // The store does not interpret documents.
  virtual Result<void> set_policy(std::string_view key, std::string_view document) = 0;
  virtual Result<std::optional<std::string>> get_policy(std::string_view key) = 0;
  virtual Result<bool> delete_policy(std::string_view key) = 0;
  virtual Result<std::vector<std::string>> list_policy_keys() = 0;  // sorted

  // ---- Sessions. ----
  // kInvalidArgument when a session with this id exists (or the id is
  // empty). Error messages never quote session ids: they are bearer cookies.
  virtual Result<void> create_session(const Session& session) = 0;
  virtual Result<std::optional<Session>> get_session(std::string_view id) = 0;
  // Atomically: if session `id` is kChallenged, its nonce equals `nonce`
  // (constant-time compare in the caller is not needed: the nonce is public)
  // and `now` < expires, moves it to kAttested and returns true. Otherwise
  // changes nothing and returns false. Of two concurrent calls (on any
  // replicas) at most one returns true.
  virtual Result<bool> consume_challenge(std::string_view id, std::string_view nonce,
                                         TimePoint now) = 0;
  // Stores attest's outcome on a kAttested session (token, tee_pubkey,
  // status, explanation, expires; the other fields are not changed).
  // kNotFound when there is no such session; kInvalidArgument when it is
  // still kChallenged (consume_challenge first).
  virtual Result<void> finish_session(const Session& session) = 0;
  // consume_challenge, finish_session, record_attestation and append_audit
  // in one transaction (one commit): when the session `session.id` is
  // kChallenged with `nonce` and `now` < expires, it becomes kAttested with
  // attest's outcome, and the record and audit line are written, all or
  // nothing; returns the record's id. Otherwise nothing changes and it
  // returns nullopt. Of concurrent calls for one session (on any replicas)
  // at most one returns an id.
  virtual Result<std::optional<std::int64_t>> attest_session(const Session& session,
                                                             std::string_view nonce, TimePoint now,
                                                             const AttestationRecord& record,
                                                             const AuditEntry& entry) = 0;
  // Deletes sessions whose `expires` is at or before `now`; returns how many.
  virtual Result<std::size_t> purge_sessions(TimePoint now) = 0;

  // ---- Single-use tokens. ----
  static constexpr std::chrono::seconds kUsedTokenMargin{3600};
  // Records that the token named `id` was used, remembered until `expires`.
  // Returns false, changing nothing, when `id` is already recorded: a
  // replay. Records that expired more than kUsedTokenMargin before `now`
  // are deleted first: a replica whose clock is behind by less than the
  // margin still sees every token it could accept. Of concurrent calls with
  // one id (on any replicas) exactly one returns true.
  virtual Result<bool> use_token_id(std::string_view id, TimePoint expires, TimePoint now) = 0;

  // ---- Attestation record and audit log (append-only). ----
  virtual Result<std::int64_t> record_attestation(const AttestationRecord& record) = 0;
  // The newest `limit` records, newest first.
  virtual Result<std::vector<AttestationRecord>> list_attestations(std::size_t limit) = 0;
  virtual Result<std::int64_t> append_audit(const AuditEntry& entry) = 0;
  // The newest `limit` entries with id > after_id, newest first.
  virtual Result<std::vector<AuditEntry>> list_audit(std::size_t limit,
                                                     std::int64_t after_id = 0) = 0;

  // ---- Reference values, in the same database. ----
  // Lives as long as the store; thread-safe like it.
  virtual verifier::ReferenceStore& references() = 0;
};

// Opens (creating if needed, then migrating) the store at `url`, sealing
// secrets with `kek`. kInvalidArgument for a URL of neither form; kIo when
// the database cannot be opened or reached; kUnsupported for a newer schema.
// A new SQLite file is created with mode 0600. Error messages never repeat
// the URL (it may carry a password).
Result<std::unique_ptr<Store>> open_store(std::string_view url, SecretBox kek);

}  // namespace concierge::store
