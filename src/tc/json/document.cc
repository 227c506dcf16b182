#include "tc/json/document.h"

#include <fmt/format.h>

#include <bit>
#include <charconv>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace tc::json {
namespace {

using doc::Value;

// SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast short-input PRF")
// under a per-process random key. Object keys come from hostile input; with
// an unkeyed hash an attacker could make every key of a big object collide
// and turn duplicate detection quadratic.
struct SipKey {
  std::uint64_t k0;
  std::uint64_t k1;
};

SipKey RandomSipKey() {
  std::random_device rd;
  auto word = [&rd] {
    return (static_cast<std::uint64_t>(rd()) << 32) |
           static_cast<std::uint64_t>(rd());
  };
  return {word(), word()};
}

const SipKey& ProcessSipKey() {
  static const SipKey key = RandomSipKey();
  return key;
}

std::uint64_t SipHash13(const SipKey& key, std::string_view s) {
  std::uint64_t v0 = 0x736f6d6570736575ULL ^ key.k0;
  std::uint64_t v1 = 0x646f72616e646f6dULL ^ key.k1;
  std::uint64_t v2 = 0x6c7967656e657261ULL ^ key.k0;
  std::uint64_t v3 = 0x7465646279746573ULL ^ key.k1;
  // clang-format off
  auto round = [&]() __attribute__((always_inline)) {
    v0 += v1; v1 = std::rotl(v1, 13); v1 ^= v0; v0 = std::rotl(v0, 32);
    v2 += v3; v3 = std::rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = std::rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = std::rotl(v1, 17); v1 ^= v2; v2 = std::rotl(v2, 32);
  };
  // clang-format on
  auto byte = [&s](std::size_t i) {
    return static_cast<std::uint64_t>(static_cast<unsigned char>(s[i]));
  };
  const std::size_t n = s.size();
  std::size_t i = 0;
  for (; n - i >= 8; i += 8) {
    std::uint64_t m = 0;
    for (std::size_t k = 0; k < 8; ++k) m |= byte(i + k) << (8 * k);
    v3 ^= m;
    round();
    v0 ^= m;
  }
  std::uint64_t last = static_cast<std::uint64_t>(n) << 56;
  for (std::size_t k = 0; i + k < n; ++k) last |= byte(i + k) << (8 * k);
  v3 ^= last;
  round();
  v0 ^= last;
  v2 ^= 0xff;
  round();
  round();
  round();
  return v0 ^ v1 ^ v2 ^ v3;
}

// An open-addressing set of member indices of one object, keyed by the
// member's key, for objects too big for a linear scan. Slots are 8 bytes
// (32 bits of hash, 32 bits of index): the table of a 10^6-key policy is
// probed at random, and its size decides the cache misses.
class KeyIndex {
 public:
  // The most members an indexed object may have.
  static constexpr std::size_t kMaxMembers = std::size_t{1} << 31;

  bool built() const { return !slots_.empty(); }

  // Indexes every member of `members` (which has no duplicate keys and at
  // most kMaxMembers members).
  void Build(const Value::Object& members) {
    Rehash(std::bit_ceil(members.size() * 2 + 16));
    for (std::size_t i = 0; i < members.size(); ++i) {
      (void)Insert(members, members[i].first, i);
    }
  }

  // Records that member `index` (< kMaxMembers, maybe not yet appended) has
  // `key`; false if an indexed member already has that key.
  bool Insert(const Value::Object& members, std::string_view key,
              std::size_t index) {
    if ((count_ + 1) * 2 > slots_.size()) Rehash(slots_.size() * 2);
    const auto hash =
        static_cast<std::uint32_t>(SipHash13(ProcessSipKey(), key));
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.index_plus_one == 0) {
        slot = {hash, static_cast<std::uint32_t>(index + 1)};
        ++count_;
        return true;
      }
      if (slot.hash == hash && members[slot.index_plus_one - 1].first == key) {
        return false;
      }
    }
  }

 private:
  struct Slot {
    std::uint32_t hash;
    std::uint32_t index_plus_one;  // 0: empty
  };

  // capacity: a power of two, at most 2^32 (kMaxMembers keeps it there).
  void Rehash(std::size_t capacity) {
    std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(capacity));
    const std::size_t mask = capacity - 1;
    for (const Slot& slot : old) {
      if (slot.index_plus_one == 0) continue;
      std::size_t i = slot.hash & mask;
      while (slots_[i].index_plus_one != 0) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  std::vector<Slot> slots_;
  std::size_t count_ = 0;
};

