// The PCK SGX extension through OpenSSL's generic ASN.1 decoder
// (d2i_ASN1_SEQUENCE_ANY): each SEQUENCE level is decoded into ASN1_TYPEs,
// re-encoded and compared with the input (DER only), and its members located
// by their encoded lengths so that errors carry byte offsets.
#include "concierge/evidence/dcap/pck_extension.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <algorithm>
#include <climits>
#include <string>
#include <utility>
#include <vector>

#include "concierge/core/encoding.h"
#include "core/ossl_util.h"

namespace concierge::evidence::dcap {
namespace {

void free_sequence(ASN1_SEQUENCE_ANY* s) { sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free); }
using SequencePtr = ossl::Ptr<ASN1_SEQUENCE_ANY, free_sequence>;

Unexpected bad(Errc code, const std::string& field, std::size_t offset, const std::string& what) {
  return fail_at(code, field, offset, "PCK SGX extension " + field + ": " + what);
}

// One member of a decoded SEQUENCE: its ASN1_TYPE (owned by the Sequence), its
// absolute offset in the extension value and its DER (a view of the input).
struct Element {
  const ASN1_TYPE* type = nullptr;
  std::size_t offset = 0;
  ByteView der;
};

struct Sequence {
  SequencePtr owner;
  std::vector<Element> items;
};

// Decodes `der` (at absolute `offset`), which must be exactly one DER SEQUENCE.
Result<Sequence> read_sequence(ByteView der, std::size_t offset, const std::string& field) {
  if (der.size() > LONG_MAX) return bad(Errc::kMalformed, field, offset, "too large");
  const unsigned char* p = der.data();
  SequencePtr seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, static_cast<long>(der.size())));
  if (!seq) {
    const std::string why = ossl::take_errors();
    return bad(Errc::kMalformed, field, offset,
               "not a DER SEQUENCE" + (why.empty() ? std::string() : " (" + why + ")"));
  }
  const auto used = static_cast<std::size_t>(p - der.data());
  if (used != der.size()) {
    return bad(Errc::kTrailingData, field, offset + used,
               std::to_string(der.size() - used) + " bytes after the SEQUENCE");
  }
  unsigned char* again = nullptr;
  const int len = i2d_ASN1_SEQUENCE_ANY(seq.get(), &again);
  const bool same = len > 0 && static_cast<std::size_t>(len) == der.size() &&
                    std::equal(der.begin(), der.end(), again);
  OPENSSL_free(again);
  ossl::clear_errors();
  if (!same) return bad(Errc::kMalformed, field, offset, "SEQUENCE is not DER-encoded");

  Sequence out;
  const int n = sk_ASN1_TYPE_num(seq.get());
  std::vector<std::size_t> sizes;
  std::size_t total = 0;
  for (int i = 0; i < n; ++i) {
    const int size = i2d_ASN1_TYPE(sk_ASN1_TYPE_value(seq.get(), i), nullptr);
    if (size <= 0) return bad(Errc::kMalformed, field, offset, "member cannot be re-encoded");
    sizes.push_back(static_cast<std::size_t>(size));
    total += static_cast<std::size_t>(size);
  }
  if (total > der.size()) return bad(Errc::kInternal, field, offset, "member sizes exceed input");
  std::size_t at = der.size() - total;  // the SEQUENCE header
  for (int i = 0; i < n; ++i) {
    const std::size_t size = sizes[static_cast<std::size_t>(i)];
    out.items.push_back(
        Element{sk_ASN1_TYPE_value(seq.get(), i), offset + at, der.subspan(at, size)});
    at += size;
  }
  out.owner = std::move(seq);
  return out;
}

// SEQUENCE { OID, value }: the OID in dotted form and the value element.
struct Entry {
  Sequence seq;
  std::string oid;
  const Element& value() const { return seq.items[1]; }
};

Result<Entry> read_entry(const Element& e, const std::string& field) {
  if (ASN1_TYPE_get(e.type) != V_ASN1_SEQUENCE) {
    return bad(Errc::kMalformed, field, e.offset, "member is not a SEQUENCE { OID, value }");
  }
  CONCIERGE_ASSIGN_OR_RETURN(Sequence seq, read_sequence(e.der, e.offset, field));
  if (seq.items.size() != 2 || ASN1_TYPE_get(seq.items[0].type) != V_ASN1_OBJECT) {
    return bad(Errc::kMalformed, field, e.offset, "member is not a SEQUENCE { OID, value }");
  }
  char text[96] = {};
  const int len = OBJ_obj2txt(text, sizeof text, seq.items[0].type->value.object, 1);
  ossl::clear_errors();
  if (len <= 0 || static_cast<std::size_t>(len) >= sizeof text) {
    return bad(Errc::kUnsupported, field, seq.items[0].offset, "OID too long");
  }
  Entry out{std::move(seq), std::string(text, static_cast<std::size_t>(len))};
  return out;
}

