#include "tc/json/reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "tc/base/hex.h"

namespace tc::json {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Records events as short strings: "{", "k:name", "}", "[", "]", "s:text",
// "n:12", "true", "false", "null".
class RecordingHandler : public Handler {
 public:
  std::vector<std::string> events;

  Result<void> BeginObject() override { return Record("{"); }
  Result<void> Key(std::string_view key) override {
    return Record("k:" + std::string(key));
  }
  Result<void> EndObject() override { return Record("}"); }
  Result<void> BeginArray() override { return Record("["); }
  Result<void> EndArray() override { return Record("]"); }
  Result<void> String(std::string_view s) override {
    return Record("s:" + std::string(s));
  }
  Result<void> Number(std::string_view literal) override {
    return Record("n:" + std::string(literal));
  }
  Result<void> Bool(bool b) override { return Record(b ? "true" : "false"); }
  Result<void> Null() override { return Record("null"); }

 protected:
  virtual Result<void> Record(std::string event) {
    events.push_back(std::move(event));
    return {};
  }
};

// Fails (kInvalidArgument) when it sees the event `fail_on`.
class FailingHandler : public RecordingHandler {
 public:
  explicit FailingHandler(std::string fail_on) : fail_on_(std::move(fail_on)) {}

 protected:
  Result<void> Record(std::string event) override {
    if (event == fail_on_) {
      return Fail(ErrorCode::kInvalidArgument, "refused " + event);
    }
    return RecordingHandler::Record(std::move(event));
  }

 private:
  std::string fail_on_;
};

// Counts events without looking at them.
class CountingHandler : public Handler {
 public:
  std::size_t keys = 0;
  std::size_t strings = 0;
  std::size_t others = 0;

  Result<void> BeginObject() override { return Other(); }
  Result<void> Key(std::string_view) override {
    ++keys;
    return {};
  }
  Result<void> EndObject() override { return Other(); }
  Result<void> BeginArray() override { return Other(); }
  Result<void> EndArray() override { return Other(); }
  Result<void> String(std::string_view) override {
    ++strings;
    return {};
  }
  Result<void> Number(std::string_view) override { return Other(); }
  Result<void> Bool(bool) override { return Other(); }
  Result<void> Null() override { return Other(); }

 private:
  Result<void> Other() {
    ++others;
    return {};
  }
};

Result<std::vector<std::string>> Events(std::string_view text,
                                        const Limits& limits = {}) {
  RecordingHandler h;
  TC_RETURN_IF_ERROR(Parse(AsBytes(text), h, limits));
  return h.events;
}

// The error of parsing `text`, which must fail.
Error ParseError(std::string_view text, const Limits& limits = {}) {
  RecordingHandler h;
  auto r = Parse(AsBytes(text), h, limits);
  if (r.has_value()) {
    ADD_FAILURE() << "parsed: " << text;
    return Error(ErrorCode::kInternal, "parsed");
  }
  return r.error();
}

std::string Nested(std::size_t depth, char open, char close) {
  return std::string(depth, open) + std::string(depth, close);
}

TEST(ParseTest, ParsesScalarsAtTopLevel) {
  EXPECT_THAT(*Events("true"), ElementsAre("true"));
  EXPECT_THAT(*Events("false"), ElementsAre("false"));
  EXPECT_THAT(*Events("null"), ElementsAre("null"));
  EXPECT_THAT(*Events("0"), ElementsAre("n:0"));
  EXPECT_THAT(*Events("\"x\""), ElementsAre("s:x"));
  EXPECT_THAT(*Events("\"\""), ElementsAre("s:"));
}

TEST(ParseTest, ParsesNestedDocumentInOrder) {
  auto events = Events(R"({"a":[1,"two",{"b":null}],"c":{},"d":[],"e":false})");
  ASSERT_TRUE(events.has_value()) << events.error().message();
  EXPECT_THAT(*events, ElementsAre("{", "k:a", "[", "n:1", "s:two", "{", "k:b",
                                   "null", "}", "]", "k:c", "{", "}", "k:d",
                                   "[", "]", "k:e", "false", "}"));
}

TEST(ParseTest, AllowsWhitespaceBetweenTokens) {
  auto events = Events(" \t\r\n{ \"a\" :\n[ 1 , 2 ]\r\n, \"b\" : { } } \n");
  ASSERT_TRUE(events.has_value()) << events.error().message();
  EXPECT_THAT(*events, ElementsAre("{", "k:a", "[", "n:1", "n:2", "]", "k:b",
                                   "{", "}", "}"));
}

TEST(ParseTest, ParsesKeylimeRuntimePolicy) {
  const std::string policy =
      R"({"meta":{"version":1},"digests":{"/usr/bin/x":[")" +
      std::string(64, 'a') +
      R"("]},"excludes":["/tmp/.*"],"keyrings":{},"ima":{"ignored_keyrings":[],)"
      R"("log_hash_alg":"sha1","dm_policy":null},"ima-buf":{},"verification-keys":""})";
  auto events = Events(policy);
  ASSERT_TRUE(events.has_value()) << events.error().message();
  EXPECT_THAT(
      *events,
      ElementsAre("{", "k:meta", "{", "k:version", "n:1", "}", "k:digests", "{",
                  "k:/usr/bin/x", "[", "s:" + std::string(64, 'a'), "]", "}",
                  "k:excludes", "[", "s:/tmp/.*", "]", "k:keyrings", "{", "}",
                  "k:ima", "{", "k:ignored_keyrings", "[", "]",
                  "k:log_hash_alg", "s:sha1", "k:dm_policy", "null", "}",
                  "k:ima-buf", "{", "}", "k:verification-keys", "s:", "}"));
}

