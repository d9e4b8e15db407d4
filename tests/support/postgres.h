// A throwaway PostgreSQL server for tests.
//
// A server is a copy of a template data folder (made once per build folder by
// initdb, under CONCIERGE_TEST_STATE_DIR, guarded by a file lock so parallel
// test processes share it) in a fresh folder under /tmp, listening on a Unix
// socket in that folder only (no TCP), with fsync off.
//
// Which server a test process uses:
//   - Under ctest, one server per ctest run. The tests that use PostgreSQL
//     (those whose name contains "postgres", in any case: see
//     tests/CMakeLists.txt) require the ctest fixture "concierge_postgres",
//     whose setup test starts the server (postgres_fixture_start) and whose
//     cleanup test stops it (postgres_fixture_stop); `ctest -R <name>` pulls
//     both in. Those tests get CONCIERGE_TEST_POSTGRES=shared in their
//     environment and find the server through a file named after the ctest
//     process (the parent of the fixture, and the parent or an ancestor of
//     every test) under CONCIERGE_TEST_STATE_DIR/postgres-shared/. If ctest
//     goes away without running the cleanup (interrupted, killed), a
//     watchdog stops the server and removes its folder within about a second.
//   - Otherwise (the test binary run by hand, a test outside the fixture,
//     a missing fixture file): the first call starts a private server for
//     the test process, stopped and removed when the process exits; a
//     watchdog does the same if the process dies without exiting (a crash, a
//     timeout's SIGKILL).
//
// The server binaries are looked for in $CONCIERGE_POSTGRES_BINDIR, then
// /usr/lib/postgresql/<newest>/bin, then PATH. PostgreSQL refuses to run as
// root: as root, the server runs as the system user "postgres".
//
// Isolation: each test process gets a database of its own on the server
// (t_<pid>_<random>, made on its first call), and each call returns the libpq
// URL of a new, empty schema of that database (t_<pid>_<n>), first on the
// search_path the URL sets (options=-csearch_path=...). Everything a client
// creates without naming a schema lands there; what a test does to "its"
// database (current_database(): terminating its sessions, say) touches no
// other test process.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace concierge::testing {

// A libpq URL ("postgresql:///t_...?host=/tmp/...&user=concierge&
// options=-csearch_path%3Dt_...") of a new, empty schema; nullopt, with the reason in *why_not,
// when no server can be started here (binaries missing, no "postgres" user when root, ...).
std::optional<std::string> test_postgres_database(std::string* why_not);

// True when the environment variable CONCIERGE_REQUIRE_POSTGRES is "1": a
// test that cannot get a database then fails instead of skipping (CI).
bool postgres_required();

// The ctest fixture (tests/postgres_fixture.cc), keyed by the calling
// process's parent (ctest). start: starts the run's server, or records why
// it cannot (the tests then skip or fail with that reason), and returns 0
// unless the state folder cannot be written. stop: stops the run's server and
// removes its folder; 0 when nothing is left running. Both also stop servers
// of ctest runs that are gone.
int postgres_fixture_start();
int postgres_fixture_stop();

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
