#include "tc/doc/value.h"

#include <gtest/gtest.h>

namespace tc::doc {
namespace {

Value Sample() {
  Value v = Value::MakeObject();
  v.Set("name", "a\"b\n");
  v.Set("n", 3);
  auto& list = v.Set("list", Value::MakeArray());
  Value item = Value::MakeObject();
  item.Set("k", true);
  item.Set("empty", Value::MakeArray());
  list.Push(std::move(item));
  list.Push("x");
  v.Set("0", Value());
  return v;
}

TEST(ValueTest, JsonIsExact) {
  EXPECT_EQ(ToJson(Sample()),
            "{\n  \"name\": \"a\\\"b\\n\",\n  \"n\": 3,\n  \"list\": [\n"
            "    {\n      \"k\": true,\n      \"empty\": []\n    },\n"
            "    \"x\"\n  ],\n  \"0\": null\n}\n");
}

TEST(ValueTest, JsonLineIsCompactAndOneLine) {
  EXPECT_EQ(ToJsonLine(Sample()),
            "{\"name\":\"a\\\"b\\n\",\"n\":3,\"list\":[{\"k\":true,\"empty\":[]},\"x\"],"
            "\"0\":null}");
}

TEST(ValueTest, YamlIsExact) {
  EXPECT_EQ(ToYaml(Sample()),
            "---\nname: \"a\\\"b\\n\"\n\"n\": 3\nlist:\n  - k: true\n"
            "    empty: []\n  - \"x\"\n\"0\": null\n");
}

TEST(ValueTest, InvalidUtf8IsReplaced) {
  Value v(std::string("\xC3\x28ok\xE2\x82\xAC"));
  EXPECT_EQ(ToJson(v), "\"\\ufffd(ok\xE2\x82\xAC\"\n");
}

}  // namespace
}  // namespace tc::doc
