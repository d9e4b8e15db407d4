// concierge_kbs_load: a load generator for the key broker (broker/broker.h).
//
// Complete KBS exchanges over HTTP, each as a guest makes it:
//   POST /kbs/v0/auth -> POST /kbs/v0/attest with a simulated SEV-SNP report
//   bound to the nonce and to an ephemeral P-256 key -> GET the resource,
//   decrypt the JWE with that key.
// Every client thread keeps one connection alive across its exchanges and,
// by default, generates a fresh ephemeral key per exchange as a real guest
// does (--reuse-key keeps one per thread).
//
// The limit, measured first in the same run: the raw 2-core P-384 ECDSA
// verification rate (EVP_DigestVerify of a fixed signature over SHA-384 of
// 0x2A0 bytes, one thread per core): the report signature every attest must
// verify, the one cost no broker can avoid. Beside it, the P-384 signing
// rate: the simulated secure processor signs each report on the same cores,
// so verify / (sign + verify) CPU time bounds the ratio any broker reaches
// here ("ceiling_ratio"); "broker_alone_ratio" is one verification's CPU
// time over the broker's per exchange, the ratio with the cores to itself.
//
// Then the load: closed loop (each thread starts its next exchange when the
// previous one ends) or open loop (--rate / --rate-of-limit: each thread
// follows a fixed schedule; a latency is measured from the scheduled start,
// so time spent waiting behind a slow exchange counts). Exchanges finishing
// in the measured window (after --warmup) are counted; any non-200 answer,
// transport failure or a secret that does not decrypt is an error.
//
// With --pid, the server's CPU time (/proc/PID/stat) over the window and
// its memory (VmHWM, VmRSS from /proc/PID/status) are reported beside the
// client's own CPU time: both share the machine's cores.
//
// Output: a summary, then one JSON line (starting with '{').
#include <openssl/evp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/encoding.h"
#include "concierge/core/jwe.h"
#include "concierge/core/private_key.h"
#include "concierge/core/public_key.h"
#include "concierge/evidence/snp/simulator.h"
#include "concierge/verifier/binding.h"

namespace {

namespace snp = concierge::evidence::snp;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using concierge::Bytes;

struct Options {
  std::string url;
  std::string sim_state;
  std::string measurement;  // hex, 48 bytes
  std::string resource = "default/bench/key";
  std::string expect;  // file with the expected secret
  std::string label;
  int threads = 4;
  double duration = 10;
  double warmup = 1;
  double rate = 0;           // total exchanges/s; 0: closed loop
  double rate_of_limit = 0;  // pace at this fraction of the measured P-384 rate
  double limit_seconds = 2;
  int limit_threads = 2;
  long pid = 0;
  bool reuse_key = false;
  bool nagle = false;  // leave Nagle's algorithm on the client's socket
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "concierge_kbs_load: %s\n"
               "usage: concierge_kbs_load --url http://HOST:PORT --sim-state DIR\n"
               "         [--measurement HEX] [--resource repo/type/tag] [--expect FILE]\n"
               "         [--threads N=4] [--duration S=10] [--warmup S=1]\n"
               "         [--rate R | --rate-of-limit F] [--limit-seconds S=2]\n"
               "         [--limit-threads N=2] [--pid PID] [--reuse-key] [--nagle]\n"
               "         [--label TEXT]\n",
               why);
  std::exit(2);
}

