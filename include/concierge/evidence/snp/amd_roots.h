// AMD SEV-SNP trust anchors: per product, the AMD Root Key (ARK), the AMD SEV
// Key (ASK, which signs VCEKs) and the AMD SEV VLEK Key (ASVK, which signs
// VLEKs). The chains are ARK -> ASK -> VCEK and ARK -> ASVK -> VLEK (AMD #57230,
// "Certificate Chain"); ARK, ASK and ASVK are RSA-4096 certificates signed with
// RSASSA-PSS SHA-384, the ARK self-signed.
//
// builtin_amd_roots() holds AMD's published roots for Milan, Genoa and Turin,
// compiled into the binary as PEM text (the KDS cert_chain files
// https://kdsintf.amd.com/{vcek,vlek}/v1/<Product>/cert_chain); a test pins
// their SHA-256 fingerprints. Other root sets (a simulator's test roots, a
// pinned copy) are built from PEM with amd_root_set_from_pem.
//
// Ownership and thread safety: AmdRootSet holds shared references to
// immutable certificates (see x509.h); builtin_amd_roots() is parsed once, on
// first use, and may be read from any thread.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "concierge/core/result.h"
#include "concierge/core/x509.h"
#include "concierge/evidence/snp/report.h"

namespace concierge::evidence::snp {

struct AmdRootSet {
  Product product = Product::kUnknown;
  Certificate ark;                  // self-signed root
  Certificate ask;                  // issued by ark; issues VCEKs
  std::optional<Certificate> asvk;  // issued by ark; issues VLEKs (absent: no VLEK trust)
};

// AMD's roots for Milan, Genoa and Turin, in that order. Parsed once
// (a malformed built-in certificate is a build defect: the process aborts).
const std::vector<AmdRootSet>& builtin_amd_roots();

// The built-in set of a product; nullptr for kUnknown.
const AmdRootSet* builtin_amd_root_set(Product product);

// The set of `product` in `sets`, or nullptr.
const AmdRootSet* find_root_set(const std::vector<AmdRootSet>& sets, Product product);

// A root set from certificates: `ark` must be self-signed (its signature
// verifies), `ask` and `asvk` must be issued by it (name and signature; their
// validity periods are not checked here). kInvalidArgument names the failing
// certificate; kInvalidArgument for Product::kUnknown.
Result<AmdRootSet> make_amd_root_set(Product product, Certificate ark, Certificate ask,
                                     std::optional<Certificate> asvk = std::nullopt);

// A root set from PEM text in KDS cert_chain form: `vcek_chain` holds the ASK
// and the ARK, `vlek_chain` (optional, may be empty) the ASVK and the same ARK
// (byte-identical). Within a text the order does not matter: the ARK is the
// self-signed certificate. Also accepted: all three in `vcek_chain` (ARK, ASK,
// ASVK in any order, told apart by which subject CN contains "VLEK"), the form
// of a single bundle. Errors: kMalformed for bad PEM, kInvalidArgument for any
// other shape or a certificate that is not issued by the ARK.
Result<AmdRootSet> amd_root_set_from_pem(Product product, std::string_view vcek_chain,
                                         std::string_view vlek_chain = {});

}  // namespace concierge::evidence::snp
