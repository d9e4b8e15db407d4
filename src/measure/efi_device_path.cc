// EFI device paths (UEFI spec 2.10 section 10.3) to their text form
// (section 10.6). Each node: Type u8, SubType u8, Length u16 (header included),
// then the node data. Only the node types that show up in firmware event logs
// are spelled out; others print as Node(type,subtype).
#include <cstdarg>
#include <cstdio>
#include <string>

#include "concierge/core/encoding.h"
#include "concierge/measure/event_decode.h"
#include "measure/event_decode_internal.h"

namespace concierge::measure {
namespace decode_detail {
namespace {

std::string fmt(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* format, ...) {
  char buf[256];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  return buf;
}

using ull = unsigned long long;

std::string ipv4(ByteView b) { return fmt("%u.%u.%u.%u", b[0], b[1], b[2], b[3]); }

std::string ipv6(ByteView b) {
  std::string s;
  for (std::size_t k = 0; k < 16; k += 2) {
    if (k != 0) s += ':';
    s += fmt("%x", (b[k] << 8) | b[k + 1]);
  }
  return s;
}

// "PNP0A03" for EISA IDs with the PNP vendor prefix, else hex.
std::string eisa_id(std::uint32_t hid) {
  if ((hid & 0xFFFF) == 0x41D0) return fmt("PNP%04X", hid >> 16);
  return fmt("0x%08x", hid);
}

std::string hardware(std::uint8_t sub, ByteReader& r) {
  switch (sub) {
    case 0x01: {
      auto function = r.u8("Function");
      auto device = r.u8("Device");
      if (!function || !device) break;
      return fmt("Pci(0x%x,0x%x)", *device, *function);
    }
    case 0x03: {
      auto type = r.u32le("MemoryType");
      auto start = r.u64le("StartingAddress");
      auto end = r.u64le("EndingAddress");
      if (!type || !start || !end) break;
      return fmt("MemoryMapped(0x%x,0x%llx,0x%llx)", *type, static_cast<ull>(*start),
                 static_cast<ull>(*end));
    }
    case 0x04: {
      auto guid = read_guid(r, "VendorGuid");
      if (!guid) break;
      return "VenHw(" + *guid + ")";
    }
    case 0x05: {
      auto ctrl = r.u32le("ControllerNumber");
      if (!ctrl) break;
      return fmt("Ctrl(0x%x)", *ctrl);
    }
    default:
      break;
  }
  return {};
}

std::string acpi(std::uint8_t sub, ByteReader& r) {
  if (sub == 0x01) {
    auto hid = r.u32le("HID");
    auto uid = r.u32le("UID");
    if (!hid || !uid) return {};
    if (*hid == 0x0A0341D0) return fmt("PciRoot(0x%x)", *uid);
    if (*hid == 0x0A0841D0) return fmt("PcieRoot(0x%x)", *uid);
    return "Acpi(" + eisa_id(*hid) + fmt(",0x%x)", *uid);
  }
  if (sub == 0x02) {
    auto hid = r.u32le("HID");
    auto uid = r.u32le("UID");
    auto cid = r.u32le("CID");
    if (!hid || !uid || !cid) return {};
    return "AcpiEx(" + eisa_id(*hid) + "," + eisa_id(*cid) + fmt(",0x%x)", *uid);
  }
  if (sub == 0x03) {
    auto adr = r.u32le("ADR");
    if (!adr) return {};
    return fmt("AcpiAdr(0x%x)", *adr);
  }
  return {};
}

std::string messaging(std::uint8_t sub, ByteReader& r) {
  switch (sub) {
    case 0x01: {
      auto primary = r.u8("PrimarySecondary");
      auto slave = r.u8("SlaveMaster");
      auto lun = r.u16le("Lun");
      if (!primary || !slave || !lun) break;
      return fmt("Ata(0x%x,0x%x,0x%x)", *primary, *slave, *lun);
    }
    case 0x02: {
      auto target = r.u16le("TargetId");
      auto lun = r.u16le("Lun");
      if (!target || !lun) break;
      return fmt("Scsi(0x%x,0x%x)", *target, *lun);
    }
    case 0x05: {
      auto port = r.u8("ParentPortNumber");
      auto iface = r.u8("InterfaceNumber");
      if (!port || !iface) break;
      return fmt("USB(0x%x,0x%x)", *port, *iface);
    }
    case 0x0A: {
      auto guid = read_guid(r, "VendorGuid");
      if (!guid) break;
      return "VenMsg(" + *guid + ")";
    }
    case 0x0B: {
      auto mac = r.bytes(32, "MacAddress");
      auto if_type = r.u8("IfType");
      if (!mac || !if_type) break;
      std::size_t n = (*if_type == 0 || *if_type == 1) ? 6 : 32;
      return "MAC(" + hex_encode(mac->first(n)) + fmt(",0x%x)", *if_type);
    }
    case 0x0C: {
      auto local = r.bytes(4, "LocalIpAddress");
      auto remote = r.bytes(4, "RemoteIpAddress");
      auto lport = r.u16le("LocalPort");
      auto rport = r.u16le("RemotePort");
      auto proto = r.u16le("Protocol");
      auto is_static = r.u8("StaticIpAddress");
      if (!local || !remote || !lport || !rport || !proto || !is_static) break;
      std::string p = *proto == 6 ? "TCP" : *proto == 17 ? "UDP" : fmt("0x%x", *proto);
      return "IPv4(" + ipv4(*remote) + "," + p + "," + (*is_static ? "Static" : "DHCP") + "," +
             ipv4(*local) + ")";
    }
    case 0x0D: {
      auto local = r.bytes(16, "LocalIpAddress");
      auto remote = r.bytes(16, "RemoteIpAddress");
      if (!local || !remote) break;
      return "IPv6(" + ipv6(*remote) + "," + ipv6(*local) + ")";
    }
    case 0x0F: {
      auto vid = r.u16le("VendorId");
      auto pid = r.u16le("ProductId");
      auto cls = r.u8("DeviceClass");
      auto subcls = r.u8("DeviceSubClass");
      auto proto = r.u8("DeviceProtocol");
      if (!vid || !pid || !cls || !subcls || !proto) break;
      return fmt("UsbClass(0x%x,0x%x,0x%x,0x%x,0x%x)", *vid, *pid, *cls, *subcls, *proto);
    }
    case 0x12: {
      auto hba = r.u16le("HBAPortNumber");
      auto pm = r.u16le("PortMultiplierPortNumber");
      auto lun = r.u16le("Lun");
      if (!hba || !pm || !lun) break;
      return fmt("Sata(0x%x,0x%x,0x%x)", *hba, *pm, *lun);
    }
    case 0x17: {
      auto nsid = r.u32le("NamespaceId");
      auto eui = r.bytes(8, "EUI64");
      if (!nsid || !eui) break;
      std::string e;
      for (std::size_t k = 0; k < 8; ++k) e += fmt(k == 0 ? "%02x" : "-%02x", (*eui)[7 - k]);
      return fmt("NVMe(0x%x,", *nsid) + e + ")";
    }
    case 0x18: {
      ByteView rest = r.rest();
      if (!is_printable_ascii(rest) && !rest.empty()) return "Uri(" + hex_encode(rest) + ")";
      return "Uri(" + one_line(ascii_without_trailing_nuls(rest)) + ")";
    }
    default:
      break;
  }
  return {};
}

std::string media(std::uint8_t sub, ByteReader& r, std::vector<std::string>& problems) {
  switch (sub) {
    case 0x01: {
      auto part = r.u32le("PartitionNumber");
      auto start = r.u64le("PartitionStart");
      auto size = r.u64le("PartitionSize");
      auto sig = r.bytes(16, "PartitionSignature");
      auto mbr_type = r.u8("PartitionFormat");
      auto sig_type = r.u8("SignatureType");
      if (!part || !start || !size || !sig || !mbr_type || !sig_type) break;
      std::string signature;
      if (*sig_type == 0x02) {
        signature = "GPT," + format_guid(*sig);
      } else if (*sig_type == 0x01) {
        signature = fmt("MBR,0x%02x%02x%02x%02x", (*sig)[3], (*sig)[2], (*sig)[1], (*sig)[0]);
      } else {
        signature = fmt("0x%x,", *sig_type) + hex_encode(*sig);
      }
      return fmt("HD(%u,", *part) + signature +
             fmt(",0x%llx,0x%llx)", static_cast<ull>(*start), static_cast<ull>(*size));
    }
    case 0x02: {
      auto entry = r.u32le("BootEntry");
      auto start = r.u64le("PartitionStart");
      auto size = r.u64le("PartitionSize");
      if (!entry || !start || !size) break;
      return fmt("CDROM(0x%x,0x%llx,0x%llx)", *entry, static_cast<ull>(*start),
                 static_cast<ull>(*size));
    }
    case 0x03: {
      auto guid = read_guid(r, "VendorGuid");
      if (!guid) break;
      return "VenMedia(" + *guid + ")";
    }
    case 0x04: {
      bool invalid = false;
      std::string path = utf16le_cstring(r.rest(), &invalid);
      if (invalid) problems.push_back("invalid UTF-16 in device path file name");
      return one_line(path);
    }
    case 0x05:
    case 0x06:
    case 0x07: {
      auto guid = read_guid(r, "Guid");
      if (!guid) break;
      const char* label = sub == 0x05 ? "Media(" : sub == 0x06 ? "FvFile(" : "Fv(";
      return label + *guid + ")";
    }
    case 0x08: {
      auto reserved = r.u32le("Reserved");
      auto start = r.u64le("StartingOffset");
      auto end = r.u64le("EndingOffset");
      if (!reserved || !start || !end) break;
      return fmt("Offset(0x%llx,0x%llx)", static_cast<ull>(*start), static_cast<ull>(*end));
    }
    default:
      break;
  }
  return {};
}

std::string bbs(std::uint8_t sub, ByteReader& r) {
  if (sub != 0x01) return {};
  auto type = r.u16le("DeviceType");
  auto flags = r.u16le("StatusFlag");
  if (!type || !flags) return {};
  std::string desc = is_printable_ascii(r.rest()) ? ascii_without_trailing_nuls(r.rest()) : "";
  return fmt("BBS(0x%x,", *type) + one_line(desc) + fmt(",0x%x)", *flags);
}

}  // namespace

std::string describe_device_path(ByteView data, std::vector<std::string>& problems) {
  ByteReader r(data);
  std::string out;
  bool need_slash = false;
  bool ended = false;
  while (!r.empty()) {
    std::size_t node_offset = r.offset();
    auto type = r.u8("Type");
    auto sub = r.u8("SubType");
    auto len = r.u16le("Length");
    if (!type || !sub || !len) {
      problems.push_back(fmt("device path node at offset %zu: truncated header", node_offset));
      return out;
    }
    if (*len < 4 || *len - 4u > r.remaining()) {
      problems.push_back(fmt("device path node at offset %zu: length %u %s", node_offset, *len,
                             *len < 4 ? "is below 4" : "runs past the end"));
      return out;
    }
    ByteReader node = *r.sub(*len - 4u, "node");
    if (ended) {  // another path follows an End Entire node (FilePathList)
      out += " ; ";
      ended = false;
    }
    if (*type == 0x7F) {
      if (*sub == 0xFF) {
        ended = true;
      } else {
        out += ",";
      }
      need_slash = false;
      continue;
    }
    std::string text;
    switch (*type) {
      case 0x01:
        text = hardware(*sub, node);
        break;
      case 0x02:
        text = acpi(*sub, node);
        break;
      case 0x03:
        text = messaging(*sub, node);
        break;
      case 0x04:
        text = media(*sub, node, problems);
        break;
      case 0x05:
        text = bbs(*sub, node);
        break;
      default:
        break;
    }
    if (text.empty()) text = fmt("Node(0x%x,0x%x)", *type, *sub);
    if (need_slash) out += "/";
    out += text;
    need_slash = true;
  }
  if (!ended && !data.empty()) problems.push_back("device path has no End node");
  return out;
}

}  // namespace decode_detail

std::string describe_device_path(ByteView device_path) {
  std::vector<std::string> problems;
  std::string out = decode_detail::describe_device_path(device_path, problems);
  if (!problems.empty()) {
    if (!out.empty()) out += "/";
    out += "<malformed: " + problems.front() + ">";
  }
  return out;
}

}  // namespace concierge::measure
