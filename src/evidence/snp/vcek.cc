// VCEK/VLEK extensions through OpenSSL's ASN.1 decoders, then re-encoded and
// compared with the input so that only DER (not BER) is accepted.
#include "concierge/evidence/snp/vcek.h"

#include <openssl/asn1.h>

#include <algorithm>
#include <climits>
#include <string>
#include <utility>

#include "concierge/core/encoding.h"
#include "core/ossl_util.h"

namespace concierge::evidence::snp {
namespace {

using AsnIntPtr = ossl::Ptr<ASN1_INTEGER, ASN1_INTEGER_free>;
using AsnIa5Ptr = ossl::Ptr<ASN1_IA5STRING, ASN1_IA5STRING_free>;
using AsnOctetsPtr = ossl::Ptr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;

struct Ext {
  std::string_view name;  // as in the KDS specification, e.g. "blSPL"
  std::string_view oid;
};

Error ext_error(Errc code, const Ext& ext, std::string what) {
  Error e = make_error(code, "VCEK extension " + std::string(ext.name) + " (" +
                                 std::string(ext.oid) + "): " + std::move(what));
  e.field = std::string(ext.name);
  return e;
}

// The extension's DER value, nullopt when absent.
Result<std::optional<Bytes>> value_of(const Certificate& cert, const Ext& ext) {
  Result<Bytes> v = cert.extension(ext.oid);
  if (v) return std::optional<Bytes>(std::move(v).value());
  if (v.error().code == Errc::kNotFound) return std::optional<Bytes>();
  Error e = std::move(v).error();
  e.field = std::string(ext.name);
  return Unexpected(std::move(e));
}

// d2i with the strictness the module promises: one element, nothing after it,
// and DER (re-encoding gives the same bytes).
template <typename T, void (*Free)(T*)>
Result<ossl::Ptr<T, Free>> decode(const Ext& ext, ByteView der, std::string_view type,
                                  T* (*d2i)(T**, const unsigned char**, long),
                                  int (*i2d)(const T*, unsigned char**)) {
  if (der.size() > INT_MAX) return Unexpected(ext_error(Errc::kMalformed, ext, "too large"));
  const unsigned char* p = der.data();
  ossl::Ptr<T, Free> obj(d2i(nullptr, &p, static_cast<long>(der.size())));
  if (!obj) {
    ossl::clear_errors();
    return Unexpected(ext_error(Errc::kMalformed, ext, "not a DER " + std::string(type)));
  }
  const auto used = static_cast<std::size_t>(p - der.data());
  if (used != der.size()) {
    Error e =
        ext_error(Errc::kTrailingData, ext,
                  std::to_string(der.size() - used) + " bytes after the " + std::string(type));
    e.offset = used;
    return Unexpected(std::move(e));
  }
  unsigned char* again = nullptr;
  const int len = i2d(obj.get(), &again);
  const bool same = len > 0 && static_cast<std::size_t>(len) == der.size() &&
                    std::equal(der.begin(), der.end(), again);
  OPENSSL_free(again);
  ossl::clear_errors();
  if (!same) {
    return Unexpected(ext_error(Errc::kMalformed, ext, "not DER-encoded " + std::string(type)));
  }
  return obj;
}

Result<std::optional<std::int64_t>> read_integer(const Certificate& cert, const Ext& ext) {
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<Bytes> der, value_of(cert, ext));
  if (!der) return std::optional<std::int64_t>();
  CONCIERGE_ASSIGN_OR_RETURN(
      AsnIntPtr v, (decode<ASN1_INTEGER, ASN1_INTEGER_free>(ext, *der, "INTEGER", d2i_ASN1_INTEGER,
                                                            i2d_ASN1_INTEGER)));
  std::int64_t out = 0;
  if (ASN1_INTEGER_get_int64(&out, v.get()) != 1) {
    ossl::clear_errors();
    return Unexpected(ext_error(Errc::kMalformed, ext, "INTEGER does not fit 64 bits"));
  }
  return std::optional<std::int64_t>(out);
}

Result<std::optional<std::uint8_t>> read_spl(const Certificate& cert, const Ext& ext) {
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<std::int64_t> v, read_integer(cert, ext));
  if (!v) return std::optional<std::uint8_t>();
  if (*v < 0 || *v > 255) {
    return Unexpected(
        ext_error(Errc::kMalformed, ext, "SPL " + std::to_string(*v) + " is outside 0..255"));
  }
  return std::optional<std::uint8_t>(static_cast<std::uint8_t>(*v));
}

