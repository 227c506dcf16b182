#include "tc/ima/signature.h"

#include <gtest/gtest.h>

#include "tc/base/hex.h"

namespace tc::ima {
namespace {

// struct signature_v2_hdr: type 3, version 2, hash_algo 4 (sha256), key id,
// big-endian size, signature.
Bytes Field(std::uint8_t type, std::uint8_t version, std::uint8_t algo, std::size_t sig_len,
            std::size_t declared) {
  Bytes b = {type, version, algo, 0x87, 0xca, 0xc7, 0x1a,
             static_cast<std::uint8_t>(declared >> 8), static_cast<std::uint8_t>(declared)};
  b.insert(b.end(), sig_len, 0x5a);
  return b;
}

TEST(ImaSignatureTest, ParsesTheV2Header) {
  const Bytes f = Field(3, 2, 4, 256, 256);
  auto s = ParseImaSignature(f);
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->key_id, 0x87cac71au);
  EXPECT_EQ(s->alg, crypto::HashAlg::kSha256);
  EXPECT_EQ(s->signature.size(), 256u);
}

TEST(ImaSignatureTest, BadFieldsNameWhatIsWrong) {
  EXPECT_EQ(ParseImaSignature(Field(3, 2, 4, 10, 11)).error().code(), ErrorCode::kMalformed);
  const auto trailing = ParseImaSignature(Field(3, 2, 4, 12, 11));
  ASSERT_FALSE(trailing.has_value());
  EXPECT_NE(trailing.error().message().find("offset 20"), std::string::npos)
      << trailing.error().message();
  EXPECT_EQ(ParseImaSignature(Bytes{3, 2}).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ParseImaSignature(Field(3, 3, 4, 4, 4)).error().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(ParseImaSignature(Field(6, 2, 4, 4, 4)).error().code(), ErrorCode::kUnsupported);
}

TEST(ImaKeyringTest, WithoutAMatchingKeyTheSignatureIsUnknown) {
  ImaKeyring ring;
  FileDigest d;
  d.alg_name = "sha256";
  d.alg = crypto::HashAlg::kSha256;
  static const std::uint8_t kDigest[32] = {};
  d.bytes = kDigest;
  EXPECT_EQ(ring.Check(d, Field(3, 2, 4, 64, 64)).result, ImaKeyring::Result::kUnknownKey);
  // The signature's algorithm must be the file digest's.
  EXPECT_EQ(ring.Check(d, Field(3, 2, 2, 64, 64)).result, ImaKeyring::Result::kInvalid);
  EXPECT_EQ(ring.Check(d, Field(3, 3, 4, 64, 64)).result, ImaKeyring::Result::kUnsupported);
  EXPECT_EQ(ring.Check(std::nullopt, Field(3, 2, 4, 64, 64)).result, ImaKeyring::Result::kInvalid);
}

}  // namespace
}  // namespace tc::ima