double number_arg(const char* name, const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !std::isfinite(v) || v < 0) {
    usage((std::string(name) + ": not a non-negative number").c_str());
  }
  return v;
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reuse-key") {
      o.reuse_key = true;
      continue;
    }
    if (a == "--nagle") {
      o.nagle = true;
      continue;
    }
    if (a == "-h" || a == "--help") usage("complete KBS exchanges against a broker");
    if (i + 1 >= argc) usage((a + ": missing value").c_str());
    const char* v = argv[++i];
    if (a == "--url") {
      o.url = v;
    } else if (a == "--sim-state") {
      o.sim_state = v;
    } else if (a == "--measurement") {
      o.measurement = v;
    } else if (a == "--resource") {
      o.resource = v;
    } else if (a == "--expect") {
      o.expect = v;
    } else if (a == "--label") {
      o.label = v;
    } else if (a == "--threads") {
      o.threads = static_cast<int>(number_arg("--threads", v));
    } else if (a == "--duration") {
      o.duration = number_arg("--duration", v);
    } else if (a == "--warmup") {
      o.warmup = number_arg("--warmup", v);
    } else if (a == "--rate") {
      o.rate = number_arg("--rate", v);
    } else if (a == "--rate-of-limit") {
      o.rate_of_limit = number_arg("--rate-of-limit", v);
    } else if (a == "--limit-seconds") {
      o.limit_seconds = number_arg("--limit-seconds", v);
    } else if (a == "--limit-threads") {
      o.limit_threads = static_cast<int>(number_arg("--limit-threads", v));
    } else if (a == "--pid") {
      o.pid = static_cast<long>(number_arg("--pid", v));
    } else {
      usage((a + ": unknown option").c_str());
    }
  }
  if (o.url.empty() || o.sim_state.empty()) usage("--url and --sim-state are required");
  if (o.threads < 1 || o.threads > 1024) usage("--threads: 1..1024");
  if (o.limit_threads < 1 || o.limit_threads > 64) usage("--limit-threads: 1..64");
  if (o.duration <= 0) usage("--duration must be positive");
  if (o.rate > 0 && o.rate_of_limit > 0) usage("--rate and --rate-of-limit exclude each other");
  return o;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "concierge_kbs_load: %s\n", what.c_str());
  std::exit(1);
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// --- The limit: raw P-384 verification, one thread per core ----------------

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

enum class P384Op { kVerify, kSign };

// Operations per second of raw EVP_DigestVerify (the limit) or
// EVP_DigestSign (what the simulated secure processor does per report) with
// P-384 and SHA-384 over a report-sized message, summed over `threads`; and
// the CPU time one operation takes (CLOCK_THREAD_CPUTIME_ID), which other
// processes on the machine do not inflate.
struct P384Rate {
  double per_s = 0;         // wall clock, summed over the threads
  double cpu_s_per_op = 0;  // the threads' own CPU time per operation
};

P384Rate p384_rate(int threads, double seconds, P384Op op = P384Op::kVerify) {
  Bytes message(0x2A0);
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<std::uint8_t>(i * 7);
  auto key = concierge::PrivateKey::generate_ec(concierge::EcCurve::kP384);
  if (!key) die("P-384 key: " + key.error().to_string());
  auto signature = key->sign_ecdsa_der(concierge::HashAlg::kSha384, message);
  auto pub = key->public_key();
  if (!signature || !pub) die("P-384 signature");
  const concierge::PublicKey& verifier_key = *pub;
  const Bytes& sig = *signature;

  std::vector<double> rates(static_cast<std::size_t>(threads), 0);
  std::vector<double> cpu(static_cast<std::size_t>(threads), 0);
  std::vector<std::uint64_t> ops(static_cast<std::size_t>(threads), 0);
  std::atomic<bool> failed{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const EVP_MD* sha384 = EVP_sha384();
      const double cpu_start = thread_cpu_seconds();
      const auto start = Clock::now();
      const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(seconds));
      std::uint64_t n = 0;
      auto now = start;
      unsigned char out[160];
      while (now < deadline) {
        for (int k = 0; k < 16; ++k) {
          EVP_MD_CTX* ctx = EVP_MD_CTX_new();
          bool ok = ctx != nullptr;
          if (op == P384Op::kVerify) {
            ok = ok &&
                 EVP_DigestVerifyInit(ctx, nullptr, sha384, nullptr, verifier_key.get()) == 1 &&
                 EVP_DigestVerify(ctx, sig.data(), sig.size(), message.data(), message.size()) == 1;
          } else {
            std::size_t len = sizeof out;
            ok = ok && EVP_DigestSignInit(ctx, nullptr, sha384, nullptr, key->get()) == 1 &&
                 EVP_DigestSign(ctx, out, &len, message.data(), message.size()) == 1;
          }
          EVP_MD_CTX_free(ctx);
          if (!ok) failed = true;
        }
        n += 16;
        now = Clock::now();
      }
      rates[static_cast<std::size_t>(t)] = static_cast<double>(n) / seconds_between(start, now);
      cpu[static_cast<std::size_t>(t)] = thread_cpu_seconds() - cpu_start;
      ops[static_cast<std::size_t>(t)] = n;
    });
  }
  for (auto& th : pool) th.join();
  if (failed) {
    die(op == P384Op::kVerify ? "the P-384 signature did not verify" : "P-384 signing failed");
  }
  P384Rate out;
  double cpu_total = 0;
  std::uint64_t n_total = 0;
  for (std::size_t i = 0; i < rates.size(); ++i) {
    out.per_s += rates[i];
    cpu_total += cpu[i];
    n_total += ops[i];
  }
  out.cpu_s_per_op = n_total > 0 ? cpu_total / static_cast<double>(n_total) : 0;
  return out;
}