TEST(ParseTest, PassesUnescapedStringsAsViewsIntoTheInput) {
  struct ViewCheck : CountingHandler {
    std::span<const std::uint8_t> input;
    bool all_inside = true;
    bool Inside(std::string_view s) const {
      const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
      return p >= input.data() && p + s.size() <= input.data() + input.size();
    }
    Result<void> Key(std::string_view key) override {
      all_inside = all_inside && Inside(key);
      return CountingHandler::Key(key);
    }
    Result<void> String(std::string_view s) override {
      all_inside = all_inside && Inside(s);
      return CountingHandler::String(s);
    }
  } h;
  const std::string plain =
      R"({"a long key without escapes":["plain é", "x"]})";
  h.input = AsBytes(plain);
  ASSERT_TRUE(Parse(AsBytes(plain), h).has_value());
  EXPECT_TRUE(h.all_inside);
  EXPECT_EQ(h.keys, 1u);
  EXPECT_EQ(h.strings, 2u);
}

TEST(ParseTest, DecodesSimpleEscapes) {
  auto events = Events(R"(["\"\\\/\b\f\n\r\t"])");
  ASSERT_TRUE(events.has_value()) << events.error().message();
  EXPECT_THAT(*events, ElementsAre("[", "s:\"\\/\b\f\n\r\t", "]"));
}

TEST(ParseTest, DecodesUnicodeEscapes) {
  auto events = Events(R"(["\u0041\u00e9\u20AC\uffff", "a\u0000b"])");
  ASSERT_TRUE(events.has_value()) << events.error().message();
  EXPECT_THAT(*events, ElementsAre("[", "s:A\xC3\xA9\xE2\x82\xAC\xEF\xBF\xBF",
                                   "s:" + std::string("a\0b", 3), "]"));
}

TEST(ParseTest, DecodesSurrogatePairs) {
  auto events = Events(R"(["\ud83d\ude00", "x\uD800\uDC00y", "\udbff\udfff"])");
  ASSERT_TRUE(events.has_value()) << events.error().message();
  EXPECT_THAT(*events,
              ElementsAre("[", "s:\xF0\x9F\x98\x80", "s:x\xF0\x90\x80\x80y",
                          "s:\xF4\x8F\xBF\xBF", "]"));
}

