#pragma once

// Hex and text helpers for bytes of any origin.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tc/base/error.h"

namespace tc {

using Bytes = std::vector<std::uint8_t>;

// Lowercase hex, two digits per byte.
std::string ToHex(std::span<const std::uint8_t> bytes);

// Parses hex digits (either case), with an optional "0x" prefix. Fails with
// kInvalidArgument on an odd length or a non-hex character.
[[nodiscard]] Result<Bytes> ParseHex(std::string_view hex);

inline std::span<const std::uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Decodes hex (either case, no prefix) of exactly 2 * out.size() digits
// into out, with no allocation; false on a bad digit or length (out is then
// unspecified). For bulk input (policies with a million digests).
[[nodiscard]] bool DecodeHex(std::string_view hex, std::span<std::uint8_t> out);

// UTF-16LE (UEFI CHAR16) to UTF-8. Stops at the first NUL. Unpaired
// surrogates become U+FFFD; an odd trailing byte is ignored.
std::string Utf16LeToUtf8(std::span<const std::uint8_t> bytes);

// Bytes as text for people: printable ASCII kept, trailing NULs dropped,
// anything else escaped as \xNN. Never longer than 4x the input.
std::string PrintableAscii(std::span<const std::uint8_t> bytes);

// True when every byte (ignoring trailing NULs) is printable ASCII or
// tab/CR/LF, and there is at least one.
bool IsPrintableAscii(std::span<const std::uint8_t> bytes);

// True when bytes look like NUL-terminated or plain UTF-16LE text of
// printable ASCII characters (every odd byte zero).
bool LooksLikeUtf16Ascii(std::span<const std::uint8_t> bytes);

}  // namespace tc