// --- /proc ------------------------------------------------------------------

// utime + stime of a process, in seconds; nullopt when unreadable.
std::optional<double> process_cpu_seconds(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(paren + 1));
  std::vector<std::string> f;
  for (std::string s; fields >> s;) f.push_back(s);
  if (f.size() < 13) return std::nullopt;  // f[0] is field 3 (state); utime 14, stime 15
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(f[11]) + std::stod(f[12])) / ticks;
}

// A "VmHWM:" style line of /proc/PID/status, in kB.
std::optional<long> status_kb(long pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return std::nullopt;
}

int process_threads(long pid) { return static_cast<int>(status_kb(pid, "Threads").value_or(0)); }

struct SystemCpu {
  double busy = 0;  // seconds, all cores
  double total = 0;
};

SystemCpu system_cpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  SystemCpu s;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (int i = 0; i < 8; ++i) {  // user nice system idle iowait irq softirq steal
    double v = 0;
    if (!(in >> v)) break;
    s.total += v / ticks;
    if (i != 3 && i != 4) s.busy += v / ticks;
  }
  return s;
}

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The broker's own handler time per endpoint (its Prometheus histogram sums).
std::map<std::string, std::pair<double, double>> server_handler_times(const std::string& url) {
  std::map<std::string, std::pair<double, double>> out;  // endpoint -> (sum s, count)
  httplib::Client client(url);
  client.set_read_timeout(10, 0);
  auto res = client.Get("/metrics");
  if (!res || res->status != 200) return out;
  std::istringstream lines(res->body);
  const std::string sum = "concierge_request_duration_seconds_sum{endpoint=\"";
  const std::string count = "concierge_request_duration_seconds_count{endpoint=\"";
  for (std::string line; std::getline(lines, line);) {
    const bool is_sum = line.rfind(sum, 0) == 0;
    const bool is_count = line.rfind(count, 0) == 0;
    if (!is_sum && !is_count) continue;
    const std::size_t start = (is_sum ? sum : count).size();
    const auto quote = line.find('"', start);
    const auto space = line.rfind(' ');
    if (quote == std::string::npos || space == std::string::npos) continue;
    const std::string endpoint = line.substr(start, quote - start);
    const double v = std::atof(line.c_str() + space + 1);
    (is_sum ? out[endpoint].first : out[endpoint].second) = v;
  }
  return out;
}

// --- The exchanges ------------------------------------------------------------

enum Phase { kKeygen, kAuth, kEvidence, kAttest, kResource, kDecrypt, kPhases };
constexpr const char* kPhaseNames[kPhases] = {"keygen", "auth",     "evidence",
                                              "attest", "resource", "decrypt"};

struct Shared {
  const Options* options = nullptr;
  const snp::SnpSimulator* sim = nullptr;
  std::array<std::uint8_t, 48> measurement{};
  std::string cert_table_b64;
  std::optional<Bytes> expected;
  Clock::time_point begin;  // the measured window
  Clock::time_point end;
  double interval = 0;  // per thread, seconds; 0: closed loop
};

struct ThreadResult {
  std::vector<double> latency_ms;  // from the scheduled start
  std::vector<double> service_ms;  // from the actual start
  std::array<double, kPhases> phase_s{};
  std::uint64_t errors = 0;
  std::uint64_t late_at_end = 0;  // open loop: exchanges due but not started by the end
  std::string first_error;
};

class Guest {
 public:
  explicit Guest(const Shared& shared) : shared_(shared), http_(shared.options->url) {
    http_.set_keep_alive(true);
    // A request goes out as two writes (headers, body): with Nagle's
    // algorithm the body waits for the ACK of the headers, which the peer
    // delays. A guest agent should not wait for that; --nagle measures it.
    http_.set_tcp_nodelay(!shared.options->nagle);
    http_.set_connection_timeout(30, 0);
    http_.set_read_timeout(30, 0);
    http_.set_write_timeout(30, 0);
  }

