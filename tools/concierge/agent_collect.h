// The agent's evidence collectors, one per --tee (cmd_agent.cc): each makes
// the KBS "tee-evidence" member (verifier/envelope.h without "tee" and
// "runtime_data") for given report data.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"

namespace concierge::cli {

struct AgentSource {
  std::string tee = "auto";  // auto, snp, tdx, tpm, sim-snp, sim-tdx, sim-tpm
  // tpm
  std::string tcti;
  std::string ak_dir;
  std::string event_log = "/sys/kernel/security/tpm0/binary_bios_measurements";
  std::string pcrs = "sha256:0,1,2,3,4,5,6,7,8,9";
  // simulators
  std::string sim_state;             // the simulator's state folder
  std::string measurement;           // sim-snp: MEASUREMENT (hex)
  std::string mrtd;                  // sim-tdx: MRTD (hex)
  std::string boot_manifest;         // sim-tpm: the measured boot
  std::vector<std::string> replace;  // sim-tpm: STAGE=FILE substitutions
};

// The TEE the source stands for ("snp", "tdx", "tpm"), resolving "auto" by
// detection (kNotFound when nothing is found, saying what was looked for).
Result<std::string> resolve_tee(AgentSource& source);

// The tee-evidence for `report_data`.
Result<nlohmann::json> collect_evidence(const AgentSource& source, ByteView report_data);

}  // namespace concierge::cli
