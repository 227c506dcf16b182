#include "tc/doc/value.h"

#include <fmt/format.h>

#include <cmath>

namespace tc::doc {

Value& Value::Set(std::string key, Value value) {
  if (is_null()) v_ = Object{};
  auto& obj = std::get<Object>(v_);
  obj.emplace_back(std::move(key), std::move(value));
  return obj.back().second;
}

Value& Value::Push(Value value) {
  if (is_null()) v_ = Array{};
  auto& arr = std::get<Array>(v_);
  arr.push_back(std::move(value));
  return arr.back();
}

const Value* Value::Find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : object()) {
    if (k == key) return &v;
  }
  return nullptr;
}

namespace {

// Length of a valid UTF-8 sequence starting at s[i], or 0.
std::size_t Utf8SeqLen(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n;
  std::uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

bool NeedsEscape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\' || c >= 0x7F;
}

void AppendQuoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    // Runs of plain ASCII, the common case, are copied at once.
    std::size_t run = i;
    while (run < s.size() && !NeedsEscape(static_cast<unsigned char>(s[run]))) ++run;
    if (run > i) {
      out.append(s.substr(i, run - i));
      i = run;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\u{:04x}", c);
      ++i;
      continue;
    }
    const std::size_t n = Utf8SeqLen(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  out.push_back('"');
}

std::string Scalar(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          return std::isfinite(x) ? fmt::format("{}", x) : "null";
        } else if constexpr (std::is_same_v<T, std::string>) {
          std::string out;
          AppendQuoted(out, x);
          return out;
        } else {
          return "";
        }
      },
      v.variant());
}

// Pretty (two-space indent, members on their own lines) or compact (no
// whitespace at all).
void Json(const Value& v, int depth, bool pretty, std::string& out) {
  const std::string pad(pretty ? static_cast<std::size_t>(depth + 1) * 2 : 0, ' ');
  const std::string close_pad(pretty ? static_cast<std::size_t>(depth) * 2 : 0, ' ');
  const char* const open_nl = pretty ? "\n" : "";
  const char* const sep = pretty ? ",\n" : ",";
  if (v.is_object()) {
    if (v.object().empty()) { out += "{}"; return; }
    out.append("{").append(open_nl);
    bool first = true;
    for (const auto& [k, m] : v.object()) {
      if (!first) out += sep;
      first = false;
      out += pad;
      AppendQuoted(out, k);
      out += pretty ? ": " : ":";
      Json(m, depth + 1, pretty, out);
    }
    out.append(open_nl).append(close_pad).append("}");
  } else if (v.is_array()) {
    if (v.array().empty()) { out += "[]"; return; }
    out.append("[").append(open_nl);
    bool first = true;
    for (const auto& e : v.array()) {
      if (!first) out += sep;
      first = false;
      out += pad;
      Json(e, depth + 1, pretty, out);
    }
    out.append(open_nl).append(close_pad).append("]");
  } else {
    out += Scalar(v);
  }
}

// Keys that YAML would read as something other than a string (numbers,
// booleans) are quoted.
bool PlainKey(std::string_view k) {
  if (k.empty()) return false;
  if (!((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z'))) {
    return false;
  }
  if (k == "true" || k == "false" || k == "null" || k == "yes" || k == "no" ||
      k == "on" || k == "off" || k == "y" || k == "n") {
    return false;
  }
  for (char c : k) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

std::string YamlKey(std::string_view k) {
  if (PlainKey(k)) return std::string(k);
  std::string out;
  AppendQuoted(out, k);
  return out;
}

bool IsContainer(const Value& v) {
  return (v.is_object() && !v.object().empty()) ||
         (v.is_array() && !v.array().empty());
}

std::string EmptyOrScalar(const Value& v) {
  if (v.is_object()) return "{}";
  if (v.is_array()) return "[]";
  return Scalar(v);
}

void Yaml(const Value& v, int indent, std::string& out);

void YamlObjectMembers(const Value::Object& obj, int indent, bool first_inline,
                       std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  bool first = true;
  for (const auto& [k, m] : obj) {
    if (!(first && first_inline)) out += pad;
    first = false;
    out.append(YamlKey(k)).append(":");
    if (IsContainer(m)) {
      out += "\n";
      Yaml(m, indent + 2, out);
    } else {
      out.append(" ").append(EmptyOrScalar(m)).append("\n");
    }
  }
}

void Yaml(const Value& v, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (v.is_object() && !v.object().empty()) {
    YamlObjectMembers(v.object(), indent, false, out);
  } else if (v.is_array() && !v.array().empty()) {
    for (const auto& e : v.array()) {
      out.append(pad).append("-");
      if (e.is_object() && !e.object().empty()) {
        out += " ";
        YamlObjectMembers(e.object(), indent + 2, true, out);
      } else if (IsContainer(e)) {
        out += "\n";
        Yaml(e, indent + 2, out);
      } else {
        out.append(" ").append(EmptyOrScalar(e)).append("\n");
      }
    }
  } else {
    out.append(pad).append(EmptyOrScalar(v)).append("\n");
  }
}

}  // namespace

std::string ToJson(const Value& v) {
  std::string out;
  Json(v, 0, true, out);
  out += "\n";
  return out;
}

std::string ToJsonLine(const Value& v) {
  std::string out;
  Json(v, 0, false, out);
  return out;
}

std::string ToYaml(const Value& v) {
  std::string out = "---\n";
  Yaml(v, 0, out);
  return out;
}

}  // namespace tc::doc
