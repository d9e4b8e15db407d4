// A software Intel quoting enclave for DCAP: a test PKI shaped like Intel's
// PCK hierarchy, byte-exact signed quotes (TDX v4, SGX v3) and signed
// collateral (TCB Info, QE Identity) that describes the simulated platform.
//
// Contract:
//   - PKI (Intel "SGX PCK Certificate and Certificate Revocation List Profile
//     Specification", "Certificate Hierarchy" and "Certificate Formats"), all
//     ECDSA P-256 with SHA-256, validity from DcapSimulatorOptions::not_before:
//       root         CN "Concierge Test SGX Root CA", O "Concierge test root
//                    (not Intel)", self-signed, CA pathlen 1, keyCertSign +
//                    cRLSign, 25 years;
//       Platform CA  CN "Intel SGX PCK Platform CA" (the CN verify_pck_chain
//                    requires), CA pathlen 0, keyCertSign + cRLSign, 15 years;
//       PCK          CN "Intel SGX PCK Certificate", CA:FALSE, digitalSignature
//                    + nonRepudiation, 7 years, with the SGX extension
//                    1.2.840.113741.1.13.1 (pck_extension.h): PPID (random),
//                    TCB (SGXTCBComp01..16 SVN, PCESVN, CPUSVN), PCE-ID, FMSPC,
//                    SGX Type Standard;
//       TCB Signing  CN "Intel SGX TCB Signing", issued by the root, as the PCK
//                    certificate without the extension;
//       CRLs         v2, cRLNumber 1, authorityKeyIdentifier, this update =
//                    not_before, next update one year later: the root CRL
//                    (issued by the root, covering the Platform CA and TCB
//                    Signing certificates; empty) and the PCK CRL (issued by
//                    the Platform CA; lists the PCK certificate when
//                    DcapSimulatorOptions::revoke_pck).
//     Every O is "Concierge ... (not Intel)".
//   - Quotes (Intel "TDX DCAP Quoting Library API" A.3 for v4, "SGX ECDSA
//     Quote Library API" A.4 for v3), built as a Quote model and written by
//     serialize_quote: attestation key type 2 (ECDSA P-256), QE vendor ID
//     Intel's, header user_data = the QE ID (16 random bytes) then 4 zeros,
//     qe_svn = the QE's ISVSVN, pce_svn = the PCK's PCESVN. The QE report is
//     an SGX report of the simulated QE (mrsigner, isvprodid, ...: QeConfig;
//     CPUSVN the platform's) whose report_data[0:32] = SHA-256(attestation
//     key x||y || QE authentication data) and report_data[32:64] = 0; it is
//     signed by the PCK key (ECDSA P-256/SHA-256 over its 384 bytes, r||s
//     big-endian). The quote signature is the attestation key's over header ||
//     body (v5 models: header || body type || body size || body). The
//     certification data is type 5: the PEM chain PCK, Platform CA, root,
//     followed by one NUL byte as Intel's QEs write it; in v4 it is nested in
//     type 6 (QE report certification data), in v3 at top level.
//   - Collateral (Intel SGX/TDX PCS API, "TCB Info V2/V3" and "Enclave
//     Identity V2"), signed by the TCB Signing key over the exact body bytes
//     (collateral.h), in the folder layout load_collateral reads:
//       DIR/tcb/<fmspc>.json, DIR/qe/identity.json, DIR/tcb_signing_chain.pem.
//     TDX: TCB Info v3 id "TDX" with tdxModule (mrsigner = MRSIGNERSEAM,
//     attributes = SEAM_ATTRIBUTES, mask all ones), tdxModuleIdentities
//     "TDX_<major>" when TEE_TCB_SVN[1] > 0, QE identity "TD_QE". SGX: TCB
//     Info v2 (no "id", as Intel's v2 responses) or v3 id "SGX", QE identity
//     "QE". Each document has the level the platform meets (the status chosen
//     in CollateralOptions) then a lower level, so that a quote claiming a
//     lower TEE_TCB_SVN or QE ISVSVN meets that one.
//
// Trust: the root is generated here and is not Intel's. Quotes and collateral
// from a simulator verify only when root() is configured as the trusted root;
// the built-in Intel SGX Root CA (intel_root.h) rejects them.
//
// Ownership and thread safety: a DcapSimulator owns its private keys
// (move-only). Const members may be called concurrently (signing only reads
// the keys; write_collateral and save write files, which callers must not
// share between concurrent calls).
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
#include "concierge/evidence/dcap/collateral.h"
#include "concierge/evidence/dcap/quote.h"
#include "concierge/evidence/dcap/tcb_info.h"
#include "concierge/evidence/dcap/tcb_status.h"

