#include "tc/json/reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

namespace tc::json {
namespace {

enum class Container : std::uint8_t { kArray, kObject };

// Bytes that end a run of plain string content: '"', '\\', control
// characters (RFC 8259 §7 requires them escaped) and non-ASCII bytes (which
// must be checked as UTF-8).
constexpr std::array<bool, 256> MakeStringStopTable() {
  std::array<bool, 256> t{};
  for (std::size_t c = 0; c < 256; ++c) {
    t[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  }
  return t;
}
constexpr std::array<bool, 256> kStringStop = MakeStringStopTable();

bool IsDigit(std::uint8_t c) { return static_cast<unsigned>(c - '0') < 10u; }

// RFC 8259 §2: ws = *( %x20 / %x09 / %x0A / %x0D ).
bool IsWhitespace(std::uint8_t c) {
  return c <= ' ' && (c == ' ' || c == '\n' || c == '\r' || c == '\t');
}

int HexDigitValue(std::uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view AsChars(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// "'x'" for printable ASCII, "byte 0xNN" for anything else.
std::string Describe(std::uint8_t c) {
  if (c > ' ' && c < 0x7F) return fmt::format("'{}'", static_cast<char>(c));
  return fmt::format("byte 0x{:02X}", c);
}

// Eight bytes starting at text[i]; the caller checks that they exist. Byte
// order does not matter to the callers; compilers turn this into one load.
std::uint64_t Load8(std::span<const std::uint8_t> text, std::size_t i) {
  std::uint64_t w = 0;
  for (std::size_t k = 0; k < 8; ++k) {
    w |= static_cast<std::uint64_t>(text[i + k]) << (8 * k);
  }
  return w;
}

// True when any byte of w is a string stop byte (see kStringStop). Each
// term is the classic "has a byte less than n" / "has a zero byte" test,
// which never misses a byte; kStringStop then finds which one.
bool HasStringStop(std::uint64_t w) {
  constexpr std::uint64_t k01 = 0x0101010101010101ULL;
  constexpr std::uint64_t k80 = 0x8080808080808080ULL;
  const std::uint64_t quote = w ^ (k01 * '"');
  const std::uint64_t backslash = w ^ (k01 * '\\');
  const std::uint64_t control = (w - k01 * 0x20) & ~w;
  return ((control | ((quote - k01) & ~quote) |
           ((backslash - k01) & ~backslash) | w) &
          k80) != 0;
}

class Parser {
 public:
  Parser(std::span<const std::uint8_t> text, Handler& handler,
         const Limits& limits)
      : text_(text), handler_(handler), limits_(limits) {}

  Result<void> Run();

 private:
  Error MalformedAt(std::size_t offset, std::string_view what) const;
  // Adds the position of `at` to a handler error.
  Result<void> Positioned(Result<void> r, std::size_t at) const {
    if (r.has_value()) [[likely]] {
      return r;
    }
    return Fail(WithPosition(std::move(r).error(), at));
  }
  Error WithPosition(Error error, std::size_t at) const;

  void SkipWhitespace();
  // Index of the first string stop byte at or after i, or the input size.
  std::size_t ScanPlain(std::size_t i) const;
  // Length of the valid UTF-8 sequence starting at text_[i] (a byte >=
  // 0x80), or 0 if it is not one (RFC 3629 §4, Unicode Table 3-7).
  std::size_t Utf8SequenceLength(std::size_t i) const;

  Result<void> Open(Container kind);
  Result<void> Close();
  // pos_ at '"': parses a string, leaving pos_ after the closing quote. The
  // view is into text_ or scratch_, valid until the next call.
  Result<std::string_view> ParseString();
  // text_[i] is the backslash of an escape inside the string opened at
  // `quote`: appends the decoded character to scratch_ and advances i.
  Result<void> DecodeEscape(std::size_t quote, std::size_t& i);
  Result<std::uint32_t> Hex4(std::size_t backslash) const;
  void AppendUtf8(std::uint32_t cp);
  // pos_ at what should be a member's key: parses it, reports it, and
  // consumes the ':' after it.
  Result<void> ParseMemberKey(bool after_comma);
  Result<void> ParseNumber();
  Result<void> ParseLiteral();
  Error StringTooLong(std::size_t quote) const;

  const std::span<const std::uint8_t> text_;
  Handler& handler_;
  const Limits& limits_;
  std::size_t pos_ = 0;
  std::vector<Container> stack_;
  std::string scratch_;  // decoded strings with escapes, reused
};

Error Parser::MalformedAt(std::size_t offset, std::string_view what) const {
  const Position p = PositionOf(text_, offset);
  return Error(ErrorCode::kMalformed,
               fmt::format("line {}, column {} (offset {}): {}", p.line,
                           p.column, offset, what));
}

Error Parser::WithPosition(Error error, std::size_t at) const {
  const Position p = PositionOf(text_, at);
  return std::move(error).Wrap(
      fmt::format("line {}, column {} (offset {})", p.line, p.column, at));
}

Error Parser::StringTooLong(std::size_t quote) const {
  return MalformedAt(quote, fmt::format("string longer than {} bytes",
                                        limits_.max_string_bytes));
}

void Parser::SkipWhitespace() {
  const std::size_t n = text_.size();
  while (pos_ < n && IsWhitespace(text_[pos_])) ++pos_;
}

std::size_t Parser::ScanPlain(std::size_t i) const {
  const std::size_t n = text_.size();
  while (n - i >= 8 && !HasStringStop(Load8(text_, i))) i += 8;
  while (i < n && !kStringStop[text_[i]]) ++i;
  return i;
}

std::size_t Parser::Utf8SequenceLength(std::size_t i) const {
  const std::uint8_t c = text_[i];
  std::size_t len;
  std::uint8_t lo = 0x80;  // range of the second byte
  std::uint8_t hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c == 0xE0) {
    len = 3;
    lo = 0xA0;  // no overlongs
  } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    len = 3;
  } else if (c == 0xED) {
    len = 3;
    hi = 0x9F;  // no UTF-16 surrogates U+D800..U+DFFF
  } else if (c == 0xF0) {
    len = 4;
    lo = 0x90;  // no overlongs
  } else if (c >= 0xF1 && c <= 0xF3) {
    len = 4;
  } else if (c == 0xF4) {
    len = 4;
    hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;  // continuation byte, C0/C1 (overlong) or F5..FF
  }
  if (len > text_.size() - i) return 0;
  const std::uint8_t second = text_[i + 1];
  if (second < lo || second > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if ((text_[i + k] & 0xC0) != 0x80) return 0;
  }
  return len;
}

Result<void> Parser::Open(Container kind) {
  if (stack_.size() >= limits_.max_depth) {
    return Fail(MalformedAt(
        pos_, fmt::format("nesting deeper than {}", limits_.max_depth)));
  }
  const std::size_t at = pos_;
  TC_RETURN_IF_ERROR(Positioned(kind == Container::kObject
                                    ? handler_.BeginObject()
                                    : handler_.BeginArray(),
                                at));
  stack_.push_back(kind);
  ++pos_;
  return {};
}

Result<void> Parser::Close() {
  const std::size_t at = pos_;
  const Container kind = stack_.back();
  stack_.pop_back();
  ++pos_;
  return Positioned(
      kind == Container::kObject ? handler_.EndObject() : handler_.EndArray(),
      at);
}

Result<std::string_view> Parser::ParseString() {
  const std::size_t n = text_.size();
  const std::size_t quote = pos_;
  const std::size_t start = quote + 1;
  const std::size_t max = limits_.max_string_bytes;
  std::size_t i = start;
  // Fast path: no escapes, so the string is a view into the input.
  for (;;) {
    i = ScanPlain(i);
    if (i - start > max) return Fail(StringTooLong(quote));
    if (i >= n) return Fail(MalformedAt(quote, "unterminated string"));
    const std::uint8_t c = text_[i];
    if (c == '"') {
      pos_ = i + 1;
      return AsChars(text_.subspan(start, i - start));
    }
    if (c == '\\') break;
    if (c < 0x20) {
      return Fail(MalformedAt(
          i, fmt::format("control character in string ({})", Describe(c))));
    }
    const std::size_t len = Utf8SequenceLength(i);
    if (len == 0) {
      return Fail(MalformedAt(
          i, fmt::format("invalid UTF-8 in string ({})", Describe(c))));
    }
    i += len;
  }
  // Slow path: decode into scratch_. text_[i] is the first backslash.
  scratch_.assign(AsChars(text_.subspan(start, i - start)));
  for (;;) {
    if (i >= n) return Fail(MalformedAt(quote, "unterminated string"));
    const std::uint8_t c = text_[i];
    if (c == '"') {
      pos_ = i + 1;
      return std::string_view(scratch_);
    }
    if (c == '\\') {
      TC_RETURN_IF_ERROR(DecodeEscape(quote, i));
    } else if (c < 0x20) {
      return Fail(MalformedAt(
          i, fmt::format("control character in string ({})", Describe(c))));
    } else if (c >= 0x80) {
      const std::size_t len = Utf8SequenceLength(i);
      if (len == 0) {
        return Fail(MalformedAt(
            i, fmt::format("invalid UTF-8 in string ({})", Describe(c))));
      }
      scratch_.append(AsChars(text_.subspan(i, len)));
      i += len;
    }
    if (scratch_.size() > max) return Fail(StringTooLong(quote));
    // Checked before copying, so a huge run is never copied.
    const std::size_t run_end = ScanPlain(i);
    if (run_end - i > max - scratch_.size()) return Fail(StringTooLong(quote));
    scratch_.append(AsChars(text_.subspan(i, run_end - i)));
    i = run_end;
  }
}

Result<std::uint32_t> Parser::Hex4(std::size_t backslash) const {
  // The caller has checked that text_[backslash + 1] == 'u' exists.
  const std::size_t first = backslash + 2;
  if (text_.size() - first < 4) {
    return Fail(
        MalformedAt(backslash, "invalid \\u escape: expected 4 hex digits"));
  }
  std::uint32_t v = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const int d = HexDigitValue(text_[first + k]);
    if (d < 0) {
      return Fail(
          MalformedAt(backslash, "invalid \\u escape: expected 4 hex digits"));
    }
    v = (v << 4) | static_cast<std::uint32_t>(d);
  }
  return v;
}

void Parser::AppendUtf8(std::uint32_t cp) {
  auto byte = [](std::uint32_t b) { return static_cast<char>(b); };
  if (cp < 0x80) {
    scratch_.push_back(byte(cp));
  } else if (cp < 0x800) {
    scratch_.push_back(byte(0xC0 | (cp >> 6)));
    scratch_.push_back(byte(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    scratch_.push_back(byte(0xE0 | (cp >> 12)));
    scratch_.push_back(byte(0x80 | ((cp >> 6) & 0x3F)));
    scratch_.push_back(byte(0x80 | (cp & 0x3F)));
  } else {
    scratch_.push_back(byte(0xF0 | (cp >> 18)));
    scratch_.push_back(byte(0x80 | ((cp >> 12) & 0x3F)));
    scratch_.push_back(byte(0x80 | ((cp >> 6) & 0x3F)));
    scratch_.push_back(byte(0x80 | (cp & 0x3F)));
  }
}

Result<void> Parser::DecodeEscape(std::size_t quote, std::size_t& i) {
  const std::size_t n = text_.size();
  if (n - i < 2) return Fail(MalformedAt(quote, "unterminated string"));
  const std::uint8_t e = text_[i + 1];
  char out;
  switch (e) {
    case '"':
      out = '"';
      break;
    case '\\':
      out = '\\';
      break;
    case '/':
      out = '/';
      break;
    case 'b':
      out = '\b';
      break;
    case 'f':
      out = '\f';
      break;
    case 'n':
      out = '\n';
      break;
    case 'r':
      out = '\r';
      break;
    case 't':
      out = '\t';
      break;
    case 'u': {
      TC_ASSIGN_OR_RETURN(const std::uint32_t unit, Hex4(i));
      if (unit >= 0xDC00 && unit <= 0xDFFF) {
        return Fail(
            MalformedAt(i, fmt::format("lone surrogate \\u{:04x}", unit)));
      }
      if (unit < 0xD800 || unit > 0xDBFF) {
        AppendUtf8(unit);
        i += 6;
        return {};
      }
      // A high surrogate must be followed by an escaped low one (RFC 8259
      // §7): "\ud83d\ude00" is U+1F600.
      const std::size_t next = i + 6;
      if (n - next >= 2 && text_[next] == '\\' && text_[next + 1] == 'u') {
        TC_ASSIGN_OR_RETURN(const std::uint32_t low, Hex4(next));
        if (low >= 0xDC00 && low <= 0xDFFF) {
          AppendUtf8(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00));
          i = next + 6;
          return {};
        }
      }
      return Fail(
          MalformedAt(i, fmt::format("lone surrogate \\u{:04x}", unit)));
    }
    default:
      if (e > ' ' && e < 0x7F) {
        return Fail(MalformedAt(
            i, fmt::format("invalid escape \\{}", static_cast<char>(e))));
      }
      return Fail(MalformedAt(
          i, fmt::format("invalid escape: '\\' followed by {}", Describe(e))));
  }
  scratch_.push_back(out);
  i += 2;
  return {};
}

Result<void> Parser::ParseMemberKey(bool after_comma) {
  const std::size_t n = text_.size();
  if (pos_ >= n) {
    return Fail(MalformedAt(pos_, after_comma
                                      ? "unexpected end of input, expected a "
                                        "string key"
                                      : "unexpected end of input, expected a "
                                        "string key or '}'"));
  }
  const std::uint8_t c = text_[pos_];
  if (c != '"') {
    if (after_comma && c == '}') {
      return Fail(MalformedAt(pos_, "trailing comma before '}'"));
    }
    return Fail(MalformedAt(
        pos_, fmt::format("{}, found {}",
                          after_comma ? "expected a string key"
                                      : "expected a string key or '}'",
                          Describe(c))));
  }
  const std::size_t at = pos_;
  TC_ASSIGN_OR_RETURN(const std::string_view key, ParseString());
  TC_RETURN_IF_ERROR(Positioned(handler_.Key(key), at));
  SkipWhitespace();
  if (pos_ >= n) {
    return Fail(MalformedAt(pos_, "unexpected end of input, expected ':'"));
  }
  if (text_[pos_] != ':') {
    return Fail(MalformedAt(
        pos_, fmt::format("expected ':', found {}", Describe(text_[pos_]))));
  }
  ++pos_;
  return {};
}

// RFC 8259 §6:
//   number = [ minus ] int [ frac ] [ exp ]
//   int = zero / ( digit1-9 *DIGIT )
//   frac = decimal-point 1*DIGIT
//   exp = e [ minus / plus ] 1*DIGIT
Result<void> Parser::ParseNumber() {
  const std::size_t n = text_.size();
  const std::size_t start = pos_;
  std::size_t i = start;
  if (text_[i] == '-') ++i;
  if (i >= n || !IsDigit(text_[i])) {
    return Fail(MalformedAt(i, "expected a digit after '-'"));
  }
  if (text_[i] == '0') {
    ++i;
    if (i < n && IsDigit(text_[i])) {
      return Fail(MalformedAt(start, "number with a leading zero"));
    }
  } else {
    while (i < n && IsDigit(text_[i])) ++i;
  }
  if (i < n && text_[i] == '.') {
    ++i;
    if (i >= n || !IsDigit(text_[i])) {
      return Fail(MalformedAt(i, "expected a digit after '.' in number"));
    }
    while (i < n && IsDigit(text_[i])) ++i;
  }
  if (i < n && (text_[i] == 'e' || text_[i] == 'E')) {
    ++i;
    if (i < n && (text_[i] == '+' || text_[i] == '-')) ++i;
    if (i >= n || !IsDigit(text_[i])) {
      return Fail(MalformedAt(i, "expected a digit in the exponent"));
    }
    while (i < n && IsDigit(text_[i])) ++i;
  }
  if (i - start > limits_.max_number_chars) {
    return Fail(
        MalformedAt(start, fmt::format("number longer than {} characters",
                                       limits_.max_number_chars)));
  }
  pos_ = i;
  return Positioned(handler_.Number(AsChars(text_.subspan(start, i - start))),
                    start);
}

Result<void> Parser::ParseLiteral() {
  const std::size_t start = pos_;
  const std::uint8_t c = text_[start];
  const std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
  bool ok = text_.size() - start >= word.size();
  for (std::size_t k = 0; ok && k < word.size(); ++k) {
    ok = text_[start + k] == static_cast<std::uint8_t>(word[k]);
  }
  if (!ok) {
    return Fail(
        MalformedAt(start, "invalid literal (expected true, false or null)"));
  }
  pos_ += word.size();
  return Positioned(c == 'n' ? handler_.Null() : handler_.Bool(c == 't'),
                    start);
}

Result<void> Parser::Run() {
  const std::size_t n = text_.size();
  if (n >= 3 && text_[0] == 0xEF && text_[1] == 0xBB && text_[2] == 0xBF) {
    return Fail(MalformedAt(
        0, "UTF-8 byte order mark at the start (RFC 8259 §8.1 forbids it)"));
  }
  // Each turn either reads a value (or opens a container), or, once a value
  // has ended, reads what follows it inside the enclosing container.
  bool value_ended = false;
  for (;;) {
    if (!value_ended) {
      SkipWhitespace();
      if (pos_ >= n) {
        return Fail(
            MalformedAt(pos_, "unexpected end of input, expected a value"));
      }
      const std::size_t at = pos_;
      const std::uint8_t c = text_[pos_];
      switch (c) {
        case '{':
          TC_RETURN_IF_ERROR(Open(Container::kObject));
          SkipWhitespace();
          if (pos_ < n && text_[pos_] == '}') {
            TC_RETURN_IF_ERROR(Close());
            value_ended = true;
          } else {
            TC_RETURN_IF_ERROR(ParseMemberKey(/*after_comma=*/false));
          }
          continue;
        case '[':
          TC_RETURN_IF_ERROR(Open(Container::kArray));
          SkipWhitespace();
          if (pos_ < n && text_[pos_] == ']') {
            TC_RETURN_IF_ERROR(Close());
            value_ended = true;
          }
          continue;
        case '"': {
          TC_ASSIGN_OR_RETURN(const std::string_view s, ParseString());
          TC_RETURN_IF_ERROR(Positioned(handler_.String(s), at));
          break;
        }
        case 't':
        case 'f':
        case 'n':
          TC_RETURN_IF_ERROR(ParseLiteral());
          break;
        default:
          if (c == '-' || IsDigit(c)) {
            TC_RETURN_IF_ERROR(ParseNumber());
            break;
          }
          return Fail(MalformedAt(
              pos_,
              fmt::format("unexpected {}, expected a value", Describe(c))));
      }
      value_ended = true;
    }

    if (stack_.empty()) {
      SkipWhitespace();
      if (pos_ < n)
        return Fail(MalformedAt(pos_, "trailing data after the value"));
      return {};
    }
    SkipWhitespace();
    const bool in_object = stack_.back() == Container::kObject;
    if (pos_ >= n) {
      return Fail(MalformedAt(pos_, in_object
                                        ? "unexpected end of input, expected "
                                          "',' or '}'"
                                        : "unexpected end of input, expected "
                                          "',' or ']'"));
    }
    const std::uint8_t c = text_[pos_];
    if (c == ',') {
      ++pos_;
      SkipWhitespace();
      if (in_object) {
        TC_RETURN_IF_ERROR(ParseMemberKey(/*after_comma=*/true));
      } else if (pos_ < n && text_[pos_] == ']') {
        return Fail(MalformedAt(pos_, "trailing comma before ']'"));
      }
      value_ended = false;
    } else if (c == (in_object ? '}' : ']')) {
      TC_RETURN_IF_ERROR(Close());
    } else {
      return Fail(MalformedAt(
          pos_,
          fmt::format("{}, found {}",
                      in_object ? "expected ',' or '}'" : "expected ',' or ']'",
                      Describe(c))));
    }
  }
}

}  // namespace

Result<void> Parse(std::span<const std::uint8_t> text, Handler& handler,
                   const Limits& limits) {
  Parser parser(text, handler, limits);
  return parser.Run();
}

Position PositionOf(std::span<const std::uint8_t> text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, offset - line_start + 1};
}

}  // namespace tc::json
