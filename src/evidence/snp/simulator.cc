// SnpSimulator: the test PKI (AMD #57230) and report signing (AMD #56860).
// Saving and loading the state is in simulator_state.cc.
#include "concierge/evidence/snp/simulator.h"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "concierge/core/cert_builder.h"
#include "concierge/evidence/snp/cert_table.h"
#include "concierge/evidence/snp/vcek.h"

namespace concierge::evidence::snp {
namespace {

using std::chrono::hours;
constexpr auto kYear = hours(24 * 365);

// AMD's serial numbers for these certificates; AMD's VCEKs carry serial 0.
constexpr std::uint64_t kArkSerial = 0x10000;
constexpr std::uint64_t kAskSerial = 0x10001;
constexpr std::uint64_t kAsvkSerial = 0x10101;

DistinguishedName name_of(std::string cn) {
  return {{NameAttribute::kOrganizationalUnit, "Concierge SEV-SNP simulator"},
          {NameAttribute::kOrganization, "Concierge test root (not AMD)"},
          {NameAttribute::kCommonName, std::move(cn)}};
}

// A short DER element: tag, one length byte (under 128), contents. Filled by
// index (GCC 12 warns falsely about vector::insert at -O2, bug 105329 kin).
Bytes der_element(std::uint8_t tag, ByteView contents) {
  Bytes out(2 + contents.size());
  out[0] = tag;
  out[1] = static_cast<std::uint8_t>(contents.size());
  std::copy(contents.begin(), contents.end(), out.begin() + 2);
  return out;
}

// DER INTEGER of a non-negative value: 0xD1 is 02 02 00 D1.
Bytes der_integer(std::uint64_t v) {
  Bytes magnitude = serial_from_u64(v);
  if (magnitude.empty() || (magnitude[0] & 0x80) != 0) magnitude.insert(magnitude.begin(), 0);
  return der_element(0x02, magnitude);
}

// DER IA5String (short strings: under 128 bytes).
Bytes der_ia5(std::string_view s) { return der_element(0x16, as_bytes(s)); }

CustomExtension ext(std::string_view oid, Bytes value) {
  return CustomExtension{std::string(oid), std::move(value), false};
}

// The AMD extensions of a VCEK (hwid non-empty) or VLEK (csp_id), in the order
// AMD's KDS writes them.
std::vector<CustomExtension> amd_extensions(Product product, const TcbVersion& tcb, ByteView hwid,
                                            const std::string& csp_id) {
  constexpr std::string_view kSplPrefix = "1.3.6.1.4.1.3704.1.3.";
  std::vector<CustomExtension> e;
  e.push_back(ext(kOidStructVersion, der_integer(1)));
  e.push_back(ext(kOidProductName, der_ia5(std::string(product_name(product)) + "-B0")));
  e.push_back(ext(kOidBlSpl, der_integer(tcb.bootloader)));
  e.push_back(ext(kOidTeeSpl, der_integer(tcb.tee)));
  for (int i = 4; i <= 7; ++i) {
    e.push_back(ext(std::string(kSplPrefix) + std::to_string(i), der_integer(0)));
  }
  e.push_back(ext(kOidSnpSpl, der_integer(tcb.snp)));
  e.push_back(ext(kOidUcodeSpl, der_integer(tcb.microcode)));
  if (product == Product::kTurin) e.push_back(ext(kOidFmcSpl, der_integer(tcb.fmc.value_or(0))));
  if (!hwid.empty()) {
    // AMD writes the chip ID itself as the extension value (no DER wrapping).
    e.push_back(ext(kOidHwId, Bytes(hwid.begin(), hwid.end())));
  } else {
    e.push_back(ext(kOidCspId, der_ia5(csp_id)));
  }
  return e;
}

CertSpec spec_for(std::string cn, std::uint64_t serial, std::chrono::hours lifetime) {
  CertSpec s;
  s.subject = name_of(std::move(cn));
  s.serial = serial_from_u64(serial);
  const TimePoint now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  s.not_before = now - hours(24);
  s.not_after = now + lifetime;
  s.signature = SignatureScheme::kRsaPssSha384;
  return s;
}

CertSpec ca_spec(std::string cn, std::uint64_t serial, bool root) {
  CertSpec s = spec_for(std::move(cn), serial, 25 * kYear);
  s.basic_constraints = BasicConstraints{true, root ? std::nullopt : std::optional<int>(0), true};
  s.key_usage = KeyUsage{
      static_cast<std::uint16_t>(key_usage::kKeyCertSign | (root ? key_usage::kCrlSign : 0)), true};
  s.authority_key_identifier = !root;  // AMD's ARKs carry none
  return s;
}

CertSpec endorsement_spec(std::string cn, std::vector<CustomExtension> extensions) {
  CertSpec s = spec_for(std::move(cn), 0, 7 * kYear);
  s.subject_key_identifier = false;
  s.authority_key_identifier = false;
  s.extensions = std::move(extensions);
  return s;
}

struct Cpuid {
  std::uint8_t family;
  std::uint8_t model;
};
Cpuid cpuid_of(Product p) {
  switch (p) {
    case Product::kGenoa:
      return {0x19, 0x11};
    case Product::kTurin:
      return {0x1A, 0x02};
    default:
      return {0x19, 0x01};
  }
}

bool known(Product p) {
  return p == Product::kMilan || p == Product::kGenoa || p == Product::kTurin;
}

}  // namespace

TcbVersion default_tcb(Product product) {
  TcbVersion t;
  switch (product) {
    case Product::kTurin:
      t.fmc = 1;
      t.bootloader = 1;
      t.tee = 1;
      t.snp = 3;
      t.microcode = 72;
      break;
    case Product::kGenoa:
      t.bootloader = 9;
      t.tee = 0;
      t.snp = 22;
      t.microcode = 84;
      break;
    default:  // Milan; ucodeSPL above 127 is a two-byte DER INTEGER
      t.bootloader = 4;
      t.tee = 0;
      t.snp = 22;
      t.microcode = 213;
      break;
  }
  t.raw = encode_tcb(t, product);
  return t;
}

SnpSimulator::SnpSimulator(Product product, std::array<std::uint8_t, 64> chip_id, TcbVersion tcb,
                           Identity ark, Identity ask, Identity asvk, Identity vcek,
                           std::optional<Identity> vlek, std::string csp_id)
    : product_(product),
      chip_id_(chip_id),
      tcb_(std::move(tcb)),
      ark_(std::move(ark)),
      ask_(std::move(ask)),
      asvk_(std::move(asvk)),
      vcek_(std::move(vcek)),
      vlek_(std::move(vlek)),
      csp_id_(std::move(csp_id)) {}

Result<SnpSimulator> SnpSimulator::create(const SimulatorOptions& options) {
  const Product product = options.product;
  if (!known(product)) return fail(Errc::kInvalidArgument, "simulator product must be known");
  const std::size_t hwid_size = product == Product::kTurin ? kTurinHwIdSize : kHwIdSize;

  std::array<std::uint8_t, 64> chip_id{};
  if (options.chip_id) {
    chip_id = *options.chip_id;
    if (std::any_of(chip_id.begin() + static_cast<std::ptrdiff_t>(hwid_size), chip_id.end(),
                    [](std::uint8_t b) { return b != 0; })) {
      return fail(Errc::kInvalidArgument,
                  "a Turin CHIP_ID is 8 bytes: the last 56 bytes must be zero");
    }
  } else if (RAND_bytes(chip_id.data(), static_cast<int>(hwid_size)) != 1) {
    return fail(Errc::kCrypto, "no random bytes for the CHIP_ID");
  }

  TcbVersion tcb = options.tcb.value_or(default_tcb(product));
  if (product == Product::kTurin && !tcb.fmc) {
    return fail(Errc::kInvalidArgument, "a Turin TCB needs an FMC SPL");
  }
  if (product != Product::kTurin && tcb.fmc) {
    return fail(Errc::kInvalidArgument, "only a Turin TCB has an FMC SPL");
  }
  tcb = decode_tcb(encode_tcb(tcb, product), product);

  const std::string name(product_name(product));
  CONCIERGE_ASSIGN_OR_RETURN(PrivateKey ark_key, PrivateKey::generate_rsa(options.ark_bits));
  CONCIERGE_ASSIGN_OR_RETURN(PrivateKey ask_key, PrivateKey::generate_rsa(options.ark_bits));
  CONCIERGE_ASSIGN_OR_RETURN(PrivateKey asvk_key, PrivateKey::generate_rsa(options.ark_bits));
  CONCIERGE_ASSIGN_OR_RETURN(PrivateKey vcek_key, PrivateKey::generate_ec(EcCurve::kP384));
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey ask_pub, ask_key.public_key());
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey asvk_pub, asvk_key.public_key());
  CONCIERGE_ASSIGN_OR_RETURN(PublicKey vcek_pub, vcek_key.public_key());

  CONCIERGE_ASSIGN_OR_RETURN(
      Certificate ark, self_sign_certificate(ca_spec("ARK-" + name, kArkSerial, true), ark_key));
  CONCIERGE_ASSIGN_OR_RETURN(
      Certificate ask,
      issue_certificate(ca_spec("SEV-" + name, kAskSerial, false), ask_pub, ark, ark_key));
  CONCIERGE_ASSIGN_OR_RETURN(
      Certificate asvk,
      issue_certificate(ca_spec("SEV-VLEK-" + name, kAsvkSerial, false), asvk_pub, ark, ark_key));
  CONCIERGE_ASSIGN_OR_RETURN(
      Certificate vcek,
      issue_certificate(
          endorsement_spec("SEV-VCEK",
                           amd_extensions(product, tcb, ByteView(chip_id.data(), hwid_size), "")),
          vcek_pub, ask, ask_key));

  std::optional<Identity> vlek;
  std::string csp_id;
  if (options.vlek_csp_id) {
    csp_id = *options.vlek_csp_id;
    if (csp_id.empty() || csp_id.size() > 127 ||
        std::any_of(csp_id.begin(), csp_id.end(),
                    [](char c) { return static_cast<unsigned char>(c) > 0x7F; })) {
      return fail(Errc::kInvalidArgument, "cspID must be 1-127 ASCII characters");
    }
    CONCIERGE_ASSIGN_OR_RETURN(PrivateKey vlek_key, PrivateKey::generate_ec(EcCurve::kP384));
    CONCIERGE_ASSIGN_OR_RETURN(PublicKey vlek_pub, vlek_key.public_key());
    CONCIERGE_ASSIGN_OR_RETURN(
        Certificate vlek_cert,
        issue_certificate(endorsement_spec("SEV-VLEK", amd_extensions(product, tcb, {}, csp_id)),
                          vlek_pub, asvk, asvk_key));
    vlek.emplace(Identity{std::move(vlek_cert), std::move(vlek_key)});
  }
  return SnpSimulator(
      product, chip_id, std::move(tcb), Identity{std::move(ark), std::move(ark_key)},
      Identity{std::move(ask), std::move(ask_key)}, Identity{std::move(asvk), std::move(asvk_key)},
      Identity{std::move(vcek), std::move(vcek_key)}, std::move(vlek), std::move(csp_id));
}