namespace concierge::evidence::dcap {

// The platform's TCB as its PCK certificate states it.
struct PckTcb {
  std::array<std::uint8_t, kTcbComponents> sgx_components{};  // SGXTCBComp01..16 SVN
  std::uint16_t pcesvn = 0;
  std::array<std::uint8_t, kCpuSvnSize> cpusvn{};
};

// The TDX module the simulated TDs run on (the TD report's SEAM fields).
struct TdxModuleConfig {
  std::array<std::uint8_t, 16> tee_tcb_svn{};  // [0] module SVN, [1] major version
  std::array<std::uint8_t, 48> mr_seam{};
  std::array<std::uint8_t, 48> mr_signer_seam{};  // zeros: a module signed by Intel
  std::uint64_t seam_attributes = 0;
};

// The quoting enclave: the fields of its REPORT (the quote's QE report).
struct QeConfig {
  std::array<std::uint8_t, 32> mrsigner{};
  std::array<std::uint8_t, 32> mrenclave{};
  std::uint16_t isvprodid = 0;
  std::uint16_t isvsvn = 0;
  std::uint64_t attributes_flags = 0;
  std::uint64_t attributes_xfrm = 0;
  std::uint32_t miscselect = 0;
};

// SGX components {5,5,2,2,3,1,0,3,0...}, PCESVN 13, CPUSVN = the components.
PckTcb default_pck_tcb();
// TEE_TCB_SVN {3,1,5,0...} (a TDX 1.x module, SVN 3), MRSEAM a fixed test
// value, MRSIGNERSEAM zero, SEAM_ATTRIBUTES zero.
TdxModuleConfig default_tdx_module();
// Intel's QE: SGX (MRSIGNER 8c4f5775..., ISVPRODID 1, ISVSVN 8) or TD QE
// (MRSIGNER dc9e2a7c..., ISVPRODID 2, ISVSVN 4); ATTRIBUTES INIT | MODE64BIT |
// PROVISIONKEY with XFRM 0xe7, MISCSELECT 0; MRENCLAVE a fixed test value.
// The MRSIGNERs are Intel's published ones so quotes look like Intel's; trust
// still comes only from the test root.
QeConfig default_qe(TeeType tee);
// Bytes 0, 1, ..., 31.
Bytes default_qe_auth_data();

struct DcapSimulatorOptions {
  std::array<std::uint8_t, kFmspcSize> fmspc = {0x00, 0x80, 0x6F, 0x05, 0x00, 0x00};
  std::array<std::uint8_t, kPceIdSize> pce_id = {0x00, 0x00};
  PckTcb pck_tcb = default_pck_tcb();
  TdxModuleConfig tdx_module = default_tdx_module();
  QeConfig sgx_qe = default_qe(TeeType::kSgx);
  QeConfig td_qe = default_qe(TeeType::kTdx);
  // Start of every certificate's validity; unset: now - 1 day.
  std::optional<TimePoint> not_before;
  // The PCK CRL lists the PCK certificate.
  bool revoke_pck = false;
};

// A TD 1.0 quote body (TDX DCAP Quoting Library API A.3.2). Defaults: a
// non-debug TD with SEPT_VE_DISABLE, a typical XFAM, zero measurements.
struct TdQuoteInput {
  std::array<std::uint8_t, 48> mr_td{};
  std::array<std::uint8_t, 48> mr_config_id{};
  std::array<std::uint8_t, 48> mr_owner{};
  std::array<std::uint8_t, 48> mr_owner_config{};
  std::array<std::array<std::uint8_t, 48>, 4> rtmr{};
  std::array<std::uint8_t, 64> report_data{};
  std::uint64_t td_attributes = 1ull << 28;  // bit 0: DEBUG
  std::uint64_t xfam = 0x61ae7;
  // The module's fields; unset: the simulator's (DcapSimulatorOptions::tdx_module).
  std::optional<std::array<std::uint8_t, 16>> tee_tcb_svn;
  std::optional<std::array<std::uint8_t, 48>> mr_seam;
  std::optional<std::array<std::uint8_t, 48>> mr_signer_seam;
  std::optional<std::uint64_t> seam_attributes;
  Bytes qe_auth_data = default_qe_auth_data();  // at most 65535 bytes
};

// An SGX enclave report body (SGX ECDSA Quote Library API A.4.3). Defaults: a
// non-debug 64-bit enclave.
struct SgxQuoteInput {
  std::array<std::uint8_t, 32> mr_enclave{};
  std::array<std::uint8_t, 32> mr_signer{};
  std::uint16_t isv_prod_id = 0;
  std::uint16_t isv_svn = 0;
  std::uint64_t attributes_flags = 0x05;  // INIT | MODE64BIT; bit 1: DEBUG
  std::uint64_t attributes_xfrm = 0x03;   // x87 | SSE
  std::uint32_t miscselect = 0;
  std::array<std::uint8_t, 16> isv_ext_prod_id{};
  std::array<std::uint8_t, 64> config_id{};
  std::uint16_t config_svn = 0;
  std::array<std::uint8_t, 16> isv_family_id{};
  std::array<std::uint8_t, 64> report_data{};
  std::optional<std::array<std::uint8_t, 16>> cpu_svn;  // unset: the platform's CPUSVN
  Bytes qe_auth_data = default_qe_auth_data();          // at most 65535 bytes
};

struct CollateralOptions {
  std::optional<TimePoint> issue_date;   // unset: now - 1 hour
  std::optional<TimePoint> next_update;  // unset: now + 30 days
  // The TCB level the platform meets, and its advisoryIDs.
  TcbStatus tcb_status = TcbStatus::kUpToDate;
  std::vector<std::string> advisory_ids;
  // The second TCB level, one below the platform's where an SVN is above 0.
  TcbStatus lower_tcb_status = TcbStatus::kOutOfDate;
  std::vector<std::string> lower_advisory_ids;
  // TDX with TEE_TCB_SVN[1] > 0: the module identity's level for TEE_TCB_SVN[0]
  // (the lower one, TEE_TCB_SVN[0] - 1, is OutOfDate).
  TcbStatus tdx_module_status = TcbStatus::kUpToDate;
  // The QE identity's level for the QE's ISVSVN (the lower one is OutOfDate).
  TcbStatus qe_status = TcbStatus::kUpToDate;
  std::vector<std::string> qe_advisory_ids;
  std::uint32_t tcb_evaluation_data_number = 17;
  int sgx_tcb_info_version = 2;  // 2 or 3 (TDX is always 3)
};

class DcapSimulator {
 public:
  // Generates the keys, certificates and CRLs. kCrypto when OpenSSL fails.
  static Result<DcapSimulator> create(const DcapSimulatorOptions& options = {});

