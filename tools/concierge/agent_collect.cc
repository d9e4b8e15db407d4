#include "agent_collect.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "cli.h"
#include "concierge/attester/snp/collect.h"
#include "concierge/attester/tdx/collect.h"
#include "concierge/attester/tpm/keys.h"
#include "concierge/attester/tpm/tpm.h"
#include "concierge/attester/tsm.h"
#include "concierge/core/encoding.h"
#include "concierge/core/state_files.h"
#include "concierge/evidence/dcap/simulator.h"
#include "concierge/evidence/snp/simulator.h"
#include "concierge/evidence/tpm/quote.h"
#include "concierge/evidence/tpm/soft_quoter.h"
#include "concierge/measure/boot_chain.h"

namespace concierge::cli {

// cmd_tpm_attest.cc: the AK of an AK folder, loaded into the TPM.
Result<attester::tpm::TpmObject> load_ak_object(attester::tpm::Tpm& tpm, const std::string& dir,
                                                Bytes* tpm2b_public);

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

template <std::size_t N>
Result<std::array<std::uint8_t, N>> fixed_hex(const std::string& text, const char* what) {
  std::array<std::uint8_t, N> out{};
  if (text.empty()) return out;
  CONCIERGE_ASSIGN_OR_RETURN(Bytes b, hex_decode(text));
  if (b.size() > N) {
    return fail(Errc::kInvalidArgument,
                std::string(what) + ": more than " + std::to_string(N) + " bytes");
  }
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> report_data_array(ByteView report_data) {
  if (report_data.size() != N) {
    return fail(Errc::kInternal, "report data of " + std::to_string(report_data.size()) +
                                     " bytes, expected " + std::to_string(N));
  }
  std::array<std::uint8_t, N> out{};
  std::copy(report_data.begin(), report_data.end(), out.begin());
  return out;
}

Json pcrs_json(const attester::tpm::PcrValues& values) {
  Json out = Json::object();
  for (const auto& [alg, pcrs] : values) {
    Json bank = Json::object();
    for (const auto& [index, value] : pcrs) bank[std::to_string(index)] = hex_encode(value);
    out[std::string(hash_name(alg))] = std::move(bank);
  }
  return out;
}

Result<Json> sim_snp(const AgentSource& s, ByteView report_data) {
  CONCIERGE_ASSIGN_OR_RETURN(auto sim, evidence::snp::SnpSimulator::load(s.sim_state));
  evidence::snp::ReportRequest request;
  CONCIERGE_ASSIGN_OR_RETURN(request.report_data, report_data_array<64>(report_data));
  CONCIERGE_ASSIGN_OR_RETURN(request.measurement, fixed_hex<48>(s.measurement, "--measurement"));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes report, sim.issue(request));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes table, sim.cert_table());
  return Json{{"evidence", base64_encode(report)},
              {"endorsements", {{"cert_table", base64_encode(table)}}}};
}

Result<Json> sim_tdx(const AgentSource& s, ByteView report_data) {
  CONCIERGE_ASSIGN_OR_RETURN(auto sim, evidence::dcap::DcapSimulator::load(s.sim_state));
  evidence::dcap::TdQuoteInput input;
  CONCIERGE_ASSIGN_OR_RETURN(input.report_data, report_data_array<64>(report_data));
  CONCIERGE_ASSIGN_OR_RETURN(input.mr_td, fixed_hex<48>(s.mrtd, "--mrtd"));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes quote, sim.tdx_quote(input));
  return Json{{"evidence", base64_encode(quote)}};
}

// A software TPM: the boot chain measured into software PCR banks, quoted
// by an AK kept in the simulator's folder (sim-ak.pem, created once).
Result<Json> sim_tpm(const AgentSource& s, ByteView report_data) {
  if (s.boot_manifest.empty()) {
    return fail(Errc::kInvalidArgument, "--tee sim-tpm needs --boot-manifest");
  }
  const fs::path key_path = fs::path(s.sim_state) / "sim-ak.pem";
  std::error_code ec;
  if (!fs::exists(key_path, ec)) {
    CONCIERGE_RETURN_IF_ERROR(state_files::make_dir(s.sim_state));
    CONCIERGE_ASSIGN_OR_RETURN(auto fresh, PrivateKey::generate_ec(EcCurve::kP256));
    CONCIERGE_RETURN_IF_ERROR(
        state_files::save_private_key(key_path, fresh, state_files::IfExists::kRefuse));
  }
  CONCIERGE_ASSIGN_OR_RETURN(PrivateKey key, state_files::load_private_key(key_path));
  CONCIERGE_ASSIGN_OR_RETURN(auto quoter, evidence::tpm::SoftQuoter::from_key(std::move(key)));

  CONCIERGE_ASSIGN_OR_RETURN(Bytes text, read_file(s.boot_manifest));
  CONCIERGE_ASSIGN_OR_RETURN(
      auto manifest,
      measure::parse_boot_manifest(as_chars(text), fs::path(s.boot_manifest).parent_path()));
  for (const auto& r : s.replace) {
    const auto eq = r.find('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(Errc::kInvalidArgument, "--replace " + r + ": expected STAGE=FILE");
    }
    CONCIERGE_ASSIGN_OR_RETURN(Bytes content, read_file(r.substr(eq + 1)));
    CONCIERGE_RETURN_IF_ERROR(
        measure::replace_stage(manifest, r.substr(0, eq), std::move(content)));
  }
  measure::SoftwarePcrSink sink(manifest.banks);
  CONCIERGE_ASSIGN_OR_RETURN(auto record, measure::run_boot_chain(manifest, sink));
  const measure::PcrBank* bank = nullptr;
  for (const auto& b : sink.banks()) {
    if (b.alg() == HashAlg::kSha256) bank = &b;
  }
  if (bank == nullptr) return fail(Errc::kInvalidArgument, "the boot manifest has no sha256 bank");
  std::map<unsigned, Bytes> pcrs;
  for (unsigned i = 0; i < 24; ++i) {
    if (bank->touched(i)) {
      const ByteView v = bank->value(i);
      pcrs[i] = Bytes(v.begin(), v.end());
    }
  }
  CONCIERGE_ASSIGN_OR_RETURN(auto q, quoter.quote(HashAlg::kSha256, pcrs, report_data));
  attester::tpm::PcrValues values;
  values[HashAlg::kSha256] = std::move(pcrs);
  // The AK's public area (not only its key), as a real TPM's agent sends
  // it: enrolment checks its attributes.
  return Json{{"evidence", base64_encode(q.attest)},
              {"endorsements",
               {{"signature", base64_encode(q.signature)},
                {"ak", base64_encode(q.ak_public)},
                {"pcrs", pcrs_json(values)}}},
              {"event_log", base64_encode(record.event_log)}};
}

