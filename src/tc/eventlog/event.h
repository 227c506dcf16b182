#pragma once

// TCG PC Client firmware event logs: event types and the event as read.
//
// Trust: a RawEvent is what the log claims. Its type, PCR index and data are
// covered by no digest; only its digests are extended into PCRs. Nothing in
// a RawEvent may be acted on until Replay() matches a quoted PCR (see
// verify.h), and even then only the digests are proven: the data is proven
// only for event types whose digest is the hash of their data
// (integrity.h).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tc/crypto/hash.h"

namespace tc::eventlog {

// Event types: TCG PC Client Platform Firmware Profile (PFP) spec 1.05,
// 10.4.1 "Event Types".
namespace ev {
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
}  // namespace ev

// "EV_SEPARATOR", "EV_EFI_VARIABLE_BOOT", ... or "0x%08x" when unknown.
std::string EventTypeName(std::uint32_t type);

// An event exactly as the log states it. `data` points into the buffer
// owned by the EventLog it came from and lives as long as that log.
struct RawEvent {
  std::size_t index = 0;   // position in the log; the first event is 0
  std::size_t offset = 0;  // byte offset of the event header in the file
  std::size_t size = 0;    // bytes the whole event occupies
  std::uint32_t pcr = 0;   // PCR index (TDX MR index in a CCEL log)
  std::uint32_t type = 0;  // unverified: covered by no digest
  std::vector<crypto::Digest> digests;  // one per bank, in log order
  std::span<const std::uint8_t> data;   // unverified event data

  // The digest of `alg`, or nullptr when the event has none for that bank.
  const crypto::Digest* DigestFor(crypto::HashAlg alg) const;
};

}  // namespace tc::eventlog
