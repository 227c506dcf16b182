// libFuzzer target: the PE/COFF header parser and the Authenticode image
// hash of EFI binaries (src/tc/pe). Seeds: fuzz/seeds/pe/, hand-built by
// fuzz/make_pe_seeds.py.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "tc/base/error.h"
#include "tc/crypto/hash.h"
#include "tc/pe/authenticode.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::span<const std::uint8_t> image(data, size);
  auto info = tc::pe::ParsePe(image);
  auto digest = tc::pe::AuthenticodeHash(image, tc::crypto::HashAlg::kSha256);
  // Both run the same header checks: they must agree on whether the image
  // is well-formed, and every failure must be kMalformed and name an offset.
  if (info.has_value() != digest.has_value()) __builtin_trap();
  if (!info.has_value() &&
      (info.error().code() != tc::ErrorCode::kMalformed ||
       info.error().message().find("offset") == std::string::npos)) {
    __builtin_trap();
  }
  return 0;
}