TEST(ParseTest, DecodesEscapesInKeys) {
  auto events = Events(R"({"a\tb\u00e9":1})");
  ASSERT_TRUE(events.has_value()) << events.error().message();
  EXPECT_THAT(*events, ElementsAre("{", "k:a\tb\xC3\xA9", "n:1", "}"));
}

TEST(ParseTest, ScratchBufferIsReusedAcrossStrings) {
  auto events =
      Events(R"(["long escaped string\n number one", "\t", "plain"])");
  ASSERT_TRUE(events.has_value()) << events.error().message();
  EXPECT_THAT(*events, ElementsAre("[", "s:long escaped string\n number one",
                                   "s:\t", "s:plain", "]"));
}

TEST(ParseTest, AcceptsValidUtf8) {
  // 2-, 3- and 4-byte sequences at the edges of their ranges.
  const std::string text =
      "[\"\xC2\x80 \xDF\xBF \xE0\xA0\x80 \xED\x9F\xBF \xEE\x80\x80 "
      "\xEF\xBF\xBF "
      "\xF0\x90\x80\x80 \xF4\x8F\xBF\xBF\", \"\xE2\x82\xAC\\n\xE2\x82\xAC\"]";
  auto events = Events(text);
  ASSERT_TRUE(events.has_value()) << events.error().message();
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ((*events)[2], "s:\xE2\x82\xAC\n\xE2\x82\xAC");
}

TEST(ParseTest, RejectsInvalidUtf8) {
  const char* const kBad[] = {
      "\"\x80\"",              // lone continuation byte
      "\"\xC0\x80\"",          // overlong NUL
      "\"\xC1\xBF\"",          // overlong
      "\"\xE0\x80\x80\"",      // overlong 3-byte
      "\"\xE0\x9F\xBF\"",      // overlong 3-byte
      "\"\xED\xA0\x80\"",      // UTF-16 surrogate U+D800
      "\"\xED\xBF\xBF\"",      // UTF-16 surrogate U+DFFF
      "\"\xF0\x80\x80\x80\"",  // overlong 4-byte
      "\"\xF0\x8F\xBF\xBF\"",  // overlong 4-byte
      "\"\xF4\x90\x80\x80\"",  // above U+10FFFF
      "\"\xF5\x80\x80\x80\"",  // invalid lead byte
      "\"\xFF\"",              // invalid byte
      "\"\xC3\x28\"",          // bad continuation
      "\"\xE2\x82\"",          // truncated before the quote
      "\"\\n\xE2\x28\xA1\"",   // in the escaped path
  };
  for (const char* bad : kBad) {
    const Error e = ParseError(bad);
    EXPECT_EQ(e.code(), ErrorCode::kMalformed) << bad;
    EXPECT_THAT(e.message(), HasSubstr("invalid UTF-8")) << bad;
  }
  // Truncated at the very end of the input (no closing quote).
  const std::string truncated = "\"\xF0\x9F\x98";
  EXPECT_THAT(ParseError(truncated).message(),
              HasSubstr("line 1, column 2 (offset 1): invalid UTF-8"));
}

TEST(ParseTest, AcceptsValidNumbers) {
  for (std::string_view n :
       {"0", "-0", "1", "-1", "10", "1.5", "-0.25", "1e5", "1E5", "1e+5",
        "1e-5", "-1.5E-10", "0.0", "0e0", "123456789012345678901234567890",
        "9223372036854775808"}) {
    auto events = Events(n);
    ASSERT_TRUE(events.has_value()) << n << ": " << events.error().message();
    EXPECT_THAT(*events, ElementsAre("n:" + std::string(n)));
  }
  EXPECT_THAT(*Events("[1,-2.5e3]"), ElementsAre("[", "n:1", "n:-2.5e3", "]"));
}

