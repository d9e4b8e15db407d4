#include "support/postgres.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <vector>

#include "support/file_lock.h"
#include "support/vectors.h"

namespace concierge::testing {
namespace {

namespace fs = std::filesystem;

// The role initdb creates as superuser; any name works with trust auth.
constexpr const char* kRole = "concierge";

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool has_server_programs(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "initdb", ec) && fs::exists(dir / "pg_ctl", ec) &&
         fs::exists(dir / "postgres", ec);
}

// $CONCIERGE_POSTGRES_BINDIR, the newest /usr/lib/postgresql/N/bin, or the
// folder of initdb on PATH.
fs::path find_bindir() {
  if (const char* env = std::getenv("CONCIERGE_POSTGRES_BINDIR"); env != nullptr && *env) {
    return has_server_programs(env) ? fs::path(env) : fs::path();
  }
  std::error_code ec;
  fs::path best;
  int best_version = -1;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    const int version = std::atoi(name.c_str());
    if (version > best_version && has_server_programs(entry.path() / "bin")) {
      best_version = version;
      best = entry.path() / "bin";
    }
  }
  if (!best.empty()) return best;
  auto which = run_shell("command -v initdb");
  if (which.exit_code == 0) {
    std::string path = which.out;
    while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
    const fs::path dir = fs::path(path).parent_path();
    if (has_server_programs(dir)) return dir;
  }
  return {};
}

// How the server's programs are run: directly, or as "postgres" when root.
struct Runner {
  fs::path bindir;
  bool as_postgres = false;
  uid_t uid = 0;
  gid_t gid = 0;

  std::string command(const std::string& program, const std::string& args) const {
    std::string prefix = as_postgres ? "runuser -u postgres -- " : "";
    return prefix + quote((bindir / program).string()) + " " + args;
  }
  // A private folder the server's user owns.
  bool make_dir(const std::string& prefix, fs::path* out, std::string* why) const {
    std::string tmpl = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      *why = "cannot create a folder under " + fs::temp_directory_path().string();
      return false;
    }
    if (as_postgres && ::chown(tmpl.c_str(), uid, gid) != 0) {
      *why = "cannot give " + tmpl + " to the postgres user";
      fs::remove_all(tmpl);
      return false;
    }
    *out = tmpl;
    return true;
  }
};

bool make_runner(Runner* r, std::string* why) {
  r->bindir = find_bindir();
  if (r->bindir.empty()) {
    *why =
        "no PostgreSQL server programs (initdb, pg_ctl, postgres) under /usr/lib/postgresql/*/bin "
        "or on PATH";
    return false;
  }
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
      *why = "running as root, and there is no 'postgres' user to run the server as";
      return false;
    }
    if (run_shell("command -v runuser").exit_code != 0) {
      *why = "running as root, and runuser is missing";
      return false;
    }
    r->as_postgres = true;
    r->uid = pw->pw_uid;
    r->gid = pw->pw_gid;
  }
  return true;
}

// The template data folder, made once per build folder and server version.
bool ensure_template(const Runner& r, fs::path* out, std::string* why) {
  const fs::path state = CONCIERGE_TEST_STATE_DIR;
  std::error_code ec;
  fs::create_directories(state, ec);
  const auto version = run_shell(r.command("postgres", "--version"));
  if (version.exit_code != 0) {
    *why = "postgres --version failed: " + version.err;
    return false;
  }
  const fs::path dir = state / "postgres-template";
  const fs::path lock_path = state / "postgres-template.lock";
  const int lock = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
    *why = "cannot lock " + lock_path.string();
    if (lock >= 0) ::close(lock);
    return false;
  }
  bool ok = true;
  const std::string marker = r.bindir.string() + "\n" + version.out;
  if (read_text(dir / "ready") != marker) {
    fs::remove_all(dir, ec);
    fs::path work;
    ok = r.make_dir("concierge-pg-initdb-", &work, why);
    if (ok) {
      const fs::path data = work / "data";
      const auto init =
          run_shell("cd " + quote(work.string()) + " && " +
                    r.command("initdb", "-D " + quote(data.string()) + " -A trust -U " + kRole +
                                            " -E UTF8 --locale=C --no-sync"));
      if (init.exit_code != 0) {
        *why = "initdb failed: " + init.out + init.err;
        ok = false;
      } else {
        // cp -a keeps the owner (the postgres user, when root).
        const auto copy =
            run_shell("cp -a " + quote(data.string()) + " " + quote((dir.string() + ".tmp")) +
                      " && mv " + quote(dir.string() + ".tmp") + " " + quote(dir.string()));
        if (copy.exit_code != 0) {
          *why = "cannot copy the template: " + copy.err;
          ok = false;
        } else {
          std::ofstream(dir / "ready", std::ios::trunc) << marker;
        }
      }
      fs::remove_all(work, ec);
    }
  }
  ::flock(lock, LOCK_UN);
  ::close(lock);
  *out = dir;
  return ok;
}