Result<std::optional<std::string>> read_ia5(const Certificate& cert, const Ext& ext) {
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<Bytes> der, value_of(cert, ext));
  if (!der) return std::optional<std::string>();
  CONCIERGE_ASSIGN_OR_RETURN(AsnIa5Ptr v,
                             (decode<ASN1_IA5STRING, ASN1_IA5STRING_free>(
                                 ext, *der, "IA5String", d2i_ASN1_IA5STRING, i2d_ASN1_IA5STRING)));
  const unsigned char* data = ASN1_STRING_get0_data(v.get());
  std::string out(reinterpret_cast<const char*>(data),
                  static_cast<std::size_t>(ASN1_STRING_length(v.get())));
  for (char c : out) {
    if (static_cast<unsigned char>(c) > 0x7F) {
      return Unexpected(ext_error(Errc::kMalformed, ext, "IA5String with a non-ASCII byte"));
    }
  }
  return std::optional<std::string>(std::move(out));
}

bool hwid_size(std::size_t n) { return n == kHwIdSize || n == kTurinHwIdSize; }

// The KDS writes the hwID bytes as the extension value itself, without a DER
// tag; a DER OCTET STRING holding them is accepted too, should AMD ever add
// the tag.
Result<std::optional<Bytes>> read_hwid(const Certificate& cert, const Ext& ext) {
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<Bytes> value, value_of(cert, ext));
  if (!value || hwid_size(value->size())) return value;
  Result<AsnOctetsPtr> v = decode<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>(
      ext, *value, "OCTET STRING", d2i_ASN1_OCTET_STRING, i2d_ASN1_OCTET_STRING);
  const std::size_t n = v ? static_cast<std::size_t>(ASN1_STRING_length(v->get())) : 0;
  if (!v || !hwid_size(n)) {
    return Unexpected(ext_error(Errc::kMalformed, ext,
                                std::to_string(value->size()) +
                                    " bytes: neither a 64- or 8-byte hwID nor a DER OCTET STRING "
                                    "holding one"));
  }
  const unsigned char* data = ASN1_STRING_get0_data(v->get());
  return std::optional<Bytes>(Bytes(data, data + n));
}

constexpr Ext kStructVersion{"structVersion", kOidStructVersion};
constexpr Ext kProductName{"productName1", kOidProductName};
constexpr Ext kBlSpl{"blSPL", kOidBlSpl};
constexpr Ext kTeeSpl{"teeSPL", kOidTeeSpl};
constexpr Ext kSnpSpl{"snpSPL", kOidSnpSpl};
constexpr Ext kUcodeSpl{"ucodeSPL", kOidUcodeSpl};
constexpr Ext kFmcSpl{"fmcSPL", kOidFmcSpl};
constexpr Ext kHwId{"hwID", kOidHwId};
constexpr Ext kCspId{"cspID", kOidCspId};

std::string kind_name(SigningKey kind) {
  return kind == SigningKey::kVlek ? "VLEK" : kind == SigningKey::kVcek ? "VCEK" : "none";
}

// "" when equal; else the rejection reason.
std::string compare_spl(const VcekInfo& info, const Ext& ext,
                        const std::optional<std::uint8_t>& cert, std::string_view tcb_field,
                        std::uint8_t reported) {
  const std::string who = kind_name(info.kind) + " " + std::string(ext.name);
  if (!cert) return kind_name(info.kind) + " has no " + std::string(ext.name) + " extension";
  if (*cert == reported) return {};
  return who + " " + std::to_string(*cert) + " differs from REPORTED_TCB " +
         std::string(tcb_field) + " " + std::to_string(reported);
}

}  // namespace

Product VcekInfo::product() const {
  return parse_product(product_name).value_or(Product::kUnknown);
}

Result<VcekInfo> parse_vcek_extensions(const Certificate& cert) {
  VcekInfo info;
  CONCIERGE_ASSIGN_OR_RETURN(info.struct_version, read_integer(cert, kStructVersion));
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<std::string> product, read_ia5(cert, kProductName));
  info.product_name = product.value_or("");
  CONCIERGE_ASSIGN_OR_RETURN(info.bl_spl, read_spl(cert, kBlSpl));
  CONCIERGE_ASSIGN_OR_RETURN(info.tee_spl, read_spl(cert, kTeeSpl));
  CONCIERGE_ASSIGN_OR_RETURN(info.snp_spl, read_spl(cert, kSnpSpl));
  CONCIERGE_ASSIGN_OR_RETURN(info.ucode_spl, read_spl(cert, kUcodeSpl));
  CONCIERGE_ASSIGN_OR_RETURN(info.fmc_spl, read_spl(cert, kFmcSpl));
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<Bytes> hwid, read_hwid(cert, kHwId));
  CONCIERGE_ASSIGN_OR_RETURN(std::optional<std::string> csp, read_ia5(cert, kCspId));
  if (hwid && csp) {
    return Unexpected(ext_error(Errc::kMalformed, kCspId,
                                "a certificate with both hwID and cspID is neither VCEK nor VLEK"));
  }
  if (!hwid && !csp) {
    return Unexpected(ext_error(Errc::kMalformed, kHwId,
                                "absent, and no cspID either: not a VCEK or VLEK certificate"));
  }
  if (hwid) {
    info.kind = SigningKey::kVcek;
    info.hwid = std::move(*hwid);
  } else {
    info.kind = SigningKey::kVlek;
    info.csp_id = std::move(*csp);
  }
  return info;
}

