#include "tc/eventlog/event.h"

#include <fmt/format.h>

namespace tc::eventlog {

std::string EventTypeName(std::uint32_t type) {
  switch (type) {
    case ev::kPrebootCert: return "EV_PREBOOT_CERT";
    case ev::kPostCode: return "EV_POST_CODE";
    case ev::kUnused: return "EV_UNUSED";
    case ev::kNoAction: return "EV_NO_ACTION";
    case ev::kSeparator: return "EV_SEPARATOR";
    case ev::kAction: return "EV_ACTION";
    case ev::kEventTag: return "EV_EVENT_TAG";
    case ev::kSCrtmContents: return "EV_S_CRTM_CONTENTS";
    case ev::kSCrtmVersion: return "EV_S_CRTM_VERSION";
    case ev::kCpuMicrocode: return "EV_CPU_MICROCODE";
    case ev::kPlatformConfigFlags: return "EV_PLATFORM_CONFIG_FLAGS";
    case ev::kTableOfDevices: return "EV_TABLE_OF_DEVICES";
    case ev::kCompactHash: return "EV_COMPACT_HASH";
    case ev::kIpl: return "EV_IPL";
    case ev::kIplPartitionData: return "EV_IPL_PARTITION_DATA";
    case ev::kNonhostCode: return "EV_NONHOST_CODE";
    case ev::kNonhostConfig: return "EV_NONHOST_CONFIG";
    case ev::kNonhostInfo: return "EV_NONHOST_INFO";
    case ev::kOmitBootDeviceEvents: return "EV_OMIT_BOOT_DEVICE_EVENTS";
    case ev::kPostCode2: return "EV_POST_CODE2";
    case ev::kEfiVariableDriverConfig: return "EV_EFI_VARIABLE_DRIVER_CONFIG";
    case ev::kEfiVariableBoot: return "EV_EFI_VARIABLE_BOOT";
    case ev::kEfiBootServicesApplication: return "EV_EFI_BOOT_SERVICES_APPLICATION";
    case ev::kEfiBootServicesDriver: return "EV_EFI_BOOT_SERVICES_DRIVER";
    case ev::kEfiRuntimeServicesDriver: return "EV_EFI_RUNTIME_SERVICES_DRIVER";
    case ev::kEfiGptEvent: return "EV_EFI_GPT_EVENT";
    case ev::kEfiAction: return "EV_EFI_ACTION";
    case ev::kEfiPlatformFirmwareBlob: return "EV_EFI_PLATFORM_FIRMWARE_BLOB";
    case ev::kEfiHandoffTables: return "EV_EFI_HANDOFF_TABLES";
    case ev::kEfiPlatformFirmwareBlob2: return "EV_EFI_PLATFORM_FIRMWARE_BLOB2";
    case ev::kEfiHandoffTables2: return "EV_EFI_HANDOFF_TABLES2";
    case ev::kEfiVariableBoot2: return "EV_EFI_VARIABLE_BOOT2";
    case ev::kEfiGptEvent2: return "EV_EFI_GPT_EVENT2";
    case ev::kEfiHcrtmEvent: return "EV_EFI_HCRTM_EVENT";
    case ev::kEfiVariableAuthority: return "EV_EFI_VARIABLE_AUTHORITY";
    case ev::kEfiSpdmFirmwareBlob: return "EV_EFI_SPDM_FIRMWARE_BLOB";
    case ev::kEfiSpdmFirmwareConfig: return "EV_EFI_SPDM_FIRMWARE_CONFIG";
    case ev::kEfiSpdmDevicePolicy: return "EV_EFI_SPDM_DEVICE_POLICY";
    case ev::kEfiSpdmDeviceAuthority: return "EV_EFI_SPDM_DEVICE_AUTHORITY";
    default: return fmt::format("0x{:08x}", type);
  }
}

const crypto::Digest* RawEvent::DigestFor(crypto::HashAlg alg) const {
  for (const auto& d : digests) {
    if (d.alg() == alg) return &d;
  }
  return nullptr;
}

}  // namespace tc::eventlog