const SnpSimulator::Identity* SnpSimulator::signer(SigningKey key) const {
  if (key == SigningKey::kVlek) return vlek_ ? &*vlek_ : nullptr;
  return &vcek_;
}

Result<AttestationReport> SnpSimulator::build_report(const ReportRequest& q) const {
  if (q.version < 2 || q.version > 5) {
    return fail(Errc::kInvalidArgument, "report version must be 2 to 5");
  }
  if (q.signing_key == SigningKey::kVlek && !vlek_) {
    return fail(Errc::kInvalidArgument, "a VLEK-signed report needs a simulator with a VLEK");
  }
  AttestationReport r;
  r.version = q.version;
  r.guest_svn = q.guest_svn;
  r.policy = decode_policy(q.policy);
  r.family_id = q.family_id;
  r.image_id = q.image_id;
  r.vmpl = q.vmpl;
  r.signature_algo = kSignatureAlgoEcdsaP384Sha384;
  r.current_tcb = q.current_tcb.value_or(tcb_.raw);
  r.platform_info = decode_platform_info(q.platform_info);
  r.signer = SignerInfo{q.author_key_en, q.mask_chip_key, q.signing_key};
  r.report_data = q.report_data;
  r.measurement = q.measurement;
  r.host_data = q.host_data;
  r.id_key_digest = q.id_key_digest;
  r.author_key_digest = q.author_key_digest;
  r.report_id = q.report_id;
  r.report_id_ma = q.report_id_ma;
  r.reported_tcb = q.reported_tcb.value_or(tcb_.raw);
  if (r.has_cpuid()) {
    const Cpuid c = cpuid_of(product_);
    r.cpuid_family = c.family;
    r.cpuid_model = c.model;
    r.cpuid_stepping = q.cpuid_stepping;
  }
  if (!q.mask_chip_id) r.chip_id = chip_id_;
  r.committed_tcb = q.committed_tcb.value_or(tcb_.raw);
  r.current_build = q.current_build;
  r.current_minor = q.current_minor;
  r.current_major = q.current_major;
  r.committed_build = q.committed_build;
  r.committed_minor = q.committed_minor;
  r.committed_major = q.committed_major;
  r.launch_tcb = q.launch_tcb.value_or(tcb_.raw);
  if (r.version >= 5) {
    r.launch_mit_vector = q.launch_mit_vector;
    r.current_mit_vector = q.current_mit_vector;
  }
  return r;
}