Verdict vcek_matches_report(const VcekInfo& info, const AttestationReport& report,
                            Product product) {
  const std::string kind = kind_name(info.kind);
  if (report.signer.signing_key != info.kind) {
    return Verdict::reject("report SIGNING_KEY is " +
                           std::string(signing_key_name(report.signer.signing_key)) +
                           " but the certificate is a " + kind);
  }
  const Product named = info.product();
  if (product != Product::kUnknown && named != Product::kUnknown && named != product) {
    return Verdict::reject(kind + " productName " + info.product_name + " is not for " +
                           std::string(product_name(product)));
  }
  // CHIP_ID all zeros: the host set SNP_CONFIG MASK_CHIP_ID. The report is
  // still signed by this VCEK, so the chip is the one the VCEK names; there
  // is only no CHIP_ID to compare with its hwID.
  const bool chip_id_masked = std::all_of(report.chip_id.begin(), report.chip_id.end(),
                                          [](std::uint8_t b) { return b == 0; });
  if (info.kind == SigningKey::kVcek && !chip_id_masked) {
    const std::size_t n = std::min(info.hwid.size(), report.chip_id.size());
    const ByteView chip(report.chip_id);
    const bool rest_zero = std::all_of(chip.begin() + static_cast<std::ptrdiff_t>(n), chip.end(),
                                       [](std::uint8_t b) { return b == 0; });
    if (n == 0 ||
        !std::equal(info.hwid.begin(), info.hwid.begin() + static_cast<std::ptrdiff_t>(n),
                    chip.begin()) ||
        !rest_zero) {
      return Verdict::reject("VCEK hwID " + hex_encode(info.hwid) + " differs from CHIP_ID " +
                             hex_encode(chip));
    }
  }
  const TcbVersion tcb = decode_tcb(report.reported_tcb, product);
  for (std::string why :
       {compare_spl(info, kBlSpl, info.bl_spl, "bootloader", tcb.bootloader),
        compare_spl(info, kTeeSpl, info.tee_spl, "tee", tcb.tee),
        compare_spl(info, kSnpSpl, info.snp_spl, "snp", tcb.snp),
        compare_spl(info, kUcodeSpl, info.ucode_spl, "microcode", tcb.microcode)}) {
    if (!why.empty()) return Verdict::reject(std::move(why));
  }
  if (tcb.fmc) {
    std::string why = compare_spl(info, kFmcSpl, info.fmc_spl, "fmc", *tcb.fmc);
    if (!why.empty()) return Verdict::reject(std::move(why));
  } else if (info.fmc_spl) {
    return Verdict::reject(kind + " fmcSPL " + std::to_string(*info.fmc_spl) + " but the " +
                           std::string(product_name(product)) + " REPORTED_TCB has no fmc field");
  }
  return Verdict::accept();
}

nlohmann::json vcek_claims(const VcekInfo& info) {
  nlohmann::json j;
  j["kind"] = signing_key_name(info.kind);
  if (info.struct_version) j["struct_version"] = *info.struct_version;
  if (!info.product_name.empty()) j["product_name"] = info.product_name;
  nlohmann::json spl = nlohmann::json::object();
  if (info.fmc_spl) spl["fmc"] = *info.fmc_spl;
  if (info.bl_spl) spl["bootloader"] = *info.bl_spl;
  if (info.tee_spl) spl["tee"] = *info.tee_spl;
  if (info.snp_spl) spl["snp"] = *info.snp_spl;
  if (info.ucode_spl) spl["microcode"] = *info.ucode_spl;
  j["spl"] = std::move(spl);
  if (info.kind == SigningKey::kVcek) j["hwid"] = hex_encode(info.hwid);
  if (info.kind == SigningKey::kVlek) j["csp_id"] = info.csp_id;
  return j;
}

}  // namespace concierge::evidence::snp
