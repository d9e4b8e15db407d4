// open_store: picks the backend from the URL.
#include "concierge/store/store.h"
#include "store/sql_store.h"

namespace concierge::store {

Result<std::unique_ptr<Store>> open_store(std::string_view url, SecretBox kek) {
  constexpr std::string_view kSqlite = "sqlite:";
  constexpr std::string_view kPostgresql = "postgresql:";
  std::unique_ptr<sql::Database> database;
  if (url.starts_with(kSqlite)) {
    CONCIERGE_ASSIGN_OR_RETURN(database, sql::open_sqlite(url.substr(kSqlite.size())));
  } else if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    CONCIERGE_ASSIGN_OR_RETURN(database, sql::open_postgres(url));  // a libpq URI
  } else if (url.starts_with(kPostgresql)) {
    CONCIERGE_ASSIGN_OR_RETURN(database, sql::open_postgres(url.substr(kPostgresql.size())));
  } else {
    // The URL may carry a password: it is not repeated.
    return fail(Errc::kInvalidArgument,
                "a store URL is sqlite:PATH or postgresql://... (a libpq connection URI)");
  }
  return open_sql_store(std::move(database), std::move(kek));
}

}  // namespace concierge::store
