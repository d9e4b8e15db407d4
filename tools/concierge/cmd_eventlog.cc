// concierge eventlog show|replay|diff|reference: TCG firmware event logs.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "concierge/core/encoding.h"
#include "concierge/measure/event_decode.h"
#include "concierge/measure/event_log.h"
#include "concierge/measure/event_log_diff.h"
#include "concierge/measure/event_types.h"
#include "concierge/measure/reference.h"
#include "concierge/measure/replay.h"
#include "pcr_json.h"

namespace concierge::cli {
namespace {

struct LogOptions {
  std::string path;
  std::string other;
  std::string out;  // reference: write here instead of stdout
  bool json = false;
  bool all = false;
};

Result<measure::EventLog> load(const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes data, read_file(path));
  return measure::parse_event_log(std::move(data));
}

std::string algorithms_line(const measure::EventLog& log) {
  if (log.format == measure::LogFormat::kLegacySha1) return "legacy SHA-1 log";
  std::string out = "crypto-agile log (";
  for (std::size_t i = 0; i < log.spec_id->algorithms.size(); ++i) {
    const auto& a = log.spec_id->algorithms[i];
    auto known = hash_from_tcg_id(a.alg_id);
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%04x", a.alg_id);
    out += (i ? ", " : "") + (known ? std::string(hash_name(*known)) : std::string(buf));
  }
  return out + ")";
}

nlohmann::json event_json(const measure::Event& e) {
  nlohmann::json digests = nlohmann::json::object();
  for (const auto& d : e.digests) {
    auto alg = hash_from_tcg_id(d.alg_id);
    digests[alg ? std::string(hash_name(*alg)) : std::to_string(d.alg_id)] = hex_encode(d.value);
  }
  measure::DecodedEvent decoded = measure::decode_event(e);
  return {{"index", e.index},
          {"offset", e.offset},
          {"pcr", e.pcr},
          {"type", measure::event_type::name(e.type)},
          {"type_value", e.type},
          {"digests", digests},
          {"data_size", e.data.size()},
          {"summary", decoded.summary},
          {"details", decoded.details}};
}

int show(const LogOptions& o) {
  auto log = load(o.path);
  if (!log) return report(o.path, log.error());
  if (o.json) {
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : log->events) events.push_back(event_json(e));
    print_json(nlohmann::json{{"events", events}});
    return kExitOk;
  }
  std::printf("%s, %zu events, %zu bytes", algorithms_line(*log).c_str(), log->events.size(),
              log->size);
  if (log->padding) std::printf(" + %zu bytes padding", log->padding);
  std::printf("\n%5s %3s  %-34s %s\n", "#", "PCR", "type", "event");
  for (const auto& e : log->events) {
    measure::DecodedEvent d = measure::decode_event(e);
    std::printf("%5zu %3u  %-34s %s\n", e.index, e.pcr,
                std::string(measure::event_type::name(e.type)).c_str(), d.summary.c_str());
  }
  return kExitOk;
}

int replay(const LogOptions& o) {
  auto log = load(o.path);
  if (!log) return report(o.path, log.error());
  auto result = measure::replay(*log);
  if (!result) return report(o.path, result.error());
  if (o.json) {
    nlohmann::json warnings = nlohmann::json::array();
    for (const auto& w : result->warnings) warnings.push_back(w.to_string());
    nlohmann::json out{{"pcrs", pcrs_json(result->banks, o.all)}, {"warnings", warnings}};
    print_json(out);
    return kExitOk;
  }
  std::printf("%s", pcrs_text(result->banks, o.all).c_str());
  for (const auto& w : result->warnings) std::printf("warning: %s\n", w.to_string().c_str());
  return kExitOk;
}

void print_side(const char* label, const measure::Event* e) {
  if (e == nullptr) {
    std::printf("  %s: (no event: the log ends here)\n", label);
    return;
  }
  std::printf("  %s: event %zu at offset 0x%zx, PCR %u, %s: %s\n", label, e->index, e->offset,
              e->pcr, std::string(measure::event_type::name(e->type)).c_str(),
              measure::decode_event(*e).summary.c_str());
  for (const auto& d : e->digests) {
    auto alg = hash_from_tcg_id(d.alg_id);
    std::printf("     %s %s\n", alg ? std::string(hash_name(*alg)).c_str() : "?",
                hex_encode(d.value).c_str());
  }
}

