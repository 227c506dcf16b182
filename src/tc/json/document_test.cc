#include "tc/json/document.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <variant>

#include "tc/base/hex.h"

namespace tc::json {
namespace {

using doc::Value;
using ::testing::HasSubstr;

Result<Value> ParseText(std::string_view text, const Limits& limits = {}) {
  return ParseDocument(AsBytes(text), limits);
}

std::int64_t Int(const Value& v) { return std::get<std::int64_t>(v.variant()); }
double Dbl(const Value& v) { return std::get<double>(v.variant()); }
bool IsInt(const Value& v) {
  return std::holds_alternative<std::int64_t>(v.variant());
}
bool IsDbl(const Value& v) {
  return std::holds_alternative<double>(v.variant());
}

// The single element of a one-element array document "[<literal>]".
Result<Value> Scalar(std::string_view literal) {
  TC_ASSIGN_OR_RETURN(Value v, ParseText("[" + std::string(literal) + "]"));
  return v.array().at(0);
}

TEST(ParseDocumentTest, BuildsTreeWithMemberOrder) {
  auto v =
      ParseText(R"({"z":1,"a":[true,false,null,"s",{}],"m":{"x":[]},"d":2.5})");
  ASSERT_TRUE(v.has_value()) << v.error().message();
  ASSERT_TRUE(v->is_object());
  const auto& members = v->object();
  ASSERT_EQ(members.size(), 4u);
  EXPECT_EQ(members[0].first, "z");
  EXPECT_EQ(members[1].first, "a");
  EXPECT_EQ(members[2].first, "m");
  EXPECT_EQ(members[3].first, "d");
  EXPECT_EQ(Int(members[0].second), 1);
  const auto& a = members[1].second.array();
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(std::get<bool>(a[0].variant()), true);
  EXPECT_EQ(std::get<bool>(a[1].variant()), false);
  EXPECT_TRUE(a[2].is_null());
  EXPECT_EQ(a[3].str(), "s");
  EXPECT_TRUE(a[4].is_object());
  EXPECT_TRUE(a[4].object().empty());
  ASSERT_NE(v->Find("m")->Find("x"), nullptr);
  EXPECT_TRUE(v->Find("m")->Find("x")->is_array());
  EXPECT_EQ(Dbl(*v->Find("d")), 2.5);
}

TEST(ParseDocumentTest, BuildsScalarDocuments) {
  EXPECT_TRUE(ParseText("null")->is_null());
  EXPECT_EQ(ParseText("\"a\\u00e9\"")->str(), "a\xC3\xA9");
  EXPECT_EQ(Int(*ParseText(" 42 ")), 42);
  EXPECT_EQ(std::get<bool>(ParseText("true")->variant()), true);
}

TEST(ParseDocumentTest, RoundTripsThroughToJson) {
  const std::string text =
      "{\n  \"name\": \"a\\\"b\\n\\u0001\",\n  \"n\": -3,\n  \"list\": [\n"
      "    {\n      \"k\": true,\n      \"empty\": []\n    },\n"
      "    \"x\"\n  ],\n  \"0\": null\n}\n";
  auto v = ParseText(text);
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(doc::ToJson(*v), text);
}

TEST(ParseDocumentTest, ConvertsIntegersThatFitInt64) {
  EXPECT_EQ(Int(*Scalar("0")), 0);
  EXPECT_EQ(Int(*Scalar("-0")), 0);
  EXPECT_EQ(Int(*Scalar("-17")), -17);
  EXPECT_EQ(Int(*Scalar("9223372036854775807")),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(Int(*Scalar("-9223372036854775808")),
            std::numeric_limits<std::int64_t>::min());
}

TEST(ParseDocumentTest, ConvertsOtherNumbersToDouble) {
  auto big = Scalar("9223372036854775808");
  ASSERT_TRUE(IsDbl(*big));
  EXPECT_EQ(Dbl(*big), 9223372036854775808.0);
  ASSERT_TRUE(IsDbl(*Scalar("-9223372036854775809")));
  ASSERT_TRUE(IsDbl(*Scalar("1.0")));
  EXPECT_EQ(Dbl(*Scalar("1.0")), 1.0);
  EXPECT_EQ(Dbl(*Scalar("1e2")), 100.0);
  EXPECT_EQ(Dbl(*Scalar("-2.5E-3")), -0.0025);
  EXPECT_EQ(Dbl(*Scalar("1.7976931348623157e308")),
            std::numeric_limits<double>::max());
  EXPECT_EQ(Dbl(*Scalar("4.9e-324")),
            std::numeric_limits<double>::denorm_min());
  EXPECT_FALSE(IsInt(*Scalar("1e0")));
}

TEST(ParseDocumentTest, TurnsUnderflowIntoZero) {
  auto tiny = Scalar("1e-400");
  ASSERT_TRUE(tiny.has_value()) << tiny.error().message();
  EXPECT_EQ(Dbl(*tiny), 0.0);
  EXPECT_FALSE(std::signbit(Dbl(*tiny)));
  auto negative = Scalar("-0.00001e-99999999999999999999");
  ASSERT_TRUE(negative.has_value()) << negative.error().message();
  EXPECT_EQ(Dbl(*negative), 0.0);
  EXPECT_TRUE(std::signbit(Dbl(*negative)));
}

TEST(ParseDocumentTest, RejectsNumbersThatOverflowDouble) {
  for (std::string_view n : {"1e400", "-1e400", "1.8e308",
                             "100000e99999999999999999", "0.001e312"}) {
    auto v = Scalar(n);
    ASSERT_FALSE(v.has_value()) << n;
    EXPECT_EQ(v.error().code(), ErrorCode::kMalformed);
    EXPECT_THAT(v.error().message(),
                HasSubstr("line 1, column 2 (offset 1): number out of range: " +
                          std::string(n)));
  }
}

TEST(ParseDocumentTest, RejectsDuplicateKeys) {
  auto v = ParseText("{\"a\":1,\n \"b\":2,\n \"a\":3}");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(v.error().message(),
            "line 3, column 2 (offset 17): duplicate key \"a\"");
}

TEST(ParseDocumentTest, RejectsDuplicateKeysInLargeObjects) {
  std::string text = "{";
  for (int i = 0; i < 1000; ++i)
    text += "\"key" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  auto ok = ParseText(text + "\"last\":0}");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(ok->object().size(), 1001u);
  EXPECT_EQ(Int(*ok->Find("key999")), 999);

  for (const char* dup : {"key0", "key7", "key8", "key500", "key999"}) {
    auto v = ParseText(text + "\"" + dup + "\":0}");
    ASSERT_FALSE(v.has_value()) << dup;
    EXPECT_EQ(v.error().code(), ErrorCode::kMalformed);
    EXPECT_THAT(v.error().message(),
                HasSubstr("(offset " + std::to_string(text.size()) +
                          "): duplicate key \"" + dup + "\""));
  }
}

TEST(ParseDocumentTest, ComparesDecodedKeys) {
  // "\u0061" and "a" are the same key.
  auto v = ParseText(R"({"a":1,"\u0061":2})");
  ASSERT_FALSE(v.has_value());
  EXPECT_THAT(v.error().message(), HasSubstr("duplicate key \"a\""));
  // Keys that differ only after a NUL are different.
  auto nul = ParseText(R"({"a\u0000b":1,"a\u0000c":2, "a":3})");
  ASSERT_TRUE(nul.has_value()) << nul.error().message();
  EXPECT_EQ(nul->object().size(), 3u);
}

TEST(ParseDocumentTest, AllowsTheSameKeyInDifferentObjects) {
  auto v = ParseText(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})");
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(Int(*v->Find("a")->Find("a")->Find("a")), 1);
}

TEST(ParseDocumentTest, EscapesDuplicateKeysInMessages) {
  auto v = ParseText("{\"q\\\"\\n\":1,\"q\\\"\\n\":2}");
  ASSERT_FALSE(v.has_value());
  EXPECT_THAT(v.error().message(), HasSubstr("duplicate key \"q\\\"\\x0A\""));
  const std::string long_key(200, 'k');
  auto l = ParseText("{\"" + long_key + "\":1,\"" + long_key + "\":2}");
  ASSERT_FALSE(l.has_value());
  EXPECT_THAT(l.error().message(),
              HasSubstr("duplicate key \"" + std::string(64, 'k') + "...\""));
}

TEST(ParseDocumentTest, PassesReaderErrorsThrough) {
  auto v = ParseText("{\"a\": [1, 2,]}");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(v.error().message(),
            "line 1, column 13 (offset 12): trailing comma before ']'");

  Limits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(ParseText("[[[1]]]", limits).has_value());
  EXPECT_THAT(ParseText("[[[[1]]]]", limits).error().message(),
              HasSubstr("nesting deeper than 3"));
}

TEST(ParseDocumentTest, ParsesKeylimeRuntimePolicy) {
  const std::string policy =
      R"({"meta":{"version":1},"digests":{"/usr/bin/x":[")" +
      std::string(64, 'a') +
      R"("]},"excludes":["/tmp/.*"],"keyrings":{},"ima":{"ignored_keyrings":[],)"
      R"("log_hash_alg":"sha1","dm_policy":null},"ima-buf":{},"verification-keys":""})";
  auto v = ParseText(policy);
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(Int(*v->Find("meta")->Find("version")), 1);
  const Value* digests = v->Find("digests")->Find("/usr/bin/x");
  ASSERT_NE(digests, nullptr);
  ASSERT_EQ(digests->array().size(), 1u);
  EXPECT_EQ(digests->array()[0].str(), std::string(64, 'a'));
  EXPECT_EQ(v->Find("excludes")->array()[0].str(), "/tmp/.*");
  EXPECT_TRUE(v->Find("ima")->Find("dm_policy")->is_null());
  EXPECT_EQ(v->Find("ima")->Find("log_hash_alg")->str(), "sha1");
  EXPECT_EQ(v->Find("verification-keys")->str(), "");
}