TEST(ParseTest, RejectsNumbersOutsideTheGrammar) {
  struct Case {
    std::string_view text;
    std::string_view what;
  };
  const Case kCases[] = {
      {"01", "column 1 (offset 0): number with a leading zero"},
      {"-01", "column 1 (offset 0): number with a leading zero"},
      {"00", "number with a leading zero"},
      {"+1", "unexpected '+', expected a value"},
      {".5", "unexpected '.', expected a value"},
      {"1.", "column 3 (offset 2): expected a digit after '.' in number"},
      {"1.e5", "expected a digit after '.' in number"},
      {"1e", "column 3 (offset 2): expected a digit in the exponent"},
      {"1e+", "expected a digit in the exponent"},
      {"1E-x", "expected a digit in the exponent"},
      {"-", "column 2 (offset 1): expected a digit after '-'"},
      {"-a", "expected a digit after '-'"},
      {"NaN", "unexpected 'N', expected a value"},
      {"Infinity", "unexpected 'I', expected a value"},
      {"-Infinity", "expected a digit after '-'"},
      {"0x10", "trailing data after the value"},
      {"1 2", "column 3 (offset 2): trailing data after the value"},
      {"[1.5.2]", "expected ',' or ']', found '.'"},
  };
  for (const Case& c : kCases) {
    const Error e = ParseError(c.text);
    EXPECT_EQ(e.code(), ErrorCode::kMalformed) << c.text;
    EXPECT_THAT(e.message(), HasSubstr(std::string(c.what))) << c.text;
  }
}

TEST(ParseTest, RejectsNumbersLongerThanTheLimit) {
  Limits limits;
  limits.max_number_chars = 5;
  EXPECT_TRUE(Events("-12e3", limits).has_value());
  const Error e = ParseError("[-12e34]", limits);
  EXPECT_EQ(e.code(), ErrorCode::kMalformed);
  EXPECT_THAT(
      e.message(),
      HasSubstr("column 2 (offset 1): number longer than 5 characters"));
  EXPECT_TRUE(Events(std::string(64, '1')).has_value());
  EXPECT_THAT(ParseError(std::string(65, '1')).message(),
              HasSubstr("number longer than 64 characters"));
}

