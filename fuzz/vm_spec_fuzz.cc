// libFuzzer target: the VM spec reader (tc/vm/spec.h). A spec that parses
// names a guest (a valid name, firmware, and one way to boot).

#include <cstddef>
#include <cstdint>

#include "tc/vm/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tc;
  auto spec = vm::ParseSpec(std::span<const std::uint8_t>(data, size), "/base");
  if (!spec) return 0;
  if (spec->name.empty() || spec->firmware.empty() || spec->firmware_vars.empty()) __builtin_trap();
  if (spec->kernel.empty() == spec->esp.empty()) __builtin_trap();
  if (spec->disks.size() > 16 || spec->memory_mib < 64 || spec->cpus < 1) __builtin_trap();
  return 0;
}
