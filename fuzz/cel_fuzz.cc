// libFuzzer target: the CEL-JSON reader (both framings) and replay. A log
// that parses re-serializes, record by record, to a sequence that parses to
// the same records.

#include <cstddef>
#include <cstdint>
#include <string>

#include "tc/cel/cel.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tc;
  auto records = cel::Parse(std::span<const std::uint8_t>(data, size));
  if (!records) return 0;
  (void)cel::Replay(*records);
  std::string again;
  for (const cel::Record& r : *records) again += cel::SequenceElement(r);
  auto reparsed = cel::Parse(AsBytes(again));
  if (!reparsed || reparsed->size() != records->size()) __builtin_trap();
  for (std::size_t i = 0; i < records->size(); ++i) {
    if ((*reparsed)[i].recnum != (*records)[i].recnum || (*reparsed)[i].pcr != (*records)[i].pcr ||
        (*reparsed)[i].digests != (*records)[i].digests) {
      __builtin_trap();
    }
  }
  return 0;
}
