#pragma once

// An event-driven (SAX) JSON reader for untrusted input (RFC 8259).
//
// Parse() walks the text once and reports each token to a Handler, in
// document order, without building a tree (document.h builds one). It is
// meant for hostile input of any size, e.g. a 100 MB Keylime runtime policy
// uploaded by a tenant:
//
//   - every byte is read through an index checked against the input size;
//   - nesting is tracked on an explicit stack bounded by Limits::max_depth,
//     so deep input cannot overflow the C++ stack;
//   - strings, keys and numbers have size caps (Limits);
//   - strings must be strict UTF-8 (RFC 3629: no overlong forms, no UTF-16
//     surrogates, nothing above U+10FFFF) and \uXXXX escapes must pair
//     surrogates correctly; the handler only ever sees valid UTF-8;
//   - numbers follow the RFC 8259 §6 grammar exactly (no leading zeros, no
//     '+', no NaN/Infinity, no "1." or ".5"); the reader does not convert them.
//
// Strings without escapes are passed as views into the input (no copy); a
// string with escapes is decoded into a buffer owned by the parser and reused.
//
// Thread safety: Parse() keeps no state between calls; concurrent calls with
// different handlers are safe.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "tc/base/error.h"

namespace tc::json {

// Caps on what one document may contain. Exceeding any of them is kMalformed.
struct Limits {
  std::size_t max_depth = 64;              // nesting of arrays/objects
  std::size_t max_string_bytes = 1 << 20;  // one decoded string or key
  std::size_t max_number_chars = 64;       // one number literal
};

// Receives the document's events in order. A handler error stops parsing;
// Parse returns it wrapped with the position of the token that caused the
// event ("line L, column C (offset O): ..."), keeping the handler's code.
// Views passed to Key/String/Number are valid only during the call.
//
// Events nest as the document does: BeginObject, then for each member a Key
// followed by the member's value events, then EndObject; arrays likewise
// without keys. A document that fails to parse may already have produced
// events for its valid prefix, so a handler must not act on them until Parse
// succeeds.
class Handler {
 public:
  virtual ~Handler() = default;
  [[nodiscard]] virtual Result<void> BeginObject() = 0;
  // Keys and strings are unescaped, valid UTF-8 (they may contain NUL).
  [[nodiscard]] virtual Result<void> Key(std::string_view key) = 0;
  [[nodiscard]] virtual Result<void> EndObject() = 0;
  [[nodiscard]] virtual Result<void> BeginArray() = 0;
  [[nodiscard]] virtual Result<void> EndArray() = 0;
  [[nodiscard]] virtual Result<void> String(std::string_view s) = 0;
  // The literal as written, already validated against the RFC 8259 number
  // grammar (e.g. "-12.5e+3"); converting it is the handler's job.
  [[nodiscard]] virtual Result<void> Number(std::string_view literal) = 0;
  [[nodiscard]] virtual Result<void> Bool(bool b) = 0;
  [[nodiscard]] virtual Result<void> Null() = 0;
};

// Parses exactly one JSON value (RFC 8259) surrounded by optional whitespace
// (space, tab, CR, LF). A UTF-8 byte order mark at the start is refused with
// a clear message (RFC 8259 §8.1 forbids adding one).
//
// Errors: ErrorCode::kMalformed with "line L, column C (offset O): <what>",
// where L and C are 1-based, lines end at '\n' and C counts bytes. <what> is
// e.g. "unterminated string", "expected ',' or '}'", "invalid escape \\q",
// "control character in string", "nesting deeper than 64", "invalid UTF-8
// ...", "lone surrogate \\ud800", "trailing data after the value". Errors the
// handler returns keep their code and get the same position prefix.
//
// `text` need not be NUL-terminated and is not read past its end.
[[nodiscard]] Result<void> Parse(std::span<const std::uint8_t> text,
                                 Handler& handler, const Limits& limits = {});

// Line/column of a byte offset, for callers that report their own errors.
// Both are 1-based; lines end at '\n'; the column counts bytes. An offset past
// the end is treated as the end.
struct Position {
  std::size_t line;
  std::size_t column;
};
Position PositionOf(std::span<const std::uint8_t> text, std::size_t offset);

}  // namespace tc::json
