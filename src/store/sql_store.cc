// SqlStore: opening, resources (sealed secrets) and policies.
#include "store/sql_store.h"

#include <algorithm>
#include <chrono>

#include "store/migrations.h"

namespace concierge::store {
namespace {

constexpr std::size_t kMaxSecretSize = 1024 * 1024;

TimePoint now() { return std::chrono::system_clock::now(); }

// The AAD of a sealed secret: its path, and from schema version 3 its
// generation (0: sealed before, under the path alone).
std::string sealed_aad(const std::string& path, std::int64_t generation) {
  return generation == 0 ? path : path + "\n" + std::to_string(generation);
}

}  // namespace

Result<std::string> policy_mac(const SecretBox& kek, std::string_view key,
                               std::string_view document) {
  return kek.row_mac({"policies", key, document});
}

std::int64_t to_micros(TimePoint t) {
  return std::chrono::floor<std::chrono::microseconds>(t.time_since_epoch()).count();
}

TimePoint from_micros(std::int64_t micros) {
  return TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(micros)));
}

Result<std::unique_ptr<Store>> open_sql_store(std::unique_ptr<sql::Database> database,
                                              SecretBox kek) {
  if (kek.id().empty()) {
    return fail(Errc::kInvalidArgument, "open_store: the key-encryption key is empty (moved from)");
  }
  int before = 0;
  std::vector<int> applied;
  CONCIERGE_RETURN_IF_ERROR(migrate(*database, &applied, &before));
  // This process upgraded a database that held data to integrity tags.
  if (before > 0 && std::find(applied.begin(), applied.end(), 3) != applied.end()) {
    CONCIERGE_RETURN_IF_ERROR(adopt_untagged_rows(*database, kek));
  }
  return std::unique_ptr<Store>(std::make_unique<SqlStore>(std::move(database), std::move(kek)));
}

Result<sql::Outcome> SqlStore::run(std::string_view statement,
                                   const std::vector<sql::Value>& params) {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Lease lease, database_->acquire());
  return lease->run(statement, params);
}

Result<int> SqlStore::schema_version() {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Lease lease, database_->acquire());
  return read_schema_version(*lease);
}

// ---- Resources ---------------------------------------------------------------

Result<void> SqlStore::put_resource(const ResourceId& id, ByteView secret) {
  CONCIERGE_RETURN_IF_ERROR(check_resource_id(id));
  if (secret.empty()) return fail(Errc::kInvalidArgument, "a resource's value cannot be empty");
  if (secret.size() > kMaxSecretSize) {
    return fail(Errc::kInvalidArgument, "a resource's value is at most 1 MiB, not " +
                                            std::to_string(secret.size()) + " bytes");
  }
  const std::string path = id.path();
  // Each put is a new generation, sealed with it in the AAD: an older
  // ciphertext of this path does not open under the row's generation.
  CONCIERGE_ASSIGN_OR_RETURN(sql::Lease lease, database_->acquire());
  sql::Connection& c = *lease;
  return sql::in_transaction(c, [&]() -> Result<void> {
    CONCIERGE_ASSIGN_OR_RETURN(sql::Outcome current,
                               c.run("SELECT generation FROM resources WHERE path = $1", {path}));
    std::int64_t generation = 1;
    if (!current.rows.empty()) {
      CONCIERGE_ASSIGN_OR_RETURN(std::int64_t g, sql::int_at(current.rows[0], 0));
      generation = g + 1;
    }
    CONCIERGE_ASSIGN_OR_RETURN(Bytes sealed, kek_.seal(secret, sealed_aad(path, generation)));
    CONCIERGE_RETURN_IF_ERROR(
        c.run("INSERT INTO resources (path, sealed, kek_id, size, updated, generation) "
              "VALUES ($1, $2, $3, $4, $5, $6) "
              "ON CONFLICT (path) DO UPDATE SET sealed = excluded.sealed, "
              "kek_id = excluded.kek_id, size = excluded.size, updated = excluded.updated, "
              "generation = excluded.generation",
              {path, std::move(sealed), kek_.id(), static_cast<std::int64_t>(secret.size()),
               to_micros(now()), generation}));
    return {};
  });
}

