// libFuzzer target: the JSON reader (tc/json/reader.h) and the document
// builder over it (tc/json/document.h). Neither may crash, hang or read out
// of bounds on any input; errors are expected and ignored.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tc/doc/value.h"
#include "tc/json/document.h"
#include "tc/json/reader.h"

namespace {

class NullHandler final : public tc::json::Handler {
 public:
  tc::Result<void> BeginObject() override { return {}; }
  tc::Result<void> Key(std::string_view) override { return {}; }
  tc::Result<void> EndObject() override { return {}; }
  tc::Result<void> BeginArray() override { return {}; }
  tc::Result<void> EndArray() override { return {}; }
  tc::Result<void> String(std::string_view) override { return {}; }
  tc::Result<void> Number(std::string_view) override { return {}; }
  tc::Result<void> Bool(bool) override { return {}; }
  tc::Result<void> Null() override { return {}; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::span<const std::uint8_t> text(data, size);
  NullHandler handler;
  (void)tc::json::Parse(text, handler);
  // Small limits reach the limit checks with small inputs.
  tc::json::Limits small;
  small.max_depth = 4;
  small.max_string_bytes = 8;
  small.max_number_chars = 6;
  (void)tc::json::Parse(text, handler, small);
  auto doc = tc::json::ParseDocument(text);
  // What parses must render as JSON that parses again.
  if (doc) {
    const std::string json = tc::doc::ToJson(*doc);
    auto again = tc::json::ParseDocument(std::span(
        reinterpret_cast<const std::uint8_t*>(json.data()), json.size()));
    if (!again) __builtin_trap();
  }
  return 0;
}
