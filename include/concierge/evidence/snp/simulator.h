// A software "AMD secure processor" for SEV-SNP: it holds a test PKI shaped
// like AMD's (ARK -> ASK -> VCEK, ARK -> ASVK -> VLEK; AMD #57230 "Certificate
// Chain") and issues byte-exact attestation reports (AMD #56860 Table 23,
// versions 2 to 5) of any content, signed like the firmware signs them.
//
// Trust: the roots are generated here and are not AMD's. Evidence from a
// simulator verifies only when its root set (root_set(), or the cert_chain
// PEM) is explicitly configured as trusted; the built-in AMD roots reject it
// as an unknown root. Every ARK says so in its subject: O = "Concierge test
// root (not AMD)".
//
// Certificates (mirroring AMD's; validity from one day ago):
//   ARK   CN "ARK-<Product>", RSA, self-signed, RSASSA-PSS SHA-384 (MGF1-SHA-384,
//         salt 48), CA, keyCertSign + cRLSign, serial 0x10000, 25 years.
//   ASK   CN "SEV-<Product>", RSA, signed by the ARK (PSS), CA pathlen 0,
//         keyCertSign, serial 0x10001.
//   ASVK  CN "SEV-VLEK-<Product>", as the ASK, serial 0x10101.
//   VCEK  CN "SEV-VCEK", EC P-384, signed by the ASK (PSS), serial 0, 7 years,
//         no standard extensions, only AMD's (#57230 "VCEK Certificate"), in
//         the order AMD writes them: structVersion (.1.1) INTEGER 1,
//         productName1 (.1.2) IA5String "<Product>-B0", blSPL (.1.3.1),
//         teeSPL (.1.3.2), spl_4..spl_7 (.1.3.4-.1.3.7) = 0, snpSPL (.1.3.3),
//         ucodeSPL (.1.3.8), Turin: fmcSPL (.1.3.9), all DER INTEGERs; hwID
//         (.1.4): the raw CHIP_ID bytes as the extension value (64 bytes;
//         Turin 8), as AMD's VCEKs carry it (not wrapped in a DER OCTET STRING).
//   VLEK  (optional) CN "SEV-VLEK", EC P-384, signed by the ASVK; the same SPLs,
//         cspID (.1.5) IA5String instead of hwID.
// The OIDs are under 1.3.6.1.4.1.3704 (AMD). AMD's ARK, ASK and ASVK keys are
// RSA-4096; the simulator defaults to RSA-2048, which generates in a fraction
// of the time, and accepts 3072 and 4096.
//
// Reports: signed with ECDSA P-384 / SHA-384 over bytes [0, 0x2A0); r and s
// are stored little-endian, zero-extended to 72 bytes, at 0x2A0 and 0x2E8.
//
// Ownership and thread safety: a SnpSimulator owns its private keys (move-only).
// Const members may be called concurrently (signing only reads the keys).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/private_key.h"
#include "concierge/core/result.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/snp/amd_roots.h"
#include "concierge/evidence/snp/report.h"

namespace concierge::evidence::snp {

struct SimulatorOptions {
  Product product = Product::kMilan;  // kMilan, kGenoa or kTurin
  // CHIP_ID. Unset: random (Milan, Genoa: 64 bytes; Turin: 8 bytes then zeros).
  // Turin's hwID is only 8 bytes, so a Turin chip_id must end in 56 zeros.
  std::optional<std::array<std::uint8_t, 64>> chip_id;
  // The TCB the VCEK is issued for (its SPL extensions), and the default
  // reported, current, committed and launch TCB of reports. The fields are
  // used (`raw` is recomputed with encode_tcb); Turin needs `fmc`. Unset:
  // default_tcb(product).
  std::optional<TcbVersion> tcb;
  int ark_bits = 2048;  // RSA size of ARK, ASK and ASVK: 2048, 3072 or 4096
  // Also issue a VLEK for this cloud service provider (cspID).
  std::optional<std::string> vlek_csp_id;
};

// Plausible TCB values for a product (bootloader, TEE, SNP, microcode; and
// FMC on Turin). Not any real firmware's.
TcbVersion default_tcb(Product product);

// What goes into a report. Defaults give a valid report of a non-debug guest.
struct ReportRequest {
  std::uint32_t version = 3;  // 2 to 5 (CPUID fields from 3, mitigation vectors from 5)
  std::uint32_t guest_svn = 0;
  std::uint64_t policy = 0x30000;  // bit 17 (must be one) + SMT allowed
  std::array<std::uint8_t, 16> family_id{};
  std::array<std::uint8_t, 16> image_id{};
  std::uint32_t vmpl = 0;
  std::uint64_t platform_info = 0x1;           // SMT enabled
  SigningKey signing_key = SigningKey::kVcek;  // kVlek needs a VLEK; kNone: no signature
  // The host's SNP_CONFIG masks (ABI spec section 8.8, SNP_CONFIG):
  // MASK_CHIP_ID reports CHIP_ID as zeros (the report is still signed);
  // MASK_CHIP_KEY disables the VCEK: signer info bit 1 set and the signature
  // left zero, as the firmware writes it. Neither is a VLEK matter.
  bool mask_chip_id = false;
  bool mask_chip_key = false;
  bool author_key_en = false;
  std::array<std::uint8_t, 64> report_data{};
  std::array<std::uint8_t, 48> measurement{};
  std::array<std::uint8_t, 32> host_data{};
  std::array<std::uint8_t, 48> id_key_digest{};
  std::array<std::uint8_t, 48> author_key_digest{};
  std::array<std::uint8_t, 32> report_id{};
  // All 0xFF: no migration agent (what the firmware reports then).
  std::array<std::uint8_t, 32> report_id_ma = [] {
    std::array<std::uint8_t, 32> a{};
    a.fill(0xFF);
    return a;
  }();
  // Raw TCB_VERSION values; unset: the simulator's TCB.
  std::optional<std::uint64_t> reported_tcb;
  std::optional<std::uint64_t> current_tcb;
  std::optional<std::uint64_t> committed_tcb;
  std::optional<std::uint64_t> launch_tcb;
  // Firmware versions (CURRENT_*, COMMITTED_*).
  std::uint8_t current_major = 1, current_minor = 55, current_build = 21;
  std::uint8_t committed_major = 1, committed_minor = 55, committed_build = 21;
  // v3+: CPUID_STEP (family and model come from the product: Milan 19h/01h,
  // Genoa 19h/11h, Turin 1Ah/02h).
  std::uint8_t cpuid_stepping = 1;
  // v5: LAUNCH_MIT_VECTOR, CURRENT_MIT_VECTOR.
  std::uint64_t launch_mit_vector = 0;
  std::uint64_t current_mit_vector = 0;
};

class SnpSimulator {
 public:
  // Generates the keys and certificates. kInvalidArgument for kUnknown, a bad
  // ark_bits, a Turin chip_id with a non-zero tail, a TCB without fmc on
  // Turin; kCrypto when key generation fails.
  static Result<SnpSimulator> create(const SimulatorOptions& options = {});

