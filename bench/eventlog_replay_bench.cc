// Event-log replay against the hashing work it implies.
//
// For every shared log (${CONCIERGE_VECTORS_DIR}/tpm/eventlog/*.bin; absent
// logs are skipped) and for a synthetic 10,000-event log, in the same run:
//   Parse/<log>                      parse_event_log only
//   Replay/<log>                     parse_event_log + replay, default options
//   ReplayNoDataCheck/<log>          parse_event_log + replay, no data checks
//   BareHashing/<log>                the extends replay performs, computed
//                                    directly with OpenSSL EVP: the floor
//   BareHashingPlusDataChecks/<log>  the floor plus the event-data hashes that
//                                    check_event_data computes
// Target: Replay within 2x of BareHashingPlusDataChecks and ReplayNoDataCheck
// within 2x of BareHashing (docs/performance.md). items_per_second counts
// events, so the per-event cost shows.
//
// The bench binary links benchmark_main, so benchmarks are registered by a
// static object. With CONCIERGE_BENCH_WRITE_SYNTHETIC=<path> in the
// environment the binary instead writes the synthetic log to <path> and exits
// (bench/cli_vs_tpm2_eventlog.sh times the CLI on it).
#include <benchmark/benchmark.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/digest.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/event_log_writer.h"
#include "concierge/measure/event_types.h"
#include "concierge/measure/pcr_bank.h"
#include "concierge/measure/replay.h"