Result<Bytes> SnpSimulator::issue(const ReportRequest& request) const {
  CONCIERGE_ASSIGN_OR_RETURN(const AttestationReport report, build_report(request));
  return sign(report);
}

Result<Bytes> SnpSimulator::sign(const AttestationReport& report) const {
  AttestationReport unsigned_report = report;
  unsigned_report.signature.fill(0);
  Bytes out = serialize_report(unsigned_report);
  // No signature: none requested, or the chip key masked (SNP_CONFIG
  // MASK_CHIP_KEY: the firmware writes zeros).
  if (report.signer.signing_key == SigningKey::kNone || report.signer.mask_chip_key) return out;
  const Identity* id = signer(report.signer.signing_key);
  if (id == nullptr) {
    return fail(Errc::kInvalidArgument, "a VLEK-signed report needs a simulator with a VLEK");
  }
  CONCIERGE_ASSIGN_OR_RETURN(
      const Bytes rs, id->key.sign_ecdsa_raw(HashAlg::kSha384, ByteView(out).first(kSignedSize)));
  const std::size_t half = rs.size() / 2;  // 48: big-endian r || s
  for (std::size_t i = 0; i < half; ++i) {
    out[kSignatureOffset + i] = rs[half - 1 - i];
    out[kSignatureOffset + kSignatureComponentSize + i] = rs[rs.size() - 1 - i];
  }
  return out;
}

