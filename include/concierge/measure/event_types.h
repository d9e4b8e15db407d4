// TCG event types. TCG PC Client Platform Firmware Profile Specification
// (PFP) v1.05, section 10.4.1 "Event Types".
#pragma once

#include <cstdint>
#include <string_view>

namespace concierge::measure::event_type {

inline constexpr std::uint32_t kPrebootCert = 0x00000000;
inline constexpr std::uint32_t kPostCode = 0x00000001;
inline constexpr std::uint32_t kUnused = 0x00000002;
inline constexpr std::uint32_t kNoAction = 0x00000003;
inline constexpr std::uint32_t kSeparator = 0x00000004;
inline constexpr std::uint32_t kAction = 0x00000005;
inline constexpr std::uint32_t kEventTag = 0x00000006;
inline constexpr std::uint32_t kSCrtmContents = 0x00000007;
inline constexpr std::uint32_t kSCrtmVersion = 0x00000008;
inline constexpr std::uint32_t kCpuMicrocode = 0x00000009;
inline constexpr std::uint32_t kPlatformConfigFlags = 0x0000000A;
inline constexpr std::uint32_t kTableOfDevices = 0x0000000B;
inline constexpr std::uint32_t kCompactHash = 0x0000000C;
inline constexpr std::uint32_t kIpl = 0x0000000D;
inline constexpr std::uint32_t kIplPartitionData = 0x0000000E;
inline constexpr std::uint32_t kNonhostCode = 0x0000000F;
inline constexpr std::uint32_t kNonhostConfig = 0x00000010;
inline constexpr std::uint32_t kNonhostInfo = 0x00000011;
inline constexpr std::uint32_t kOmitBootDeviceEvents = 0x00000012;
inline constexpr std::uint32_t kPostCode2 = 0x00000013;

inline constexpr std::uint32_t kEfiEventBase = 0x80000000;
inline constexpr std::uint32_t kEfiVariableDriverConfig = 0x80000001;
inline constexpr std::uint32_t kEfiVariableBoot = 0x80000002;
inline constexpr std::uint32_t kEfiBootServicesApplication = 0x80000003;
inline constexpr std::uint32_t kEfiBootServicesDriver = 0x80000004;
inline constexpr std::uint32_t kEfiRuntimeServicesDriver = 0x80000005;
inline constexpr std::uint32_t kEfiGptEvent = 0x80000006;
inline constexpr std::uint32_t kEfiAction = 0x80000007;
inline constexpr std::uint32_t kEfiPlatformFirmwareBlob = 0x80000008;
inline constexpr std::uint32_t kEfiHandoffTables = 0x80000009;
inline constexpr std::uint32_t kEfiPlatformFirmwareBlob2 = 0x8000000A;
inline constexpr std::uint32_t kEfiHandoffTables2 = 0x8000000B;
inline constexpr std::uint32_t kEfiVariableBoot2 = 0x8000000C;
inline constexpr std::uint32_t kEfiGptEvent2 = 0x8000000D;
inline constexpr std::uint32_t kEfiHcrtmEvent = 0x80000010;
inline constexpr std::uint32_t kEfiVariableAuthority = 0x800000E0;
inline constexpr std::uint32_t kEfiSpdmFirmwareBlob = 0x800000E1;
inline constexpr std::uint32_t kEfiSpdmFirmwareConfig = 0x800000E2;
inline constexpr std::uint32_t kEfiSpdmDevicePolicy = 0x800000E3;
inline constexpr std::uint32_t kEfiSpdmDeviceAuthority = 0x800000E4;

// "EV_SEPARATOR", "EV_EFI_VARIABLE_BOOT", ...; "EV_UNKNOWN" otherwise.
std::string_view name(std::uint32_t type);
// Inverse of name(); false when the name is not known.
bool from_name(std::string_view name, std::uint32_t& type);

}  // namespace concierge::measure::event_type