// Closes every descriptor above stderr (a detached child must not hold a
// pipe its parent's reader waits on, such as ctest's).
void close_inherited_fds() {
  if (::close_range(3, ~0U, 0) == 0) return;
  for (int fd = 3; fd < 1024; ++fd) ::close(fd);
}

// Runs `script` with /bin/sh in a detached process (own session, stdio on
// /dev/null, or stdin on `stdin_fd` when >= 0); its pid, or -1.
pid_t spawn_detached(const std::string& script, int stdin_fd) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();  // not interrupted with the test's process group
    const int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(stdin_fd >= 0 ? stdin_fd : devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    close_inherited_fds();
    (void)!::chdir("/");
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// A server's folder: data/ (the cluster), server.log, and the socket.
class PostgresServer {
 public:
  // Starts a new server in a fresh folder; the object owns it (the
  // destructor stops it) until release(). With `watch_self`, a watchdog
  // also stops it if this process dies (see watch_this_process).
  static std::unique_ptr<PostgresServer> start(bool watch_self, std::string* why) {
    std::unique_ptr<PostgresServer> server(new PostgresServer());
    Runner& r = server->runner_;
    if (!make_runner(&r, why)) return nullptr;
    fs::path tmpl;
    if (!ensure_template(r, &tmpl, why)) return nullptr;
    if (!r.make_dir("concierge-pg-", &server->dir_, why)) return nullptr;
    server->owned_ = true;  // from here on, the destructor removes the folder
    if (watch_self) server->watch_this_process();
    const fs::path data = server->dir_ / "data";
    const auto copy = run_shell("cp -a " + quote(tmpl.string()) + " " + quote(data.string()) +
                                " && rm -f " + quote((data / "ready").string()));
    if (copy.exit_code != 0) {
      *why = "cannot copy the template data folder: " + copy.err;
      return nullptr;
    }
    const std::string options = "-k " + server->dir_.string() +
                                " -h '' -F -c full_page_writes=off -c synchronous_commit=off";
    const auto started =
        run_shell("cd " + quote(server->dir_.string()) + " && " +
                  r.command("pg_ctl", "-D " + quote(data.string()) + " -l " +
                                          quote((server->dir_ / "server.log").string()) +
                                          " -w -t 60 -o " + quote(options) + " start"));
    if (started.exit_code != 0) {
      *why = "pg_ctl start failed: " + started.out + started.err +
             read_text(server->dir_ / "server.log");
      return nullptr;
    }
    return server;
  }

  // A server someone else started and stops (the ctest fixture's).
  static std::unique_ptr<PostgresServer> attach(const fs::path& dir, std::string* why) {
    std::unique_ptr<PostgresServer> server(new PostgresServer());
    if (!make_runner(&server->runner_, why)) return nullptr;
    server->dir_ = dir;
    return server;
  }

  ~PostgresServer() {
    if (owned_) stop();
    if (watchdog_ > 0) {
      static constexpr char kDone[] = "done\n";
      (void)!::write(watchdog_fd_, kDone, sizeof kDone - 1);
      ::close(watchdog_fd_);
      ::waitpid(watchdog_, nullptr, 0);
    }
  }

  // Stops the server at once (the data is thrown away) and removes its folder.
  void stop() {
    (void)run_shell("cd / && " + stop_command());
    std::error_code ec;
    fs::remove_all(dir_, ec);
    owned_ = false;
  }

  // Leaves the server running when this object goes.
  void release() { owned_ = false; }

  // A detached shell that waits for "done" on a pipe; when the pipe closes
  // without it (this process died), it stops the server and removes the
  // folder. For a server of this process.
  void watch_this_process() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    const std::string script = "read -r line; [ \"$line\" = done ] && exit 0; " + stop_command() +
                               " >/dev/null 2>&1; rm -rf " + quote(dir_.string());
    const pid_t pid = spawn_detached(script, fds[0]);
    ::close(fds[0]);
    if (pid < 0) {
      ::close(fds[1]);
      return;
    }
    watchdog_ = pid;
    watchdog_fd_ = fds[1];
  }

  // A detached shell that stops the server, removes its folder and
  // `state_file` once process `pid` (started at `start_time`, /proc's
  // clock ticks) is gone; it exits by itself when the folder goes first.
  void watch_process(pid_t pid, const std::string& start_time, const fs::path& state_file) const {
    // Shell built-ins only, but for sleep: field 22 of /proc/<pid>/stat is
    // the 20th after the command name's closing parenthesis.
    const std::string script =
        "alive() { { read -r s < /proc/" + std::to_string(pid) +
        "/stat; } 2>/dev/null || return 1; s=${s##*) }; set -- $s; [ \"${20}\" = " +
        quote(start_time) + " ]; }; while [ -d " + quote(dir_.string()) +
        " ] && alive; do sleep 1; done; [ -d " + quote(dir_.string()) + " ] || exit 0; " +
        stop_command() + " >/dev/null 2>&1; rm -rf " + quote(dir_.string()) + "; rm -f " +
        quote(state_file.string());
    (void)spawn_detached(script, -1);  // not waited for: it outlives us
  }

  const fs::path& dir() const { return dir_; }

  std::string url(const std::string& database) const {
    return "postgresql:///" + database + "?host=" + dir_.string() + "&user=" + kRole;
  }

 private:
  PostgresServer() = default;

  std::string stop_command() const {
    return runner_.command("pg_ctl",
                           "-D " + quote((dir_ / "data").string()) + " -m immediate -w stop");
  }

  Runner runner_;
  fs::path dir_;
  bool owned_ = false;
  pid_t watchdog_ = -1;
  int watchdog_fd_ = -1;
};