  // Reads a state written by save(). kIo for a missing or unreadable file,
  // kMalformed for bad contents, kInvalidArgument when a key does not match
  // its certificate. The platform (FMSPC, PCE-ID, TCB) is read back from the
  // PCK certificate.
  static Result<DcapSimulator> load(const std::filesystem::path& dir);

  DcapSimulator(DcapSimulator&&) noexcept = default;
  DcapSimulator& operator=(DcapSimulator&&) noexcept = default;
  DcapSimulator(const DcapSimulator&) = delete;
  DcapSimulator& operator=(const DcapSimulator&) = delete;
  ~DcapSimulator() = default;

  // Writes the state to `dir` (created if needed; files replaced):
  //   simulator.json   {"format": 1, "qe_id", "tdx_module", "sgx_qe", "td_qe"}
  //   root.pem platform_ca.pem pck.pem tcb_signing.pem     certificates
  //   root.key platform_ca.key pck.key tcb_signing.key attestation.key
  //                    PKCS#8 PEM, mode 0600, wiped from memory once written
  //   pck_chain.pem    PCK, Platform CA, root
  //   tcb_signing_chain.pem   TCB Signing, root (as the collateral folder has it)
  //   root_crl.der pck_crl.der
  // kIo on failure.
  Result<void> save(const std::filesystem::path& dir) const;

