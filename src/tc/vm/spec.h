#pragma once

// A self-contained guest described by a small spec file (`trustchain vm run
// SPEC`, issue 6). One "key = value" per line; '#' starts a comment line;
// blank lines are ignored; keys may not repeat except `disk`. Paths are
// relative to the spec file's directory unless absolute.
//
//   name          = web1                         required; [A-Za-z0-9._-], at most 64
//   firmware      = /usr/share/OVMF/OVMF_CODE_4M.fd   UEFI code (read-only pflash)
//   firmware_vars = /usr/share/OVMF/OVMF_VARS_4M.fd   variable store template
//                                                 (copied fresh for every boot)
//   kernel        = vmlinuz                      direct kernel boot ...
//   initrd        = initrd.cpio                  ... with an initrd
//   cmdline       = console=ttyS0 quiet          ... and a command line
//   esp           = esp.img                      or: boot this ESP/disk image
//   disk          = data.img                     more disks (read-only), repeatable
//   memory        = 512                          MiB (64..65536; default 512)
//   cpus          = 1                            (1..64; default 1)
//   vtpm          = on                           on|off (default on)
//   accel         = auto                         auto|kvm|tcg (default auto)
//   boot_timeout  = 300                          seconds until the guest's evidence
//   policy        = vms.json                     whitelist (the command line's
//                                                 --policy wins)
//
// A guest needs firmware and firmware_vars, and either kernel (with
// optional initrd and cmdline) or esp. The file is the operator's, but
// parsed strictly: errors name the line.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tc/base/error.h"

namespace tc::vm {

inline constexpr std::size_t kMaxSpecSize = 64 * 1024;

enum class Accel { kAuto, kKvm, kTcg };

struct Spec {
  std::string name;
  std::string firmware, firmware_vars;
  std::string kernel, initrd, cmdline, esp;
  bool has_cmdline = false;
  std::vector<std::string> disks;
  std::uint32_t memory_mib = 512;
  std::uint32_t cpus = 1;
  bool vtpm = true;
  Accel accel = Accel::kAuto;
  std::uint32_t boot_timeout = 300;
  std::string policy;
};

// `base_dir` resolves relative paths. kMalformed / kInvalidArgument naming
// "line N" for a line that is not "key = value", an unknown or repeated key,
// a bad value, and for a spec missing what a guest needs.
[[nodiscard]] Result<Spec> ParseSpec(std::span<const std::uint8_t> text,
                                     const std::string& base_dir);

}  // namespace tc::vm