// This process's database on a server, and a schema per call.
class TestDatabases {
 public:
  TestDatabases(std::unique_ptr<PostgresServer> server, bool drop_at_exit)
      : server_(std::move(server)), drop_at_exit_(drop_at_exit) {}

  ~TestDatabases() {
    if (tests_ != nullptr) PQfinish(tests_);
    if (admin_ != nullptr) {
      if (drop_at_exit_ && !database_.empty()) {
        std::string ignored;
        (void)exec(admin_, "DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)", &ignored);
      }
      PQfinish(admin_);
    }
  }

  // A fresh schema in this process's database, first on the URL's
  // search_path: the store's unqualified tables land in it. (A schema costs
  // milliseconds; the database, made once per process, more.)
  std::optional<std::string> create_schema(std::string* why) {
    if (tests_ == nullptr && !open_database(why)) return std::nullopt;
    const std::string schema = "t_" + std::to_string(::getpid()) + "_" + std::to_string(++schemas_);
    if (!exec(tests_, "CREATE SCHEMA " + schema, why)) return std::nullopt;
    return server_->url(database_) + "&options=-csearch_path%3D" + schema;
  }

 private:
  bool open_database(std::string* why) {
    if (!connect(server_->url("postgres"), &admin_, why)) return false;
    // Random, not only the pid: pids are reused within a long ctest run.
    std::random_device rd;
    const std::string name =
        "t_" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 1000000);
    // PostgreSQL 15+ copies the template through the WAL by default; copying
    // its files is several times faster for a tiny database (fsync is off).
    const std::string strategy = PQserverVersion(admin_) >= 150000 ? " STRATEGY FILE_COPY" : "";
    if (!exec(admin_, "CREATE DATABASE " + name + strategy, why)) return false;
    database_ = name;
    return connect(server_->url(database_), &tests_, why);
  }

  static bool connect(const std::string& url, PGconn** conn, std::string* why) {
    *conn = PQconnectdb(url.c_str());
    if (PQstatus(*conn) == CONNECTION_OK) return true;
    *why = "cannot connect to the test server (" + url + "): " + PQerrorMessage(*conn);
    PQfinish(*conn);
    *conn = nullptr;
    return false;
  }

  static bool exec(PGconn* conn, const std::string& sql, std::string* why) {
    PGresult* res = PQexec(conn, sql.c_str());
    const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) *why = sql + ": " + PQerrorMessage(conn);
    PQclear(res);
    return ok;
  }

  std::unique_ptr<PostgresServer> server_;
  bool drop_at_exit_;
  PGconn* admin_ = nullptr;  // on the database "postgres"
  PGconn* tests_ = nullptr;  // on database_
  std::string database_;
  int schemas_ = 0;
};

