// The attester side of `concierge tpm`: commands that talk to a TPM through a
// TCTI (ek, ak create, activate, quote, pcrs). File formats are tpm2-tools':
// TPM2B_PUBLIC / TPM2B_PRIVATE blobs, TPMS_ATTEST and TPMT_SIGNATURE as
// tpm2_quote -m / -s write them, the tpm2_makecredential credential file.
//
// An AK folder (`tpm ak create --out DIR`) holds ak.pub, ak.priv, ak.name,
// ak.pub.pem and ek.pub, the EK the AK's private part is wrapped under; later
// commands recreate that EK and check it is the same key before loading the AK.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "concierge/attester/tpm/keys.h"
#include "concierge/attester/tpm/measured_boot.h"
#include "concierge/core/encoding.h"
#include "concierge/core/state_files.h"
#include "concierge/evidence/tpm/credential.h"
#include "concierge/evidence/tpm/tpm_public.h"
#include "pcr_json.h"

namespace concierge::cli {
namespace {

namespace fs = std::filesystem;
using attester::tpm::Ek;
using attester::tpm::KeyAlg;
using attester::tpm::Tpm;

std::string join(const std::string& dir, const char* name) {
  return (fs::path(dir) / name).string();
}

Result<void> make_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(Errc::kIo, "cannot create " + dir + ": " + ec.message());
  return {};
}

Result<std::unique_ptr<Tpm>> open_tpm(const std::string& tcti) { return Tpm::open(tcti); }

// Recreates the EK an AK folder was made under and loads the AK.
struct LoadedAk {
  Ek ek;
  attester::tpm::TpmObject ak;
  attester::tpm::AkBlob blob;
};

Result<LoadedAk> load_ak_dir(Tpm& tpm, const std::string& dir) {
  attester::tpm::AkBlob blob;
  CONCIERGE_ASSIGN_OR_RETURN(blob.tpm2b_public, read_file(join(dir, "ak.pub")));
  CONCIERGE_ASSIGN_OR_RETURN(blob.tpm2b_private, read_file(join(dir, "ak.priv")));
  CONCIERGE_ASSIGN_OR_RETURN(Bytes ek_pub, read_file(join(dir, "ek.pub")));
  CONCIERGE_ASSIGN_OR_RETURN(auto ek_public, evidence::tpm::parse_tpm_public(ek_pub));
  const KeyAlg alg = ek_public.type == 0x0001 ? KeyAlg::kRsa2048 : KeyAlg::kEccP256;
  CONCIERGE_ASSIGN_OR_RETURN(Ek ek, attester::tpm::create_ek(tpm, alg));
  if (ek.tpm2b_public != ek_pub) {
    return fail(Errc::kInvalidArgument,
                dir + " was made under another TPM's EK (ek.pub differs from this TPM's EK)");
  }
  CONCIERGE_ASSIGN_OR_RETURN(auto ak, attester::tpm::load_ak(tpm, ek, blob));
  return LoadedAk{std::move(ek), std::move(ak), std::move(blob)};
}

// --- tpm ek -----------------------------------------------------------------

struct EkOptions {
  std::string tcti = attester::tpm::kDefaultTcti;
  std::string alg = "rsa";
  std::string out;
  bool json = false;
};

int ek_command(const EkOptions& o) {
  auto alg = attester::tpm::key_alg_from_name(o.alg);
  if (!alg) return report("--alg", alg.error());
  auto tpm = open_tpm(o.tcti);
  if (!tpm) return report(o.tcti, tpm.error());
  auto ek = attester::tpm::create_ek(**tpm, *alg);
  if (!ek) return report("EK", ek.error());
  auto cert = attester::tpm::read_ek_certificate(**tpm, *alg);
  if (!cert) return report("EK certificate", cert.error());
  auto pem = ek->key.to_pem();
  if (!pem) return report("EK", pem.error());
  if (auto d = make_dir(o.out); !d) return report(o.out, d.error());
  if (auto w = write_file(join(o.out, "ek.pub"), ek->tpm2b_public); !w)
    return report(o.out, w.error());
  if (auto w = write_text(join(o.out, "ek.pub.pem"), *pem); !w) return report(o.out, w.error());
  if (*cert) {
    if (auto w = write_file(join(o.out, "ek.crt"), **cert); !w) return report(o.out, w.error());
  }
  if (o.json) {
    print_json({{"alg", attester::tpm::key_alg_name(*alg)},
                {"public", join(o.out, "ek.pub")},
                {"certificate", *cert ? nlohmann::json(join(o.out, "ek.crt")) : nlohmann::json()},
                {"certificate_nv_index", attester::tpm::ek_certificate_index(*alg)}});
  } else {
    std::printf("EK (%s) written to %s; %s\n",
                std::string(attester::tpm::key_alg_name(*alg)).c_str(), o.out.c_str(),
                *cert ? "its certificate is ek.crt" : "the TPM holds no certificate for it");
  }
  return kExitOk;
}

// --- tpm ak create ----------------------------------------------------------

struct AkOptions {
  std::string tcti = attester::tpm::kDefaultTcti;
  std::string alg = "ecc";
  std::string ek_alg = "rsa";
  std::string out;
  bool json = false;
};

int ak_create(const AkOptions& o) {
  auto alg = attester::tpm::key_alg_from_name(o.alg);
  if (!alg) return report("--alg", alg.error());
  auto ek_alg = attester::tpm::key_alg_from_name(o.ek_alg);
  if (!ek_alg) return report("--ek-alg", ek_alg.error());
  auto tpm = open_tpm(o.tcti);
  if (!tpm) return report(o.tcti, tpm.error());
  auto ek = attester::tpm::create_ek(**tpm, *ek_alg);
  if (!ek) return report("EK", ek.error());
  auto ak = attester::tpm::create_ak(**tpm, *ek, *alg);
  if (!ak) return report("AK", ak.error());
  auto parsed = evidence::tpm::parse_tpm_public(ak->tpm2b_public);
  if (!parsed) return report("AK", parsed.error());
  auto pem = parsed->key.to_pem();
  if (!pem) return report("AK", pem.error());
  if (auto d = make_dir(o.out); !d) return report(o.out, d.error());
  // The AK's private area (wrapped by the TPM, still the key's): a new file,
  // mode 0600, never through a link; an AK folder is not overwritten.
  if (auto w = state_files::create_file(join(o.out, "ak.priv"), as_chars(ak->tpm2b_private), 0600,
                                        state_files::IfExists::kRefuse);
      !w) {
    return report(o.out, w.error());
  }
  for (auto [name, data] : {std::pair{"ak.pub", &ak->tpm2b_public},
                            {"ak.name", &ak->name},
                            {"ek.pub", &ek->tpm2b_public}}) {
    if (auto w = write_file(join(o.out, name), *data); !w) return report(o.out, w.error());
  }
  if (auto w = write_text(join(o.out, "ak.pub.pem"), *pem); !w) return report(o.out, w.error());
  if (o.json) {
    print_json({{"alg", attester::tpm::key_alg_name(*alg)},
                {"name", hex_encode(ak->name)},
                {"folder", o.out}});
  } else {
    std::printf("AK (%s) created under the %s EK, name %s, written to %s\n",
                std::string(attester::tpm::key_alg_name(*alg)).c_str(), o.ek_alg.c_str(),
                hex_encode(ak->name).c_str(), o.out.c_str());
  }
  return kExitOk;
}

// --- tpm activate -----------------------------------------------------------

struct ActivateOptions {
  std::string tcti = attester::tpm::kDefaultTcti;
  std::string ak;
  std::string credential;
  std::string out;
};

int activate(const ActivateOptions& o) {
  auto file = read_file(o.credential);
  if (!file) return report(o.credential, file.error());
  auto credential = evidence::tpm::parse_credential_file(*file);
  if (!credential) return report(o.credential, credential.error());
  auto tpm = open_tpm(o.tcti);
  if (!tpm) return report(o.tcti, tpm.error());
  auto loaded = load_ak_dir(**tpm, o.ak);
  if (!loaded) return report(o.ak, loaded.error());
  auto secret = attester::tpm::activate_credential(
      **tpm, loaded->ek, loaded->ak, credential->id_object, credential->encrypted_secret);
  if (!secret) {
    if (secret.error().code == Errc::kDevice) {
      return report_rejected("the TPM refuses the credential (made for another EK or AK): " +
                             secret.error().message);
    }
    return report("activate", secret.error());
  }
  auto w = state_files::create_file(o.out, as_chars(*secret), 0600, state_files::IfExists::kRefuse);
  wipe(*secret);
  if (!w) return report(o.out, w.error());
  std::printf("credential activated; secret written to %s\n", o.out.c_str());
  return kExitOk;
}

// --- tpm quote / tpm pcrs ---------------------------------------------------

struct QuoteOptions {
  std::string tcti = attester::tpm::kDefaultTcti;
  std::string pcrs;
  std::string nonce;
  std::string out;
  std::string ak;  // folder; empty: a new AK for this quote
  std::string ak_alg = "ecc";
  bool logs = false;
};

int quote(const QuoteOptions& o) {
  auto selection = attester::tpm::parse_pcr_selection(o.pcrs);
  if (!selection) return report("--pcrs", selection.error());
  auto nonce = hex_decode(o.nonce);
  if (!nonce) return report("--nonce", nonce.error());
  auto tpm = open_tpm(o.tcti);
  if (!tpm) return report(o.tcti, tpm.error());

  Bytes ak_public;
  std::optional<LoadedAk> loaded;
  if (!o.ak.empty()) {
    auto l = load_ak_dir(**tpm, o.ak);
    if (!l) return report(o.ak, l.error());
    ak_public = l->blob.tpm2b_public;
    loaded.emplace(std::move(*l));
  } else {
    auto alg = attester::tpm::key_alg_from_name(o.ak_alg);
    if (!alg) return report("--ak-alg", alg.error());
    auto ek = attester::tpm::create_ek(**tpm, KeyAlg::kRsa2048);
    if (!ek) return report("EK", ek.error());
    auto blob = attester::tpm::create_ak(**tpm, *ek, *alg);
    if (!blob) return report("AK", blob.error());
    auto ak = attester::tpm::load_ak(**tpm, *ek, *blob);
    if (!ak) return report("AK", ak.error());
    ak_public = blob->tpm2b_public;
    loaded.emplace(LoadedAk{std::move(*ek), std::move(*ak), std::move(*blob)});
  }
  auto q = attester::tpm::quote(**tpm, loaded->ak, *selection, *nonce);
  if (!q) return report("quote", q.error());
  auto parsed = evidence::tpm::parse_tpm_public(ak_public);
  if (!parsed) return report("AK", parsed.error());
  auto pem = parsed->key.to_pem();
  if (!pem) return report("AK", pem.error());

  if (auto d = make_dir(o.out); !d) return report(o.out, d.error());
  for (auto [name, data] : {std::pair{"quote.msg", &q->tpms_attest},
                            {"quote.sig", &q->tpmt_signature},
                            {"ak.pub", &ak_public}}) {
    if (auto w = write_file(join(o.out, name), *data); !w) return report(o.out, w.error());
  }
  if (auto w = write_text(join(o.out, "ak.pub.pem"), *pem); !w) return report(o.out, w.error());
  nlohmann::json pcrs{{"pcrs", pcr_values_json(q->pcrs)}};
  if (auto w = write_text(join(o.out, "pcrs.json"), pcrs.dump(2) + "\n"); !w) {
    return report(o.out, w.error());
  }
  std::string extra;
  if (o.logs) {  // the kernel's logs, where this machine has them
    for (auto [path, name] : {std::pair{attester::tpm::kFirmwareLogPath, "eventlog.bin"},
                              {attester::tpm::kImaLogPath, "ima.log"}}) {
      auto log = attester::tpm::read_kernel_log(path);
      if (!log) return report(path, log.error());
      if (!*log) continue;
      if (auto w = write_file(join(o.out, name), **log); !w) return report(o.out, w.error());
      extra += std::string(", ") + name;
    }
  }
  std::printf("quote written to %s (quote.msg, quote.sig, pcrs.json, ak.pub.pem%s)\n",
              o.out.c_str(), extra.c_str());
  return kExitOk;
}

struct PcrsOptions {
  std::string tcti = attester::tpm::kDefaultTcti;
  std::string pcrs = "sha256:all";
};

int pcrs(const PcrsOptions& o) {
  auto selection = attester::tpm::parse_pcr_selection(o.pcrs);
  if (!selection) return report("--pcrs", selection.error());
  auto tpm = open_tpm(o.tcti);
  if (!tpm) return report(o.tcti, tpm.error());
  auto values = (*tpm)->read_pcrs(*selection);
  if (!values) return report("PCRs", values.error());
  print_json({{"pcrs", pcr_values_json(*values)}});
  return kExitOk;
}

}  // namespace

