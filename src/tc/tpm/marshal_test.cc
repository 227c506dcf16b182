#include "tc/tpm/marshal.h"

#include <gtest/gtest.h>

#include "tc/tpm/testing/quote_builder.h"

namespace tc::tpm {
namespace {

using crypto::HashAlg;

TEST(PcrSelectionTextTest, RoundTrips) {
  auto s = ParsePcrSelectionText("sha256:10,0,7+sha1:0");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(PcrSelectionText(*s), "sha256:0,7,10+sha1:0");
  EXPECT_EQ(ParsePcrSelectionText("sha256:all")->front().pcrs.size(), 24u);
  EXPECT_FALSE(ParsePcrSelectionText("sha256:24").has_value());
  EXPECT_FALSE(ParsePcrSelectionText("md5:1").has_value());
  EXPECT_FALSE(ParsePcrSelectionText("").has_value());
}

TEST(ParseAttestTest, RejectsAbsurdSelectionCountAndTrailingBytes) {
  testing::QuoteParts p;
  p.selection = {{HashAlg::kSha256, {1}}};
  p.values = {Bytes(32, 1)};
  Bytes a = testing::MakeAttest(p);
  ASSERT_TRUE(ParseAttest(a).has_value());
  Bytes trailing = a;
  trailing.push_back(0);
  EXPECT_FALSE(ParseAttest(trailing).has_value());
  // The selection count sits right after firmwareVersion.
  const std::size_t count_at = 4 + 2 + 2 + 34 + 2 + 0 + 17 + 8;
  Bytes absurd = a;
  absurd[count_at] = 0x7F;
  auto r = ParseAttest(absurd);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("count"), std::string::npos) << r.error().message();
}

TEST(ParsePublic2bTest, ReadsRsaAndEccKeysAndComputesTheName) {
  for (bool rsa : {true, false}) {
    auto key = rsa ? testing::TestKey::Rsa2048() : testing::TestKey::EccP256();
    auto p = ParsePublic2b(key.Public2b());
    ASSERT_TRUE(p.has_value()) << p.error().message();
    EXPECT_TRUE(p->restricted());
    EXPECT_TRUE(p->sign());
    auto name = ObjectName(*p);
    ASSERT_TRUE(name.has_value());
    EXPECT_EQ(name->size(), 34u);
    EXPECT_EQ((*name)[1], 0x0B);
    Bytes cut = key.Public2b();
    cut.pop_back();
    EXPECT_FALSE(ParsePublic2b(cut).has_value());
  }
}

TEST(ParseSignatureTest, RejectsUnknownSchemes) {
  const Bytes hmac = {0x00, 0x05, 0x00, 0x0B};
  auto s = ParseSignature(hmac);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace tc::tpm