  // Reads a state written by save(). kIo for a missing or unreadable file,
  // kMalformed for bad contents, kInvalidArgument when a key does not match
  // its certificate.
  static Result<SnpSimulator> load(const std::filesystem::path& dir);

  SnpSimulator(SnpSimulator&&) noexcept = default;
  SnpSimulator& operator=(SnpSimulator&&) noexcept = default;
  SnpSimulator(const SnpSimulator&) = delete;
  SnpSimulator& operator=(const SnpSimulator&) = delete;
  ~SnpSimulator() = default;

  // Writes the state to `dir` (created if needed; existing files replaced):
  //   simulator.json         {"format": 1, "product", "chip_id" (hex),
  //                           "tcb" (tcb_json), "csp_id" (with a VLEK)}
  //   ark.pem ask.pem asvk.pem vcek.pem [vlek.pem]   certificates
  //   ark.key ask.key asvk.key vcek.key [vlek.key]   PKCS#8 PEM, mode 0600
  //   cert_chain.pem, vlek_cert_chain.pem            for trust configuration
  // Key PEM text is wiped from memory once written. kIo on failure.
  Result<void> save(const std::filesystem::path& dir) const;

  // The report model for `request` (signature zero), to inspect or tamper
  // with before sign(). kInvalidArgument for a version outside 2-5,
  // or kVlek without a VLEK.
  Result<AttestationReport> build_report(const ReportRequest& request) const;
  // The signed 1184-byte report: build_report then sign.
  Result<Bytes> issue(const ReportRequest& request) const;
  // Serializes `report` as given (any content, valid or not: for tests of
  // tampered evidence) and signs bytes [0, 0x2A0) with the key its
  // SIGNING_KEY names: the VLEK for kVlek, no signature (zeros) for kNone,
  // the VCEK for anything else (including reserved values).
  // `report.signature` is ignored. kInvalidArgument for kVlek without a VLEK.
  Result<Bytes> sign(const AttestationReport& report) const;

  Product product() const { return product_; }
  const std::array<std::uint8_t, 64>& chip_id() const { return chip_id_; }
  const TcbVersion& tcb() const { return tcb_; }

  const Certificate& ark() const { return ark_.cert; }
  const Certificate& ask() const { return ask_.cert; }
  const Certificate& asvk() const { return asvk_.cert; }
  const Certificate& vcek() const { return vcek_.cert; }
  // nullptr unless created with a VLEK.
  const Certificate* vlek() const { return vlek_ ? &vlek_->cert : nullptr; }

  // KDS cert_chain form: ASK then ARK (PEM), and ASVK then ARK.
  std::string cert_chain_pem() const;
  std::string vlek_cert_chain_pem() const;
  // The root set to configure as trusted (ARK, ASK, ASVK).
  Result<AmdRootSet> root_set() const;
  // The extended-report certificate table (cert_table.h): VCEK (or VLEK),
  // ASK (or ASVK, under the ASK GUID as hosts do), ARK.
  Result<Bytes> cert_table(SigningKey key = SigningKey::kVcek) const;

 private:
  struct Identity {
    Certificate cert;
    PrivateKey key;
  };
  SnpSimulator(Product product, std::array<std::uint8_t, 64> chip_id, TcbVersion tcb, Identity ark,
               Identity ask, Identity asvk, Identity vcek, std::optional<Identity> vlek,
               std::string csp_id);

  const Identity* signer(SigningKey key) const;

  Product product_;
  std::array<std::uint8_t, 64> chip_id_;
  TcbVersion tcb_;
  Identity ark_;
  Identity ask_;
  Identity asvk_;
  Identity vcek_;
  std::optional<Identity> vlek_;
  std::string csp_id_;
};

}  // namespace concierge::evidence::snp
