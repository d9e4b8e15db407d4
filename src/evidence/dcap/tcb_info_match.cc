// TCB level selection as Intel's QVL does it (see match_tcb_level in tcb_info.h).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/evidence/dcap/tcb_info.h"

namespace concierge::evidence::dcap {
namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool masked_equal(ByteView a, ByteView b, ByteView mask) {
  if (a.size() != mask.size() || b.size() != mask.size()) return false;
  for (std::size_t i = 0; i < mask.size(); ++i) {
    if ((a[i] & mask[i]) != (b[i] & mask[i])) return false;
  }
  return true;
}

void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
  for (const std::string& id : from) {
    if (std::find(to.begin(), to.end(), id) == to.end()) to.push_back(id);
  }
}

TcbMatch rejected(std::string why) {
  TcbMatch m;
  m.reason = std::move(why);
  return m;
}

bool level_met(const TcbLevel& level, const PlatformTcb& p, bool tdx, std::size_t tdx_from) {
  for (std::size_t i = 0; i < kTcbComponents; ++i) {
    if (p.sgx_components[i] < level.sgx_components[i].svn) return false;
  }
  if (p.pcesvn < level.pcesvn) return false;
  if (!tdx) return true;
  if (!level.tdx_components) return false;
  for (std::size_t i = tdx_from; i < kTcbComponents; ++i) {
    if ((*p.tee_tcb_svn)[i] < (*level.tdx_components)[i].svn) return false;
  }
  return true;
}

// Checks the module identity and, for a versioned module, finds its level.
// Returns a reason on failure.
std::optional<std::string> match_module(const TcbInfo& info, const PlatformTcb& p, TcbMatch& m) {
  const auto& svn = *p.tee_tcb_svn;
  const TdxModuleIdentity* module = info.tdx_module ? &*info.tdx_module : nullptr;
  std::string name = "tdxModule";
  if (svn[1] > 0) {
    char id[8];
    std::snprintf(id, sizeof id, "TDX_%02X", static_cast<unsigned>(svn[1]));
    name = id;
    module = nullptr;
    for (const TdxModuleIdentity& candidate : info.tdx_module_identities) {
      if (iequal(candidate.id, name)) {
        module = &candidate;
        break;
      }
    }
    if (module == nullptr) {
      return "TDX module identity " + name + " (TEE_TCB_SVN[1] = " + std::to_string(svn[1]) +
             ") is not in the TCB info";
    }
  }
  if (module == nullptr) return "TDX TCB info has no tdxModule";
  if (p.mrsignerseam && !std::equal(p.mrsignerseam->begin(), p.mrsignerseam->end(),
                                    module->mrsigner.begin(), module->mrsigner.end())) {
    return "MRSIGNERSEAM " + hex_encode(*p.mrsignerseam) + " differs from " + name + " mrsigner " +
           hex_encode(module->mrsigner);
  }
  if (p.seam_attributes &&
      !masked_equal(*p.seam_attributes, module->attributes, module->attributes_mask)) {
    return "SEAM_ATTRIBUTES " + hex_encode(*p.seam_attributes) + " do not match " + name +
           " attributes " + hex_encode(module->attributes) + " under mask " +
           hex_encode(module->attributes_mask);
  }
  if (svn[1] == 0) return std::nullopt;
  for (const TdxModuleIdentity::Level& level : module->tcb_levels) {
    if (level.isvsvn <= svn[0]) {
      m.tdx_module_status = level.status;
      add_unique(m.advisory_ids, level.advisory_ids);
      if (level.status == TcbStatus::kUnknown) {
        return name + " TCB level has an unrecognised tcbStatus \"" + level.status_text + "\"";
      }
      return std::nullopt;
    }
  }
  return "TDX module " + name + " SVN " + std::to_string(svn[0]) +
         " is below every TCB level of its identity (not supported)";
}

}  // namespace

TcbMatch match_tcb_level(const TcbInfo& info, const PlatformTcb& p) {
  if (!std::equal(p.fmspc.begin(), p.fmspc.end(), info.fmspc.begin(), info.fmspc.end())) {
    return rejected("TCB info is for FMSPC " + hex_encode(info.fmspc) + ", the platform's is " +
                    hex_encode(p.fmspc));
  }
  if (!std::equal(p.pce_id.begin(), p.pce_id.end(), info.pce_id.begin(), info.pce_id.end())) {
    return rejected("TCB info is for PCE ID " + hex_encode(info.pce_id) + ", the platform's is " +
                    hex_encode(p.pce_id));
  }
  const bool tdx = info.tee == TeeType::kTdx;
  if (tdx && !p.tee_tcb_svn) return rejected("TDX TCB info but no TEE_TCB_SVN for the platform");
  if (!tdx && p.tee_tcb_svn) return rejected("SGX TCB info for a TDX platform (TEE_TCB_SVN given)");

  TcbMatch module_part;
  if (tdx) {
    if (std::optional<std::string> why = match_module(info, p, module_part)) {
      module_part.reason = std::move(*why);
      return module_part;
    }
  }
  const std::size_t tdx_from = tdx && (*p.tee_tcb_svn)[1] > 0 ? 2 : 0;
  for (std::size_t i = 0; i < info.tcb_levels.size(); ++i) {
    const TcbLevel& level = info.tcb_levels[i];
    if (!level_met(level, p, tdx, tdx_from)) continue;
    TcbMatch m;
    m.level_index = i;
    m.tcb_date = level.tcb_date;
    m.platform_status = level.status;
    m.tdx_module_status = module_part.tdx_module_status;
    m.advisory_ids = level.advisory_ids;
    add_unique(m.advisory_ids, module_part.advisory_ids);
    m.status = m.tdx_module_status ? converge_tcb_status(level.status, *m.tdx_module_status)
                                   : level.status;
    if (level.status == TcbStatus::kUnknown) {
      m.reason = "TCB level " + std::to_string(i) + " has an unrecognised tcbStatus \"" +
                 level.status_text + "\"";
    } else if (m.status == TcbStatus::kRevoked) {
      m.reason = "TCB status is Revoked (TCB level " + std::to_string(i) + ")";
    } else {
      m.accepted = true;
    }
    return m;
  }
  TcbMatch none = rejected("TCB level not supported: the platform meets none of the " +
                           std::to_string(info.tcb_levels.size()) + " TCB levels");
  none.tdx_module_status = module_part.tdx_module_status;
  return none;
}

}  // namespace concierge::evidence::dcap