std::string SnpSimulator::cert_chain_pem() const {
  return certificate_to_pem(ask_.cert) + certificate_to_pem(ark_.cert);
}

std::string SnpSimulator::vlek_cert_chain_pem() const {
  return certificate_to_pem(asvk_.cert) + certificate_to_pem(ark_.cert);
}

Result<AmdRootSet> SnpSimulator::root_set() const {
  return make_amd_root_set(product_, ark_.cert, ask_.cert, asvk_.cert);
}

Result<Bytes> SnpSimulator::cert_table(SigningKey key) const {
  if (key == SigningKey::kVlek && !vlek_) {
    return fail(Errc::kInvalidArgument, "no VLEK: the simulator was created without one");
  }
  const bool vlek = key == SigningKey::kVlek;
  std::vector<CertTableEntry> entries;
  entries.push_back({cert_guid_of(vlek ? CertKind::kVlek : CertKind::kVcek),
                     vlek ? vlek_->cert.der() : vcek_.cert.der(), 0});
  entries.push_back({cert_guid_of(CertKind::kAsk), vlek ? asvk_.cert.der() : ask_.cert.der(), 0});
  entries.push_back({cert_guid_of(CertKind::kArk), ark_.cert.der(), 0});
  return encode_cert_table(entries);
}

}  // namespace concierge::evidence::snp
