#include "tc/crypto/hash.h"

#include <gtest/gtest.h>

namespace tc::crypto {
namespace {

TEST(HashTest, KnownAnswers) {
  // FIPS 180-2 "abc" vectors.
  EXPECT_EQ(Hash(HashAlg::kSha1, AsBytes("abc"))->Hex(),
            "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Hash(HashAlg::kSha256, AsBytes("abc"))->Hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HashTest, Sm3KnownAnswerWhenAvailable) {
  if (!HashAvailable(HashAlg::kSm3_256)) {
    GTEST_SKIP() << "this OpenSSL build has no SM3";
  }
  // GB/T 32905-2016 example 1.
  EXPECT_EQ(Hash(HashAlg::kSm3_256, AsBytes("abc"))->Hex(),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
}

TEST(HashTest, ExtendIsHashOfConcatenation) {
  Digest pcr(HashAlg::kSha256);
  const Digest d = *Hash(HashAlg::kSha256, AsBytes("x"));
  ASSERT_TRUE(ExtendDigest(pcr, d.bytes()).has_value());
  Bytes cat(32, 0);
  cat.insert(cat.end(), d.bytes().begin(), d.bytes().end());
  EXPECT_EQ(pcr, *Hash(HashAlg::kSha256, cat));
}

TEST(HashTest, HasherMatchesOneShot) {
  auto h = Hasher::Create(HashAlg::kSha384);
  ASSERT_TRUE(h.has_value());
  h->Update(AsBytes("ab"));
  h->Update(AsBytes("c"));
  EXPECT_EQ(h->Final(), *Hash(HashAlg::kSha384, AsBytes("abc")));
}

TEST(HashTest, NamesAndIds) {
  EXPECT_EQ(HashAlgFromTpmId(0x000B), HashAlg::kSha256);
  EXPECT_FALSE(HashAlgFromTpmId(0x0099).has_value());
  EXPECT_EQ(HashAlgFromName("sha384"), HashAlg::kSha384);
  EXPECT_EQ(HashAlgFromDigestSize(20), HashAlg::kSha1);
  EXPECT_EQ(DigestSize(HashAlg::kSm3_256), 32u);
}

}  // namespace
}  // namespace tc::crypto
