// DcapSimulator: the defaults and the test PKI shaped like Intel's (Intel "SGX
// PCK Certificate and Certificate Revocation List Profile Specification").
// Quotes are in simulator.cc, collateral in simulator_collateral.cc, saving
// and loading in simulator_state.cc.
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "concierge/core/cert_builder.h"
#include "concierge/core/encoding.h"
#include "concierge/evidence/dcap/pck_chain.h"
#include "concierge/evidence/dcap/simulator.h"

namespace concierge::evidence::dcap {
namespace {

using std::chrono::hours;
constexpr auto kYear = hours(24 * 365);

// ---- DER for the SGX extension (X.690), small and definite-length ----

// Appends by resize and copy (GCC 12 warns falsely on vector::insert into
// small vectors).
void append(Bytes& out, ByteView b) {
  const std::size_t at = out.size();
  out.resize(at + b.size());
  std::copy(b.begin(), b.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
}

Bytes tlv(std::uint8_t tag, ByteView contents) {
  Bytes out;
  out.reserve(contents.size() + 6);
  out.push_back(tag);
  const std::size_t n = contents.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else {
    std::uint8_t len[sizeof(std::size_t)];
    std::size_t k = 0;
    for (std::size_t v = n; v != 0; v >>= 8) len[k++] = static_cast<std::uint8_t>(v);
    out.push_back(static_cast<std::uint8_t>(0x80 | k));
    while (k > 0) out.push_back(len[--k]);
  }
  append(out, contents);
  return out;
}

Bytes sequence(const std::vector<Bytes>& members) {
  Bytes contents;
  for (const Bytes& m : members) append(contents, m);
  return tlv(0x30, contents);
}

// A dotted OID ("1.2.840.113741.1.13.1.2.17") in DER.
Bytes oid(std::string_view dotted) {
  std::vector<std::uint64_t> arcs;
  std::uint64_t v = 0;
  for (char c : dotted) {
    if (c == '.') {
      arcs.push_back(v);
      v = 0;
    } else {
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
  }
  arcs.push_back(v);
  Bytes contents;
  auto base128 = [&contents](std::uint64_t arc) {
    std::uint8_t groups[10];
    std::size_t k = 0;
    do {
      groups[k++] = static_cast<std::uint8_t>(arc & 0x7F);
      arc >>= 7;
    } while (arc != 0);
    while (k > 0) {
      --k;
      contents.push_back(static_cast<std::uint8_t>(groups[k] | (k > 0 ? 0x80 : 0)));
    }
  };
  base128(arcs[0] * 40 + arcs[1]);
  for (std::size_t i = 2; i < arcs.size(); ++i) base128(arcs[i]);
  return tlv(0x06, contents);
}

// A non-negative INTEGER (tag 0x02) or ENUMERATED (0x0A), minimal.
Bytes integer(std::uint64_t v, std::uint8_t tag = 0x02) {
  Bytes magnitude = serial_from_u64(v);
  Bytes contents;
  contents.reserve(magnitude.size() + 1);
  if (magnitude.empty() || (magnitude[0] & 0x80) != 0) contents.push_back(0);
  append(contents, magnitude);
  return tlv(tag, contents);
}

Bytes octets(ByteView b) { return tlv(0x04, b); }

// SEQUENCE { OID <sgx>.<suffix>, value }
Bytes member(const std::string& suffix, Bytes value) {
  return sequence({oid(std::string(kOidSgxExtensions) + "." + suffix), std::move(value)});
}

// The SGX extension value (pck_extension.h): PPID, TCB, PCE-ID, FMSPC, SGX Type.
Bytes sgx_extension(ByteView ppid, const PckTcb& tcb, ByteView pce_id, ByteView fmspc) {
  std::vector<Bytes> components;
  for (std::size_t i = 0; i < kTcbComponents; ++i) {
    components.push_back(member("2." + std::to_string(i + 1), integer(tcb.sgx_components[i])));
  }
  components.push_back(member("2.17", integer(tcb.pcesvn)));
  components.push_back(member("2.18", octets(tcb.cpusvn)));
  return sequence({member("1", octets(ppid)), member("2", sequence(components)),
                   member("3", octets(pce_id)), member("4", octets(fmspc)),
                   member("5", integer(static_cast<std::uint64_t>(SgxType::kStandard), 0x0A))});
}

// ---- certificates ----

DistinguishedName name_of(std::string cn, std::string organization) {
  return {{NameAttribute::kCommonName, std::move(cn)},
          {NameAttribute::kOrganization, std::move(organization)},
          {NameAttribute::kOrganizationalUnit, "Concierge DCAP simulator"}};
}

constexpr const char* kTestPki = "Concierge test PKI (not Intel)";

CertSpec ca_spec(std::string cn, std::string organization, TimePoint start, hours lifetime,
                 int path_len) {
  CertSpec s;
  s.subject = name_of(std::move(cn), std::move(organization));
  s.not_before = start;
  s.not_after = start + lifetime;
  s.basic_constraints = BasicConstraints{true, path_len, true};
  s.key_usage =
      KeyUsage{static_cast<std::uint16_t>(key_usage::kKeyCertSign | key_usage::kCrlSign), true};
  return s;
}

CertSpec leaf_spec(std::string cn, TimePoint start) {
  CertSpec s;
  s.subject = name_of(std::move(cn), kTestPki);
  s.not_before = start;
  s.not_after = start + 7 * kYear;
  s.basic_constraints = BasicConstraints{false, std::nullopt, true};
  s.key_usage = KeyUsage{
      static_cast<std::uint16_t>(key_usage::kDigitalSignature | key_usage::kNonRepudiation), true};
  return s;
}

CrlSpec crl_spec(TimePoint start) {
  CrlSpec s;
  s.this_update = start;
  s.next_update = start + kYear;
  s.crl_number = serial_from_u64(1);
  s.authority_key_identifier = true;
  return s;
}

template <std::size_t N>
Result<void> random_fill(std::array<std::uint8_t, N>& out, const char* what) {
  if (RAND_bytes(out.data(), static_cast<int>(N)) != 1) {
    return fail(Errc::kCrypto, std::string("no random bytes for the ") + what);
  }
  return {};
}

}  // namespace

PckTcb default_pck_tcb() {
  PckTcb t;
  t.sgx_components = {5, 5, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0};
  t.pcesvn = 13;
  t.cpusvn = t.sgx_components;
  return t;
}

TdxModuleConfig default_tdx_module() {
  TdxModuleConfig m;
  m.tee_tcb_svn = {3, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (std::size_t i = 0; i < m.mr_seam.size(); ++i) {
    m.mr_seam[i] = static_cast<std::uint8_t>(0x5E ^ i);
  }
  return m;
}

QeConfig default_qe(TeeType tee) {
  // Intel's QE signers (the "mrsigner" of Intel's QE and TD_QE identities).
  static constexpr std::array<std::uint8_t, 32> kSgxQeSigner = {
      0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e, 0x96, 0x13, 0x7f,
      0x77, 0xc6, 0x8a, 0x82, 0x9a, 0x00, 0x56, 0xac, 0x8d, 0xed, 0x70,
      0x14, 0x0b, 0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff};
  static constexpr std::array<std::uint8_t, 32> kTdQeSigner = {
      0xdc, 0x9e, 0x2a, 0x7c, 0x6f, 0x94, 0x8f, 0x17, 0x47, 0x4e, 0x34,
      0xa7, 0xfc, 0x43, 0xed, 0x03, 0x0f, 0x7c, 0x15, 0x63, 0xf1, 0xba,
      0xbd, 0xdf, 0x63, 0x40, 0xc8, 0x2e, 0x0e, 0x54, 0xa8, 0xc5};
  const bool tdx = tee == TeeType::kTdx;
  QeConfig q;
  q.mrsigner = tdx ? kTdQeSigner : kSgxQeSigner;
  for (std::size_t i = 0; i < q.mrenclave.size(); ++i) {
    q.mrenclave[i] = static_cast<std::uint8_t>((tdx ? 0xD0 : 0xE0) + i);
  }
  q.isvprodid = tdx ? 2 : 1;
  q.isvsvn = tdx ? 4 : 8;
  q.attributes_flags = 0x15;  // INIT | MODE64BIT | PROVISIONKEY
  q.attributes_xfrm = 0xe7;
  q.miscselect = 0;
  return q;
}

Bytes default_qe_auth_data() {
  Bytes b(32);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i);
  return b;
}

DcapSimulator::DcapSimulator(Config config, Keys keys,
                             std::array<std::uint8_t, kEcdsaP256PublicKeySize> attestation_public)
    : config_(std::move(config)), keys_(std::move(keys)), attestation_public_(attestation_public) {}

Result<DcapSimulator> DcapSimulator::assemble(Config config, Keys keys) {
  if (keys.attestation.curve() != EcCurve::kP256) {
    return fail(Errc::kInvalidArgument, "the attestation key must be ECDSA P-256");
  }
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey pub, keys.attestation.public_key());
  CONCIERGE_ASSIGN_OR_RETURN(const Bytes spki, pub.to_der());
  // The SubjectPublicKeyInfo ends with the uncompressed point 04 || x || y.
  constexpr std::size_t kPoint = 1 + kEcdsaP256PublicKeySize;
  if (spki.size() < kPoint || spki[spki.size() - kPoint] != 0x04) {
    return fail(Errc::kInternal, "the attestation key is not an uncompressed P-256 point");
  }
  std::array<std::uint8_t, kEcdsaP256PublicKeySize> xy{};
  std::copy(spki.end() - static_cast<std::ptrdiff_t>(xy.size()), spki.end(), xy.begin());
  return DcapSimulator(std::move(config), std::move(keys), xy);
}

Result<DcapSimulator> DcapSimulator::create(const DcapSimulatorOptions& options) {
  Config config{options.fmspc,
                options.pce_id,
                options.pck_tcb,
                options.tdx_module,
                options.sgx_qe,
                options.td_qe,
                {}};
  CONCIERGE_RETURN_IF_ERROR(random_fill(config.qe_id, "QE ID"));
  std::array<std::uint8_t, kPpidSize> ppid{};
  CONCIERGE_RETURN_IF_ERROR(random_fill(ppid, "PPID"));
  const TimePoint start = options.not_before.value_or(
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) - hours(24));

