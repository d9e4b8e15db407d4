// EFI_GUID formatting and the names of well-known GUIDs.
#include <array>
#include <cstdio>
#include <string>

#include "concierge/measure/event_decode.h"
#include "measure/event_decode_internal.h"

namespace concierge::measure {

std::string format_guid(ByteView b) {
  if (b.size() != 16) return "<invalid GUID: " + std::to_string(b.size()) + " bytes>";
  // Data1 (u32), Data2 (u16), Data3 (u16) little-endian; Data4 as stored.
  char buf[37];
  std::snprintf(buf, sizeof buf,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[3], b[2],
                b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return buf;
}

namespace decode_detail {

Result<std::string> read_guid(ByteReader& r, std::string_view field) {
  CONCIERGE_ASSIGN_OR_RETURN(ByteView b, r.bytes(16, field));
  return format_guid(b);
}

namespace {
struct KnownGuid {
  std::string_view guid;
  std::string_view name;
};
constexpr std::array<KnownGuid, 24> kKnown = {{
    // Variable vendors.
    {"8be4df61-93ca-11d2-aa0d-00e098032b8c", "EFI_GLOBAL_VARIABLE"},
    {"d719b2cb-3d3a-4596-a3bc-dad00e67656f", "EFI_IMAGE_SECURITY_DATABASE"},
    {"605dab50-e046-4300-abb6-3dd810dd8b23", "SHIM_LOCK"},
    {"4a67b082-0a4c-41cf-b6c7-440b29bb8c4f", "SYSTEMD_LOADER"},
    // Signature types (UEFI spec 2.10 section 32.4.1).
    {"a5c059a1-94e4-4aa7-87b5-ab155c2bf072", "X.509"},
    {"c1c41626-504c-4092-aca9-41f936934328", "SHA-256"},
    {"826ca512-cf10-4ac9-b187-be01496631bd", "SHA-1"},
    {"3c5766e8-269c-4e34-aa14-ed776e85b3b6", "RSA-2048"},
    {"0b6e5233-a65c-44c9-9407-d9ab83bfc8bd", "SHA-224"},
    {"ff3e5307-9fd0-48c9-85f1-8ad56c701e01", "SHA-384"},
    {"093e0fae-a6c4-4f50-9f1b-d41e2b89c19a", "SHA-512"},
    {"3bd2a492-96c0-4079-b420-fcf98ef103ed", "X.509-SHA-256"},
    {"7076876e-80c2-4ee6-aad2-28b349a6865b", "X.509-SHA-384"},
    {"446dbf63-2502-4cda-bcfa-2465d2b0fe9d", "X.509-SHA-512"},
    // Configuration tables (EV_EFI_HANDOFF_TABLES).
    {"eb9d2d30-2d88-11d3-9a16-0090273fc14d", "ACPI 1.0 table"},
    {"8868e871-e4f1-11d3-bc22-0080c73c8881", "ACPI 2.0 table"},
    {"eb9d2d31-2d88-11d3-9a16-0090273fc14d", "SMBIOS table"},
    {"f2fd1544-9794-4a2c-992e-e5bbcf20e394", "SMBIOS3 table"},
    // GPT partition types.
    {"c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "EFI System"},
    {"0fc63daf-8483-4772-8e79-3d69d8477de4", "Linux filesystem"},
    {"21686148-6449-6e6f-744e-656564454649", "BIOS boot"},
    {"0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "Linux swap"},
    {"e6d6d379-f507-44c2-a23c-238f2a3df928", "Linux LVM"},
    {"ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "Microsoft basic data"},
}};
}  // namespace

std::optional<std::string_view> guid_name(std::string_view guid) {
  for (const KnownGuid& k : kKnown) {
    if (k.guid == guid) return k.name;
  }
  return std::nullopt;
}

}  // namespace decode_detail
}  // namespace concierge::measure
