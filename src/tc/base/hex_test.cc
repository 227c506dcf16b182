#include "tc/base/hex.h"

#include <gtest/gtest.h>

namespace tc {
namespace {

TEST(HexTest, RoundTrips) {
  auto b = ParseHex("0x00Ff10");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(ToHex(*b), "00ff10");
}

TEST(HexTest, RejectsOddLengthAndBadDigits) {
  EXPECT_EQ(ParseHex("abc").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseHex("zz").error().code(), ErrorCode::kInvalidArgument);
}

TEST(HexTest, DecodesUtf16WithSurrogatesAndStopsAtNul) {
  const std::vector<std::uint8_t> b = {'B', 0, 'o', 0, 0x3D, 0xD8, 0x00, 0xDE,
                                       0, 0, 'x', 0};
  EXPECT_EQ(Utf16LeToUtf8(b), "Bo\xF0\x9F\x98\x80");
}

TEST(HexTest, UnpairedSurrogateBecomesReplacement) {
  const std::vector<std::uint8_t> b = {0x00, 0xD8, 'a', 0};
  EXPECT_EQ(Utf16LeToUtf8(b), "\xEF\xBF\xBD" "a");
}

TEST(HexTest, PrintableAsciiEscapes) {
  const std::vector<std::uint8_t> b = {'a', 0x01, '\\', 0, 0};
  EXPECT_EQ(PrintableAscii(b), "a\\x01\\\\");
  EXPECT_FALSE(IsPrintableAscii(b));
  EXPECT_TRUE(IsPrintableAscii(AsBytes(std::string_view("ACPI DATA"))));
}

TEST(HexTest, RecognisesUtf16Text) {
  const std::vector<std::uint8_t> yes = {'h', 0, 'i', 0, 0, 0};
  const std::vector<std::uint8_t> no = {'h', 0, 'i', 1};
  EXPECT_TRUE(LooksLikeUtf16Ascii(yes));
  EXPECT_FALSE(LooksLikeUtf16Ascii(no));
}

}  // namespace
}  // namespace tc