// k when `oid` is `parent`.k with 1 <= k <= count, else 0.
std::size_t member_index(const std::string& oid, std::string_view parent, std::size_t count) {
  for (std::size_t k = 1; k <= count; ++k) {
    if (oid == std::string(parent) + "." + std::to_string(k)) return k;
  }
  return 0;
}

// Reads the members of a SEQUENCE of SEQUENCE { OID, value } whose OIDs are
// `parent`.1 .. `parent`.names.size(); slots[k - 1] receives member k.
Result<void> read_members(const Element& where, std::string_view parent,
                          const std::vector<std::string>& names,
                          std::vector<std::optional<Entry>>& slots, const std::string& field) {
  CONCIERGE_ASSIGN_OR_RETURN(Sequence seq, read_sequence(where.der, where.offset, field));
  slots.clear();
  slots.resize(names.size());
  for (const Element& e : seq.items) {
    CONCIERGE_ASSIGN_OR_RETURN(Entry entry, read_entry(e, field));
    const std::size_t k = member_index(entry.oid, parent, names.size());
    if (k == 0) {
      return bad(Errc::kUnsupported, entry.oid, e.offset,
                 "unknown member of " + field + " (" + std::string(parent) + ")");
    }
    if (slots[k - 1]) return bad(Errc::kMalformed, names[k - 1], e.offset, "appears twice");
    slots[k - 1] = std::move(entry);
  }
  return {};
}

Result<Bytes> octets(const Element& e, const std::string& field, std::size_t size) {
  if (ASN1_TYPE_get(e.type) != V_ASN1_OCTET_STRING) {
    return bad(Errc::kMalformed, field, e.offset, "not an OCTET STRING");
  }
  const ASN1_OCTET_STRING* s = e.type->value.octet_string;
  const auto n = static_cast<std::size_t>(ASN1_STRING_length(s));
  if (n != size) {
    return bad(Errc::kMalformed, field, e.offset,
               std::to_string(n) + " bytes, expected " + std::to_string(size));
  }
  const unsigned char* data = ASN1_STRING_get0_data(s);
  return Bytes(data, data + n);
}

Result<std::uint32_t> integer(const Element& e, const std::string& field, std::int64_t max) {
  if (ASN1_TYPE_get(e.type) != V_ASN1_INTEGER) {
    return bad(Errc::kMalformed, field, e.offset, "not an INTEGER");
  }
  std::int64_t v = 0;
  if (ASN1_INTEGER_get_int64(&v, e.type->value.integer) != 1 || v < 0 || v > max) {
    ossl::clear_errors();
    return bad(Errc::kMalformed, field, e.offset, "INTEGER outside 0.." + std::to_string(max));
  }
  return static_cast<std::uint32_t>(v);
}

Result<bool> boolean(const Element& e, const std::string& field) {
  if (ASN1_TYPE_get(e.type) != V_ASN1_BOOLEAN) {
    return bad(Errc::kMalformed, field, e.offset, "not a BOOLEAN");
  }
  const int v = e.type->value.boolean;  // the content byte as decoded
  if (v != 0 && v != 0xFF) return bad(Errc::kMalformed, field, e.offset, "BOOLEAN is not DER");
  return v != 0;
}

Result<SgxType> sgx_type(const Element& e, const std::string& field) {
  if (ASN1_TYPE_get(e.type) != V_ASN1_ENUMERATED) {
    return bad(Errc::kMalformed, field, e.offset, "not an ENUMERATED");
  }
  std::int64_t v = 0;
  if (ASN1_ENUMERATED_get_int64(&v, e.type->value.enumerated) != 1) {
    ossl::clear_errors();
    return bad(Errc::kMalformed, field, e.offset, "ENUMERATED does not fit 64 bits");
  }
  if (v < 0 || v > 2) {
    return bad(Errc::kUnsupported, field, e.offset, "unknown SGX Type " + std::to_string(v));
  }
  return static_cast<SgxType>(v);
}

const std::vector<std::string>& top_names() {
  static const std::vector<std::string> names{
      "PPID", "TCB", "PCE-ID", "FMSPC", "SGX Type", "PlatformInstanceID", "Configuration"};
  return names;
}

const std::vector<std::string>& tcb_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (std::size_t i = 1; i <= kTcbComponentCount; ++i) {
      v.push_back("sgxTcbComp" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "SVN");
    }
    v.push_back("PCESVN");
    v.push_back("CPUSVN");
    return v;
  }();
  return names;
}

const std::vector<std::string>& configuration_names() {
  static const std::vector<std::string> names{"dynamicPlatform", "cachedKeys", "smtEnabled"};
  return names;
}

Result<void> read_tcb(const Element& where, PckExtension& out) {
  const std::string parent = std::string(kOidSgxExtensions) + ".2";
  const std::vector<std::string>& names = tcb_names();
  std::vector<std::optional<Entry>> m;
  CONCIERGE_RETURN_IF_ERROR(read_members(where, parent, names, m, "TCB"));
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!m[i]) return bad(Errc::kMalformed, names[i], where.offset, "missing from the TCB");
  }
  for (std::size_t i = 0; i < kTcbComponentCount; ++i) {
    CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t svn, integer(m[i]->value(), names[i], 255));
    out.tcb_components[i] = static_cast<std::uint8_t>(svn);
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t pcesvn, integer(m[16]->value(), names[16], 65535));
  out.pcesvn = static_cast<std::uint16_t>(pcesvn);
  CONCIERGE_ASSIGN_OR_RETURN(out.cpusvn, octets(m[17]->value(), names[17], kCpuSvnSize));
  return {};
}