TEST(ParseDocumentTest, ParsesLargeGeneratedPolicy) {
  constexpr std::size_t kKeys = 200'000;
  std::string text = R"({"meta":{"version":1},"digests":{)";
  for (std::size_t i = 0; i < kKeys; ++i) {
    if (i != 0) text += ", ";
    text += "\"/usr/lib/module" + std::to_string(i) + ".so\": [\"" +
            std::string(64, "0123456789abcdef"[i % 16]) + "\"]";
  }
  text += R"(}, "excludes": []})";
  auto v = ParseText(text);
  ASSERT_TRUE(v.has_value()) << v.error().message();
  const auto& digests = v->Find("digests")->object();
  ASSERT_EQ(digests.size(), kKeys);
  EXPECT_EQ(digests[12345].first, "/usr/lib/module12345.so");
  EXPECT_EQ(digests[12345].second.array()[0].str(), std::string(64, '9'));

  // The same document with one key repeated at the end.
  text.resize(text.size() - std::string_view(R"(}, "excludes": []})").size());
  text += R"(, "/usr/lib/module77.so": []})";
  auto dup = ParseText(text);
  ASSERT_FALSE(dup.has_value());
  EXPECT_THAT(dup.error().message(),
              HasSubstr("duplicate key \"/usr/lib/module77.so\""));
}