namespace {

namespace fs = std::filesystem;
namespace m = concierge::measure;
namespace et = concierge::measure::event_type;
using concierge::Bytes;
using concierge::ByteView;
using concierge::HashAlg;

constexpr std::size_t kSyntheticEvents = 10000;

// ---------------------------------------------------------------------------
// Synthetic log: 10,000 events in SHA-1, SHA-256 and SHA-384 banks, a mix of
// the event types a UEFI boot produces (measured binaries, variables,
// actions, separators), so that both the extends and the data checks show.

void put_u64(Bytes& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// UEFI_VARIABLE_DATA (PFP 10.4.4) with an ASCII name as UTF-16LE.
Bytes uefi_variable(const std::string& name, std::size_t value_size, std::uint8_t fill) {
  Bytes out(16, 0x61);  // VariableName GUID
  put_u64(out, name.size());
  put_u64(out, value_size);
  for (char c : name) {
    out.push_back(static_cast<std::uint8_t>(c));
    out.push_back(0);
  }
  out.insert(out.end(), value_size, fill);
  return out;
}

Bytes synthetic_log() {
  m::EventLogWriter w({HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384});
  w.add_startup_locality(0);
  Bytes measured(4096);
  for (std::size_t i = 0; i < measured.size(); ++i) measured[i] = static_cast<std::uint8_t>(i);
  const std::string action = "Calling EFI Application from Boot Option";
  const Bytes separator(4, 0);
  bool ok = true;  // false when OpenSSL lacks a bank's algorithm
  for (std::size_t i = 1; i < kSyntheticEvents; ++i) {
    auto pcr = static_cast<std::uint32_t>(i % 16);
    measured[0] = static_cast<std::uint8_t>(i);
    measured[1] = static_cast<std::uint8_t>(i >> 8);
    switch (i % 10) {
      case 0:  // EV_SEPARATOR: digest = H(data)
        ok = ok && w.add(pcr, et::kSeparator, separator);
        break;
      case 1:  // EV_EFI_ACTION: digest = H(data)
        ok = ok && w.add(pcr, et::kEfiAction, concierge::as_bytes(action));
        break;
      case 2:
      case 3: {  // EV_EFI_VARIABLE_DRIVER_CONFIG: digest = H(UEFI_VARIABLE_DATA)
        Bytes var = uefi_variable("SecureBoot" + std::to_string(i), 1 + i % 64,
                                  static_cast<std::uint8_t>(i));
        ok = ok && w.add(pcr, et::kEfiVariableDriverConfig, var);
        break;
      }
      case 4: {  // EV_EFI_VARIABLE_BOOT: digest = H(VariableData) (PFP 10.4.4)
        Bytes var =
            uefi_variable("Boot" + std::to_string(i), 16 + i % 48, static_cast<std::uint8_t>(i));
        ByteView value = ByteView(var).last(16 + i % 48);
        ok = ok && w.add_measured(pcr, et::kEfiVariableBoot, value, var);
        break;
      }
      default: {  // EV_EFI_BOOT_SERVICES_APPLICATION: digest of an image not in the log
        Bytes path(64, static_cast<std::uint8_t>(i));  // stands for the device path
        ok = ok && w.add_measured(pcr, et::kEfiBootServicesApplication, measured, path);
        break;
      }
    }
  }
  return ok ? w.bytes() : Bytes{};
}

// ---------------------------------------------------------------------------
// The hashing replay implies, precomputed from one parse.

struct Op {
  std::uint8_t bank = 0;
  std::uint8_t pcr = 0;
  bool check = false;  // a data check rather than an extend
  const std::uint8_t* input = nullptr;
  std::size_t size = 0;
  const std::uint8_t* expected = nullptr;  // data checks: the digest in the log
};

struct BankState {
  const EVP_MD* md = nullptr;
  std::size_t size = 0;
  std::array<std::uint8_t, m::kPcrCount * 64> reset{};
  std::array<std::uint8_t, m::kPcrCount * 64> values{};
};

const EVP_MD* fetch_md(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1:
      return EVP_MD_fetch(nullptr, "SHA1", nullptr);
    case HashAlg::kSha256:
      return EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    case HashAlg::kSha384:
      return EVP_MD_fetch(nullptr, "SHA2-384", nullptr);
    case HashAlg::kSha512:
      return EVP_MD_fetch(nullptr, "SHA2-512", nullptr);
    case HashAlg::kSm3_256:
      return EVP_MD_fetch(nullptr, "SM3", nullptr);
  }
  return nullptr;
}

struct Plan {
  std::vector<BankState> banks;
  std::vector<Op> ops;
  std::size_t extends = 0;
  std::size_t data_hashes = 0;
};

struct Subject {
  std::string name;
  Bytes bytes;
  m::EventLog log;  // keeps the views of the plan alive
  Plan plan;
  std::size_t events = 0;
  std::string error;  // non-empty: the log does not parse or replay (not timed)
};

// Hashes `a || b` into out with the shared context; false on failure.
bool hash2(EVP_MD_CTX* ctx, const EVP_MD* md, const std::uint8_t* a, std::size_t a_size,
           const std::uint8_t* b, std::size_t b_size, std::uint8_t* out) {
  return EVP_DigestInit_ex2(ctx, md, nullptr) == 1 && EVP_DigestUpdate(ctx, a, a_size) == 1 &&
         EVP_DigestUpdate(ctx, b, b_size) == 1 && EVP_DigestFinal_ex(ctx, out, nullptr) == 1;
}

bool one_shot_matches(EVP_MD_CTX* ctx, const EVP_MD* md, std::size_t size, ByteView data,
                      const std::uint8_t* expected) {
  std::array<std::uint8_t, 64> out{};
  return hash2(ctx, md, data.data(), data.size(), nullptr, 0, out.data()) &&
         CRYPTO_memcmp(out.data(), expected, size) == 0;
}

// Builds the op list replay(log) performs: the same banks, the same events,
// and (with data checks) the same data hashes, including the second hash of
// VariableData when the whole-data hash does not match.
std::string make_plan(const m::EventLog& log, Plan& plan) {
  std::vector<HashAlg> algs;
  if (log.format == m::LogFormat::kLegacySha1) {
    algs.push_back(HashAlg::kSha1);
  } else {
    for (const m::AlgorithmSize& a : log.spec_id->algorithms) {
      auto alg = concierge::hash_from_tcg_id(a.alg_id);
      if (alg && (*alg != HashAlg::kSm3_256 || concierge::sm3_available())) algs.push_back(*alg);
    }
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  for (HashAlg alg : algs) {
    BankState b;
    b.md = fetch_md(alg);
    b.size = concierge::digest_size(alg);
    if (b.md == nullptr) return "cannot fetch a digest";
    for (unsigned pcr = 17; pcr <= 22; ++pcr) std::fill_n(b.reset.begin() + pcr * 64, b.size, 0xff);
    plan.banks.push_back(b);
  }
  for (const m::Event& e : log.events) {
    if (e.type == et::kNoAction) {
      if (auto locality = m::startup_locality(e)) {
        for (BankState& b : plan.banks) b.reset[b.size - 1] = *locality;
      }
      continue;
    }
    for (std::size_t i = 0; i < algs.size(); ++i) {
      const m::EventDigest* d = e.digest_for(static_cast<std::uint16_t>(algs[i]));
      if (d == nullptr) continue;
      plan.ops.push_back(Op{static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(e.pcr), false,
                            d->value.data(), d->value.size(), nullptr});
      ++plan.extends;
    }
    // The same candidates, in the same order, as replay's data check.
    std::array<ByteView, 2> candidates;
    std::size_t n = m::event_data_candidates(e, candidates);
    for (std::size_t i = 0; n > 0 && i < algs.size(); ++i) {
      const m::EventDigest* d = e.digest_for(static_cast<std::uint16_t>(algs[i]));
      if (d == nullptr) continue;
      const BankState& b = plan.banks[i];
      for (std::size_t c = 0; c < n; ++c) {
        plan.ops.push_back(Op{static_cast<std::uint8_t>(i), 0, true, candidates[c].data(),
                              candidates[c].size(), d->value.data()});
        ++plan.data_hashes;
        if (one_shot_matches(ctx.get(), b.md, b.size, candidates[c], d->value.data())) break;
      }
    }
  }
  return {};
}

// Runs the plan once; returns the number of data checks that matched.
std::size_t run_plan(Plan& plan, EVP_MD_CTX* ctx, bool with_checks) {
  for (BankState& b : plan.banks) std::copy_n(b.reset.begin(), b.values.size(), b.values.begin());
  std::size_t matched = 0;
  std::array<std::uint8_t, 64> scratch{};
  for (const Op& op : plan.ops) {
    BankState& b = plan.banks[op.bank];
    if (!op.check) {
      std::uint8_t* slot = b.values.data() + op.pcr * 64;
      // The slot is consumed by the first update before Final writes it.
      hash2(ctx, b.md, slot, b.size, op.input, op.size, slot);
    } else if (with_checks) {
      hash2(ctx, b.md, op.input, op.size, nullptr, 0, scratch.data());
      matched += CRYPTO_memcmp(scratch.data(), op.expected, b.size) == 0;
    }
  }
  return matched;
}

// The bare hashing must land on the PCR values replay computes; otherwise the
// floor is not the floor of this replay.
std::string verify_plan(Plan& plan, const m::ReplayResult& result, EVP_MD_CTX* ctx) {
  run_plan(plan, ctx, false);
  if (plan.banks.size() != result.banks.size()) return "bank count differs from replay";
  for (std::size_t i = 0; i < plan.banks.size(); ++i) {
    for (unsigned pcr = 0; pcr < m::kPcrCount; ++pcr) {
      ByteView want = result.banks[i].value(pcr);
      if (std::memcmp(want.data(), plan.banks[i].values.data() + pcr * 64, want.size()) != 0) {
        return "bare hashing disagrees with replay on PCR " + std::to_string(pcr);
      }
    }
  }
  return {};
}

std::unique_ptr<Subject> make_subject(std::string name, Bytes bytes) {
  auto s = std::make_unique<Subject>();
  s->name = std::move(name);
  s->bytes = std::move(bytes);
  auto log = m::parse_event_log(ByteView(s->bytes));
  if (!log) {
    s->error = "parse: " + log.error().message;
    return s;
  }
  s->log = std::move(*log);
  s->events = s->log.events.size();
  auto result = m::replay(s->log);
  if (!result) {
    s->error = "replay: " + result.error().message;
    return s;
  }
  s->error = make_plan(s->log, s->plan);
  if (!s->error.empty()) return s;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  s->error = verify_plan(s->plan, *result, ctx.get());
  return s;
}

void set_counters(benchmark::State& state, const Subject& s) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * s.events));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * s.bytes.size()));
  state.counters["events"] = static_cast<double>(s.events);
  state.counters["extends"] = static_cast<double>(s.plan.extends);
  state.counters["data_hashes"] = static_cast<double>(s.plan.data_hashes);
}