  // The quote model (signatures zero; QE report with its report_data binding
  // set), to inspect or tamper with before sign_quote. kInvalidArgument for
  // QE authentication data over 65535 bytes.
  Result<Quote> build_tdx_quote(const TdQuoteInput& input) const;
  Result<Quote> build_sgx_quote(const SgxQuoteInput& input) const;
  // Signs `quote` as given: the QE report (report_data as it stands) with the
  // PCK key, then the signed data with the attestation key, and serializes it.
  // The model's signatures are ignored. kInvalidArgument when serialize_quote
  // rejects the model.
  Result<Bytes> sign_quote(const Quote& quote) const;
  // build then sign: a v4 TDX quote (TD 1.0 body), a v3 SGX quote.
  Result<Bytes> tdx_quote(const TdQuoteInput& input) const;
  Result<Bytes> sgx_quote(const SgxQuoteInput& input) const;

  // The signed collateral for `tee` as parsed documents, and the same written
  // to `dir` in load_collateral's layout (created if needed; files replaced).
  // kInvalidArgument for an sgx_tcb_info_version other than 2 or 3.
  Result<Collateral> collateral(TeeType tee, const CollateralOptions& options = {}) const;
  Result<void> write_collateral(const std::filesystem::path& dir, TeeType tee,
                                const CollateralOptions& options = {}) const;

  const std::array<std::uint8_t, kFmspcSize>& fmspc() const { return config_.fmspc; }
  const std::array<std::uint8_t, kPceIdSize>& pce_id() const { return config_.pce_id; }
  const PckTcb& pck_tcb() const { return config_.pck_tcb; }
  const TdxModuleConfig& tdx_module() const { return config_.tdx_module; }
  const QeConfig& qe(TeeType tee) const {
    return tee == TeeType::kTdx ? config_.td_qe : config_.sgx_qe;
  }
  const std::array<std::uint8_t, 16>& qe_id() const { return config_.qe_id; }
  // The attestation key, x||y big-endian (as quotes carry it).
  const std::array<std::uint8_t, kEcdsaP256PublicKeySize>& attestation_key() const {
    return attestation_public_;
  }

  const Certificate& root() const { return keys_.root.cert; }  // configure this as trusted
  const Certificate& platform_ca() const { return keys_.platform_ca.cert; }
  const Certificate& pck() const { return keys_.pck.cert; }
  const Certificate& tcb_signing() const { return keys_.tcb_signing.cert; }
  const Crl& root_crl() const { return keys_.root_crl; }  // DER: root_crl().der()
  const Crl& pck_crl() const { return keys_.pck_crl; }
  // PEM: PCK, Platform CA, root (what quotes carry, without the NUL).
  std::string pck_chain_pem() const;
  // PEM: TCB Signing, root.
  std::string tcb_signing_chain_pem() const;

 private:
  struct Identity {
    Certificate cert;
    PrivateKey key;
  };
  struct Config {
    std::array<std::uint8_t, kFmspcSize> fmspc{};
    std::array<std::uint8_t, kPceIdSize> pce_id{};
    PckTcb pck_tcb;
    TdxModuleConfig tdx_module;
    QeConfig sgx_qe;
    QeConfig td_qe;
    std::array<std::uint8_t, 16> qe_id{};
  };
  struct Keys {
    Identity root;
    Identity platform_ca;
    Identity pck;
    Identity tcb_signing;
    PrivateKey attestation;
    Crl root_crl;
    Crl pck_crl;
  };
  static Result<DcapSimulator> assemble(Config config, Keys keys);
  DcapSimulator(Config config, Keys keys,
                std::array<std::uint8_t, kEcdsaP256PublicKeySize> attestation_public);

  Header header_for(TeeType tee) const;
  Result<SignatureData> signature_data_for(TeeType tee, const Bytes& qe_auth_data) const;
  struct Responses {
    std::string tcb_info;
    std::string qe_identity;
  };
  Result<Responses> responses(TeeType tee, const CollateralOptions& options) const;

  Config config_;
  Keys keys_;
  std::array<std::uint8_t, kEcdsaP256PublicKeySize> attestation_public_;
};

}  // namespace concierge::evidence::dcap
