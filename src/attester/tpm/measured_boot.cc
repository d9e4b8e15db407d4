// Measured boot into a TPM.
#include "concierge/attester/tpm/measured_boot.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

namespace concierge::attester::tpm {

Result<void> TpmPcrSink::set_startup_locality(std::uint8_t locality) {
  if (locality != 0) {
    return fail(Errc::kUnsupported,
                "a TPM's startup locality is set by the platform; the manifest must use 0");
  }
  return {};
}

Result<void> TpmPcrSink::extend(std::uint32_t pcr,
                                const std::vector<measure::OwnedDigest>& digests) {
  return tpm_.extend_pcr(pcr, digests);
}

Result<measure::BootRecord> run_boot_chain_in_tpm(Tpm& tpm, const measure::BootManifest& manifest) {
  std::set<unsigned> used{manifest.root_of_trust.pcr};
  for (const auto& s : manifest.stages) used.insert(s.pcr);
  std::set<unsigned> must_be_zero;
  for (unsigned pcr : used) {
    if (pcr == 16 || pcr == 23) continue;
    if (pcr < 8 || pcr > 15) {
      return fail(Errc::kInvalidArgument,
                  "PCR " + std::to_string(pcr) +
                      " is not for us to extend in a TPM: use 8-15 (when unused) or 16, 23");
    }
    must_be_zero.insert(pcr);
  }
  CONCIERGE_ASSIGN_OR_RETURN(auto banks, tpm.pcr_banks());
  if (!must_be_zero.empty()) {
    std::vector<PcrSelection> selection;
    for (HashAlg b : banks) selection.push_back({b, {must_be_zero.begin(), must_be_zero.end()}});
    CONCIERGE_ASSIGN_OR_RETURN(auto values, tpm.read_pcrs(selection));
    for (const auto& [bank, pcrs] : values) {
      for (const auto& [pcr, value] : pcrs) {
        for (std::uint8_t byte : value) {
          if (byte != 0) {
            return fail(Errc::kInvalidArgument,
                        "PCR " + std::to_string(pcr) +
                            " has been extended already (not all zeros); use PCR 16 or 23, "
                            "which are reset first, or a fresh TPM");
          }
        }
      }
    }
  }
  for (unsigned pcr : {16u, 23u}) {
    if (used.count(pcr)) CONCIERGE_RETURN_IF_ERROR(tpm.reset_pcr(pcr));
  }
  TpmPcrSink sink(tpm);
  return measure::run_boot_chain(manifest, sink);
}

Result<std::optional<Bytes>> read_kernel_log(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<Bytes>();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(Errc::kIo, "cannot open " + path + ": " + std::strerror(errno));
  }
  Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail(Errc::kIo, "cannot read " + path);
  return std::optional<Bytes>(std::move(data));
}

}  // namespace concierge::attester::tpm
