// The DCAP collateral folder and the whole collateral check (collateral.h).
#include "concierge/evidence/dcap/collateral.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>

#include "concierge/core/encoding.h"

namespace concierge::evidence::dcap {
namespace {

namespace fs = std::filesystem;
constexpr std::uintmax_t kMaxFileSize = 4u << 20;  // PCS responses are a few KiB

Unexpected file_error(Errc code, const fs::path& path, const std::string& what) {
  return fail(code, path.string() + ": " + what);
}

// The file's text; nullopt when it does not exist.
Result<std::optional<std::string>> read_if_present(const fs::path& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) return std::optional<std::string>();
  if (ec) return file_error(Errc::kIo, path, ec.message());
  if (st.type() != fs::file_type::regular) return file_error(Errc::kIo, path, "not a regular file");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) return file_error(Errc::kIo, path, ec.message());
  if (size > kMaxFileSize) return file_error(Errc::kMalformed, path, "file larger than 4 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return file_error(Errc::kIo, path, "cannot open");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return file_error(Errc::kIo, path, "read error");
  return std::optional<std::string>(std::move(text));
}

struct Found {
  fs::path path;
  std::string text;
};

Result<Found> read_first(const std::vector<fs::path>& candidates, std::string_view what) {
  for (const fs::path& p : candidates) {
    CONCIERGE_ASSIGN_OR_RETURN(std::optional<std::string> text, read_if_present(p));
    if (text) return Found{p, std::move(*text)};
  }
  std::string tried;
  for (const fs::path& p : candidates) tried += (tried.empty() ? "" : ", ") + p.string();
  return fail(Errc::kNotFound, "no " + std::string(what) + " file (tried " + tried + ")");
}

template <typename T>
Result<T> with_path(Result<T> r, const fs::path& path) {
  if (r) return r;
  Error e = std::move(r).error();
  e.message = path.string() + ": " + e.message;
  return Unexpected(std::move(e));
}

// The PCS header value is URL-encoded PEM; decode %XX when no PEM marker is
// present in clear.
std::string maybe_url_decode(const std::string& text) {
  if (text.find("-----BEGIN") != std::string::npos || text.find('%') == std::string::npos) {
    return text;
  }
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      Result<Bytes> b = hex_decode(std::string_view(text).substr(i + 1, 2));
      if (b) {
        out.push_back(static_cast<char>((*b)[0]));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}
std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

Result<Collateral> parse_collateral(const Found& tcb, const Found& qe, const Found& chain) {
  CONCIERGE_ASSIGN_OR_RETURN(SignedTcbInfo tcb_info,
                             with_path(parse_tcb_info_response(tcb.text), tcb.path));
  CONCIERGE_ASSIGN_OR_RETURN(SignedQeIdentity qe_identity,
                             with_path(parse_qe_identity_response(qe.text), qe.path));
  CONCIERGE_ASSIGN_OR_RETURN(
      std::vector<Certificate> certs,
      with_path(Certificate::from_pem_bundle(maybe_url_decode(chain.text)), chain.path));
  return Collateral{std::move(tcb_info), std::move(qe_identity), std::move(certs), tcb.path,
                    qe.path};
}

}  // namespace

Result<Collateral> load_collateral(const fs::path& dir, ByteView fmspc, TeeType tee) {
  if (fmspc.size() != kFmspcSize) return fail(Errc::kInvalidArgument, "FMSPC must be 6 bytes");
  const std::string fm = lower(hex_encode(fmspc));
  const std::string tee_dir = lower(std::string(tee_type_name(tee)));
  const fs::path pcs = dir / tee_dir / "certification" / "v4";
  CONCIERGE_ASSIGN_OR_RETURN(
      Found tcb, read_first({dir / "tcb" / (fm + ".json"), dir / "tcb" / (upper(fm) + ".json"),
                             pcs / ("tcb?fmspc=" + fm), pcs / ("tcb?fmspc=" + upper(fm))},
                            "TCB info"));
  CONCIERGE_ASSIGN_OR_RETURN(
      Found qe, read_first({dir / "qe" / "identity.json", pcs / "qe" / "identity"}, "QE identity"));
  CONCIERGE_ASSIGN_OR_RETURN(Found chain,
                             read_first({dir / "tcb_signing_chain.pem"}, "TCB signing chain"));
  return parse_collateral(tcb, qe, chain);
}

Result<Collateral> load_collateral_files(const fs::path& tcb_info, const fs::path& qe_identity,
                                         const fs::path& tcb_signing_chain) {
  CONCIERGE_ASSIGN_OR_RETURN(Found tcb, read_first({tcb_info}, "TCB info"));
  CONCIERGE_ASSIGN_OR_RETURN(Found qe, read_first({qe_identity}, "QE identity"));
  CONCIERGE_ASSIGN_OR_RETURN(Found chain, read_first({tcb_signing_chain}, "TCB signing chain"));
  return parse_collateral(tcb, qe, chain);
}

Result<PublicKey> tcb_signing_key(const std::vector<Certificate>& chain) {
  if (chain.empty()) return fail(Errc::kNotFound, "the TCB signing chain is empty");
  for (const Certificate& cert : chain) {
    if (!cert.self_signed()) return cert.public_key();
  }
  return chain.front().public_key();
}

Result<Verdict> verify_collateral_signatures(const SignedTcbInfo& tcb_info,
                                             const SignedQeIdentity& qe_identity,
                                             const PublicKey& tcb_signing_key) {
  CONCIERGE_ASSIGN_OR_RETURN(Verdict sig, verify_tcb_info_signature(tcb_info, tcb_signing_key));
  if (!sig) return sig;
  return verify_qe_identity_signature(qe_identity, tcb_signing_key);
}

CollateralVerdict appraise_collateral(const TcbInfo& info, const QeIdentity& qe,
                                      const PlatformTcb& platform, const QeReportFields& qe_report,
                                      TimePoint at) {
  CollateralVerdict out;
  auto reject = [&out](std::string why) {
    out.accepted = false;
    out.reason = std::move(why);
    return out;
  };
  Verdict fresh = check_collateral_fresh("TCB info", info.issue_date, info.next_update, at);
  if (!fresh) return reject(fresh.reason);
  fresh = check_collateral_fresh("QE identity", qe.issue_date, qe.next_update, at);
  if (!fresh) return reject(fresh.reason);

  const EnclaveId want = info.tee == TeeType::kTdx ? EnclaveId::kTdQe : EnclaveId::kQe;
  if (qe.id != want) {
    return reject("QE identity is for " + std::string(enclave_id_name(qe.id)) + ", the " +
                  std::string(tee_type_name(info.tee)) + " TCB info needs " +
                  std::string(enclave_id_name(want)));
  }
  out.tcb = match_tcb_level(info, platform);
  out.advisory_ids = out.tcb.advisory_ids;
  if (!out.tcb) {
    // A level that matched but rejects (Revoked) still says what it is.
    if (out.tcb.level_index) out.status = out.tcb.status;
    return reject(out.tcb.reason);
  }
  out.qe = match_qe_identity(qe, qe_report);
  if (!out.qe && !out.qe.level_index) return reject(out.qe.reason);

  out.status = converge_tcb_status(out.tcb.status, out.qe.status);
  for (const std::string& id : out.qe.advisory_ids) {
    if (std::find(out.advisory_ids.begin(), out.advisory_ids.end(), id) == out.advisory_ids.end()) {
      out.advisory_ids.push_back(id);
    }
  }
  if (!out.qe) return reject(out.qe.reason);
  if (out.status == TcbStatus::kRevoked || out.status == TcbStatus::kUnknown) {
    return reject("converged TCB status is " + std::string(tcb_status_name(out.status)));
  }
  out.accepted = true;
  out.reason.clear();
  return out;
}

Result<CollateralVerdict> verify_collateral(const SignedTcbInfo& tcb_info,
                                            const SignedQeIdentity& qe_identity,
                                            const PublicKey& tcb_signing_key,
                                            const PlatformTcb& platform,
                                            const QeReportFields& qe_report, TimePoint at) {
  CONCIERGE_ASSIGN_OR_RETURN(Verdict sig,
                             verify_collateral_signatures(tcb_info, qe_identity, tcb_signing_key));
  if (!sig) {
    CollateralVerdict out;
    out.reason = sig.reason;
    return out;
  }
  return appraise_collateral(tcb_info.info, qe_identity.identity, platform, qe_report, at);
}

}  // namespace concierge::evidence::dcap