// Objects up to this size are checked for duplicates by a linear scan.
constexpr std::size_t kLinearScanMembers = 8;

// A key for an error message: quotes, backslashes and control characters
// escaped, at most 64 bytes (cut at a UTF-8 boundary). The key is valid
// UTF-8 (the reader guarantees it).
std::string KeyForMessage(std::string_view key) {
  constexpr std::size_t kMax = 64;
  bool cut = false;
  if (key.size() > kMax) {
    std::size_t end = kMax;
    while (end > 0 && (static_cast<unsigned char>(key[end]) & 0xC0) == 0x80)
      --end;
    key = key.substr(0, end);
    cut = true;
  }
  std::string out;
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02X}", c);
    } else {
      out.push_back(ch);
    }
  }
  if (cut) out += "...";
  return out;
}

// For a literal that std::from_chars found out of range for double: the
// decimal exponent m with value = 0.d1d2... x 10^m (d1 != 0), saturated.
// Out-of-range values are either > 1e308 (m > 0) or < 1e-307 (m <= 0).
std::int64_t DecimalMagnitude(std::string_view literal) {
  constexpr std::int64_t kSaturate = std::int64_t{1} << 40;
  std::size_t i = 0;
  if (i < literal.size() && literal[i] == '-') ++i;
  std::int64_t m = 0;
  std::size_t int_begin = i;
  while (i < literal.size() && literal[i] >= '0' && literal[i] <= '9') ++i;
  const bool int_is_zero = i - int_begin == 1 && literal[int_begin] == '0';
  if (!int_is_zero) m = static_cast<std::int64_t>(i - int_begin);
  if (i < literal.size() && literal[i] == '.') {
    ++i;
    if (int_is_zero) {
      while (i < literal.size() && literal[i] == '0') {
        ++i;
        if (m > -kSaturate) --m;
      }
    }
    while (i < literal.size() && literal[i] >= '0' && literal[i] <= '9') ++i;
  }
  std::int64_t exp = 0;
  bool negative_exp = false;
  if (i < literal.size() && (literal[i] == 'e' || literal[i] == 'E')) {
    ++i;
    if (i < literal.size() && (literal[i] == '+' || literal[i] == '-')) {
      negative_exp = literal[i] == '-';
      ++i;
    }
    for (; i < literal.size(); ++i) {
      exp = std::min(exp * 10 + (literal[i] - '0'), kSaturate);
    }
  }
  return negative_exp ? m - exp : m + exp;
}

class Builder final : public Handler {
 public:
  explicit Builder(const std::function<Handler*(std::string_view)>* divert = nullptr)
      : divert_(divert) {}
  Value Take() { return std::move(root_); }

  Result<void> BeginObject() override {
    if (diverted_ != nullptr) return Diverted(diverted_->BeginObject(), +1);
    stack_.push_back(Frame{Value::MakeObject(), {}, {}});
    return {};
  }
  Result<void> Key(std::string_view key) override {
    if (diverted_ != nullptr) return Diverted(diverted_->Key(key), 0);
    TC_RETURN_IF_ERROR(AddKey(key));
    if (divert_ != nullptr && stack_.size() == 1) {
      // Diverted members are not in the tree: their keys are checked here.
      for (const std::string& k : diverted_keys_) {
        if (k == key) return Duplicate(key);
      }
      // A member of the root object whose value goes elsewhere.
      diverted_ = (*divert_)(key);
      depth_ = 0;
      if (diverted_ != nullptr) diverted_keys_.emplace_back(key);
    }
    return {};
  }
  Result<void> EndObject() override {
    if (diverted_ != nullptr) return Diverted(diverted_->EndObject(), -1);
    return EndContainer();
  }
  Result<void> BeginArray() override {
    if (diverted_ != nullptr) return Diverted(diverted_->BeginArray(), +1);
    stack_.push_back(Frame{Value::MakeArray(), {}, {}});
    return {};
  }
  Result<void> EndArray() override {
    if (diverted_ != nullptr) return Diverted(diverted_->EndArray(), -1);
    return EndContainer();
  }
  Result<void> String(std::string_view s) override {
    if (diverted_ != nullptr) return Diverted(diverted_->String(s), 0);
    Add(Value(s));
    return {};
  }
  Result<void> Number(std::string_view literal) override {
    if (diverted_ != nullptr) return Diverted(diverted_->Number(literal), 0);
    return AddNumber(literal);
  }
  Result<void> Bool(bool b) override {
    if (diverted_ != nullptr) return Diverted(diverted_->Bool(b), 0);
    Add(Value(b));
    return {};
  }
  Result<void> Null() override {
    if (diverted_ != nullptr) return Diverted(diverted_->Null(), 0);
    Add(Value());
    return {};
  }

