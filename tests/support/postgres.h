// A throwaway PostgreSQL server for tests.
//
// The first call to test_postgres_database starts a server for this test
// process: a copy of a template data folder (made once per build folder by
// initdb, under CONCIERGE_TEST_STATE_DIR, guarded by a file lock so parallel
// test processes share it) in a fresh folder under /tmp, listening on a Unix
// socket in that folder only (no TCP), with fsync off. It is stopped and its
// folder removed when the process exits; a watchdog process does the same if
// the test process dies without exiting (a crash, a timeout's SIGKILL).
//
// The server binaries are looked for in $CONCIERGE_POSTGRES_BINDIR, then
// /usr/lib/postgresql/<newest>/bin, then PATH. PostgreSQL refuses to run as
// root: as root, the server runs as the system user "postgres".
//
// Each call returns the libpq URL of a new, empty namespace: a schema
// t_<pid>_<n> of one shared database, first on the search_path the URL sets
// (options=-csearch_path=...), so tests do not see each other's tables.
// Everything a client creates without naming a schema lands there.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace concierge::testing {

// A libpq URL ("postgresql:///concierge_tests?host=/tmp/...&user=concierge&
// options=-csearch_path%3Dt_...") of a new, empty schema; nullopt, with the reason in *why_not,
// when no server can be started here (binaries missing, no "postgres" user when root, ...).
std::optional<std::string> test_postgres_database(std::string* why_not);

// True when the environment variable CONCIERGE_REQUIRE_POSTGRES is "1": a
// test that cannot get a database then fails instead of skipping (CI).
bool postgres_required();

}  // namespace concierge::testing

// Declares `var` (a std::optional<std::string>: the URL of a fresh schema)
// or skips the test with the reason (fails it when PostgreSQL is required).
#define CONCIERGE_REQUIRE_POSTGRES(var)                                                            \
  std::string var##_why;                                                                           \
  const std::optional<std::string> var = ::concierge::testing::test_postgres_database(&var##_why); \
  if (!var) {                                                                                      \
    if (::concierge::testing::postgres_required()) {                                               \
      FAIL() << "PostgreSQL is required (CONCIERGE_REQUIRE_POSTGRES=1) but unavailable: "          \
             << var##_why;                                                                         \
    }                                                                                              \
    GTEST_SKIP() << "PostgreSQL unavailable (install the postgresql package, or set "              \
                    "CONCIERGE_POSTGRES_BINDIR): "                                                 \
                 << var##_why;                                                                     \
  }
