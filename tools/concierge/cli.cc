#include "cli.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace concierge::cli {

int report(const std::string& what, const Error& error) {
  std::fprintf(stderr, "concierge: %s: %s\n", what.c_str(), error.to_string().c_str());
  return kExitMalformed;
}

int report_rejected(const std::string& reason) {
  std::fprintf(stderr, "concierge: rejected: %s\n", reason.c_str());
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

}  // namespace concierge::cli
