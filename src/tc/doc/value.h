#pragma once

// A small ordered document tree, rendered as JSON or YAML. Reports of every
// subcommand are built as a Value so that `--format json|yaml` print the same
// content as the human view. Object members keep insertion order.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tc::doc {

class Value {
 public:
  using Array = std::vector<Value>;
  using Member = std::pair<std::string, Value>;
  using Object = std::vector<Member>;

  Value() : v_(std::monostate{}) {}  // null
  Value(bool b) : v_(b) {}           // NOLINT: implicit by design
  Value(int i) : v_(static_cast<std::int64_t>(i)) {}
  Value(long i) : v_(static_cast<std::int64_t>(i)) {}
  Value(long long i) : v_(static_cast<std::int64_t>(i)) {}
  Value(unsigned i) : v_(static_cast<std::int64_t>(i)) {}
  Value(unsigned long i) : v_(static_cast<std::int64_t>(i)) {}
  Value(unsigned long long i) : v_(static_cast<std::int64_t>(i)) {}
  Value(double d) : v_(d) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(const char* s) : v_(std::string(s)) {}

  static Value MakeObject() { Value v; v.v_ = Object{}; return v; }
  static Value MakeArray() { Value v; v.v_ = Array{}; return v; }

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  bool is_object() const { return std::holds_alternative<Object>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }

  // Appends a member (objects only; a null Value becomes an object).
  Value& Set(std::string key, Value value);
  // Appends an element (arrays only; a null Value becomes an array).
  Value& Push(Value value);

  // Member lookup; nullptr when absent or not an object.
  const Value* Find(std::string_view key) const;

  const std::variant<std::monostate, bool, std::int64_t, double, std::string,
                     Array, Object>&
  variant() const {
    return v_;
  }
  const std::string& str() const { return std::get<std::string>(v_); }
  const Array& array() const { return std::get<Array>(v_); }
  const Object& object() const { return std::get<Object>(v_); }

 private:
  std::variant<std::monostate, bool, std::int64_t, double, std::string, Array,
               Object>
      v_;
};

// Pretty JSON (two-space indent) ending in a newline. Invalid UTF-8 in
// strings is replaced by U+FFFD so the output always parses.
std::string ToJson(const Value& v);
// Compact JSON on one line, no trailing newline (JSON Lines, JSON-SEQ).
std::string ToJsonLine(const Value& v);
// Block-style YAML 1.2 document ("---" first); strings double-quoted.
std::string ToYaml(const Value& v);

}  // namespace tc::doc
