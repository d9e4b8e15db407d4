// Verification of IMA template hashes and replay into software PCR banks.
#include <algorithm>
#include <cstdio>
#include <utility>

#include "concierge/core/encoding.h"
#include "concierge/measure/ima.h"

namespace concierge::measure {

namespace {

std::string entry_location(const ImaLog& log, const ImaEntry& e) {
  if (log.ascii) return "line " + std::to_string(e.line);
  char buf[40];
  std::snprintf(buf, sizeof buf, "offset 0x%zx", e.offset);
  return buf;
}

}  // namespace

std::string_view ima_status_name(ImaStatus status) {
  switch (status) {
    case ImaStatus::kVerified:
      return "verified";
    case ImaStatus::kViolation:
      return "violation";
    case ImaStatus::kMismatch:
      return "mismatch";
    case ImaStatus::kUnverifiable:
      return "unverifiable";
  }
  return "unknown";
}

std::vector<HashAlg> default_ima_banks() {
  return {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512};
}

const PcrBank* ImaReplayResult::bank(HashAlg alg) const {
  for (const auto& b : banks) {
    if (b.alg() == alg) return &b;
  }
  return nullptr;
}

Result<ImaReplayResult> replay_ima(const ImaLog& log, std::vector<HashAlg> banks) {
  if (banks.empty()) banks = default_ima_banks();
  for (std::size_t i = 0; i < banks.size(); ++i) {
    if (std::find(banks.begin(), banks.begin() + static_cast<std::ptrdiff_t>(i), banks[i]) !=
        banks.begin() + static_cast<std::ptrdiff_t>(i)) {
      return fail(Errc::kInvalidArgument,
                  "bank " + std::string(hash_name(banks[i])) + " requested twice");
    }
  }

  ImaReplayResult result;
  result.warnings = log.warnings;
  std::vector<PcrBank> work;
  work.reserve(banks.size());
  for (HashAlg alg : banks) work.emplace_back(alg);
  std::vector<bool> bank_ok(banks.size(), true);
  result.status.reserve(log.entries.size());

  const std::size_t column_size = digest_size(log.template_hash_alg);
  for (const ImaEntry& e : log.entries) {
    auto warn = [&](std::string message) {
      result.warnings.push_back(ImaWarning{e.index, entry_location(log, e), std::move(message)});
    };

    // Template hash.
    ImaStatus status;
    if (e.violation) {
      status = ImaStatus::kViolation;
      ++result.violations;
    } else if (!e.has_template_data) {
      status = ImaStatus::kUnverifiable;
      ++result.unverifiable;
    } else {
      CONCIERGE_ASSIGN_OR_RETURN(Bytes computed, digest(log.template_hash_alg, e.template_data));
      if (computed == e.template_hash) {
        status = ImaStatus::kVerified;
        ++result.verified;
      } else {
        status = ImaStatus::kMismatch;
        ++result.mismatches;
        warn("template hash mismatch: recorded " + hex_encode(e.template_hash) + ", computed " +
             std::string(hash_name(log.template_hash_alg)) + " " + hex_encode(computed));
      }
    }
    result.status.push_back(status);

    // Extend.
    for (std::size_t i = 0; i < work.size(); ++i) {
      PcrBank& bank = work[i];
      if (e.violation) {
        const Bytes ones(digest_size(bank.alg()), 0xff);
        CONCIERGE_RETURN_IF_ERROR(bank.extend(e.pcr, ones));
      } else if (e.has_template_data) {
        CONCIERGE_RETURN_IF_ERROR(bank.measure(e.pcr, e.template_data));
      } else if (bank.alg() == log.template_hash_alg && e.template_hash.size() == column_size) {
        // The recorded template hash is what the kernel extended into this bank.
        CONCIERGE_RETURN_IF_ERROR(bank.extend(e.pcr, e.template_hash));
      } else if (bank_ok[i]) {
        bank_ok[i] = false;
        warn("bank " + std::string(hash_name(bank.alg())) +
             " omitted: the template data of this entry is unknown");
      }
    }
  }

  for (std::size_t i = 0; i < work.size(); ++i) {
    if (bank_ok[i]) {
      result.banks.push_back(std::move(work[i]));
    } else {
      result.omitted_banks.push_back(work[i].alg());
    }
  }
  return result;
}

}  // namespace concierge::measure
