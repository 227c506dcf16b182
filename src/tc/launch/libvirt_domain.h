#pragma once

// What a libvirt QEMU/KVM guest will load, read from its domain XML before
// the guest starts (issue 6, measured launch). trustchain runs as libvirt's
// QEMU hook (/etc/libvirt/hooks/qemu <domain> prepare begin -), which gets
// the full domain XML on stdin; this reads that XML into the same
// LaunchInput list that ParseQemuCommand makes from a QEMU command line.
//
// Mapping (libvirt "Domain XML format", https://libvirt.org/formatdomain.html):
//   <os> ("Operating system booting"):
//     <loader [type='rom'|'pflash'] [readonly='yes'|'no']>P  kFirmwareCode;
//         read-only for rom (the default type) or readonly='yes'
//     <nvram [template='T']>P                   kFirmwareVars, writable; the
//         value is T when given (libvirt creates the per-VM store P from it),
//         else P; <nvram type='file'|'block'><source file|dev=P/> also
//     <kernel>P, <initrd>P                      kKernel, kInitrd (read-only)
//     <cmdline>TEXT                             kCmdline, TEXT (may be empty)
//     <dtb>P, <acpi><table>P                    kDisk, read-only (as
//         ParseQemuCommand maps -dtb and -acpitable)
//   <devices> ("Hard drives, floppy disks, CDROMs"):
//     <disk type='file'> <source file=P>, <disk type='block'> <source dev=P>
//         kDisk; read-only with <readonly/>, <transient/> or device='cdrom';
//         no <source> (an empty drive): nothing. Each file or block entry of
//         its <backingStore> chain (at most kMaxBackingChainDepth deep) and
//         a <source><dataStore> are kDisk too.
//     <interface>/<hostdev>/... <rom file=P>    kFirmwareCode, read-only (as
//         ParseQemuCommand maps -option-rom)
//   <sysinfo type='fwcfg'><entry file=P>        kDisk, read-only (-fw_cfg)
// Everything else (interfaces, graphics, elements in other namespaces, ...)
// is ignored. LaunchInput::arg is the 1-based XML line of the element that
// names the path: <loader>, <kernel>, ..., and for disks their <source>.
//
// The XML comes from libvirt but is treated as untrusted: at most
// kMaxDomainXmlSize bytes, parsed by libxml2 from memory with no network
// access, no entity substitution and no DTD (a document with a DOCTYPE is
// refused before its internal subset is read, so entity expansion bombs
// cost nothing). Elements libvirt reads once (<name>, <os>, <kernel>, a
// disk's <source>, ...) must appear at most once, and an attribute at most
// once whatever its namespace prefix: where libvirt would pick one of two,
// trustchain refuses rather than guess which.
//
// Thread-safe: each call uses its own libxml2 parser context (libxml2 is
// initialized once, on first use).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tc/base/error.h"
#include "tc/launch/qemu_args.h"

namespace tc::launch {

inline constexpr std::size_t kMaxDomainXmlSize = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxBackingChainDepth = 16;

struct LibvirtDomain {
  std::string name;   // <name>
  std::string uuid;   // <uuid>, may be empty
  std::string type;   // <domain type='kvm'|'qemu'>
  std::vector<LaunchInput> inputs;  // document order; LaunchInput.arg = the 1-based XML line of the element
  std::vector<std::string> notes;   // things an operator should know (e.g. "disk vdb is writable: its digest changes as the guest runs")
};

// Reads a libvirt domain XML document. Errors name the XML line (and, for
// syntax errors, the column); callers may branch on:
//   kMalformed        not well-formed XML (libxml2's message), an empty
//                     document, or one with a DOCTYPE ("DTDs are not
//                     accepted")
//   kInvalidArgument  larger than kMaxDomainXmlSize; a root element other
//                     than <domain>; no type attribute or no <name>; a path
//                     that is empty, relative or holds a NUL; a repeated
//                     element or attribute (see above); an unknown attribute
//                     value (loader type, readonly, firmware);
//                     <os firmware='efi'> without a <loader> path (libvirt
//                     picks the firmware file only when the guest starts, so
//                     it cannot be measured beforehand: name the loader)
//   kUnsupported      a domain type other than kvm or qemu; a disk, backing
//                     store or nvram whose data is not a local file or block
//                     device (network, volume, nvme, vhostuser, dir, ...),
//                     which cannot be measured before the guest runs; a
//                     backing chain deeper than kMaxBackingChainDepth;
//                     <qemu:commandline> or <qemu:override> (extra QEMU
//                     arguments could load files this check does not see)
[[nodiscard]] Result<LibvirtDomain> ParseLibvirtDomain(std::span<const std::uint8_t> xml);

}  // namespace tc::launch
