// libFuzzer target: the libvirt domain XML reader (src/tc/launch/
// libvirt_domain.h), the XML the QEMU hook gets on stdin. libxml2 itself is
// not instrumented; this exercises our tree walk over what it accepts.
// Seeds: fuzz/seeds/libvirt_domain/, hand-written from libvirt's
// formatdomain.html examples.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "tc/base/error.h"
#include "tc/launch/libvirt_domain.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tc::ErrorCode;
  using tc::launch::InputKind;
  auto d = tc::launch::ParseLibvirtDomain(std::span<const std::uint8_t>(data, size));
  if (!d.has_value()) {
    // Only the documented codes, always with a message.
    const ErrorCode c = d.error().code();
    if ((c != ErrorCode::kMalformed && c != ErrorCode::kInvalidArgument &&
         c != ErrorCode::kUnsupported) ||
        d.error().message().empty()) {
      __builtin_trap();
    }
    return 0;
  }
  if (d->name.empty() || (d->type != "kvm" && d->type != "qemu")) __builtin_trap();
  for (const tc::launch::LaunchInput& in : d->inputs) {
    if (in.arg == 0) __builtin_trap();  // every input names its line
    if (in.kind == InputKind::kCmdline) continue;
    // Every path is absolute and NUL-free.
    if (in.value.empty() || in.value.front() != '/' ||
        in.value.find('\0') != std::string::npos) {
      __builtin_trap();
    }
  }
  return 0;
}