 private:
  // After one event of a diverted value: `step` is its nesting change; the
  // value ends when the nesting is back to where it started.
  Result<void> Diverted(Result<void> r, int step) {
    TC_RETURN_IF_ERROR(std::move(r));
    depth_ += step;
    if (depth_ == 0) {
      diverted_ = nullptr;
      stack_.back().key.clear();  // the member is not in the tree
    }
    return {};
  }

  Result<void> AddKey(std::string_view key) {
    Frame& frame = stack_.back();
    const Value::Object& members = frame.value.object();
    if (members.size() < kLinearScanMembers) {
      for (const auto& member : members) {
        if (member.first == key) return Duplicate(key);
      }
    } else {
      if (members.size() >= KeyIndex::kMaxMembers) {
        return Fail(ErrorCode::kMalformed,
                    fmt::format("object with more than {} members",
                                KeyIndex::kMaxMembers));
      }
      if (!frame.index.built()) frame.index.Build(members);
      if (!frame.index.Insert(members, key, members.size()))
        return Duplicate(key);
    }
    frame.key.assign(key);
    return {};
  }

  Result<void> AddNumber(std::string_view literal) {
    const char* const begin = literal.data();
    const char* const end = begin + literal.size();
    if (literal.find_first_of(".eE") == std::string_view::npos) {
      std::int64_t i = 0;
      const auto [ptr, ec] = std::from_chars(begin, end, i);
      if (ec == std::errc() && ptr == end) {
        Add(Value(i));
        return {};
      }
      // Too big for int64: a double, below.
    }
    double d = 0;
    const auto [ptr, ec] = std::from_chars(begin, end, d);
    if (ec == std::errc::result_out_of_range) {
      if (DecimalMagnitude(literal) > 0) {
        return Fail(ErrorCode::kMalformed,
                    fmt::format("number out of range: {}", literal));
      }
      d = literal.front() == '-' ? -0.0 : 0.0;  // underflow
    } else if (ec != std::errc() || ptr != end) {
      // The reader validated the grammar, which from_chars accepts.
      return Fail(ErrorCode::kInternal,
                  fmt::format("could not convert number {}", literal));
    }
    Add(Value(d));
    return {};
  }

  struct Frame {
    Value value;      // the object or array being built
    std::string key;  // objects: the key of the member being parsed
    KeyIndex index;   // objects: built once they outgrow a linear scan
  };

  static Result<void> Duplicate(std::string_view key) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("duplicate key \"{}\"", KeyForMessage(key)));
  }

  Result<void> EndContainer() {
    Value done = std::move(stack_.back().value);
    stack_.pop_back();
    Add(std::move(done));
    return {};
  }

  void Add(Value v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return;
    }
    Frame& frame = stack_.back();
    if (frame.value.is_array()) {
      frame.value.Push(std::move(v));
    } else {
      frame.value.Set(std::move(frame.key), std::move(v));
      frame.key.clear();
    }
  }

  std::vector<Frame> stack_;
  Value root_;
  const std::function<Handler*(std::string_view)>* divert_ = nullptr;
  Handler* diverted_ = nullptr;
  std::vector<std::string> diverted_keys_;
  int depth_ = 0;
};

}  // namespace

Result<doc::Value> ParseDocument(std::span<const std::uint8_t> text,
                                 const Limits& limits) {
  Builder builder;
  TC_RETURN_IF_ERROR(Parse(text, builder, limits));
  return builder.Take();
}

Result<doc::Value> ParseDocumentDiverting(
    std::span<const std::uint8_t> text,
    const std::function<Handler*(std::string_view key)>& divert, const Limits& limits) {
  Builder builder(&divert);
  TC_RETURN_IF_ERROR(Parse(text, builder, limits));
  return builder.Take();
}

}  // namespace tc::json
