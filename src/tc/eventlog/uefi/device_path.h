#pragma once

// UEFI device paths (UEFI 2.10, 10.2 "EFI Device Path Protocol" and 10.3
// "Device Path Nodes") rendered as text following UEFI 2.10, 10.6 "Text
// Device Path Representation", e.g.
//   PciRoot(0x0)/Pci(0x1,0x1)/Sata(0x0,0xFFFF,0x0)/HD(1,GPT,<guid>,0x800,
//   0x100000)/\EFI\BOOT\BOOTX64.EFI
//
// Trust: the input is unverified event data. Rendering never fails and never
// reads past the input; a malformed node ends the text with an error marker
// "<error: ...>". At most kMaxDevicePathNodes nodes are rendered.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "tc/base/error.h"

namespace tc::eventlog::uefi {

inline constexpr std::size_t kMaxDevicePathNodes = 4096;

struct DevicePathInfo {
  // The text form; instances are separated by ",".
  std::string text;
  // The file path of the last run of media file path nodes (type 4,
  // subtype 4), joined, e.g. "\EFI\BOOT\BOOTX64.EFI"; empty when none.
  std::string file;
  std::size_t node_count = 0;
  // More than kMaxDevicePathNodes nodes: the text stops with "/...".
  bool truncated = false;
  // Set when a node is malformed: "<what> at offset N", N counted from
  // base_offset. The text then ends with "<error: ...>".
  std::string error;
};

// Renders the device path in `bytes`. Rendering stops at the end of the
// entire path (type 0x7F, subtype 0xFF), at the end of `bytes`, or at the
// first malformed node. base_offset is added to offsets in `error` (the
// position of `bytes` within the event data).
DevicePathInfo DescribeDevicePath(std::span<const std::uint8_t> bytes,
                                  std::size_t base_offset = 0);

// DescribeDevicePath(bytes).text.
std::string DevicePathToText(std::span<const std::uint8_t> bytes);

// As DevicePathToText, but fails with kMalformed when a node is malformed.
[[nodiscard]] Result<std::string> ParseDevicePathText(
    std::span<const std::uint8_t> bytes);

}  // namespace tc::eventlog::uefi