// ---- The ctest fixture's server --------------------------------------------

fs::path shared_root() { return fs::path(CONCIERGE_TEST_STATE_DIR) / "postgres-shared"; }

// Field 22 of /proc/<pid>/stat (the start time, in clock ticks since boot):
// with the pid, it names one process for good. Empty when there is no such
// process.
std::string process_start_time(pid_t pid) {
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return "";
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return "";
  }
  return field;
}

// The parent of process `pid` (field 4 of /proc/<pid>/stat); 0 when unknown.
pid_t parent_of(pid_t pid) {
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 1));
  std::string state;
  pid_t parent = 0;
  fields >> state >> parent;
  return parent;
}

// The state file of the ctest run `pid`: "<pid>-<start time>", holding
// "ok\n<server folder>" or "unavailable\n<reason>".
fs::path state_file_of(pid_t pid) {
  const std::string start = process_start_time(pid);
  if (start.empty()) return {};
  return shared_root() / (std::to_string(pid) + "-" + start);
}

struct SharedState {
  bool available = false;
  std::string text;  // the server folder, or why there is none
};

std::optional<SharedState> read_state(const fs::path& file) {
  std::error_code ec;
  if (file.empty() || !fs::exists(file, ec)) return std::nullopt;
  const std::string content = read_text(file);
  const std::size_t nl = content.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  SharedState s;
  s.available = content.substr(0, nl) == "ok";
  s.text = content.substr(nl + 1);
  return s;
}

// An exclusive lock on the shared-server folder (start, stop and clean-ups
// of concurrent ctest runs take turns).
FileLock shared_lock() {
  std::error_code ec;
  fs::create_directories(shared_root(), ec);
  return FileLock(shared_root() / ".lock", 0644);
}

// Stops the server a state file names (if any) and removes the file.
void stop_recorded(const fs::path& file) {
  const auto state = read_state(file);
  if (state && state->available) {
    std::string why;
    if (auto server = PostgresServer::attach(state->text, &why)) {
      std::error_code ec;
      if (fs::exists(server->dir(), ec)) server->stop();
    }
  }
  std::error_code ec;
  fs::remove(file, ec);
}

// Stops the servers of ctest runs that are gone (their watchdog normally
// has). Called with the lock held.
void stop_orphans() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(shared_root(), ec)) {
    const std::string name = entry.path().filename().string();
    const std::size_t dash = name.find('-');
    if (name.empty() || name[0] == '.' || dash == std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::atoi(name.substr(0, dash).c_str()));
    if (pid > 0 && process_start_time(pid) == name.substr(dash + 1)) continue;  // still running
    stop_recorded(entry.path());
  }
}

bool write_state(const fs::path& file, const std::string& content) {
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    if (!out) return false;
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  return !ec;
}