// Records the events it is given, as text.
class Recorder final : public Handler {
 public:
  std::string events;
  bool fail_on_number = false;
  Result<void> BeginObject() override { return Note("{"); }
  Result<void> Key(std::string_view k) override { return Note("k:" + std::string(k)); }
  Result<void> EndObject() override { return Note("}"); }
  Result<void> BeginArray() override { return Note("["); }
  Result<void> EndArray() override { return Note("]"); }
  Result<void> String(std::string_view v) override { return Note("s:" + std::string(v)); }
  Result<void> Number(std::string_view v) override {
    if (fail_on_number) return Fail(ErrorCode::kInvalidArgument, "no numbers here");
    return Note("n:" + std::string(v));
  }
  Result<void> Bool(bool b) override { return Note(b ? "true" : "false"); }
  Result<void> Null() override { return Note("null"); }

 private:
  Result<void> Note(const std::string& e) {
    events += e + " ";
    return {};
  }
};

TEST(ParseDocumentDivertingTest, DivertedMembersGoToTheirHandlerAndLeaveTheTree) {
  Recorder files, scalar;
  const std::string text =
      R"({"a": 1, "files": {"/x": ["sha256:00", {"n": [true, null]}]}, "b": [2], "s": 5})";
  auto doc = ParseDocumentDiverting(AsBytes(text), [&](std::string_view key) -> Handler* {
    if (key == "files") return &files;
    if (key == "s") return &scalar;
    return nullptr;
  });
  ASSERT_TRUE(doc.has_value()) << doc.error().message();
  EXPECT_EQ(files.events, "{ k:/x [ s:sha256:00 { k:n [ true null ] } ] } ");
  EXPECT_EQ(scalar.events, "n:5 ");
  EXPECT_EQ(doc->Find("files"), nullptr);
  EXPECT_EQ(doc->Find("s"), nullptr);
  ASSERT_NE(doc->Find("a"), nullptr);
  ASSERT_NE(doc->Find("b"), nullptr);
  EXPECT_EQ(doc->Find("b")->array().size(), 1u);
  // Only members of the root object are diverted.
  Recorder nested;
  auto deep = ParseDocumentDiverting(AsBytes(std::string_view(R"({"o": {"files": 1}})")),
                                     [&](std::string_view) -> Handler* { return &nested; });
  ASSERT_TRUE(deep.has_value());
  EXPECT_EQ(nested.events, "{ k:files n:1 } ");
}

TEST(ParseDocumentDivertingTest, DuplicatesAndHandlerErrorsAreRefusedWithTheirPlace) {
  Recorder r;
  auto dup = ParseDocumentDiverting(AsBytes(std::string_view(R"({"files": {}, "files": {}})")),
                                    [&](std::string_view) -> Handler* { return &r; });
  ASSERT_FALSE(dup.has_value());
  EXPECT_THAT(dup.error().message(), HasSubstr("duplicate key \"files\""));
  Recorder failing;
  failing.fail_on_number = true;
  auto bad = ParseDocumentDiverting(AsBytes(std::string_view("{\"files\":\n [1]}")),
                                    [&](std::string_view) -> Handler* { return &failing; });
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad.error().message(), HasSubstr("line 2, column 3"));
  EXPECT_THAT(bad.error().message(), HasSubstr("no numbers here"));
}

}  // namespace
}  // namespace tc::json
