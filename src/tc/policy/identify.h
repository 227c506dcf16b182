#pragma once

// What a firmware-log event measured, as a component of the trust chain:
// the stage it belongs to, a stable name, the match rule that recognises the
// same component in another boot, and the text its digest covers when the
// log shows it. Both `policy learn` (a golden boot becomes components) and
// `verify` (a new boot's events are matched to components) use this one
// mapping, so that what is learned is exactly what is recognised.
//
// The mapping follows the TCG PC Client Platform Firmware Profile (PFP)
// 1.05, 3.3.4 "PCR Usage" and 10.4.1 "Event Types", and what the boot
// loaders measure beyond it:
//   PCR 0  EV_S_CRTM_VERSION, EV_EFI_PLATFORM_FIRMWARE_BLOB(2), EV_POST_CODE
//          -> firmware (one component per firmware volume base/description)
//   PCR 1  EV_EFI_VARIABLE_BOOT(2) BootOrder/Boot#### -> firmware (boot order,
//          boot options); EV_EFI_HANDOFF_TABLES(2), config variables
//   PCR 2/3 option ROMs and their configuration -> firmware
//   PCR 4  EV_EFI_BOOT_SERVICES_APPLICATION (PFP 10.2.3: the Authenticode
//          hash of the image) -> bootloader, or kernel for a Linux image
//   PCR 5  EV_EFI_GPT_EVENT -> firmware (the boot disk's partition table)
//   PCR 7  EV_EFI_VARIABLE_DRIVER_CONFIG SecureBoot/PK/KEK/db/dbx and
//          EV_EFI_VARIABLE_AUTHORITY -> secureboot
//   PCR 8  GRUB: "grub_cmd: ..." -> bootloader (its configuration),
//          "kernel_cmdline: ..." -> cmdline
//   PCR 9  GRUB: files it read -> kernel / initrd / bootloader; Linux EFI
//          stub: EV_EVENT_TAG 0x8f3b22ed (LoadOptions) -> cmdline and
//          0x8f3b22ec (initrd) -> initrd
//   PCR 12 systemd-boot/systemd-stub: EV_IPL load options -> cmdline
//   PCR 14 shim: EV_IPL MokList/MokListX/MokListTrusted -> secureboot
//   any    EV_SEPARATOR -> firmware ("separator-pcrN"); EV_EFI_ACTION text
//
// Trust: the input is an unverified event (event.h); so is the result. It
// decides which component an event is compared with; what is trusted is
// decided only by the event's digest, which replay against a quote proves.

#include <cstdint>
#include <string>

#include "tc/eventlog/event.h"
#include "tc/policy/policy.h"

namespace tc::policy {

// Longest description / content kept (longer ones are cut, ending "...").
inline constexpr std::size_t kMaxDescriptionSize = 512;
inline constexpr std::size_t kMaxContentSize = 4096;

struct EventIdentity {
  Stage stage = Stage::kFirmware;
  std::string name;  // e.g. "kernel-cmdline", "secureboot-db", "BOOTX64.EFI"
  Match match;       // pcr, type and description of this event
  // The digest identifies the component itself (an EFI image: another
  // binary is another component). Otherwise the match rule names a slot
  // (the command line, a variable) whose digest changing is tampering.
  bool by_digest = false;
  // What the digest covers, when the event data is it (a command line, a
  // variable's value) and the data hashes to the digest; else "".
  std::string content;
  // Plain-language noun for reports: "boot loader", "kernel command line",
  // "Secure Boot variable db", "boot order".
  std::string what;
};

// Never fails. Call only for events replay extends (eventlog::IsExtended).
EventIdentity Identify(const eventlog::RawEvent& event);

// The last component of a path ('/' or '\\' separated).
std::string PathBasename(std::string_view path);
// True for file names of Linux kernel images: vmlinuz*, vmlinux*, bzImage*,
// linux*, kernel*, *.uki (case-insensitive).
bool LooksLikeKernel(std::string_view path);

}  // namespace tc::policy