// The ctest fixture's server, when this process is one of its tests.
std::unique_ptr<PostgresServer> shared_server(bool* found, std::string* why) {
  *found = false;
  const char* mode = std::getenv("CONCIERGE_TEST_POSTGRES");
  if (mode == nullptr || std::string(mode) != "shared") return nullptr;
  // ctest is the parent, or an ancestor when the test runs under a wrapper.
  std::optional<SharedState> state;
  for (pid_t pid = ::getppid(); pid > 1 && !state; pid = parent_of(pid)) {
    state = read_state(state_file_of(pid));
  }
  if (!state) return nullptr;  // not run by a ctest with the fixture (run by hand, say)
  *found = true;
  if (!state->available) {
    *why = "the ctest fixture could not start PostgreSQL: " + state->text;
    return nullptr;
  }
  return PostgresServer::attach(state->text, why);
}

struct Shared {
  std::mutex mu;
  bool tried = false;
  std::string why;
  std::unique_ptr<TestDatabases> databases;  // and a private server: gone when the process exits
};

Shared& shared() {
  static Shared s;
  return s;
}

std::unique_ptr<TestDatabases> open_databases(std::string* why) {
  bool found = false;
  if (auto server = shared_server(&found, why)) {
    return std::make_unique<TestDatabases>(std::move(server), /*drop_at_exit=*/true);
  }
  if (found) return nullptr;  // the fixture's reason is in *why
  auto server = PostgresServer::start(/*watch_self=*/true, why);
  if (!server) return nullptr;
  return std::make_unique<TestDatabases>(std::move(server), /*drop_at_exit=*/false);
}

}  // namespace

bool postgres_required() {
  const char* v = std::getenv("CONCIERGE_REQUIRE_POSTGRES");
  return v != nullptr && std::string(v) == "1";
}

std::optional<std::string> test_postgres_database(std::string* why_not) {
  Shared& s = shared();
  std::lock_guard lock(s.mu);
  if (!s.tried) {
    s.tried = true;
    s.databases = open_databases(&s.why);
  }
  if (!s.databases) {
    *why_not = s.why;
    return std::nullopt;
  }
  return s.databases->create_schema(why_not);
}

int postgres_fixture_start() {
  const FileLock lock = shared_lock();
  if (!lock.ok()) {
    std::cerr << "cannot lock " << shared_root() << "\n";
    return 1;
  }
  stop_orphans();
  const pid_t ctest = ::getppid();
  const fs::path file = state_file_of(ctest);
  if (file.empty()) {
    std::cerr << "cannot read the start time of the parent process " << ctest << "\n";
    return 1;
  }
  stop_recorded(file);  // a leftover of this very run (the setup ran twice)
  std::string why;
  auto server = PostgresServer::start(/*watch_self=*/false, &why);
  if (!server) {
    // Not a failure here: the tests that need the server report why, and
    // skip or fail according to CONCIERGE_REQUIRE_POSTGRES.
    std::cout << "PostgreSQL unavailable: " << why << "\n";
    return write_state(file, "unavailable\n" + why) ? 0 : 1;
  }
  server->watch_process(ctest, process_start_time(ctest), file);
  if (!write_state(file, "ok\n" + server->dir().string())) {
    std::cerr << "cannot write " << file << "\n";
    return 1;  // the server object stops the server
  }
  server->release();
  std::cout << "PostgreSQL for ctest " << ctest << " is at " << server->dir().string() << "\n";
  return 0;
}

int postgres_fixture_stop() {
  const FileLock lock = shared_lock();
  if (!lock.ok()) {
    std::cerr << "cannot lock " << shared_root() << "\n";
    return 1;
  }
  const fs::path file = state_file_of(::getppid());
  const auto state = read_state(file);
  stop_recorded(file);
  stop_orphans();
  if (state && state->available) {
    std::error_code ec;
    if (fs::exists(state->text, ec)) {
      std::cerr << "PostgreSQL at " << state->text << " is still there\n";
      return 1;
    }
    std::cout << "PostgreSQL at " << state->text << " stopped\n";
  }
  return 0;
}

}  // namespace concierge::testing
