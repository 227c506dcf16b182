// libFuzzer target: the serial capture a test guest sends (tc::vm
// ParseGuestDump). A dump that parses holds eventlog.bin and distinct known
// names within the size cap, and re-encodes to a capture that parses to the
// same files.

#include <cstddef>
#include <cstdint>
#include <string>

#include "tc/vm/guest_dump.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tc;
  auto dump = vm::ParseGuestDump(std::span<const std::uint8_t>(data, size));
  if (!dump) return 0;
  if (dump->Find("eventlog.bin") == nullptr) __builtin_trap();
  for (std::size_t i = 0; i < dump->files.size(); ++i) {
    if (dump->files[i].data.size() > vm::kMaxGuestFile) __builtin_trap();
    if (dump->Find(dump->files[i].name) != &dump->files[i]) __builtin_trap();
  }
  const std::string again = vm::EncodeGuestDump(*dump);
  auto reparsed = vm::ParseGuestDump(AsBytes(again));
  if (!reparsed || reparsed->files.size() != dump->files.size()) __builtin_trap();
  for (std::size_t i = 0; i < dump->files.size(); ++i) {
    if (reparsed->files[i].name != dump->files[i].name ||
        reparsed->files[i].data != dump->files[i].data) {
      __builtin_trap();
    }
  }
  return 0;
}