  // One exchange; false (with `why`) on any failure.
  bool exchange(std::array<double, kPhases>& phases, std::string& why) {
    auto mark = Clock::now();
    const auto lap = [&](Phase p) {
      const auto now = Clock::now();
      phases[p] += seconds_between(mark, now);
      mark = now;
    };

    if (!key_ || !shared_.options->reuse_key) {
      auto key = concierge::PrivateKey::generate_ec(concierge::EcCurve::kP256);
      if (!key) return failed(why, "keygen: " + key.error().to_string());
      auto pub = key->public_key();
      if (!pub) return failed(why, "keygen: " + pub.error().to_string());
      auto jwk = concierge::jose::encryption_jwk(*pub);
      if (!jwk) return failed(why, "keygen: " + jwk.error().to_string());
      key_.emplace(std::move(*key));
      jwk_ = std::move(*jwk);
    }
    lap(kKeygen);

    static const std::string auth_body =
        Json{{"version", "0.4.0"}, {"tee", "snp"}, {"extra-params", Json::object()}}.dump();
    auto res = http_.Post("/kbs/v0/auth", auth_body, "application/json");
    if (!res) return failed(why, "auth: " + httplib::to_string(res.error()));
    if (res->status != 200) return failed(why, "auth: HTTP " + std::to_string(res->status));
    const Json challenge = Json::parse(res->body, nullptr, false);
    if (!challenge.is_object() || !challenge.contains("nonce") || !challenge["nonce"].is_string())
      return failed(why, "auth: no nonce");
    const std::string set_cookie = res->get_header_value("Set-Cookie");
    const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
    lap(kAuth);

    const Json runtime = {{"nonce", challenge["nonce"]}, {"tee-pubkey", jwk_}};
    auto report_data =
        concierge::verifier::runtime_data_digest(runtime, concierge::HashAlg::kSha384, 64);
    if (!report_data) return failed(why, "binding: " + report_data.error().to_string());
    snp::ReportRequest request;
    std::copy(report_data->begin(), report_data->end(), request.report_data.begin());
    request.measurement = shared_.measurement;
    auto report = shared_.sim->issue(request);
    if (!report) return failed(why, "report: " + report.error().to_string());
    const Json attest = {{"runtime-data", runtime},
                         {"tee-evidence",
                          {{"evidence", concierge::base64_encode(*report)},
                           {"endorsements", {{"cert_table", shared_.cert_table_b64}}}}}};
    const std::string attest_body = attest.dump();
    lap(kEvidence);

    const httplib::Headers headers = {{"Cookie", cookie}};
    res = http_.Post("/kbs/v0/attest", headers, attest_body, "application/json");
    if (!res) return failed(why, "attest: " + httplib::to_string(res.error()));
    if (res->status != 200) {
      return failed(
          why, "attest: HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300));
    }
    lap(kAttest);

    res = http_.Get("/kbs/v0/resource/" + shared_.options->resource, headers);
    if (!res) return failed(why, "resource: " + httplib::to_string(res.error()));
    if (res->status != 200) {
      return failed(
          why, "resource: HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300));
    }
    lap(kResource);

    auto decrypted = concierge::jose::jwe_decrypt(std::string_view(res->body), *key_);
    if (!decrypted) return failed(why, "decrypt: " + decrypted.error().to_string());
    if (!*decrypted) return failed(why, "decrypt: " + decrypted->verdict.reason);
    const bool matches = !shared_.expected || decrypted->plaintext == *shared_.expected;
    concierge::wipe(decrypted->plaintext);
    if (!matches) return failed(why, "decrypt: the secret is not the expected one");
    lap(kDecrypt);
    return true;
  }

 private:
  static bool failed(std::string& why, std::string text) {
    why = std::move(text);
    return false;
  }
  const Shared& shared_;
  httplib::Client http_;
  std::optional<concierge::PrivateKey> key_;
  Json jwk_;
};

void run_guest(const Shared& shared, int index, ThreadResult& out) {
  Guest guest(shared);
  const auto to_duration = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  const auto warm_start = shared.begin - to_duration(shared.options->warmup);
  // Open loop: thread `index` starts at warm_start + index/threads of an
  // interval, then every interval.
  const double stagger = shared.interval * index / shared.options->threads;
  std::uint64_t k = 0;
  for (;;) {
    Clock::time_point scheduled;
    if (shared.interval > 0) {
      scheduled = warm_start + to_duration(stagger + shared.interval * static_cast<double>(k++));
      if (scheduled >= shared.end) break;
      std::this_thread::sleep_until(scheduled);
    } else {
      scheduled = Clock::now();
      if (scheduled >= shared.end) break;
    }
    const auto started = Clock::now();
    if (started >= shared.end) {
      // Due before the end, not started by then: the client fell behind.
      if (shared.interval > 0) {
        out.late_at_end += 1 + static_cast<std::uint64_t>(seconds_between(scheduled, shared.end) /
                                                          shared.interval);
      }
      break;
    }
    std::array<double, kPhases> phases{};
    std::string why;
    const bool ok = guest.exchange(phases, why);
    const auto done = Clock::now();
    if (done < shared.begin || done > shared.end) continue;  // outside the window
    if (!ok) {
      ++out.errors;
      if (out.first_error.empty()) out.first_error = why;
      // A broken connection is reopened by the client on the next request.
      continue;
    }
    out.latency_ms.push_back(seconds_between(scheduled, done) * 1e3);
    out.service_ms.push_back(seconds_between(started, done) * 1e3);
    for (int p = 0; p < kPhases; ++p) out.phase_s[static_cast<std::size_t>(p)] += phases[p];
  }
}

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double rank = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const auto hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - static_cast<double>(lo));
}

