#include "tc/base/hex.h"

#include <array>

namespace tc {

std::string ToHex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xF];
  }
  return out;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<Bytes> ParseHex(std::string_view hex) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
    hex.remove_prefix(2);
  }
  if (hex.size() % 2 != 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "odd number of hex digits (" + std::to_string(hex.size()) + ")");
  }
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  "not a hex digit at position " +
                      std::to_string(2 * i + (hi < 0 ? 0 : 1)));
    }
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

namespace {
void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}
}  // namespace

std::string Utf16LeToUtf8(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() / 2);
  const std::size_t units = bytes.size() / 2;
  for (std::size_t i = 0; i < units; ++i) {
    std::uint32_t u = bytes[2 * i] | (std::uint32_t{bytes[2 * i + 1]} << 8);
    if (u == 0) break;
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units) {
      const std::uint32_t lo = bytes[2 * i + 2] | (std::uint32_t{bytes[2 * i + 3]} << 8);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        AppendUtf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
        ++i;
        continue;
      }
    }
    if (u >= 0xD800 && u <= 0xDFFF) u = 0xFFFD;
    AppendUtf8(out, u);
  }
  return out;
}

namespace {
std::span<const std::uint8_t> TrimNuls(std::span<const std::uint8_t> b) {
  while (!b.empty() && b.back() == 0) b = b.first(b.size() - 1);
  return b;
}
bool Printable(std::uint8_t c) {
  return (c >= 0x20 && c < 0x7F) || c == '\t' || c == '\n' || c == '\r';
}
}  // namespace

std::string PrintableAscii(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  bytes = TrimNuls(bytes);
  std::string out;
  out.reserve(bytes.size());
  for (std::uint8_t c : bytes) {
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += "\\x";
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xF]);
    }
  }
  return out;
}

bool IsPrintableAscii(std::span<const std::uint8_t> bytes) {
  bytes = TrimNuls(bytes);
  if (bytes.empty()) return false;
  for (std::uint8_t c : bytes) {
    if (!Printable(c)) return false;
  }
  return true;
}

bool LooksLikeUtf16Ascii(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 2 || bytes.size() % 2 != 0) return false;
  std::size_t chars = 0;
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
    if (bytes[i + 1] != 0) return false;
    if (bytes[i] == 0) {
      // Only NULs may follow the terminator.
      for (std::size_t j = i; j < bytes.size(); ++j) {
        if (bytes[j] != 0) return false;
      }
      break;
    }
    if (!Printable(bytes[i])) return false;
    ++chars;
  }
  return chars > 0;
}

namespace {
constexpr std::array<std::int8_t, 256> kHexValue = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'A' + 10);
  return t;
}();
}  // namespace

bool DecodeHex(std::string_view hex, std::span<std::uint8_t> out) {
  if (hex.size() != 2 * out.size()) return false;
  int bad = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = kHexValue[static_cast<unsigned char>(hex[2 * i])];
    const int lo = kHexValue[static_cast<unsigned char>(hex[2 * i + 1])];
    bad |= hi | lo;  // negative if either digit is bad
    out[i] = static_cast<std::uint8_t>((hi << 4) | (lo & 0xf));
  }
  return bad >= 0;
}

}  // namespace tc
