#include "tc/tpm/ak_file.h"

#include <gtest/gtest.h>

#include "tc/tpm/quote.h"
#include "tc/tpm/testing/quote_builder.h"

namespace tc::tpm {
namespace {

AttestationKey SampleAk(bool persistent) {
  AttestationKey ak;
  ak.alg = KeyAlg::kEccP256;
  ak.parent = KeyAlg::kRsa2048;
  ak.public_2b = testing::TestKey::EccP256().Public2b();
  if (persistent) {
    ak.persistent_handle = 0x81010001;
  } else {
    ak.private_2b = {0x00, 0x03, 1, 2, 3};
  }
  ak.name = *ObjectName(*ParsePublic2b(ak.public_2b));
  return ak;
}

TEST(AkFileTest, RoundTrips) {
  for (bool persistent : {true, false}) {
    const AttestationKey ak = SampleAk(persistent);
    auto back = ParseAk(SerializeAk(ak));
    ASSERT_TRUE(back.has_value()) << back.error().message();
    EXPECT_EQ(back->alg, ak.alg);
    EXPECT_EQ(back->parent, ak.parent);
    EXPECT_EQ(back->persistent_handle, ak.persistent_handle);
    EXPECT_EQ(back->public_2b, ak.public_2b);
    EXPECT_EQ(back->private_2b, ak.private_2b);
    EXPECT_EQ(back->name, ak.name);
  }
}

TEST(AkFileTest, RejectsEveryTruncationAndJunk) {
  const Bytes good = SerializeAk(SampleAk(false));
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(ParseAk(std::span(good).first(n)).has_value()) << n;
  }
  Bytes extra = good;
  extra.push_back(0);
  EXPECT_FALSE(ParseAk(extra).has_value());
  Bytes bad_flag = good;
  bad_flag[5] = 7;
  EXPECT_FALSE(ParseAk(bad_flag).has_value());
}

TEST(ToolsPcrFileTest, SerializeThenParseRoundTrips) {
  PcrSelectionList sel = {{crypto::HashAlg::kSha256, {0, 7, 10, 14}},
                          {crypto::HashAlg::kSha1, {0, 1, 2, 3, 4, 5, 6, 7, 8}}};
  pcr::PcrValues values;
  for (const auto& b : sel) {
    for (auto p : b.pcrs) {
      Bytes v(crypto::DigestSize(b.alg), static_cast<std::uint8_t>(p + 1));
      values.banks[b.alg].emplace(p, crypto::Digest(b.alg, v));
    }
  }
  auto blob = SerializeToolsPcrFile(sel, values);
  ASSERT_TRUE(blob.has_value());
  auto back = ParseToolsPcrFile(*blob);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(back->selection, sel);
  EXPECT_EQ(back->values.banks, values.banks);
  values.banks[crypto::HashAlg::kSha256].erase(14);
  EXPECT_FALSE(SerializeToolsPcrFile(sel, values).has_value());
}

}  // namespace
}  // namespace tc::tpm