int diff(const LogOptions& o) {
  auto a = load(o.path);
  if (!a) return report(o.path, a.error());
  auto b = load(o.other);
  if (!b) return report(o.other, b.error());
  measure::LogDiff d = measure::diff_event_logs(*a, *b);
  if (o.json) {
    nlohmann::json out{{"identical", d.identical}, {"reason", d.reason}};
    if (!d.identical) {
      out["event_index"] = d.index;
      out["a"] = d.a ? event_json(*d.a) : nlohmann::json(nullptr);
      out["b"] = d.b ? event_json(*d.b) : nlohmann::json(nullptr);
      nlohmann::json pcrs = nlohmann::json::array();
      for (const auto& p : d.differing_pcrs) pcrs.push_back(p);
      out["differing_pcrs"] = pcrs;
    }
    print_json(out);
    return d.identical ? kExitOk : kExitRejected;
  }
  if (d.identical) {
    std::printf("the logs are identical (%zu events)\n", a->events.size());
    return kExitOk;
  }
  std::printf("the logs part at event %zu: %s\n", d.index, d.reason.c_str());
  print_side("A", d.a);
  print_side("B", d.b);
  if (!d.differing_pcrs.empty()) {
    std::printf("final PCRs that differ:");
    for (const auto& p : d.differing_pcrs) std::printf(" %s", p.c_str());
    std::printf("\n");
  }
  return kExitRejected;
}

// Reference values from a known-good log, as JSON (2-space indent).
int reference(const LogOptions& o) {
  auto log = load(o.path);
  if (!log) return report(o.path, log.error());
  auto result = measure::replay(*log);
  if (!result) return report(o.path, result.error());
  measure::ReferenceValues ref = measure::reference_from_log(*log, *result);
  if (ref.pcrs.empty() && ref.digests.empty()) {
    return report(o.path, make_error(Errc::kUnsupported, "the log has no bank this build replays"));
  }
  std::string text = measure::reference_values_json(ref).dump(2) + "\n";
  if (o.out.empty()) {
    std::fputs(text.c_str(), stdout);
    return kExitOk;
  }
  if (auto w = write_text(o.out, text); !w) return report(o.out, w.error());
  return kExitOk;
}

}  // namespace

void register_eventlog(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("eventlog", "TCG PC Client firmware event logs");
  cmd->require_subcommand(1);
  auto opts = std::make_shared<LogOptions>();

  auto* s = cmd->add_subcommand("show", "List the events of a log in readable form");
  s->add_option("log", opts->path, "Event log (binary_bios_measurements format)")->required();
  s->add_flag("--json", opts->json, "Print the events as JSON");
  s->callback([&ctx, opts] { ctx.exit_code = show(*opts); });

  auto* r = cmd->add_subcommand("replay", "Replay a log into PCR banks and print the PCRs");
  r->add_option("log", opts->path, "Event log")->required();
  r->add_flag("--json", opts->json, "Print {\"pcrs\": ..., \"warnings\": [...]} as JSON");
  r->add_flag("--all", opts->all, "Print all 24 PCRs, not only the extended ones");
  r->callback([&ctx, opts] { ctx.exit_code = replay(*opts); });

  auto* d = cmd->add_subcommand("diff", "Show the first event where two logs part (exit 1 if any)");
  d->add_option("a", opts->path, "First log")->required();
  d->add_option("b", opts->other, "Second log")->required();
  d->add_flag("--json", opts->json, "Print the difference as JSON");
  d->callback([&ctx, opts] { ctx.exit_code = diff(*opts); });

  auto* ref = cmd->add_subcommand(
      "reference", "Reference values from a known-good log: its PCR values and event digests");
  ref->add_option("log", opts->path, "Event log of a known-good boot")->required();
  ref->add_option("--out", opts->out, "Write the JSON here instead of stdout");
  ref->callback([&ctx, opts] { ctx.exit_code = reference(*opts); });
}

}  // namespace concierge::cli
