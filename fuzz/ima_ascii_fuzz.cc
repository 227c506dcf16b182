// libFuzzer target: the ascii IMA measurement list parser (and replay,
// allowlist check, checkpoint and rendering of what it reads).

#include "ima_list_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tc::fuzz::FuzzImaList(data, size, tc::ima::ListFormat::kAscii);
  return 0;
}