Result<std::optional<Bytes>> SqlStore::get_resource(const ResourceId& id) {
  CONCIERGE_RETURN_IF_ERROR(check_resource_id(id));
  const std::string path = id.path();
  CONCIERGE_ASSIGN_OR_RETURN(
      sql::Outcome out,
      run("SELECT sealed, kek_id, generation FROM resources WHERE path = $1", {path}));
  if (out.rows.empty()) return std::optional<Bytes>();
  CONCIERGE_ASSIGN_OR_RETURN(Bytes sealed, sql::bytes_at(out.rows[0], 0));
  CONCIERGE_ASSIGN_OR_RETURN(std::string kek_id, sql::text_at(out.rows[0], 1));
  CONCIERGE_ASSIGN_OR_RETURN(std::int64_t generation, sql::int_at(out.rows[0], 2));
  if (kek_id != kek_.id()) {
    return fail(Errc::kCrypto, "resource " + path + " is sealed under KEK " + kek_id +
                                   ", this server has " + kek_.id());
  }
  auto opened = kek_.open(sealed, sealed_aad(path, generation));
  if (!opened) {
    return fail(Errc::kCrypto, "resource " + path + " does not open under KEK " + kek_.id() + ": " +
                                   opened.error().message);
  }
  return std::optional<Bytes>(std::move(*opened));
}

Result<bool> SqlStore::delete_resource(const ResourceId& id) {
  CONCIERGE_RETURN_IF_ERROR(check_resource_id(id));
  CONCIERGE_ASSIGN_OR_RETURN(sql::Outcome out,
                             run("DELETE FROM resources WHERE path = $1", {id.path()}));
  return out.changes > 0;
}

Result<std::vector<ResourceInfo>> SqlStore::list_resources() {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Outcome out,
                             run("SELECT path, size, updated, kek_id FROM resources", {}));
  std::vector<ResourceInfo> list;
  list.reserve(out.rows.size());
  for (const auto& row : out.rows) {
    ResourceInfo info;
    CONCIERGE_ASSIGN_OR_RETURN(std::string path, sql::text_at(row, 0));
    auto id = parse_resource_id(path);
    if (!id) return fail(Errc::kInternal, "the resources table holds an invalid path");
    info.id = std::move(*id);
    CONCIERGE_ASSIGN_OR_RETURN(std::int64_t size, sql::int_at(row, 1));
    info.size = static_cast<std::size_t>(size);
    CONCIERGE_ASSIGN_OR_RETURN(std::int64_t updated, sql::int_at(row, 2));
    info.updated = from_micros(updated);
    CONCIERGE_ASSIGN_OR_RETURN(info.kek_id, sql::text_at(row, 3));
    list.push_back(std::move(info));
  }
  // Sorted here, byte-wise, whatever the database's collation.
  std::sort(list.begin(), list.end(),
            [](const ResourceInfo& a, const ResourceInfo& b) { return a.id.path() < b.id.path(); });
  return list;
}

// ---- Policies ------------------------------------------------------------------

Result<void> SqlStore::set_policy(std::string_view key, std::string_view document) {
  if (key.empty()) return fail(Errc::kInvalidArgument, "a policy key cannot be empty");
  CONCIERGE_ASSIGN_OR_RETURN(std::string mac, policy_mac(kek_, key, document));
  CONCIERGE_RETURN_IF_ERROR(
      run("INSERT INTO policies (key, document, updated, mac) VALUES ($1, $2, $3, $4) "
          "ON CONFLICT (key) DO UPDATE SET document = excluded.document, "
          "updated = excluded.updated, mac = excluded.mac",
          {std::string(key), std::string(document), to_micros(now()), std::move(mac)}));
  return {};
}

Result<std::optional<std::string>> SqlStore::get_policy(std::string_view key) {
  CONCIERGE_ASSIGN_OR_RETURN(
      sql::Outcome out,
      run("SELECT document, mac FROM policies WHERE key = $1", {std::string(key)}));
  if (out.rows.empty()) return std::optional<std::string>();
  CONCIERGE_ASSIGN_OR_RETURN(std::string document, sql::text_at(out.rows[0], 0));
  CONCIERGE_ASSIGN_OR_RETURN(std::string mac, sql::text_at(out.rows[0], 1));
  CONCIERGE_ASSIGN_OR_RETURN(bool genuine, kek_.row_mac_matches({"policies", key, document}, mac));
  if (!genuine) {
    return fail(Errc::kCrypto, "store: policy " + std::string(key) +
                                   " fails its integrity check: it was not written with this "
                                   "broker's KEK (edited in the database?)");
  }
  return std::optional<std::string>(std::move(document));
}

Result<bool> SqlStore::delete_policy(std::string_view key) {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Outcome out,
                             run("DELETE FROM policies WHERE key = $1", {std::string(key)}));
  return out.changes > 0;
}

Result<std::vector<std::string>> SqlStore::list_policy_keys() {
  CONCIERGE_ASSIGN_OR_RETURN(sql::Outcome out, run("SELECT key FROM policies", {}));
  std::vector<std::string> keys;
  keys.reserve(out.rows.size());
  for (const auto& row : out.rows) {
    CONCIERGE_ASSIGN_OR_RETURN(std::string key, sql::text_at(row, 0));
    keys.push_back(std::move(key));
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace concierge::store
