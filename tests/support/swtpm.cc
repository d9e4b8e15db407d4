#include "support/swtpm.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

namespace concierge::testing {
namespace {

namespace fs = std::filesystem;

fs::path template_dir() { return fs::path(CONCIERGE_TEST_STATE_DIR) / "swtpm-template"; }

bool have_program(const char* name) {
  return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0;
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  out << text;
}

// Manufactures the template once: a TPM state with EK certificates from a
// local CA of its own. Holds an exclusive lock while doing so.
bool ensure_template(std::string* why) {
  const fs::path dir = template_dir();
  std::error_code ec;
  fs::create_directories(dir.parent_path(), ec);
  const fs::path lock_path = dir.parent_path() / "swtpm-template.lock";
  int lock = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
    *why = "cannot lock " + lock_path.string();
    if (lock >= 0) ::close(lock);
    return false;
  }
  bool ok = true;
  if (!fs::exists(dir / "ready")) {
    fs::remove_all(dir, ec);
    fs::create_directories(dir / "state");
    fs::create_directories(dir / "ca");
    write_text(dir / "localca.conf", "statedir = " + (dir / "ca").string() +
                                         "\nsigningkey = " + (dir / "ca/signkey.pem").string() +
                                         "\nissuercert = " + (dir / "ca/issuercert.pem").string() +
                                         "\ncertserial = " + (dir / "ca/certserial").string() +
                                         "\n");
    write_text(dir / "localca.options",
               "--platform-manufacturer Concierge\n--platform-version 2.1\n"
               "--platform-model test\n");
    write_text(dir / "setup.conf",
               "create_certs_tool = /usr/bin/swtpm_localca\n"
               "create_certs_tool_config = " +
                   (dir / "localca.conf").string() + "\ncreate_certs_tool_options = " +
                   (dir / "localca.options").string() + "\nactive_pcr_banks = sha256,sha384\n");
    const std::string cmd = "swtpm_setup --tpm2 --tpmstate '" + (dir / "state").string() +
                            "' --create-ek-cert --pcr-banks sha256,sha384 --config '" +
                            (dir / "setup.conf").string() + "' --overwrite --logfile '" +
                            (dir / "setup.log").string() + "'";
    auto run = run_shell(cmd);
    if (run.exit_code != 0 || !fs::exists(dir / "ca/swtpm-localca-rootca-cert.pem")) {
      *why = "swtpm_setup failed (see " + (dir / "setup.log").string() + ")";
      ok = false;
    } else {
      write_text(dir / "ready", "");
    }
  }
  ::flock(lock, LOCK_UN);
  ::close(lock);
  return ok;
}

// Binds (is the port free?) or connects (is someone listening?) to a
// loopback port.
bool try_port(int port, bool connect) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto* a = reinterpret_cast<sockaddr*>(&addr);
  bool ok = (connect ? ::connect(fd, a, sizeof addr) : ::bind(fd, a, sizeof addr)) == 0;
  ::close(fd);
  return ok;
}

bool port_free(int port) { return try_port(port, false); }
bool port_accepts(int port) { return try_port(port, true); }

}  // namespace

fs::path Swtpm::ca_root_pem() { return template_dir() / "ca/swtpm-localca-rootca-cert.pem"; }
fs::path Swtpm::ca_intermediate_pem() { return template_dir() / "ca/issuercert.pem"; }

std::string Swtpm::tcti() const { return "swtpm:host=127.0.0.1,port=" + std::to_string(port_); }

std::unique_ptr<Swtpm> Swtpm::start(Kind kind, std::string* why_not) {
  if (!have_program("swtpm") || !have_program("swtpm_setup")) {
    *why_not = "swtpm or swtpm_setup is not installed";
    return nullptr;
  }
  std::unique_ptr<Swtpm> tpm(new Swtpm());
  const fs::path state = tpm->state_.path();
  if (kind == Kind::kManufactured) {
    if (!ensure_template(why_not)) return nullptr;
    fs::copy(template_dir() / "state", state, fs::copy_options::recursive);
  }
  std::random_device rd;
  std::uniform_int_distribution<int> pick(10000, 30000);
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int port = pick(rd) * 2;
    if (!port_free(port) || !port_free(port + 1)) continue;
    const std::string server = "type=tcp,port=" + std::to_string(port) + ",bindaddr=127.0.0.1";
    const std::string ctrl = "type=tcp,port=" + std::to_string(port + 1) + ",bindaddr=127.0.0.1";
    const std::string dir = "dir=" + state.string();
    const std::string log = "file=" + (state / "swtpm.log").string();
    std::vector<std::string> args = {"swtpm",
                                     "socket",
                                     "--tpm2",
                                     "--tpmstate",
                                     dir,
                                     "--server",
                                     server,
                                     "--ctrl",
                                     ctrl,
                                     "--log",
                                     log,
                                     "--flags",
                                     "not-need-init,startup-clear"};
    pid_t pid = ::fork();
    if (pid == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      ::execvp("swtpm", argv.data());
      ::_exit(127);
    }
    if (pid < 0) break;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool up = false;
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;  // lost a race for the port, or swtpm failed
        break;
      }
      if (port_accepts(port)) {
        up = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (up) {
      tpm->pid_ = pid;
      tpm->port_ = port;
      return tpm;
    }
    if (!exited) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  *why_not = "swtpm did not start (see its log in a concierge-test-* temporary folder)";
  return nullptr;
}

Swtpm::~Swtpm() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
}

}  // namespace concierge::testing
