// libFuzzer target: the PCR values text parser (--pcrs files).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tc/pcr/pcr_values.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto values = tc::pcr::ParsePcrValues(text);
  if (values) (void)tc::pcr::Compare(*values, *values);
  return 0;
}
