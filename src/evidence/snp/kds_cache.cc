// Lookups in a local folder of KDS downloads.
#include "concierge/evidence/snp/kds_cache.h"

#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "concierge/core/encoding.h"

namespace concierge::evidence::snp {
namespace {

constexpr std::uintmax_t kMaxFileSize = 16u << 20;  // far above any certificate or CRL

Unexpected file_error(Errc code, const std::filesystem::path& path, const std::string& what) {
  return fail(code, path.string() + ": " + what);
}

// The file's bytes; nullopt when it does not exist.
Result<std::optional<Bytes>> read_if_present(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (st.type() == std::filesystem::file_type::not_found) return std::optional<Bytes>();
  if (ec) return file_error(Errc::kIo, path, ec.message());
  if (st.type() != std::filesystem::file_type::regular) {
    return file_error(Errc::kIo, path, "not a regular file");
  }
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return file_error(Errc::kIo, path, ec.message());
  if (size > kMaxFileSize) return file_error(Errc::kMalformed, path, "file larger than 16 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return file_error(Errc::kIo, path, "cannot open");
  Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return file_error(Errc::kIo, path, "read error");
  return std::optional<Bytes>(std::move(data));
}

// DER starts with a SEQUENCE tag; anything else is taken as PEM text.
bool looks_der(const Bytes& data) { return !data.empty() && data.front() == 0x30; }

template <typename T>
Result<T> with_path(Result<T> r, const std::filesystem::path& path) {
  if (r) return r;
  Error e = std::move(r).error();
  e.message = path.string() + ": " + e.message;
  return Unexpected(std::move(e));
}

Result<std::optional<Certificate>> read_cert(const std::filesystem::path& path) {
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<Bytes> data, read_if_present(path));
  if (!data) return std::optional<Certificate>();
  Result<Certificate> cert =
      looks_der(*data) ? Certificate::from_der(*data) : Certificate::from_pem(as_chars(*data));
  CONCIERGE_ASSIGN_OR_RETURN(Certificate c, with_path(std::move(cert), path));
  return std::optional<Certificate>(std::move(c));
}

const char* kind_dir(SigningKey kind) { return kind == SigningKey::kVlek ? "vlek" : "vcek"; }

Result<void> require_product(Product product) {
  if (product == Product::kUnknown) {
    return fail(Errc::kInvalidArgument, "KDS folder lookup needs a known product");
  }
  return {};
}

}  // namespace

std::filesystem::path kds_product_dir(Product product, SigningKey kind) {
  return std::filesystem::path(kind_dir(kind)) / "v1" / std::string(product_name(product));
}

Result<std::string> kds_vcek_file_name(Product product, ByteView chip_id,
                                       std::uint64_t reported_tcb, bool with_query) {
  CONCIERGE_RETURN_IF_ERROR(require_product(product));
  const std::size_t hwid_size = product == Product::kTurin ? 8 : 64;
  if (chip_id.size() < hwid_size) {
    return fail(Errc::kInvalidArgument,
                "CHIP_ID shorter than a " + std::string(product_name(product)) + " hwID");
  }
  std::string name = hex_encode(chip_id.first(hwid_size));
  if (!with_query) return name;
  const TcbVersion tcb = decode_tcb(reported_tcb, product);
  name += '?';
  if (product == Product::kTurin) name += "fmcSPL=" + std::to_string(tcb.fmc.value_or(0)) + "&";
  name += "blSPL=" + std::to_string(tcb.bootloader) + "&teeSPL=" + std::to_string(tcb.tee) +
          "&snpSPL=" + std::to_string(tcb.snp) + "&ucodeSPL=" + std::to_string(tcb.microcode);
  return name;
}

Result<std::optional<KdsVcek>> kds_find_vcek(const std::filesystem::path& dir, Product product,
                                             ByteView chip_id, std::uint64_t reported_tcb) {
  if (product == Product::kUnknown) {
    for (Product p : {Product::kMilan, Product::kGenoa, Product::kTurin}) {
      CONCIERGE_ASSIGN_OR_RETURN(std::optional<KdsVcek> found,
                                 kds_find_vcek(dir, p, chip_id, reported_tcb));
      if (found) return found;
    }
    return std::optional<KdsVcek>();
  }
  const std::filesystem::path folder = dir / kds_product_dir(product, SigningKey::kVcek);
  for (bool with_query : {true, false}) {
    CONCIERGE_ASSIGN_OR_RETURN(std::string name,
                               kds_vcek_file_name(product, chip_id, reported_tcb, with_query));
    const std::filesystem::path path = folder / name;
    CONCIERGE_ASSIGN_OR_RETURN(std::optional<Certificate> cert, read_cert(path));
    if (cert) return std::optional<KdsVcek>(KdsVcek{product, path, std::move(*cert)});
  }
  return std::optional<KdsVcek>();
}

Result<std::optional<std::vector<Certificate>>> kds_find_cert_chain(
    const std::filesystem::path& dir, Product product, SigningKey kind) {
  CONCIERGE_RETURN_IF_ERROR(require_product(product));
  const std::filesystem::path path = dir / kds_product_dir(product, kind) / "cert_chain";
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<Bytes> data, read_if_present(path));
  if (!data) return std::optional<std::vector<Certificate>>();
  CONCIERGE_ASSIGN_OR_RETURN(std::vector<Certificate> certs,
                             with_path(Certificate::from_pem_bundle(as_chars(*data)), path));
  return std::optional<std::vector<Certificate>>(std::move(certs));
}

Result<std::optional<Crl>> kds_find_crl(const std::filesystem::path& dir, Product product,
                                        SigningKey kind) {
  CONCIERGE_RETURN_IF_ERROR(require_product(product));
  const std::filesystem::path path = dir / kds_product_dir(product, kind) / "crl";
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<Bytes> data, read_if_present(path));
  if (!data) return std::optional<Crl>();
  Result<Crl> crl = looks_der(*data) ? Crl::from_der(*data) : Crl::from_pem(as_chars(*data));
  CONCIERGE_ASSIGN_OR_RETURN(Crl c, with_path(std::move(crl), path));
  return std::optional<Crl>(std::move(c));
}

}  // namespace concierge::evidence::snp
