// libFuzzer target: the whitelist loader (ParsePolicy) and the Keylime
// importers. A policy that loads must serialize to a form that loads again
// to the same serialization (what `policy approve` and friends rely on when
// they rewrite the file).

#include <cstddef>
#include <cstdint>
#include <string>

#include "tc/policy/evaluate.h"
#include "tc/policy/keylime_import.h"
#include "tc/policy/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tc::policy;
  const std::span<const std::uint8_t> bytes(data, size);
  if (auto p = ParsePolicy(bytes)) {
    const std::string once = SerializePolicy(*p);
    auto again = ParsePolicy(tc::AsBytes(once));
    if (!again || SerializePolicy(*again) != once) __builtin_trap();
    (void)CanonicalBytes(*p);
    (void)BuildAllowlist(*p);
  }
  Policy imported;
  LearnNotes notes;
  (void)ImportKeylimeRuntimePolicy(bytes, imported, notes);
  (void)ImportKeylimeRefstate(bytes, "fuzz", "t", imported, notes);
  if (!ParsePolicy(tc::AsBytes(SerializePolicy(imported)))) __builtin_trap();
  return 0;
}