Result<Json> real_tpm(const AgentSource& s, ByteView report_data) {
  if (s.ak_dir.empty()) {
    return fail(Errc::kInvalidArgument, "--tee tpm needs --ak (a folder from `tpm ak create`)");
  }
  CONCIERGE_ASSIGN_OR_RETURN(auto tpm, attester::tpm::Tpm::open(s.tcti));
  Bytes ak_public;
  CONCIERGE_ASSIGN_OR_RETURN(auto ak, load_ak_object(*tpm, s.ak_dir, &ak_public));
  CONCIERGE_ASSIGN_OR_RETURN(auto selection, attester::tpm::parse_pcr_selection(s.pcrs));
  CONCIERGE_ASSIGN_OR_RETURN(auto q, attester::tpm::quote(*tpm, ak, selection, report_data));
  Json out = {{"evidence", base64_encode(q.tpms_attest)},
              {"endorsements",
               {{"signature", base64_encode(q.tpmt_signature)},
                {"ak", base64_encode(ak_public)},
                {"pcrs", pcrs_json(q.pcrs)}}}};
  if (!s.event_log.empty()) {
    std::error_code ec;
    if (fs::exists(s.event_log, ec)) {
      CONCIERGE_ASSIGN_OR_RETURN(Bytes log, read_file(s.event_log));
      out["event_log"] = base64_encode(log);
    }
  }
  return out;
}

Result<Json> real_snp(ByteView report_data) {
  CONCIERGE_ASSIGN_OR_RETURN(auto rd, report_data_array<64>(report_data));
  // Kept in its Result (not moved out by CONCIERGE_ASSIGN_OR_RETURN): GCC 12
  // at -O3 warns, wrongly, that the moved optional<vector> may be uninitialized.
  const auto collected = attester::snp::collect_snp_report(rd);
  if (!collected) return Unexpected(collected.error());
  Json out = {{"evidence", base64_encode(collected->report)}};
  if (collected->certificates) {
    out["endorsements"] = {{"cert_table", base64_encode(*collected->certificates)}};
  }
  return out;
}

Result<Json> real_tdx(ByteView report_data) {
  CONCIERGE_ASSIGN_OR_RETURN(auto rd, report_data_array<64>(report_data));
  CONCIERGE_ASSIGN_OR_RETURN(auto collected, attester::tdx::collect_tdx_quote(rd));
  Json out = {{"evidence", base64_encode(collected.quote)}};
  if (collected.ccel) out["event_log"] = base64_encode(collected.ccel->log);
  return out;
}

}  // namespace

Result<std::string> resolve_tee(AgentSource& s) {
  if (s.tee == "auto") {
    const auto d = attester::detect_tee();
    if (d.snp_guest()) {
      s.tee = "snp";
    } else if (d.tdx_guest()) {
      s.tee = "tdx";
    } else if (d.tpm_device || !s.tcti.empty()) {
      s.tee = "tpm";
    } else {
      return fail(Errc::kNotFound,
                  "no TEE found (configfs-tsm, /dev/sev-guest, /dev/tdx_guest, /dev/tpmrm0); "
                  "name one with --tee (sim-snp, sim-tdx, sim-tpm simulate one)");
    }
  }
  if (s.tee.rfind("sim-", 0) == 0 && s.sim_state.empty()) {
    return fail(Errc::kInvalidArgument, "--tee " + s.tee + " needs --sim-state");
  }
  if (s.tee == "snp" || s.tee == "sim-snp") return std::string("snp");
  if (s.tee == "tdx" || s.tee == "sim-tdx") return std::string("tdx");
  if (s.tee == "tpm" || s.tee == "sim-tpm") {
    if (s.tee == "tpm" && s.tcti.empty()) s.tcti = "device:/dev/tpmrm0";
    return std::string("tpm");
  }
  return fail(Errc::kInvalidArgument,
              "--tee " + s.tee + ": not auto, snp, tdx, tpm, sim-snp, sim-tdx or sim-tpm");
}

Result<Json> collect_evidence(const AgentSource& s, ByteView report_data) {
  if (s.tee == "sim-snp") return sim_snp(s, report_data);
  if (s.tee == "sim-tdx") return sim_tdx(s, report_data);
  if (s.tee == "sim-tpm") return sim_tpm(s, report_data);
  if (s.tee == "tpm") return real_tpm(s, report_data);
  if (s.tee == "snp") return real_snp(report_data);
  if (s.tee == "tdx") return real_tdx(report_data);
  return fail(Errc::kInvalidArgument, "--tee " + s.tee + ": no collector");
}

}  // namespace concierge::cli
