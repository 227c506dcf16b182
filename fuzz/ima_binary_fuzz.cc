// libFuzzer target: the binary IMA measurement list parser (byte order and
// digest size detection, every template's fields) and what reads it.

#include "ima_list_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tc::fuzz::FuzzImaList(data, size, tc::ima::ListFormat::kBinary);
  return 0;
}