Result<PckConfiguration> read_configuration(const Element& where) {
  const std::string parent = std::string(kOidSgxExtensions) + ".7";
  const std::vector<std::string>& names = configuration_names();
  std::vector<std::optional<Entry>> m;
  CONCIERGE_RETURN_IF_ERROR(read_members(where, parent, names, m, "Configuration"));
  PckConfiguration c;
  std::optional<bool>* flags[] = {&c.dynamic_platform, &c.cached_keys, &c.smt_enabled};
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!m[i]) continue;
    CONCIERGE_ASSIGN_OR_RETURN(bool v, boolean(m[i]->value(), names[i]));
    *flags[i] = v;
  }
  return c;
}

}  // namespace

std::string_view sgx_type_name(SgxType type) {
  switch (type) {
    case SgxType::kStandard:
      return "standard";
    case SgxType::kScalable:
      return "scalable";
    case SgxType::kScalableWithIntegrity:
      return "scalable_with_integrity";
  }
  return "unknown";
}

Result<PckExtension> parse_pck_extension(ByteView der) {
  const std::vector<std::string>& names = top_names();
  std::vector<std::optional<Entry>> m;
  const Element whole{nullptr, 0, der};
  CONCIERGE_RETURN_IF_ERROR(read_members(whole, kOidSgxExtensions, names, m, "sgxExtensions"));
  for (std::size_t i = 0; i < 5; ++i) {
    if (!m[i]) return bad(Errc::kMalformed, names[i], 0, "missing");
  }
  PckExtension out;
  CONCIERGE_ASSIGN_OR_RETURN(out.ppid, octets(m[0]->value(), names[0], kPpidSize));
  const Element& tcb = m[1]->value();
  if (ASN1_TYPE_get(tcb.type) != V_ASN1_SEQUENCE) {
    return bad(Errc::kMalformed, names[1], tcb.offset, "not a SEQUENCE");
  }
  CONCIERGE_RETURN_IF_ERROR(read_tcb(tcb, out));
  CONCIERGE_ASSIGN_OR_RETURN(out.pceid, octets(m[2]->value(), names[2], kPceIdSize));
  CONCIERGE_ASSIGN_OR_RETURN(out.fmspc, octets(m[3]->value(), names[3], kFmspcSize));
  CONCIERGE_ASSIGN_OR_RETURN(out.sgx_type, sgx_type(m[4]->value(), names[4]));
  if (m[5]) {
    CONCIERGE_ASSIGN_OR_RETURN(Bytes id, octets(m[5]->value(), names[5], kPlatformInstanceIdSize));
    out.platform_instance_id = std::move(id);
  }
  if (m[6]) {
    const Element& conf = m[6]->value();
    if (ASN1_TYPE_get(conf.type) != V_ASN1_SEQUENCE) {
      return bad(Errc::kMalformed, names[6], conf.offset, "not a SEQUENCE");
    }
    CONCIERGE_ASSIGN_OR_RETURN(PckConfiguration c, read_configuration(conf));
    out.configuration = c;
  }
  return out;
}

Result<PckExtension> parse_pck_extension(const Certificate& cert) {
  Result<Bytes> value = cert.extension(kOidSgxExtensions);
  if (!value) {
    Error e = std::move(value).error();
    if (e.code == Errc::kNotFound) {
      e.message =
          "not a PCK certificate: no Intel SGX extension (" + std::string(kOidSgxExtensions) + ")";
    }
    e.field = "sgxExtensions";
    return Unexpected(std::move(e));
  }
  return parse_pck_extension(*value);
}

nlohmann::json pck_extension_claims(const PckExtension& ext) {
  nlohmann::json j;
  j["fmspc"] = hex_encode(ext.fmspc);
  j["pceid"] = hex_encode(ext.pceid);
  j["pcesvn"] = ext.pcesvn;
  nlohmann::json components = nlohmann::json::array();
  for (std::uint8_t svn : ext.tcb_components) components.push_back(svn);
  j["tcb_components"] = std::move(components);
  j["cpusvn"] = hex_encode(ext.cpusvn);
  j["sgx_type"] = sgx_type_name(ext.sgx_type);
  if (ext.configuration) {
    nlohmann::json c = nlohmann::json::object();
    if (ext.configuration->dynamic_platform) {
      c["dynamic_platform"] = *ext.configuration->dynamic_platform;
    }
    if (ext.configuration->cached_keys) c["cached_keys"] = *ext.configuration->cached_keys;
    if (ext.configuration->smt_enabled) c["smt_enabled"] = *ext.configuration->smt_enabled;
    j["configuration"] = std::move(c);
  }
  return j;
}

}  // namespace concierge::evidence::dcap
