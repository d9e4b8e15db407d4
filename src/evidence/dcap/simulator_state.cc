// DcapSimulator::save and ::load: keys and certificates as PEM files, the CRLs
// as DER, plus a small JSON description, so that a CLI can create a simulated
// platform once and issue quotes from it later.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "concierge/core/cert_builder.h"
#include "concierge/core/encoding.h"
#include "concierge/core/json.h"
#include "concierge/core/state_files.h"
#include "concierge/evidence/dcap/pck_extension.h"
#include "concierge/evidence/dcap/simulator.h"

namespace concierge::evidence::dcap {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using state_files::make_dir;
using state_files::read_file;
using state_files::write_file;

constexpr int kFormat = 1;
constexpr const char* kStateFile = "simulator.json";

Result<void> save_key(const fs::path& path, const PrivateKey& key) {
  return state_files::save_private_key(path, key);
}
Result<PrivateKey> load_key(const fs::path& path) { return state_files::load_private_key(path); }
Result<Certificate> load_cert(const fs::path& path) { return state_files::load_certificate(path); }

Result<Crl> load_crl(const fs::path& path) {
  CONCIERGE_ASSIGN_OR_RETURN(const std::string der, read_file(path));
  Result<Crl> crl = Crl::from_der(as_bytes(der));
  if (!crl) return fail(Errc::kMalformed, path.string() + ": " + crl.error().message);
  return crl;
}

Result<void> check_pair(const Certificate& cert, const PrivateKey& key, const std::string& what) {
  return state_files::check_key_pair(cert, key, what);
}

Unexpected bad_state(const std::string& what) {
  return fail(Errc::kMalformed, std::string(kStateFile) + ": " + what);
}

template <std::size_t N>
std::string hex_of(const std::array<std::uint8_t, N>& a) {
  return hex_encode(ByteView(a.data(), a.size()));
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> hex_field(const json& obj, const std::string& path,
                                              const char* name) {
  const auto it = obj.find(name);
  Result<Bytes> b = it != obj.end() && it->is_string()
                        ? hex_decode(it->get<std::string>())
                        : Result<Bytes>(fail(Errc::kMalformed, "missing"));
  if (!b || b->size() != N) {
    return bad_state("\"" + path + name + "\" must be " + std::to_string(N) + " bytes of hex");
  }
  std::array<std::uint8_t, N> out{};
  std::copy(b->begin(), b->end(), out.begin());
  return out;
}

Result<std::uint64_t> uint_field(const json& obj, const std::string& path, const char* name,
                                 std::uint64_t max) {
  const auto it = obj.find(name);
  if (it == obj.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() > max) {
    return bad_state("\"" + path + name + "\" must be an integer 0.." + std::to_string(max));
  }
  return it->get<std::uint64_t>();
}

Result<const json*> object_field(const json& obj, const char* name) {
  const auto it = obj.find(name);
  if (it == obj.end() || !it->is_object()) {
    return bad_state("\"" + std::string(name) + "\" must be an object");
  }
  return &*it;
}

json qe_json(const QeConfig& q) {
  return {{"mrsigner", hex_of(q.mrsigner)},
          {"mrenclave", hex_of(q.mrenclave)},
          {"isvprodid", q.isvprodid},
          {"isvsvn", q.isvsvn},
          {"attributes_flags", q.attributes_flags},
          {"attributes_xfrm", q.attributes_xfrm},
          {"miscselect", q.miscselect}};
}

Result<QeConfig> qe_from(const json& state, const char* name) {
  CONCIERGE_ASSIGN_OR_RETURN(const json* j, object_field(state, name));
  const std::string path = std::string(name) + ".";
  QeConfig q;
  CONCIERGE_ASSIGN_OR_RETURN(q.mrsigner, hex_field<32>(*j, path, "mrsigner"));
  CONCIERGE_ASSIGN_OR_RETURN(q.mrenclave, hex_field<32>(*j, path, "mrenclave"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t prodid, uint_field(*j, path, "isvprodid", 0xFFFF));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t svn, uint_field(*j, path, "isvsvn", 0xFFFF));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t misc, uint_field(*j, path, "miscselect", 0xFFFFFFFF));
  CONCIERGE_ASSIGN_OR_RETURN(q.attributes_flags,
                             uint_field(*j, path, "attributes_flags", UINT64_MAX));
  CONCIERGE_ASSIGN_OR_RETURN(q.attributes_xfrm,
                             uint_field(*j, path, "attributes_xfrm", UINT64_MAX));
  q.isvprodid = static_cast<std::uint16_t>(prodid);
  q.isvsvn = static_cast<std::uint16_t>(svn);
  q.miscselect = static_cast<std::uint32_t>(misc);
  return q;
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> sized(const Bytes& b, const char* what) {
  if (b.size() != N) return bad_state(std::string("the PCK certificate's ") + what + " size");
  std::array<std::uint8_t, N> out{};
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

}  // namespace

Result<void> DcapSimulator::save(const fs::path& dir) const {
  CONCIERGE_RETURN_IF_ERROR(make_dir(dir));
  struct Named {
    const char* name;
    const Identity* id;
  };
  for (const Named& n : {Named{"root", &keys_.root}, Named{"platform_ca", &keys_.platform_ca},
                         Named{"pck", &keys_.pck}, Named{"tcb_signing", &keys_.tcb_signing}}) {
    CONCIERGE_RETURN_IF_ERROR(save_key(dir / (std::string(n.name) + ".key"), n.id->key));
    CONCIERGE_RETURN_IF_ERROR(
        write_file(dir / (std::string(n.name) + ".pem"), certificate_to_pem(n.id->cert), 0644));
  }
  CONCIERGE_RETURN_IF_ERROR(save_key(dir / "attestation.key", keys_.attestation));
  CONCIERGE_RETURN_IF_ERROR(write_file(dir / "pck_chain.pem", pck_chain_pem(), 0644));
  CONCIERGE_RETURN_IF_ERROR(
      write_file(dir / "tcb_signing_chain.pem", tcb_signing_chain_pem(), 0644));
  const Bytes root_crl = keys_.root_crl.der();
  const Bytes pck_crl = keys_.pck_crl.der();
  CONCIERGE_RETURN_IF_ERROR(write_file(dir / "root_crl.der", as_chars(root_crl), 0644));
  CONCIERGE_RETURN_IF_ERROR(write_file(dir / "pck_crl.der", as_chars(pck_crl), 0644));

  const TdxModuleConfig& m = config_.tdx_module;
  const json state = {{"format", kFormat},
                      {"qe_id", hex_of(config_.qe_id)},
                      {"tdx_module",
                       {{"tee_tcb_svn", hex_of(m.tee_tcb_svn)},
                        {"mr_seam", hex_of(m.mr_seam)},
                        {"mr_signer_seam", hex_of(m.mr_signer_seam)},
                        {"seam_attributes", m.seam_attributes}}},
                      {"sgx_qe", qe_json(config_.sgx_qe)},
                      {"td_qe", qe_json(config_.td_qe)}};
  return write_file(dir / kStateFile, state.dump(2) + "\n", 0644);
}

Result<DcapSimulator> DcapSimulator::load(const fs::path& dir) {
  CONCIERGE_ASSIGN_OR_RETURN(const std::string text, read_file(dir / kStateFile));
  auto parsed = parse_json_with_offset(text, "state");
  if (!parsed || !parsed->is_object()) return bad_state("not a JSON object");
  const json state = std::move(*parsed);
  const auto format = state.find("format");
  if (format == state.end() || !format->is_number_integer() || *format != kFormat) {
    return bad_state("unknown format (expected 1)");
  }
  Config config;
  CONCIERGE_ASSIGN_OR_RETURN(config.qe_id, hex_field<16>(state, "", "qe_id"));
  CONCIERGE_ASSIGN_OR_RETURN(const json* module, object_field(state, "tdx_module"));
  TdxModuleConfig& m = config.tdx_module;
  CONCIERGE_ASSIGN_OR_RETURN(m.tee_tcb_svn, hex_field<16>(*module, "tdx_module.", "tee_tcb_svn"));
  CONCIERGE_ASSIGN_OR_RETURN(m.mr_seam, hex_field<48>(*module, "tdx_module.", "mr_seam"));
  CONCIERGE_ASSIGN_OR_RETURN(m.mr_signer_seam,
                             hex_field<48>(*module, "tdx_module.", "mr_signer_seam"));
  CONCIERGE_ASSIGN_OR_RETURN(m.seam_attributes,
                             uint_field(*module, "tdx_module.", "seam_attributes", UINT64_MAX));
  CONCIERGE_ASSIGN_OR_RETURN(config.sgx_qe, qe_from(state, "sgx_qe"));
  CONCIERGE_ASSIGN_OR_RETURN(config.td_qe, qe_from(state, "td_qe"));

  auto identity = [&dir](const char* name) -> Result<Identity> {
    CONCIERGE_ASSIGN_OR_RETURN(Certificate cert, load_cert(dir / (std::string(name) + ".pem")));
    CONCIERGE_ASSIGN_OR_RETURN(PrivateKey key, load_key(dir / (std::string(name) + ".key")));
    CONCIERGE_RETURN_IF_ERROR(check_pair(cert, key, name));
    return Identity{std::move(cert), std::move(key)};
  };
  CONCIERGE_ASSIGN_OR_RETURN(Identity root, identity("root"));
  CONCIERGE_ASSIGN_OR_RETURN(Identity platform_ca, identity("platform_ca"));
  CONCIERGE_ASSIGN_OR_RETURN(Identity pck, identity("pck"));
  CONCIERGE_ASSIGN_OR_RETURN(Identity tcb_signing, identity("tcb_signing"));
  CONCIERGE_ASSIGN_OR_RETURN(PrivateKey attestation, load_key(dir / "attestation.key"));
  CONCIERGE_ASSIGN_OR_RETURN(Crl root_crl, load_crl(dir / "root_crl.der"));
  CONCIERGE_ASSIGN_OR_RETURN(Crl pck_crl, load_crl(dir / "pck_crl.der"));

  // The platform, as the PCK certificate states it.
  Result<PckExtension> ext = parse_pck_extension(pck.cert);
  if (!ext) return fail(Errc::kMalformed, "pck.pem: " + ext.error().message);
  CONCIERGE_ASSIGN_OR_RETURN(config.fmspc, sized<kFmspcSize>(ext->fmspc, "FMSPC"));
  CONCIERGE_ASSIGN_OR_RETURN(config.pce_id, sized<kPceIdSize>(ext->pceid, "PCE-ID"));
  CONCIERGE_ASSIGN_OR_RETURN(config.pck_tcb.cpusvn, sized<kCpuSvnSize>(ext->cpusvn, "CPUSVN"));
  config.pck_tcb.sgx_components = ext->tcb_components;
  config.pck_tcb.pcesvn = ext->pcesvn;

  return assemble(std::move(config), Keys{std::move(root), std::move(platform_ca), std::move(pck),
                                          std::move(tcb_signing), std::move(attestation),
                                          std::move(root_crl), std::move(pck_crl)});
}

}  // namespace concierge::evidence::dcap
