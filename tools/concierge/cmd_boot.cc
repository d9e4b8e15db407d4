// concierge boot: the chain of trust in software (see measure/boot_chain.h),
// or extended into a TPM with --tcti (see attester/tpm/measured_boot.h).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include <set>

#include "cli.h"
#include "concierge/attester/tpm/measured_boot.h"
#include "concierge/core/encoding.h"
#include "concierge/measure/boot_chain.h"
#include "concierge/measure/event_types.h"
#include "pcr_json.h"

namespace concierge::cli {
namespace {

struct BootOptions {
  std::string manifest;
  std::string log;
  std::vector<std::string> replace;
  std::string tcti;
  bool json = false;
};

int boot(const BootOptions& o) {
  auto text = read_file(o.manifest);
  if (!text) return report(o.manifest, text.error());
  auto manifest = measure::parse_boot_manifest(as_chars(*text),
                                               std::filesystem::path(o.manifest).parent_path());
  if (!manifest) return report(o.manifest, manifest.error());
  for (const auto& r : o.replace) {
    auto eq = r.find('=');
    if (eq == std::string::npos || eq == 0) {
      return report("--replace", make_error(Errc::kInvalidArgument, "expected STAGE=FILE"));
    }
    auto content = read_file(r.substr(eq + 1));
    if (!content) return report("--replace", content.error());
    if (auto ok = measure::replace_stage(*manifest, r.substr(0, eq), std::move(*content)); !ok) {
      return report("--replace", ok.error());
    }
  }
  measure::SoftwarePcrSink sink(manifest->banks);
  Result<measure::BootRecord> record = fail(Errc::kInternal, "not run");
  nlohmann::json final_pcrs;
  std::string final_text;
  if (o.tcti.empty()) {
    record = measure::run_boot_chain(*manifest, sink);
    if (!record) return report(o.manifest, record.error());
    final_pcrs = pcrs_json(sink.banks());
    final_text = pcrs_text(sink.banks());
  } else {
    auto tpm = attester::tpm::Tpm::open(o.tcti);
    if (!tpm) return report(o.tcti, tpm.error());
    record = attester::tpm::run_boot_chain_in_tpm(**tpm, *manifest);
    if (!record) return report(o.manifest, record.error());
    // What the TPM now holds in the PCRs the chain used.
    std::set<unsigned> used;
    for (const auto& s : record->stages) used.insert(s.pcr);
    auto banks = (*tpm)->pcr_banks();
    if (!banks) return report(o.tcti, banks.error());
    std::vector<attester::tpm::PcrSelection> selection;
    for (HashAlg b : *banks) selection.push_back({b, {used.begin(), used.end()}});
    auto values = (*tpm)->read_pcrs(selection);
    if (!values) return report(o.tcti, values.error());
    final_pcrs = pcr_values_json(*values);
    for (const auto& [bank, pcrs] : *values) {
      final_text += std::string(hash_name(bank)) + ":\n";
      for (const auto& [pcr, value] : pcrs) {
        char idx[16];
        std::snprintf(idx, sizeof idx, "  %2u: ", pcr);
        final_text += idx + hex_encode(value) + "\n";
      }
    }
  }
  if (auto w = write_file(o.log, record->event_log); !w) return report(o.log, w.error());

  if (o.json) {
    nlohmann::json stages = nlohmann::json::array();
    for (const auto& s : record->stages) {
      nlohmann::json digests = nlohmann::json::object();
      for (const auto& d : s.digests) {
        digests[std::string(hash_name(*hash_from_tcg_id(d.alg_id)))] = hex_encode(d.value);
      }
      stages.push_back({{"stage", s.name},
                        {"measured_by", s.measured_by},
                        {"pcr", s.pcr},
                        {"event_type", measure::event_type::name(s.event_type)},
                        {"digests", digests}});
    }
    nlohmann::json out{{"manifest", manifest->name},
                       {"log", o.log},
                       {"stages", stages},
                       {"tpm", o.tcti.empty() ? nlohmann::json() : nlohmann::json(o.tcti)},
                       {"pcrs", final_pcrs}};
    print_json(out);
    return kExitOk;
  }
  std::printf("chain of trust \"%s\": %zu stages measured, log written to %s\n",
              manifest->name.c_str(), record->stages.size(), o.log.c_str());
  for (const auto& s : record->stages) {
    const auto& first = s.digests.front();
    std::string by = s.measured_by == s.name ? "itself" : s.measured_by;
    std::printf("  %-18s measured by %-18s into PCR %2u  %s %.16s...\n", s.name.c_str(), by.c_str(),
                s.pcr, std::string(hash_name(*hash_from_tcg_id(first.alg_id))).c_str(),
                hex_encode(first.value).c_str());
  }
  std::printf("final PCRs%s:\n%s", o.tcti.empty() ? "" : " (read from the TPM)",
              final_text.c_str());
  return kExitOk;
}

}  // namespace

void register_boot(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<BootOptions>();
  auto* cmd = app.add_subcommand(
      "boot", "Run a chain of trust in software: measure each stage, write the TCG event log");
  cmd->add_option("--manifest", opts->manifest, "Boot manifest (JSON)")->required();
  cmd->add_option("--log", opts->log, "Where to write the TCG event log")->required();
  cmd->add_option("--replace", opts->replace,
                  "STAGE=FILE: substitute a stage's content (repeatable)");
  cmd->add_option("--tcti", opts->tcti,
                  "Extend into this TPM (e.g. swtpm:host=127.0.0.1,port=2321) instead of "
                  "software PCRs; stages must use PCRs 8-15 (unused) or 16, 23");
  cmd->add_flag("--json", opts->json, "Print the stages and final PCRs as JSON");
  cmd->callback([&ctx, opts] { ctx.exit_code = boot(*opts); });
}

}  // namespace concierge::cli
