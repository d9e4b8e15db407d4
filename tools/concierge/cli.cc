#include "cli.h"

#include <optional>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "concierge/core/printable.h"

namespace concierge::cli {

int report(const std::string& what, const Error& error) {
  std::fprintf(stderr, "concierge: %s: %s\n", printable_text(what).c_str(),
               printable_text(error.to_string()).c_str());
  return kExitMalformed;
}

int report_rejected(const std::string& reason) {
  std::fprintf(stderr, "concierge: rejected: %s\n", printable_text(reason).c_str());
  return kExitRejected;
}

Result<Bytes> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::kIo, "cannot open " + path + ": " + std::strerror(errno));
  Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail(Errc::kIo, "cannot read " + path);
  return data;
}

Result<void> write_file(const std::string& path, ByteView data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return fail(Errc::kIo, "cannot create " + path + ": " + std::strerror(errno));
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out) return fail(Errc::kIo, "cannot write " + path);
  return {};
}

Result<void> write_text(const std::string& path, const std::string& text) {
  return write_file(path, as_bytes(text));
}

bool looks_like_pem(ByteView data) {
  return as_chars(data).find("-----BEGIN") != std::string_view::npos;
}

Result<Certificate> load_certificate(const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes data, read_file(path));
  if (looks_like_pem(data)) return Certificate::from_pem(as_chars(data));
  return Certificate::from_der(data);
}

Result<std::vector<Certificate>> load_certificates(const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes data, read_file(path));
  if (looks_like_pem(data)) return Certificate::from_pem_bundle(as_chars(data));
  CONCIERGE_ASSIGN_OR_RETURN(Certificate one, Certificate::from_der(data));
  return std::vector<Certificate>{std::move(one)};
}

Result<Crl> load_crl(const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes data, read_file(path));
  if (looks_like_pem(data)) return Crl::from_pem(as_chars(data));
  return Crl::from_der(data);
}

// A trusted root set from one PEM bundle: the ARK (self-signed; its subject
// names the product, as AMD's "ARK-Milan" does), the ASK and optionally the
// ASVK (the certificate whose subject says VLEK). Duplicates are ignored, so
// a KDS cert_chain and a vlek cert_chain may simply be concatenated.
Result<evidence::snp::AmdRootSet> load_snp_root_set(const std::string& path) {
  CONCIERGE_ASSIGN_OR_RETURN(Bytes data, read_file(path));
  CONCIERGE_ASSIGN_OR_RETURN(auto certs, Certificate::from_pem_bundle(as_chars(data)));
  std::optional<Certificate> ark, ask, asvk;
  for (const Certificate& c : certs) {
    if (c.self_signed()) {
      if (ark && ark->fingerprint_sha256() != c.fingerprint_sha256()) {
        return fail(Errc::kInvalidArgument, path + ": more than one self-signed root");
      }
      ark = c;
    } else if (c.subject().find("VLEK") != std::string::npos) {
      asvk = c;
    } else {
      ask = c;
    }
  }
  if (!ark || !ask) {
    return fail(Errc::kInvalidArgument, path + ": a root bundle needs the ARK and the ASK");
  }
  const std::string subject = ark->subject();
  for (evidence::snp::Product p : {evidence::snp::Product::kMilan, evidence::snp::Product::kGenoa,
                                   evidence::snp::Product::kTurin}) {
    if (subject.find(std::string(evidence::snp::product_name(p))) != std::string::npos) {
      return evidence::snp::make_amd_root_set(p, *ark, *ask, asvk);
    }
  }
  return fail(Errc::kInvalidArgument,
              path + ": the root's subject names no product (Milan, Genoa, Turin): " + subject);
}

}  // namespace concierge::cli
