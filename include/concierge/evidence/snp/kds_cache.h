// A local folder of AMD Key Distribution Service (KDS) downloads, laid out like
// the KDS URL paths (AMD #57230, "KDS Interface"), as a download that keeps
// the URL's folders saves them (the query string, when there is one, is part
// of the file name):
//
//   DIR/vcek/v1/<Product>/<hwid>?blSPL=<n>&teeSPL=<n>&snpSPL=<n>&ucodeSPL=<n>
//   DIR/vcek/v1/Turin/<hwid>?fmcSPL=<n>&blSPL=<n>&teeSPL=<n>&snpSPL=<n>&ucodeSPL=<n>
//   DIR/vcek/v1/<Product>/<hwid>            (fallback: one VCEK per chip)
//   DIR/vcek/v1/<Product>/cert_chain        PEM: ASK, then ARK
//   DIR/vlek/v1/<Product>/cert_chain        PEM: ASVK, then ARK
//   DIR/vcek/v1/<Product>/crl, DIR/vlek/v1/<Product>/crl   DER or PEM CRL
//
// <Product> is "Milan", "Genoa" or "Turin"; <hwid> is the report's CHIP_ID in
// lowercase hex (Turin: its first 8 bytes); the SPLs are decimal, from
// REPORTED_TCB decoded for the product. A VCEK file may be DER or PEM.
//
// Everything read here is untrusted: certificates must still chain to trusted
// roots (amd_chain.h) and match the report (vcek.h). Nothing is fetched over
// the network. Outcomes: a file that does not exist is nullopt; a file that
// cannot be read is kIo, one that does not parse kMalformed (the message names
// the path). Thread-safe (no shared state; the folder is only read).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "concierge/core/bytes.h"
#include "concierge/core/result.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/snp/report.h"

namespace concierge::evidence::snp {

// The VCEK file name inside DIR/vcek/v1/<Product>/ for a chip and TCB, with
// the query string when `with_query` (else just the hwid). `chip_id` is the
// report's 64-byte CHIP_ID. kInvalidArgument for Product::kUnknown or a
// chip_id shorter than the hwid.
Result<std::string> kds_vcek_file_name(Product product, ByteView chip_id,
                                       std::uint64_t reported_tcb, bool with_query);

// DIR-relative paths: "vcek/v1/Milan/<file>", "vcek/v1/Milan/cert_chain",
// "vlek/v1/Milan/crl". `kind` is SigningKey::kVcek or kVlek.
std::filesystem::path kds_product_dir(Product product, SigningKey kind);

struct KdsVcek {
  Product product = Product::kUnknown;
  std::filesystem::path path;  // the file it was read from
  Certificate cert;
};

// The VCEK for a report's chip and TCB: the file with the query string, else
// the one without. Product::kUnknown tries Milan, Genoa, Turin in that order
// and returns the first found (its product set in the result).
Result<std::optional<KdsVcek>> kds_find_vcek(const std::filesystem::path& dir, Product product,
                                             ByteView chip_id, std::uint64_t reported_tcb);

// The cert_chain of a product (ASK or ASVK, then ARK), as stored; at least one
// certificate when present. kInvalidArgument for Product::kUnknown.
Result<std::optional<std::vector<Certificate>>> kds_find_cert_chain(
    const std::filesystem::path& dir, Product product, SigningKey kind);

// The product's CRL for VCEK or VLEK chains (DER or PEM).
Result<std::optional<Crl>> kds_find_crl(const std::filesystem::path& dir, Product product,
                                        SigningKey kind);

}  // namespace concierge::evidence::snp