Result<attester::tpm::TpmObject> load_ak_object(Tpm& tpm, const std::string& dir,
                                                Bytes* tpm2b_public) {
  CONCIERGE_ASSIGN_OR_RETURN(LoadedAk loaded, load_ak_dir(tpm, dir));
  if (tpm2b_public != nullptr) *tpm2b_public = loaded.blob.tpm2b_public;
  return std::move(loaded.ak);
}

void register_tpm_attester(CLI::App& tpm, Context& ctx) {
  const char* tcti_help = "TCTI: device:/dev/tpmrm0 (default), swtpm:host=H,port=P, ...";

  auto eo = std::make_shared<EkOptions>();
  auto* ek = tpm.add_subcommand("ek", "Create the EK (TCG default template), read its certificate");
  ek->add_option("--tcti", eo->tcti, tcti_help);
  ek->add_option("--alg", eo->alg, "rsa (default) or ecc");
  ek->add_option("--out", eo->out, "Folder for ek.pub, ek.pub.pem, ek.crt")->required();
  ek->add_flag("--json", eo->json, "Print what was written as JSON");
  ek->callback([&ctx, eo] { ctx.exit_code = ek_command(*eo); });

  auto* ak = tpm.add_subcommand("ak", "Attestation keys");
  ak->require_subcommand(1);
  auto ao = std::make_shared<AkOptions>();
  auto* create = ak->add_subcommand("create", "Create an AK under the EK");
  create->add_option("--tcti", ao->tcti, tcti_help);
  create->add_option("--alg", ao->alg, "ecc (P-256, default) or rsa (2048)");
  create->add_option("--ek-alg", ao->ek_alg, "The EK to create it under: rsa (default) or ecc");
  create->add_option("--out", ao->out, "AK folder (ak.pub, ak.priv, ak.name, ak.pub.pem, ek.pub)")
      ->required();
  create->add_flag("--json", ao->json, "Print the AK's name as JSON");
  create->callback([&ctx, ao] { ctx.exit_code = ak_create(*ao); });

  auto co = std::make_shared<ActivateOptions>();
  auto* act = tpm.add_subcommand(
      "activate", "Activate a credential: recover its secret with the AK and EK (exit 1: refused)");
  act->add_option("--tcti", co->tcti, tcti_help);
  act->add_option("--ak", co->ak, "AK folder from `tpm ak create`")->required();
  act->add_option("--credential", co->credential, "Credential file (tpm make-credential)")
      ->required();
  act->add_option("--out", co->out, "Where to write the recovered secret")->required();
  act->callback([&ctx, co] { ctx.exit_code = activate(*co); });

  auto qo = std::make_shared<QuoteOptions>();
  auto* q = tpm.add_subcommand("quote", "Quote PCRs with a nonce; write quote.msg, quote.sig, ...");
  q->add_option("--tcti", qo->tcti, tcti_help);
  q->add_option("--pcrs", qo->pcrs, "PCR selection, e.g. sha256:0,1,2,3,8+sha1:0")->required();
  q->add_option("--nonce", qo->nonce, "The verifier's nonce, hex (at most 64 bytes)")->required();
  q->add_option("--out", qo->out, "Output folder")->required();
  q->add_option("--ak", qo->ak, "AK folder (default: a new AK under the RSA EK)");
  q->add_option("--ak-alg", qo->ak_alg, "Algorithm of a new AK: ecc (default) or rsa");
  q->add_flag("--logs", qo->logs, "Also copy the kernel's firmware and IMA logs, where present");
  q->callback([&ctx, qo] { ctx.exit_code = quote(*qo); });

  auto po = std::make_shared<PcrsOptions>();
  auto* p = tpm.add_subcommand("pcrs", "Read PCRs as JSON");
  p->add_option("--tcti", po->tcti, tcti_help);
  p->add_option("--pcrs", po->pcrs, "PCR selection (default sha256:all)");
  p->callback([&ctx, po] { ctx.exit_code = pcrs(*po); });
}

}  // namespace concierge::cli