void bm_parse(benchmark::State& state, const Subject* s) {
  for (auto _ : state) {
    auto log = m::parse_event_log(ByteView(s->bytes));
    benchmark::DoNotOptimize(log);
  }
  set_counters(state, *s);
}

void bm_replay(benchmark::State& state, const Subject* s, bool check_data) {
  m::ReplayOptions options;
  options.check_event_data = check_data;
  for (auto _ : state) {
    auto log = m::parse_event_log(ByteView(s->bytes));
    if (!log) {
      state.SkipWithError("parse failed");
      break;
    }
    auto result = m::replay(*log, options);
    if (!result) {
      state.SkipWithError("replay failed");
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  set_counters(state, *s);
}

void bm_bare(benchmark::State& state, Subject* s, bool with_checks) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  for (auto _ : state) {
    std::size_t matched = run_plan(s->plan, ctx.get(), with_checks);
    benchmark::DoNotOptimize(matched);
    benchmark::DoNotOptimize(s->plan.banks.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, *s);
}

Bytes read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Registration {
  std::vector<std::unique_ptr<Subject>> subjects;

  Registration() {
    if (const char* out = std::getenv("CONCIERGE_BENCH_WRITE_SYNTHETIC")) {
      Bytes log = synthetic_log();
      std::ofstream f(out, std::ios::binary);
      f.write(reinterpret_cast<const char*>(log.data()), static_cast<std::streamsize>(log.size()));
      std::exit(f ? 0 : 1);
    }
    fs::path dir = fs::path(CONCIERGE_VECTORS_DIR) / "tpm" / "eventlog";
    std::vector<fs::path> logs;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_regular_file() && entry.path().extension() == ".bin")
        logs.push_back(entry.path());
    }
    std::sort(logs.begin(), logs.end());
    for (const fs::path& p : logs)
      subjects.push_back(make_subject(p.stem().string(), read_file(p)));
    subjects.push_back(make_subject("synthetic-10000", synthetic_log()));

    for (const auto& owned : subjects) {
      Subject* s = owned.get();
      if (!s->error.empty()) {  // e.g. a log concierge rejects: nothing to time
        std::fprintf(stderr, "eventlog_replay_bench: skipping %s: %s\n", s->name.c_str(),
                     s->error.c_str());
        continue;
      }
      benchmark::RegisterBenchmark(("Parse/" + s->name).c_str(), bm_parse, s);
      benchmark::RegisterBenchmark(("Replay/" + s->name).c_str(), bm_replay, s, true);
      benchmark::RegisterBenchmark(("ReplayNoDataCheck/" + s->name).c_str(), bm_replay, s, false);
      benchmark::RegisterBenchmark(("BareHashing/" + s->name).c_str(), bm_bare, s, false);
      benchmark::RegisterBenchmark(("BareHashingPlusDataChecks/" + s->name).c_str(), bm_bare, s,
                                   true);
    }
  }
};

const Registration registration;

}  // namespace
