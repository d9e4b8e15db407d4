// EV_NO_ACTION structures, told apart by the 16-byte signature they start
// with (PFP section 10.4.5): TCG_EfiSpecIDEvent ("Spec ID Event03"), the
// legacy TCG_PCClientSpecIDEventStruct ("Spec ID Event00"),
// TCG_EfiStartupLocalityEvent, TCG_Sp800_155_PlatformId_Event(2/3),
// NV_INDEX_INSTANCE_EVENT_LOG_DATA and NV_INDEX_DYNAMIC_EVENT_LOG_DATA.
#include <cstdio>
#include <string>

#include "concierge/core/digest.h"
#include "measure/event_decode_internal.h"

namespace concierge::measure::decode_detail {
namespace {

std::string alg_label(std::uint16_t id) {
  if (auto alg = hash_from_tcg_id(id)) return std::string(hash_name(*alg));
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04x", id);
  return buf;
}

Result<void> spec_id(ByteReader& r, bool crypto_agile, DecodedEvent& out) {
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t platform_class, r.u32le("platformClass"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint8_t minor, r.u8("specVersionMinor"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint8_t major, r.u8("specVersionMajor"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint8_t errata, r.u8("specErrata"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint8_t uintn, r.u8("uintnSize"));
  std::string version =
      std::to_string(major) + "." + std::to_string(minor) + " errata " + std::to_string(errata);
  out.details["platform_class"] = platform_class;
  out.details["spec_version"] = version;
  out.details["uintn_size"] = uintn;
  out.summary += ": spec " + version;
  if (crypto_agile) {
    CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t count, r.u32le("numberOfAlgorithms"));
    if (count > r.remaining() / 4) {
      return fail_at(Errc::kTruncated, "digestSizes", r.offset(),
                     std::to_string(count) + " algorithms do not fit");
    }
    nlohmann::json algs = nlohmann::json::array();
    std::string names;
    for (std::uint32_t k = 0; k < count; ++k) {
      CONCIERGE_ASSIGN_OR_RETURN(std::uint16_t id, r.u16le("algorithmId"));
      CONCIERGE_ASSIGN_OR_RETURN(std::uint16_t size, r.u16le("digestSize"));
      algs.push_back({{"algorithm", alg_label(id)}, {"alg_id", id}, {"digest_size", size}});
      names += (names.empty() ? "" : ", ") + alg_label(id);
    }
    out.details["algorithms"] = std::move(algs);
    out.summary += ", algorithms " + (names.empty() ? std::string("(none)") : names);
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::uint8_t vendor_size, r.u8("vendorInfoSize"));
  CONCIERGE_ASSIGN_OR_RETURN(ByteView vendor, r.bytes(vendor_size, "vendorInfo"));
  out.details["vendor_info_size"] = vendor_size;
  if (!vendor.empty()) out.details["vendor_info"] = hex_preview(vendor, 255);
  note_trailing(out, r, "TCG_EfiSpecIDEvent");
  return {};
}

Result<std::string> sized_string(ByteReader& r, std::string_view field, DecodedEvent& out,
                                 std::string_view key) {
  CONCIERGE_ASSIGN_OR_RETURN(std::uint8_t size, r.u8(field));
  CONCIERGE_ASSIGN_OR_RETURN(ByteView bytes, r.bytes(size, field));
  std::string text;
  if (is_printable_ascii(bytes)) {
    text = ascii_without_trailing_nuls(bytes);
  } else if (!ascii_without_trailing_nuls(bytes).empty()) {
    text = hex_preview(bytes, 64);
  }
  out.details[std::string(key)] = text;
  return text;
}

Result<void> locator(ByteReader& r, std::string_view prefix, DecodedEvent& out) {
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t type, r.u32le("LocatorType"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t size, r.u32le("LocatorLength"));
  CONCIERGE_ASSIGN_OR_RETURN(ByteView bytes, r.bytes(size, "Locator"));
  out.details[std::string(prefix) + "_locator_type"] = type;
  out.details[std::string(prefix) + "_locator"] =
      is_printable_ascii(bytes) ? ascii_without_trailing_nuls(bytes) : hex_preview(bytes, 64);
  return {};
}

Result<void> sp800_155(ByteReader& r, int version, DecodedEvent& out) {
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t vendor, r.u32le("PlatformManufacturerId"));
  CONCIERGE_ASSIGN_OR_RETURN(std::string manifest, read_guid(r, "ReferenceManifestGuid"));
  out.details["platform_manufacturer_id"] = vendor;
  out.details["reference_manifest_guid"] = manifest;
  out.summary += ": manufacturer id " + std::to_string(vendor) + ", manifest " + manifest;
  if (version == 1 && r.empty()) return {};
  CONCIERGE_ASSIGN_OR_RETURN(
      std::string mfr, sized_string(r, "PlatformManufacturerStr", out, "platform_manufacturer"));
  CONCIERGE_ASSIGN_OR_RETURN(std::string model,
                             sized_string(r, "PlatformModel", out, "platform_model"));
  CONCIERGE_ASSIGN_OR_RETURN(std::string pver,
                             sized_string(r, "PlatformVersion", out, "platform_version"));
  out.summary +=
      ", platform \"" + one_line(mfr) + " " + one_line(model) + " " + one_line(pver) + "\"";
  CONCIERGE_ASSIGN_OR_RETURN(
      std::string fmfr, sized_string(r, "FirmwareManufacturerStr", out, "firmware_manufacturer"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint32_t fw_id, r.u32le("FirmwareManufacturerId"));
  out.details["firmware_manufacturer_id"] = fw_id;
  CONCIERGE_ASSIGN_OR_RETURN(std::string fver,
                             sized_string(r, "FirmwareVersion", out, "firmware_version"));
  out.summary += ", firmware \"" + one_line(fmfr) + " " + one_line(fver) + "\"";
  if (version == 3) {
    CONCIERGE_RETURN_IF_ERROR(locator(r, "rim", out));
    CONCIERGE_RETURN_IF_ERROR(locator(r, "platform_cert", out));
  }
  note_trailing(out, r, "TCG_Sp800_155_PlatformId_Event");
  return {};
}

Result<void> nv_index(ByteReader& r, bool dynamic, DecodedEvent& out) {
  CONCIERGE_ASSIGN_OR_RETURN(std::uint16_t version, r.u16le("Version"));
  CONCIERGE_RETURN_IF_ERROR(r.skip(6, "Reserved"));
  out.details["version"] = version;
  out.summary += ": version " + std::to_string(version);
  if (!dynamic) {
    out.details["data_size"] = r.remaining();
    out.summary += ", " + std::to_string(r.remaining()) + " bytes of data";
    return {};
  }
  CONCIERGE_ASSIGN_OR_RETURN(std::uint64_t uid, r.u64le("UID"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint16_t desc_size, r.u16le("DescriptionSize"));
  CONCIERGE_ASSIGN_OR_RETURN(ByteView desc, r.bytes(desc_size, "Description"));
  CONCIERGE_ASSIGN_OR_RETURN(std::uint16_t data_size, r.u16le("DataSize"));
  CONCIERGE_RETURN_IF_ERROR(r.skip(data_size, "Data"));
  std::string text =
      is_printable_ascii(desc) ? ascii_without_trailing_nuls(desc) : hex_preview(desc, 32);
  out.details["uid"] = uid;
  out.details["description"] = text;
  out.details["data_size"] = data_size;
  out.summary += ", \"" + one_line(text) + "\", " + std::to_string(data_size) + " bytes of data";
  note_trailing(out, r, "NV_INDEX_DYNAMIC_EVENT_LOG_DATA");
  return {};
}

}  // namespace

void decode_no_action(ByteView data, DecodedEvent& out) {
  if (data.size() < 16) {
    out.summary = "No action";
    if (auto text = decode_text(data, out)) {
      out.summary += ": \"" + one_line(*text) + "\"";
    } else if (!data.empty()) {
      out.summary += ": " + hex_preview(data);
    }
    return;
  }
  std::string signature = ascii_without_trailing_nuls(data.first(16));
  ByteReader r(data.subspan(16), 16);
  Result<void> ok;
  if (signature == "Spec ID Event03" || signature == "Spec ID Event00") {
    out.summary = signature;
    out.details["signature"] = signature;
    ok = spec_id(r, signature == "Spec ID Event03", out);
  } else if (signature == "StartupLocality") {
    out.summary = signature;
    out.details["signature"] = signature;
    auto locality = r.u8("StartupLocality");
    if (locality) {
      out.details["startup_locality"] = *locality;
      out.summary += ": locality " + std::to_string(*locality);
      note_trailing(out, r, "TCG_EfiStartupLocalityEvent");
    } else {
      ok = Unexpected(locality.error());
    }
  } else if (signature == "SP800-155 Event" || signature == "SP800-155 Event2" ||
             signature == "SP800-155 Event3") {
    out.summary = signature;
    out.details["signature"] = signature;
    int version = signature.back() == '2' ? 2 : signature.back() == '3' ? 3 : 1;
    ok = sp800_155(r, version, out);
  } else if (signature == "NvIndexInstance" || signature == "NvIndexDynamic") {
    out.summary = signature;
    out.details["signature"] = signature;
    ok = nv_index(r, signature == "NvIndexDynamic", out);
  } else {
    out.summary = "No action";
    if (auto text = decode_text(data, out)) {
      out.summary += ": \"" + one_line(*text) + "\"";
    } else {
      out.summary += ": " + hex_preview(data);
    }
  }
  if (!ok) add_problem(out, ok.error());
}

}  // namespace concierge::measure::decode_detail
