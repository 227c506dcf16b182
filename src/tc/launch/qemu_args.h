#pragma once

// What a QEMU command line will load into a guest, found before QEMU runs
// (issue 6, measured launch): firmware (pflash code and variables, -bios),
// a direct kernel boot (-kernel, -initrd, -append), and disk images
// (-drive file=, -blockdev filename=, -hda..-hdd, -cdrom, -pflash).
//
// The command line is the operator's (or libvirt's), not hostile, but it is
// parsed strictly: an option this parser cannot place (an unknown option
// that might or might not take an argument) is reported, never guessed
// past, since a file QEMU loads that we did not measure would defeat the
// launch check. Option syntax follows QEMU's documentation (qemu-system
// -help; "-drive" and "-blockdev" suboptions "key=value" separated by ",",
// where ",," is a literal comma).

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "tc/base/error.h"

namespace tc::launch {

enum class InputKind {
  kFirmwareCode,  // -drive if=pflash unit 0 (or first), -pflash, -bios
  kFirmwareVars,  // -drive if=pflash unit 1 (the writable variable store)
  kKernel,        // -kernel
  kInitrd,        // -initrd
  kCmdline,       // -append (text, not a file)
  kDisk,          // -drive file= (other interfaces), -blockdev, -hdX, -cdrom
  // Not from the command line: added by the launcher.
  kEfiBinary,     // an EFI binary inside a disk's EFI system partition
  kVtpmEk,        // the guest vTPM's endorsement key (host-to-guest binding)
};
std::string_view InputKindName(InputKind k);  // "firmware-code", "disk", ...

struct LaunchInput {
  InputKind kind = InputKind::kDisk;
  std::string value;      // a path, or the command line for kCmdline
  std::size_t arg = 0;    // index in argv of the option naming it
  bool read_only = false; // readonly=on / snapshot: QEMU will not write it
};

struct QemuCommand {
  std::string binary;                // argv[0]
  std::string name;                  // -name NAME / guest=NAME; "" when absent
  std::vector<LaunchInput> inputs;   // in command-line order
  std::vector<std::string> notes;    // things the launcher should know ("-snapshot given")
};

// kInvalidArgument naming the argument index for: an option missing its
// argument, an unknown option (listed in the message), a -drive/-blockdev
// whose file is not a plain path (a protocol such as "nbd:" or "json:",
// which cannot be measured before the guest runs), or a -readconfig/-set
// that could add files this parser does not see.
[[nodiscard]] Result<QemuCommand> ParseQemuCommand(std::span<const std::string> argv);

}  // namespace tc::launch