TEST(ParseTest, ReportsErrorsWithLineAndColumn) {
  struct Case {
    std::string_view text;
    std::string_view message;  // the whole message
  };
  const Case kCases[] = {
      {"",
       "line 1, column 1 (offset 0): unexpected end of input, expected a "
       "value"},
      {"  \n ",
       "line 2, column 2 (offset 4): unexpected end of input, expected a "
       "value"},
      {"\"abc", "line 1, column 1 (offset 0): unterminated string"},
      {"[\"abc\\", "line 1, column 2 (offset 1): unterminated string"},
      {"[\"a\\nbc", "line 1, column 2 (offset 1): unterminated string"},
      {"{\"a\":1 \"b\":2}",
       "line 1, column 8 (offset 7): expected ',' or '}', found '\"'"},
      {"{\"a\":1",
       "line 1, column 7 (offset 6): unexpected end of input, expected ',' or "
       "'}'"},
      {"[1 2]", "line 1, column 4 (offset 3): expected ',' or ']', found '2'"},
      {"[1",
       "line 1, column 3 (offset 2): unexpected end of input, expected ',' or "
       "']'"},
      {"[1,]", "line 1, column 4 (offset 3): trailing comma before ']'"},
      {"{\"a\":1,}", "line 1, column 8 (offset 7): trailing comma before '}'"},
      {"{\"a\" 1}", "line 1, column 6 (offset 5): expected ':', found '1'"},
      {"{\"a\"",
       "line 1, column 5 (offset 4): unexpected end of input, expected ':'"},
      {"{1:2}",
       "line 1, column 2 (offset 1): expected a string key or '}', found '1'"},
      {"{'a':2}",
       "line 1, column 2 (offset 1): expected a string key or '}', found '''"},
      {"{\"a\":1,2}",
       "line 1, column 8 (offset 7): expected a string key, found '2'"},
      {"{",
       "line 1, column 2 (offset 1): unexpected end of input, expected a "
       "string key or '}'"},
      {"{\"a\":1,",
       "line 1, column 8 (offset 7): unexpected end of input, expected a "
       "string key"},
      {"{\"a\":}",
       "line 1, column 6 (offset 5): unexpected '}', expected a value"},
      {"[,1]", "line 1, column 2 (offset 1): unexpected ',', expected a value"},
      {"]", "line 1, column 1 (offset 0): unexpected ']', expected a value"},
      {"{}}", "line 1, column 3 (offset 2): trailing data after the value"},
      {"[\"a\tb\"]",
       "line 1, column 4 (offset 3): control character in string (byte 0x09)"},
      {"\"a\nb\"",
       "line 1, column 3 (offset 2): control character in string (byte 0x0A)"},
      {"\"\\q\"", "line 1, column 2 (offset 1): invalid escape \\q"},
      {"\"ab\\x41\"", "line 1, column 4 (offset 3): invalid escape \\x"},
      {"\"\\\x01\"",
       "line 1, column 2 (offset 1): invalid escape: '\\' followed by byte "
       "0x01"},
      {"\"\\u12\"",
       "line 1, column 2 (offset 1): invalid \\u escape: expected 4 hex "
       "digits"},
      {"\"\\u12g4\"",
       "line 1, column 2 (offset 1): invalid \\u escape: expected 4 hex "
       "digits"},
      {"\"\\u12",
       "line 1, column 2 (offset 1): invalid \\u escape: expected 4 hex "
       "digits"},
      {"\"\\ud800\"", "line 1, column 2 (offset 1): lone surrogate \\ud800"},
      {"\"\\uDBFFx\"", "line 1, column 2 (offset 1): lone surrogate \\udbff"},
      {"\"\\ud800\\u0041\"",
       "line 1, column 2 (offset 1): lone surrogate \\ud800"},
      {"\"\\ud800\\ud800\"",
       "line 1, column 2 (offset 1): lone surrogate \\ud800"},
      {"\"\\ud800\\n\"", "line 1, column 2 (offset 1): lone surrogate \\ud800"},
      {"\"x\\udc00\"", "line 1, column 3 (offset 2): lone surrogate \\udc00"},
      {"\"\\ud800\\u12\"",
       "line 1, column 8 (offset 7): invalid \\u escape: expected 4 hex "
       "digits"},
      {"tru",
       "line 1, column 1 (offset 0): invalid literal (expected true, false or "
       "null)"},
      {"[nul]",
       "line 1, column 2 (offset 1): invalid literal (expected true, false or "
       "null)"},
      {"True", "line 1, column 1 (offset 0): unexpected 'T', expected a value"},
      {"truex", "line 1, column 5 (offset 4): trailing data after the value"},
      {"\xEF\xBB\xBF{}",
       "line 1, column 1 (offset 0): UTF-8 byte order mark at the start (RFC "
       "8259 §8.1 forbids it)"},
      {std::string_view("[\0]", 3),
       "line 1, column 2 (offset 1): unexpected byte 0x00, expected a value"},
      {std::string_view("1\0", 2),
       "line 1, column 2 (offset 1): trailing data after the value"},
      {"\x80",
       "line 1, column 1 (offset 0): unexpected byte 0x80, expected a value"},
      {"{\n  \"a\": [1,\n        tru]\n}",
       "line 3, column 9 (offset 21): invalid literal (expected true, false or "
       "null)"},
      {"[\r\n1,\r\n\"x\ty\"]",
       "line 3, column 3 (offset 9): control character in string (byte 0x09)"},
  };
  for (const Case& c : kCases) {
    const Error e = ParseError(c.text);
    EXPECT_EQ(e.code(), ErrorCode::kMalformed) << c.text;
    EXPECT_EQ(e.message(), c.message) << c.text;
  }
}

TEST(ParseTest, AcceptsNestingUpToTheDepthLimit) {
  EXPECT_TRUE(Events(Nested(64, '[', ']')).has_value());
  std::string objects;
  for (int i = 0; i < 64; ++i) objects += "{\"k\":";
  objects += "1" + std::string(64, '}');
  EXPECT_TRUE(Events(objects).has_value());
}

