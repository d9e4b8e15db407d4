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
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

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

class PostgresServer {
 public:
  static std::unique_ptr<PostgresServer> start(std::string* why) {
    std::unique_ptr<PostgresServer> server(new PostgresServer());
    Runner& r = server->runner_;
    if (!make_runner(&r, why)) return nullptr;
    fs::path tmpl;
    if (!ensure_template(r, &tmpl, why)) return nullptr;
    if (!r.make_dir("concierge-pg-", &server->dir_, why)) return nullptr;
    server->start_watchdog();
    const fs::path data = server->dir_ / "data";
    const auto copy = run_shell("cp -a " + quote(tmpl.string()) + " " + quote(data.string()) +
                                " && rm -f " + quote((data / "ready").string()));
    if (copy.exit_code != 0) {
      *why = "cannot copy the template data folder: " + copy.err;
      return nullptr;
    }
    const std::string options = "-k " + server->dir_.string() +
                                " -h '' -F -c full_page_writes=off -c synchronous_commit=off";
    server->running_ = true;  // from here on, the destructor stops it
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
    server->admin_ = PQconnectdb(server->url("postgres").c_str());
    if (PQstatus(server->admin_) != CONNECTION_OK) {
      *why = std::string("cannot connect to the test server: ") + PQerrorMessage(server->admin_);
      return nullptr;
    }
    return server;
  }

  ~PostgresServer() {
    if (tests_ != nullptr) PQfinish(tests_);
    if (admin_ != nullptr) PQfinish(admin_);
    if (running_) {
      (void)run_shell("cd / && " +
                      runner_.command("pg_ctl", "-D " + quote((dir_ / "data").string()) +
                                                    " -m immediate -w stop"));
    }
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
    if (watchdog_ > 0) {
      static constexpr char kDone[] = "done\n";
      (void)!::write(watchdog_fd_, kDone, sizeof kDone - 1);
      ::close(watchdog_fd_);
      ::waitpid(watchdog_, nullptr, 0);
    }
  }

  std::string url(const std::string& database) const {
    return "postgresql:///" + database + "?host=" + dir_.string() + "&user=" + kRole;
  }

  // A fresh schema in the shared test database, first on the URL's
  // search_path: the store's unqualified tables land in it. (A schema costs
  // milliseconds; CREATE DATABASE a few hundred.)
  std::optional<std::string> create_database(std::string* why) {
    if (!shared_database_ready_) {
      if (!exec(std::string("CREATE DATABASE ") + kDatabase, why)) return std::nullopt;
      shared_database_ready_ = true;
    }
    const std::string schema = "t_" + std::to_string(::getpid()) + "_" + std::to_string(++schemas_);
    if (!exec_in(kDatabase, "CREATE SCHEMA " + schema, why)) return std::nullopt;
    return url(kDatabase) + "&options=-csearch_path%3D" + schema;
  }

 private:
  PostgresServer() = default;

  // A detached shell that waits for "done" on a pipe; when the pipe closes
  // without it (this process died), it stops the server and removes the folder.
  void start_watchdog() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    const std::string script = "read -r line; [ \"$line\" = done ] && exit 0; " +
                               runner_.command("pg_ctl", "-D " + quote((dir_ / "data").string()) +
                                                             " -m immediate -w stop") +
                               " >/dev/null 2>&1; rm -rf " + quote(dir_.string());
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setsid();  // not interrupted with the test's process group
      ::dup2(fds[0], 0);
      const int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) {
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
      }
      (void)!::chdir("/");
      ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[0]);
    if (pid < 0) {
      ::close(fds[1]);
      return;
    }
    watchdog_ = pid;
    watchdog_fd_ = fds[1];
  }

  bool exec(const std::string& sql, std::string* why) {
    PGresult* res = PQexec(admin_, sql.c_str());
    const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) *why = sql + ": " + PQerrorMessage(admin_);
    PQclear(res);
    return ok;
  }
  bool exec_in(const char* database, const std::string& sql, std::string* why) {
    if (tests_ == nullptr) {
      tests_ = PQconnectdb(url(database).c_str());
      if (PQstatus(tests_) != CONNECTION_OK) {
        *why = std::string("cannot connect to the test database: ") + PQerrorMessage(tests_);
        PQfinish(tests_);
        tests_ = nullptr;
        return false;
      }
    }
    PGresult* res = PQexec(tests_, sql.c_str());
    const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) *why = sql + ": " + PQerrorMessage(tests_);
    PQclear(res);
    return ok;
  }

  static constexpr const char* kDatabase = "concierge_tests";
  Runner runner_;
  fs::path dir_;
  bool running_ = false;
  PGconn* admin_ = nullptr;  // on the database "postgres"
  PGconn* tests_ = nullptr;  // on kDatabase
  bool shared_database_ready_ = false;
  int schemas_ = 0;
  pid_t watchdog_ = -1;
  int watchdog_fd_ = -1;
};

struct Shared {
  std::mutex mu;
  bool tried = false;
  std::string why;
  std::unique_ptr<PostgresServer> server;  // stopped when the process exits
};

Shared& shared() {
  static Shared s;
  return s;
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
    s.server = PostgresServer::start(&s.why);
  }
  if (!s.server) {
    *why_not = s.why;
    return std::nullopt;
  }
  return s.server->create_database(why_not);
}

}  // namespace concierge::testing
