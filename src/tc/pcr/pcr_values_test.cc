#include "tc/pcr/pcr_values.h"

#include <gtest/gtest.h>

namespace tc::pcr {
namespace {

using crypto::HashAlg;

const char kSha1A[] = "92c1850372e9493929aa9a2e9ea953e21ff1be45";
const char kSha256A[] =
    "177e29c417b6b61c7cf46ed30b4468931f58642527a268b556254e39b941ec6a";

TEST(ParsePcrValuesTest, IndexHexLinesInferBank) {
  auto v = ParsePcrValues(std::string("0 ") + kSha256A + "\n4 " + kSha1A + "\n");
  ASSERT_TRUE(v.has_value()) << v.error().message();
  ASSERT_NE(v->Find(HashAlg::kSha256, 0), nullptr);
  EXPECT_EQ(v->Find(HashAlg::kSha256, 0)->Hex(), kSha256A);
  EXPECT_NE(v->Find(HashAlg::kSha1, 4), nullptr);
}

TEST(ParsePcrValuesTest, Tpm2PcrreadYaml) {
  auto v = ParsePcrValues(std::string("sha1:\n  0  : 0x") + kSha1A +
                          "\nsha256:\n  7 : 0x" + kSha256A + "\n");
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_NE(v->Find(HashAlg::kSha1, 0), nullptr);
  EXPECT_NE(v->Find(HashAlg::kSha256, 7), nullptr);
}

TEST(ParsePcrValuesTest, BareLinesAreNumberedAndToolHeadersSkipped) {
  auto v = ParsePcrValues(std::string("pcrread: tsspcrread -halg sha1\n") +
                          kSha1A + "\n" + kSha1A + "\n");
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_NE(v->Find(HashAlg::kSha1, 1), nullptr);
}

TEST(ParsePcrValuesTest, ErrorsNameTheLine) {
  auto v = ParsePcrValues(std::string("0 ") + kSha1A + "\n24 " + kSha1A);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(v.error().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ParsePcrValues("sha256:\n0 abcd\n").has_value());
  EXPECT_FALSE(ParsePcrValues("0 xyz\n").has_value());
  EXPECT_FALSE(ParsePcrValues("\n# nothing\n").has_value());
  EXPECT_FALSE(ParsePcrValues(std::string("0 ") + kSha1A + "\n0 " +
                              std::string(40, '0')).has_value());
}

TEST(ParsePcrValuesTest, UnknownBankAndKeyedDigestsAreErrorsNotDrops) {
  auto v = ParsePcrValues(std::string("sha256:\n  0 : 0x") + kSha256A + "\nsha3_256:\n  1 : 0x" +
                          kSha256A + "\n");
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message().find("line 4"), std::string::npos) << v.error().message();
  EXPECT_NE(v.error().message().find("sha3_256"), std::string::npos);
  auto keyed = ParsePcrValues(std::string("PCR7: ") + kSha256A + "\n");
  ASSERT_FALSE(keyed.has_value());
  EXPECT_NE(keyed.error().message().find("'PCR7' is not a PCR index"), std::string::npos);
  // The tpm2_eventlog container header is still fine.
  EXPECT_TRUE(ParsePcrValues(std::string("pcrs:\n  sha256:\n    0 : 0x") + kSha256A).has_value());
}

TEST(CompareTest, ReportsOnlyCommonPcrs) {
  auto a = *ParsePcrValues(std::string("0 ") + kSha1A + "\n1 " + kSha1A);
  auto b = *ParsePcrValues(std::string("0 ") + kSha1A + "\n2 " + kSha1A);
  auto c = Compare(a, b);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_TRUE(c[0].match);
}

}  // namespace
}  // namespace tc::pcr