TEST(ParseTest, RejectsNestingBeyondTheDepthLimit) {
  const Error e = ParseError(Nested(65, '[', ']'));
  EXPECT_EQ(e.code(), ErrorCode::kMalformed);
  EXPECT_EQ(e.message(),
            "line 1, column 65 (offset 64): nesting deeper than 64");

  std::string mixed;
  for (int i = 0; i < 40; ++i) mixed += "[{\"k\":";
  EXPECT_THAT(ParseError(mixed).message(),
              HasSubstr("(offset 192): nesting deeper than 64"));

  Limits limits;
  limits.max_depth = 2;
  EXPECT_TRUE(Events("[[1]]", limits).has_value());
  EXPECT_THAT(ParseError("[[[1]]]", limits).message(),
              HasSubstr("column 3 (offset 2): nesting deeper than 2"));
  limits.max_depth = 0;
  EXPECT_TRUE(Events("\"scalar\"", limits).has_value());
  EXPECT_THAT(ParseError("[]", limits).message(),
              HasSubstr("nesting deeper than 0"));
}

TEST(ParseTest, SurvivesVeryDeepInputWithoutRecursion) {
  // Far deeper than any C++ stack could recurse; the limit is what stops it.
  Limits limits;
  limits.max_depth = std::size_t{1} << 30;
  CountingHandler h;
  const std::string deep = Nested(2'000'000, '[', ']');
  ASSERT_TRUE(Parse(AsBytes(deep), h, limits).has_value());
  EXPECT_EQ(h.others, 4'000'000u);
  const std::string unclosed(2'000'000, '[');
  auto r = Parse(AsBytes(unclosed), h, limits);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("unexpected end of input"));
  // With the default limit it fails fast.
  auto d = Parse(AsBytes(deep), h);
  ASSERT_FALSE(d.has_value());
  EXPECT_THAT(d.error().message(), HasSubstr("nesting deeper than 64"));
}

TEST(ParseTest, EnforcesTheStringLimitOnDecodedBytes) {
  Limits limits;
  limits.max_string_bytes = 4;
  EXPECT_TRUE(Events("\"abcd\"", limits).has_value());
  EXPECT_TRUE(Events("\"\\u0041\\u0042\\u0043\\u0044\"", limits).has_value());
  EXPECT_TRUE(Events("\"\xF0\x9F\x98\x80\"", limits).has_value());  // 4 bytes

  Error e = ParseError("[\"abcde\"]", limits);
  EXPECT_EQ(e.code(), ErrorCode::kMalformed);
  EXPECT_EQ(e.message(),
            "line 1, column 2 (offset 1): string longer than 4 bytes");
  EXPECT_THAT(
      ParseError("\"\\u0041\\u0042\\u0043\\u0044\\u0045\"", limits).message(),
      HasSubstr("string longer than 4 bytes"));
  EXPECT_THAT(ParseError("\"a\\nbcd\"", limits).message(),
              HasSubstr("string longer than 4 bytes"));
  EXPECT_THAT(ParseError("\"\xC3\xA9\xC3\xA9\xC3\xA9\"", limits).message(),
              HasSubstr("string longer than 4 bytes"));
  EXPECT_THAT(ParseError("{\"abcde\":1}", limits).message(),
              HasSubstr("column 2 (offset 1): string longer than 4 bytes"));
  // The limit is checked before the missing quote is noticed.
  EXPECT_THAT(ParseError("\"abcdefgh", limits).message(),
              HasSubstr("string longer than 4 bytes"));

  // The default is 1 MiB.
  const std::string at_limit = "\"" + std::string(1 << 20, 'x') + "\"";
  EXPECT_TRUE(Events(at_limit).has_value());
  const std::string over = "\"" + std::string((1 << 20) + 1, 'x') + "\"";
  EXPECT_THAT(ParseError(over).message(),
              HasSubstr("string longer than 1048576 bytes"));
}