  CONCIERGE_ASSIGN_OR_RETURN(PrivateKey root_key, PrivateKey::generate_ec(EcCurve::kP256));
  CONCIERGE_ASSIGN_OR_RETURN(PrivateKey ca_key, PrivateKey::generate_ec(EcCurve::kP256));
  CONCIERGE_ASSIGN_OR_RETURN(PrivateKey pck_key, PrivateKey::generate_ec(EcCurve::kP256));
  CONCIERGE_ASSIGN_OR_RETURN(PrivateKey tcb_key, PrivateKey::generate_ec(EcCurve::kP256));
  CONCIERGE_ASSIGN_OR_RETURN(PrivateKey attestation_key, PrivateKey::generate_ec(EcCurve::kP256));
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey ca_pub, ca_key.public_key());
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey pck_pub, pck_key.public_key());
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey tcb_pub, tcb_key.public_key());

  CONCIERGE_ASSIGN_OR_RETURN(
      Certificate root,
      self_sign_certificate(ca_spec("Concierge Test SGX Root CA", "Concierge test root (not Intel)",
                                    start, 25 * kYear, 1),
                            root_key));
  CONCIERGE_ASSIGN_OR_RETURN(
      Certificate platform_ca,
      issue_certificate(ca_spec(std::string(kPckPlatformCaCn), kTestPki, start, 15 * kYear, 0),
                        ca_pub, root, root_key));
  CertSpec pck_spec = leaf_spec(std::string(kPckCertificateCn), start);
  pck_spec.extensions.push_back(
      CustomExtension{std::string(kOidSgxExtensions),
                      sgx_extension(ppid, config.pck_tcb, config.pce_id, config.fmspc), false});
  CONCIERGE_ASSIGN_OR_RETURN(Certificate pck,
                             issue_certificate(pck_spec, pck_pub, platform_ca, ca_key));
  CONCIERGE_ASSIGN_OR_RETURN(
      Certificate tcb_signing,
      issue_certificate(leaf_spec(std::string(kTcbSigningCn), start), tcb_pub, root, root_key));

  CONCIERGE_ASSIGN_OR_RETURN(Crl root_crl, issue_crl(crl_spec(start), root, root_key));
  CrlSpec pck_crl_spec = crl_spec(start);
  if (options.revoke_pck) {
    CONCIERGE_ASSIGN_OR_RETURN(Bytes serial, hex_decode(pck.serial_hex()));
    pck_crl_spec.revoked.push_back(RevokedCert{std::move(serial), start});
  }
  CONCIERGE_ASSIGN_OR_RETURN(Crl pck_crl, issue_crl(pck_crl_spec, platform_ca, ca_key));

  return assemble(std::move(config),
                  Keys{Identity{std::move(root), std::move(root_key)},
                       Identity{std::move(platform_ca), std::move(ca_key)},
                       Identity{std::move(pck), std::move(pck_key)},
                       Identity{std::move(tcb_signing), std::move(tcb_key)},
                       std::move(attestation_key), std::move(root_crl), std::move(pck_crl)});
}

std::string DcapSimulator::pck_chain_pem() const {
  return certificate_to_pem(keys_.pck.cert) + certificate_to_pem(keys_.platform_ca.cert) +
         certificate_to_pem(keys_.root.cert);
}

std::string DcapSimulator::tcb_signing_chain_pem() const {
  return certificate_to_pem(keys_.tcb_signing.cert) + certificate_to_pem(keys_.root.cert);
}

}  // namespace concierge::evidence::dcap
