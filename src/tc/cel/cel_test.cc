#include "tc/cel/cel.h"

#include <gtest/gtest.h>

namespace tc::cel {
namespace {

crypto::Digest H(crypto::HashAlg alg, std::string_view s) {
  return *crypto::Hash(alg, AsBytes(s));
}

Record Make(std::uint64_t n, std::uint32_t pcr, std::string_view what) {
  Record r;
  r.recnum = n;
  r.pcr = pcr;
  r.digests = {H(crypto::HashAlg::kSha256, what), H(crypto::HashAlg::kSha1, what)};
  r.content_type = "trustchain";
  r.content = doc::Value::MakeObject();
  r.content.Set("string", what);
  return r;
}

TEST(CelTest, SequenceRoundTripsAndReplays) {
  std::string log;
  for (std::uint64_t i = 0; i < 3; ++i) log += SequenceElement(Make(i, 15, "launch " + std::to_string(i)));
  EXPECT_EQ(log[0], '\x1e');
  EXPECT_EQ(log.back(), '\n');
  auto records = Parse(AsBytes(log));
  ASSERT_TRUE(records.has_value()) << records.error().message();
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[2].recnum, 2u);
  EXPECT_EQ((*records)[1].content.Find("string")->str(), "launch 1");
  // Replay equals extending by hand, in both banks.
  auto values = Replay(*records);
  ASSERT_TRUE(values.has_value());
  crypto::Digest expected(crypto::HashAlg::kSha256);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(crypto::ExtendDigest(expected, H(crypto::HashAlg::kSha256, "launch " + std::to_string(i)).bytes()).has_value());
  }
  EXPECT_EQ(*values->Find(crypto::HashAlg::kSha256, 15), expected);
  EXPECT_NE(values->Find(crypto::HashAlg::kSha1, 15), nullptr);
}

TEST(CelTest, ReadsTheArrayFormAndImplicitRecordNumbers) {
  const std::string digest = H(crypto::HashAlg::kSha256, "x").Hex();
  const std::string array = R"([{"recnum": 0, "pcr": 12, "digests": [{"hashAlg": "sha256", "digest": ")" +
                            digest + R"("}], "content_type": "systemd", "content": {"string": "x"}}])";
  auto a = Parse(AsBytes(array));
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->at(0).pcr, 12u);
  // systemd writes no recnum: the position stands in.
  const std::string seq = "\x1e{\"pcr\": 12, \"digests\": [{\"hashAlg\": \"sha256\", \"digest\": \"" +
                          digest + "\"}]}\n\x1e{\"pcr\": 9, \"digests\": [{\"hashAlg\": \"sha256\", \"digest\": \"" +
                          digest + "\"}]}\n";
  auto s = Parse(AsBytes(seq));
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->at(1).recnum, 1u);
  EXPECT_TRUE(Parse(AsBytes(std::string_view(""))).has_value());
}

TEST(CelTest, BadRecordsAreRefusedNamingRecordAndOffset) {
  const std::string d = H(crypto::HashAlg::kSha256, "x").Hex();
  auto rec = [&](std::string body) { return "\x1e" + body + "\n"; };
  const std::string good = rec(R"({"pcr": 1, "digests": [{"hashAlg": "sha256", "digest": ")" + d + R"("}]})");
  struct Case {
    std::string text;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"{}", "record 0 at offset 0: expected a record separator"},
      {good + rec("{\"pcr\": 24, \"digests\": []}"), "record 1 at offset"},
      {good + rec("{\"pcr\": 1}"), "\"digests\" missing"},
      {good + rec(R"({"pcr": 1, "digests": [{"hashAlg": "sha256", "digest": "00"}]})"), "digests[0]"},
      {good + rec(R"({"pcr": 1, "digests": [{"hashAlg": "md5", "digest": "00"}]})"), "digests[0]"},
      {good + rec(R"({"pcr": 1, "digests": [{"hashAlg": "sha256", "digest": ")" + d +
                  R"("}, {"hashAlg": "sha256", "digest": ")" + d + R"("}]})"),
       "sha256 twice"},
      {rec(R"({"recnum": 5, "pcr": 1, "digests": [{"hashAlg": "sha256", "digest": ")" + d + R"("}]})") +
           rec(R"({"recnum": 5, "pcr": 1, "digests": [{"hashAlg": "sha256", "digest": ")" + d + R"("}]})"),
       "\"recnum\" does not increase"},
      {good + rec("{\"pcr\": 1,"), "record 1 at offset"},
      {"[1]", "record 0"},
  };
  for (const Case& c : cases) {
    auto r = Parse(AsBytes(c.text));
    ASSERT_FALSE(r.has_value()) << c.want;
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
    EXPECT_NE(r.error().message().find(c.want), std::string::npos) << r.error().message();
  }
}

}  // namespace
}  // namespace tc::cel