TEST(ParseTest, WrapsHandlerErrorsWithThePosition) {
  const std::string text = "{\n  \"a\": [true, \"bad\"],\n  \"k\": null\n}";
  struct Case {
    std::string fail_on;
    std::string message;
  };
  const Case kCases[] = {
      {"{", "line 1, column 1 (offset 0): refused {"},
      {"k:a", "line 2, column 3 (offset 4): refused k:a"},
      {"[", "line 2, column 8 (offset 9): refused ["},
      {"true", "line 2, column 9 (offset 10): refused true"},
      {"s:bad", "line 2, column 15 (offset 16): refused s:bad"},
      {"]", "line 2, column 20 (offset 21): refused ]"},
      {"null", "line 3, column 8 (offset 31): refused null"},
      {"}", "line 4, column 1 (offset 36): refused }"},
  };
  for (const Case& c : kCases) {
    FailingHandler h(c.fail_on);
    auto r = Parse(AsBytes(text), h);
    ASSERT_FALSE(r.has_value()) << c.fail_on;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << c.fail_on;
    EXPECT_EQ(r.error().message(), c.message);
  }
  FailingHandler numbers("n:12.5");
  auto r = Parse(AsBytes("[0, 12.5]"), numbers);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "line 1, column 5 (offset 4): refused n:12.5");
}

TEST(ParseTest, StopsAtTheFirstHandlerError) {
  FailingHandler h("s:stop");
  auto r = Parse(AsBytes(R"(["a", "stop", "b", {"c": 1}])"), h);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(h.events, ElementsAre("[", "s:a"));
}

TEST(ParseTest, DoesNotReadPastTheSpan) {
  // The span ends inside a longer buffer; what follows must not be seen.
  const std::string buffer = "[1, 2]  garbage";
  RecordingHandler h;
  ASSERT_TRUE(Parse(AsBytes(buffer).first(6), h).has_value());
  EXPECT_THAT(h.events, ElementsAre("[", "n:1", "n:2", "]"));
  const std::string cut = "\"abc\"";
  EXPECT_THAT(ParseError(std::string_view(cut).substr(0, 4)).message(),
              HasSubstr("unterminated string"));
  const std::string literal = "true";
  EXPECT_THAT(ParseError(std::string_view(literal).substr(0, 3)).message(),
              HasSubstr("invalid literal"));
}

TEST(ParseTest, ParsesLargeGeneratedPolicy) {
  constexpr std::size_t kKeys = 200'000;
  std::string text = R"({"meta":{"version":1},"digests":{)";
  for (std::size_t i = 0; i < kKeys; ++i) {
    if (i != 0) text += ",\n";
    text += "\"/usr/lib/module" + std::to_string(i) + ".so\":[\"" +
            std::string(64, "0123456789abcdef"[i % 16]) + "\"]";
  }
  text += R"(},"excludes":[]})";
  CountingHandler h;
  auto r = Parse(AsBytes(text), h);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(h.keys, kKeys + 4);
  EXPECT_EQ(h.strings, kKeys);
}

TEST(PositionOfTest, CountsLinesAndColumnsFromOne) {
  const std::string text = "ab\ncd\n\nef";
  auto at = [&](std::size_t offset) {
    const Position p = PositionOf(AsBytes(text), offset);
    return std::to_string(p.line) + ":" + std::to_string(p.column);
  };
  EXPECT_EQ(at(0), "1:1");
  EXPECT_EQ(at(2), "1:3");  // the newline itself
  EXPECT_EQ(at(3), "2:1");
  EXPECT_EQ(at(6), "3:1");
  EXPECT_EQ(at(8), "4:2");
  EXPECT_EQ(at(9), "4:3");    // the end
  EXPECT_EQ(at(100), "4:3");  // clamped to the end
  EXPECT_EQ(PositionOf({}, 5).line, 1u);
  EXPECT_EQ(PositionOf({}, 5).column, 1u);
}

}  // namespace
}  // namespace tc::json
