#include "concierge/measure/event_types.h"

#include <array>
#include <utility>

namespace concierge::measure::event_type {
namespace {

constexpr std::array<std::pair<std::uint32_t, std::string_view>, 41> kNames = {{
    {kPrebootCert, "EV_PREBOOT_CERT"},
    {kPostCode, "EV_POST_CODE"},
    {kUnused, "EV_UNUSED"},
    {kNoAction, "EV_NO_ACTION"},
    {kSeparator, "EV_SEPARATOR"},
    {kAction, "EV_ACTION"},
    {kEventTag, "EV_EVENT_TAG"},
    {kSCrtmContents, "EV_S_CRTM_CONTENTS"},
    {kSCrtmVersion, "EV_S_CRTM_VERSION"},
    {kCpuMicrocode, "EV_CPU_MICROCODE"},
    {kPlatformConfigFlags, "EV_PLATFORM_CONFIG_FLAGS"},
    {kTableOfDevices, "EV_TABLE_OF_DEVICES"},
    {kCompactHash, "EV_COMPACT_HASH"},
    {kIpl, "EV_IPL"},
    {kIplPartitionData, "EV_IPL_PARTITION_DATA"},
    {kNonhostCode, "EV_NONHOST_CODE"},
    {kNonhostConfig, "EV_NONHOST_CONFIG"},
    {kNonhostInfo, "EV_NONHOST_INFO"},
    {kOmitBootDeviceEvents, "EV_OMIT_BOOT_DEVICE_EVENTS"},
    {kPostCode2, "EV_POST_CODE2"},
    {kEfiEventBase, "EV_EFI_EVENT_BASE"},
    {kEfiVariableDriverConfig, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
    {kEfiVariableBoot, "EV_EFI_VARIABLE_BOOT"},
    {kEfiBootServicesApplication, "EV_EFI_BOOT_SERVICES_APPLICATION"},
    {kEfiBootServicesDriver, "EV_EFI_BOOT_SERVICES_DRIVER"},
    {kEfiRuntimeServicesDriver, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
    {kEfiGptEvent, "EV_EFI_GPT_EVENT"},
    {kEfiAction, "EV_EFI_ACTION"},
    {kEfiPlatformFirmwareBlob, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
    {kEfiHandoffTables, "EV_EFI_HANDOFF_TABLES"},
    {kEfiPlatformFirmwareBlob2, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
    {kEfiHandoffTables2, "EV_EFI_HANDOFF_TABLES2"},
    {kEfiVariableBoot2, "EV_EFI_VARIABLE_BOOT2"},
    {kEfiGptEvent2, "EV_EFI_GPT_EVENT2"},
    {kEfiHcrtmEvent, "EV_EFI_HCRTM_EVENT"},
    {kEfiVariableAuthority, "EV_EFI_VARIABLE_AUTHORITY"},
    {kEfiSpdmFirmwareBlob, "EV_EFI_SPDM_FIRMWARE_BLOB"},
    {kEfiSpdmFirmwareConfig, "EV_EFI_SPDM_FIRMWARE_CONFIG"},
    {kEfiSpdmDevicePolicy, "EV_EFI_SPDM_DEVICE_POLICY"},
    {kEfiSpdmDeviceAuthority, "EV_EFI_SPDM_DEVICE_AUTHORITY"},
    {0x80000000u, "EV_EFI_EVENT_BASE"},
}};

}  // namespace

std::string_view name(std::uint32_t type) {
  for (const auto& [value, text] : kNames) {
    if (value == type) return text;
  }
  return "EV_UNKNOWN";
}

bool from_name(std::string_view text, std::uint32_t& type) {
  for (const auto& [value, n] : kNames) {
    if (n == text) {
      type = value;
      return true;
    }
  }
  return false;
}

}  // namespace concierge::measure::event_type
