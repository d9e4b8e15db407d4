// concierge ima show|replay: Linux IMA runtime measurement lists (ASCII or
// binary, detected from the content).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli.h"
#include "concierge/measure/ima.h"
#include "pcr_json.h"

namespace concierge::cli {
namespace {

struct ImaOptions {
  std::string path;
  std::vector<std::string> banks;
  bool json = false;
};

Result<measure::ImaLog> load(const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes data, read_file(path));
  return measure::parse_ima_log(data);
}

Result<std::vector<HashAlg>> parse_banks(const std::vector<std::string>& names) {
  std::vector<HashAlg> out;
  for (const auto& n : names) {
    auto alg = hash_from_name(n);
    if (!alg) return fail(Errc::kInvalidArgument, "unknown bank '" + n + "'");
    out.push_back(*alg);
  }
  return out;
}

std::string summary_line(const measure::ImaLog& log, const measure::ImaReplayResult& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%s IMA log, template hash %s, %zu entries: %zu verified, %zu violations, %zu "
                "mismatches, %zu unverifiable\n",
                log.ascii ? "ASCII" : "binary",
                std::string(hash_name(log.template_hash_alg)).c_str(), log.entries.size(),
                r.verified, r.violations, r.mismatches, r.unverifiable);
  return buf;
}

int show(const ImaOptions& o) {
  auto log = load(o.path);
  if (!log) return report(o.path, log.error());
  auto result = measure::replay_ima(*log, {HashAlg::kSha1});
  if (!result) return report(o.path, result.error());
  std::printf("%s", summary_line(*log, *result).c_str());
  std::printf("%5s %3s  %-10s %-8s %-12s %s\n", "#", "PCR", "template", "alg", "status", "name");
  for (const auto& e : log->entries) {
    std::printf("%5zu %3u  %-10s %-8s %-12s %s\n", e.index, e.pcr, e.template_name.c_str(),
                e.file_digest_alg.empty() ? "-" : e.file_digest_alg.c_str(),
                std::string(measure::ima_status_name(result->status[e.index])).c_str(),
                e.file_name.c_str());
  }
  for (const auto& w : result->warnings) std::printf("warning: %s\n", w.to_string().c_str());
  return kExitOk;
}

int replay(const ImaOptions& o) {
  auto banks = parse_banks(o.banks);
  if (!banks) return report("--bank", banks.error());
  auto log = load(o.path);
  if (!log) return report(o.path, log.error());
  auto result = measure::replay_ima(*log, *banks);
  if (!result) return report(o.path, result.error());
  if (o.json) {
    nlohmann::json warnings = nlohmann::json::array();
    for (const auto& w : result->warnings) warnings.push_back(w.to_string());
    nlohmann::json out{{"pcrs", pcrs_json(result->banks)}, {"warnings", warnings}};
    print_json(out);
    return kExitOk;
  }
  std::printf("%s", summary_line(*log, *result).c_str());
  std::printf("%s", pcrs_text(result->banks).c_str());
  for (HashAlg alg : result->omitted_banks) {
    std::printf("%s: omitted (template data unknown)\n", std::string(hash_name(alg)).c_str());
  }
  for (const auto& w : result->warnings) std::printf("warning: %s\n", w.to_string().c_str());
  return kExitOk;
}

}  // namespace

void register_ima(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("ima", "Linux IMA runtime measurement lists (ASCII or binary)");
  cmd->require_subcommand(1);
  auto opts = std::make_shared<ImaOptions>();

  auto* s = cmd->add_subcommand("show", "List the entries and their template-hash status");
  s->add_option("log", opts->path, "IMA measurement list (ASCII or binary)")->required();
  s->callback([&ctx, opts] { ctx.exit_code = show(*opts); });

  auto* r = cmd->add_subcommand("replay", "Replay the list into PCR banks and print the PCRs");
  r->add_option("log", opts->path, "IMA measurement list (ASCII or binary)")->required();
  r->add_flag("--json", opts->json, "Print {\"pcrs\": ..., \"warnings\": [...]} as JSON");
  r->add_option("--bank", opts->banks,
                "Bank to replay: sha1, sha256, sha384 or sha512; repeat the option or separate "
                "with commas (default: all four)")
      ->expected(1)
      ->allow_extra_args(false)
      ->take_all()
      ->delimiter(',');
  r->callback([&ctx, opts] { ctx.exit_code = replay(*opts); });
}

}  // namespace concierge::cli