double round_to(double v, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_args(argc, argv);

  Shared shared;
  shared.options = &o;
  auto sim = snp::SnpSimulator::load(o.sim_state);
  if (!sim) die(o.sim_state + ": " + sim.error().to_string());
  shared.sim = &*sim;
  auto table = sim->cert_table();
  if (!table) die("cert table: " + table.error().to_string());
  shared.cert_table_b64 = concierge::base64_encode(*table);
  if (!o.measurement.empty()) {
    auto m = concierge::hex_decode(o.measurement);
    if (!m || m->size() != 48) die("--measurement: not 48 bytes of hex");
    std::copy(m->begin(), m->end(), shared.measurement.begin());
  }
  if (!o.expect.empty()) {
    std::ifstream in(o.expect, std::ios::binary);
    if (!in) die(o.expect + ": cannot read");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    shared.expected = Bytes(text.begin(), text.end());
  }

  // The limit, first, while the server is idle.
  const P384Rate verify = p384_rate(o.limit_threads, o.limit_seconds);
  const double limit = verify.per_s;
  std::printf("P-384 verification (raw EVP_DigestVerify, %d threads, %.1f s): %.0f/s\n",
              o.limit_threads, o.limit_seconds, limit);
  // Each exchange also costs the guest's side one P-384 signature (the
  // simulated secure processor's), on the same cores: with nothing else in
  // an exchange, a core would complete one exchange per (sign + verify) CPU
  // seconds, against one verification per verify CPU seconds, so
  // verify / (sign + verify) is the highest ratio there is.
  const P384Rate sign = p384_rate(o.limit_threads, o.limit_seconds, P384Op::kSign);
  const double sign_rate = sign.per_s;
  const double ceiling = verify.cpu_s_per_op / (verify.cpu_s_per_op + sign.cpu_s_per_op);
  std::printf(
      "P-384 signing (raw EVP_DigestSign, %d threads, %.1f s): %.0f/s; ceiling of the "
      "ratio with the guests on these cores: %.1f%%\n",
      o.limit_threads, o.limit_seconds, sign_rate, 100 * ceiling);

  const double rate = o.rate_of_limit > 0 ? o.rate_of_limit * limit : o.rate;
  shared.interval = rate > 0 ? o.threads / rate : 0;

  const long server_rss_before = o.pid > 0 ? status_kb(o.pid, "VmRSS").value_or(0) : 0;
  const auto to_duration = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  shared.begin = Clock::now() + to_duration(o.warmup + 0.05);
  shared.end = shared.begin + to_duration(o.duration);

  std::vector<ThreadResult> results(static_cast<std::size_t>(o.threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < o.threads; ++t) {
    pool.emplace_back(run_guest, std::cref(shared), t,
                      std::ref(results[static_cast<std::size_t>(t)]));
  }

  // Samples at the edges of the measured window.
  std::this_thread::sleep_until(shared.begin);
  const double client_cpu0 = self_cpu_seconds();
  const double server_cpu0 = o.pid > 0 ? process_cpu_seconds(o.pid).value_or(-1) : -1;
  const SystemCpu system0 = system_cpu();
  const auto handler0 = server_handler_times(o.url);
  std::this_thread::sleep_until(shared.end);
  const double client_cpu1 = self_cpu_seconds();
  const double server_cpu1 = o.pid > 0 ? process_cpu_seconds(o.pid).value_or(-1) : -1;
  const SystemCpu system1 = system_cpu();
  const auto handler1 = server_handler_times(o.url);
  const int server_threads = o.pid > 0 ? process_threads(o.pid) : 0;
  for (auto& th : pool) th.join();

  // Aggregate.
  std::vector<double> latency;
  std::vector<double> service;
  std::array<double, kPhases> phase_s{};
  std::uint64_t errors = 0;
  std::uint64_t late = 0;
  std::string first_error;
  for (const auto& r : results) {
    latency.insert(latency.end(), r.latency_ms.begin(), r.latency_ms.end());
    service.insert(service.end(), r.service_ms.begin(), r.service_ms.end());
    for (int p = 0; p < kPhases; ++p) {
      phase_s[static_cast<std::size_t>(p)] += r.phase_s[static_cast<std::size_t>(p)];
    }
    errors += r.errors;
    late += r.late_at_end;
    if (first_error.empty()) first_error = r.first_error;
  }
  std::sort(latency.begin(), latency.end());
  std::sort(service.begin(), service.end());
  const double n = static_cast<double>(latency.size());
  const double window = seconds_between(shared.begin, shared.end);
  const double xps = n / window;
  const double client_cpu = client_cpu1 - client_cpu0;
  const double system_busy = system1.busy - system0.busy;
  const double system_total = system1.total - system0.total;
  // The server's CPU seconds over the window; negative when unknown.
  const bool have_server_cpu = server_cpu0 >= 0 && server_cpu1 >= 0;
  const double server_cpu = have_server_cpu ? server_cpu1 - server_cpu0 : -1;
  std::optional<long> hwm, rss;
  if (o.pid > 0) {
    hwm = status_kb(o.pid, "VmHWM");
    rss = status_kb(o.pid, "VmRSS");
  }
  const auto per_exchange_ms = [&](double seconds) { return n > 0 ? seconds / n * 1e3 : 0; };

  // Summary.
  const std::string mode = rate > 0 ? "open loop, " +
                                          std::to_string(static_cast<long>(std::lround(rate))) +
                                          " exchanges/s offered"
                                    : std::string("closed loop");
  std::printf("%s%s: %d client threads, %.1f s measured after %.1f s warm-up, %s key%s\n",
              o.label.empty() ? "" : (o.label + ": ").c_str(), mode.c_str(), o.threads, window,
              o.warmup, o.reuse_key ? "one reused" : "a fresh ephemeral",
              o.nagle ? ", Nagle on" : "");
  std::printf("  exchanges: %.0f in the window, %.1f/s (%.1f%% of the P-384 rate); errors: %llu\n",
              n, xps, limit > 0 ? 100 * xps / limit : 0, static_cast<unsigned long long>(errors));
  if (!first_error.empty()) std::printf("  first error: %s\n", first_error.c_str());
  if (late > 0) {
    std::printf("  fell behind: %llu scheduled exchanges not started by the end\n",
                static_cast<unsigned long long>(late));
  }
  std::printf("  latency ms%s: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
              rate > 0 ? " (from the scheduled start)" : "", percentile(latency, 0.5),
              percentile(latency, 0.9), percentile(latency, 0.99),
              latency.empty() ? 0 : latency.back());
  if (rate > 0) {
    std::printf("  service ms (from the actual start): p50 %.2f  p99 %.2f\n",
                percentile(service, 0.5), percentile(service, 0.99));
  }
  std::printf("  client phases, mean ms:");
  for (int p = 0; p < kPhases; ++p) {
    std::printf(" %s %.3f", kPhaseNames[p], per_exchange_ms(phase_s[static_cast<std::size_t>(p)]));
  }
  std::printf("\n");
  std::printf("  server handler mean ms:");
  Json handler_json = Json::object();
  for (const char* e : {"auth", "attest", "resource"}) {
    const auto a = handler0.find(e);
    const auto b = handler1.find(e);
    if (b == handler1.end()) continue;
    const double sum = b->second.first - (a == handler0.end() ? 0 : a->second.first);
    const double count = b->second.second - (a == handler0.end() ? 0 : a->second.second);
    const double mean = count > 0 ? sum / count * 1e3 : 0;
    std::printf(" %s %.3f", e, mean);
    handler_json[e] = round_to(mean, 3);
  }
  std::printf("\n");
  std::printf("  CPU over the window (s): client %.2f (%.3f ms/exchange)", client_cpu,
              per_exchange_ms(client_cpu));
  if (have_server_cpu) {
    std::printf(", server %.2f (%.3f ms/exchange)", server_cpu, per_exchange_ms(server_cpu));
  }
  std::printf(", whole machine %.2f of %.2f (other processes %.2f)\n", system_busy, system_total,
              std::max(0.0, system_busy - client_cpu - (have_server_cpu ? server_cpu : 0)));
  if (o.pid > 0) {
    std::printf("  server memory: VmHWM %ld kB, VmRSS %ld kB (before the run %ld kB), %d threads\n",
                hwm.value_or(0), rss.value_or(0), server_rss_before, server_threads);
  }

  Json phases = Json::object();
  for (int p = 0; p < kPhases; ++p) {
    phases[kPhaseNames[p]] = round_to(per_exchange_ms(phase_s[static_cast<std::size_t>(p)]), 3);
  }
  Json j = {{"label", o.label},
            {"mode", rate > 0 ? "open" : "closed"},
            {"threads", o.threads},
            {"reuse_key", o.reuse_key},
            {"client_nagle", o.nagle},
            {"duration_s", round_to(window, 3)},
            {"offered_per_s", rate > 0 ? Json(round_to(rate, 1)) : Json(nullptr)},
            {"exchanges", latency.size()},
            {"exchanges_per_s", round_to(xps, 1)},
            {"errors", errors},
            {"first_error", first_error},
            {"late_at_end", late},
            {"p50_ms", round_to(percentile(latency, 0.5), 3)},
            {"p90_ms", round_to(percentile(latency, 0.9), 3)},
            {"p99_ms", round_to(percentile(latency, 0.99), 3)},
            {"max_ms", round_to(latency.empty() ? 0 : latency.back(), 3)},
            {"service_p50_ms", round_to(percentile(service, 0.5), 3)},
            {"service_p99_ms", round_to(percentile(service, 0.99), 3)},
            {"p384_verify_per_s", round_to(limit, 1)},
            {"p384_threads", o.limit_threads},
            {"ratio", limit > 0 ? round_to(xps / limit, 4) : 0},
            {"p384_sign_per_s", round_to(sign_rate, 1)},
            {"p384_verify_cpu_ms", round_to(verify.cpu_s_per_op * 1e3, 4)},
            {"p384_sign_cpu_ms", round_to(sign.cpu_s_per_op * 1e3, 4)},
            {"ceiling_ratio", round_to(ceiling, 4)},
            // What the broker's CPU per exchange would allow with the cores
            // to itself (the guests elsewhere): one verification's CPU time
            // over the broker's per exchange; a derived figure.
            {"broker_alone_ratio",
             have_server_cpu && server_cpu > 0
                 ? Json(round_to(verify.cpu_s_per_op * 1e3 / per_exchange_ms(server_cpu), 4))
                 : Json(nullptr)},
            {"client_phase_ms", phases},
            {"server_handler_ms", handler_json},
            {"client_cpu_s", round_to(client_cpu, 3)},
            {"server_cpu_s", have_server_cpu ? Json(round_to(server_cpu, 3)) : Json(nullptr)},
            {"client_cpu_ms_per_exchange", round_to(per_exchange_ms(client_cpu), 3)},
            {"server_cpu_ms_per_exchange",
             have_server_cpu ? Json(round_to(per_exchange_ms(server_cpu), 3)) : Json(nullptr)},
            {"machine_busy_s", round_to(system_busy, 3)},
            {"machine_total_s", round_to(system_total, 3)},
            {"server_vmhwm_kb", hwm ? Json(*hwm) : Json(nullptr)},
            {"server_vmrss_kb", rss ? Json(*rss) : Json(nullptr)},
            {"server_vmrss_before_kb", o.pid > 0 ? Json(server_rss_before) : Json(nullptr)},
            {"server_threads", o.pid > 0 ? Json(server_threads) : Json(nullptr)}};
  std::printf("%s\n", j.dump().c_str());
  return errors == 0 && !latency.empty() ? 0 : 1;
}
