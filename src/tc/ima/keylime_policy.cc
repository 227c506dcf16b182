#include "tc/ima/keylime_policy.h"

#include <array>
#include <vector>

#include <fmt/format.h>

#include "tc/base/hex.h"
#include "tc/json/reader.h"

namespace tc::ima {
namespace {

// Hex digest to bytes in `out`; false unless it is hex of a digest size we
// know (sha1, sha256, sha384, sha512).
bool DecodeDigest(std::string_view hex, std::array<std::uint8_t, 64>& out, std::size_t* size) {
  const std::size_t n = hex.size() / 2;
  if (hex.size() % 2 != 0 || !crypto::HashAlgFromDigestSize(n)) return false;
  *size = n;
  return DecodeHex(hex, std::span(out).first(n));
}

std::string Show(std::string_view s) { return PrintableAscii(AsBytes(s.substr(0, 200))); }

// Walks the document with an explicit state: which member we are in and
// what its value may be.
class PolicyHandler final : public json::Handler {
 public:
  PolicyHandler(KeylimePolicy& out, std::span<const std::uint8_t> text,
                const std::function<void(std::size_t)>& consumed)
      : out_(out), text_(text), consumed_(consumed) {}

  Result<void> BeginObject() override {
    if (skip_ > 0) return Skip(+1);
    switch (state_) {
      case State::kStart: state_ = State::kTop; return {};
      case State::kMetaValue: state_ = State::kMeta; return {};
      case State::kDigestsValue: state_ = State::kDigests; return {};
      case State::kKeyringsValue: state_ = State::kKeyrings; return {};
      case State::kBufValue: state_ = State::kBuf; return {};
      case State::kImaValue: state_ = State::kIma; return {};
      case State::kAnyValue: return Skip(+1);
      default: return Unexpected("an object");
    }
  }
  Result<void> EndObject() override {
    if (skip_ > 0) return Skip(-1);
    switch (state_) {
      case State::kTop: state_ = State::kDone; return {};
      case State::kMeta:
      case State::kDigests:
      case State::kKeyrings:
      case State::kBuf:
      case State::kIma: state_ = State::kTop; return {};
      default: return Unexpected("the end of an object");
    }
  }
  Result<void> BeginArray() override {
    if (skip_ > 0) return Skip(+1);
    switch (state_) {
      case State::kDigestList: state_ = State::kDigestItems; items_ = 0; return {};
      case State::kKeyringList: state_ = State::kKeyringItems; return {};
      case State::kBufList: state_ = State::kBufItems; return {};
      case State::kExcludesValue: state_ = State::kExcludes; return {};
      case State::kIgnoredValue: state_ = State::kIgnored; return {};
      case State::kAnyValue: return Skip(+1);
      default: return Unexpected("an array");
    }
  }
  Result<void> EndArray() override {
    if (skip_ > 0) return Skip(-1);
    switch (state_) {
      case State::kDigestItems: state_ = State::kDigests; return {};
      case State::kKeyringItems: state_ = State::kKeyrings; return {};
      case State::kBufItems: state_ = State::kBuf; return {};
      case State::kExcludes: state_ = State::kTop; return {};
      case State::kIgnored: state_ = State::kIma; return {};
      default: return Unexpected("the end of an array");
    }
  }
  Result<void> Key(std::string_view key) override {
    if (skip_ > 0) return {};
    switch (state_) {
      case State::kTop: return TopKey(key);
      case State::kMeta:
        state_ = key == "version" ? State::kVersionValue : State::kAnyValue;
        back_ = State::kMeta;
        return {};
      case State::kDigests:
        if (key.size() > kMaxPath) return TooLong(key);
        key_.assign(key);
        state_ = State::kDigestList;
        if (consumed_ && ++keys_seen_ % 65536 == 0) Consumed(key);
        return {};
      case State::kKeyrings:
        if (key.size() > kMaxPath) return TooLong(key);
        key_.assign(key);
        state_ = State::kKeyringList;
        return {};
      case State::kBuf:
        if (key.size() > kMaxPath) return TooLong(key);
        key_.assign(key);
        state_ = State::kBufList;
        return {};
      case State::kIma:
        back_ = State::kIma;
        if (key == "ignored_keyrings") state_ = State::kIgnoredValue;
        else if (key == "log_hash_alg") state_ = State::kLogHashAlgValue;
        else state_ = State::kAnyValue;  // dm_policy and future members
        return {};
      default: return Unexpected("a member name");
    }
  }
  Result<void> String(std::string_view s) override {
    if (skip_ > 0) return {};
    std::array<std::uint8_t, 64> d{};
    std::size_t n = 0;
    switch (state_) {
      case State::kDigestItems:
        if (!DecodeDigest(s, d, &n)) return BadDigest(s);
        // The path is stored once per list of digests.
        if (items_++ == 0) {
          out_.allowlist.AllowDigest(key_, std::span(d).first(n));
        } else {
          out_.allowlist.AllowAnotherDigest(std::span(d).first(n));
        }
        if (out_.allowlist.full()) return TooLarge();
        return {};
      case State::kKeyringItems:
        if (!DecodeDigest(s, d, &n)) return BadDigest(s);
        out_.allowlist.AllowKeyringDigest(key_, std::span(d).first(n));
        if (out_.allowlist.full()) return TooLarge();
        return {};
      case State::kBufItems:
        if (!DecodeDigest(s, d, &n)) return BadDigest(s);
        out_.allowlist.AllowBufferDigest(key_, std::span(d).first(n));
        if (out_.allowlist.full()) return TooLarge();
        return {};
      case State::kExcludes: return out_.allowlist.AddExcludeRegex(s);
      case State::kIgnored: out_.allowlist.IgnoreKeyring(s); return {};
      case State::kLogHashAlgValue: {
        const auto alg = crypto::HashAlgFromName(s);
        if (!alg) {
          return Fail(ErrorCode::kMalformed,
                      fmt::format("ima.log_hash_alg '{}' is not a hash algorithm", Show(s)));
        }
        out_.log_hash_alg = alg;
        state_ = back_;
        return {};
      }
      case State::kKeysValue: out_.verification_keys.assign(s); state_ = State::kTop; return {};
      case State::kAnyValue: state_ = back_; return {};
      default: return Unexpected("a string");
    }
  }
  Result<void> Number(std::string_view literal) override {
    if (skip_ > 0) return {};
    if (state_ == State::kVersionValue) {
      if (literal.size() > 3 || literal.find_first_not_of("0123456789") != std::string_view::npos) {
        return Fail(ErrorCode::kUnsupported,
                    fmt::format("meta.version {} is not a Keylime policy version", Show(literal)));
      }
      version_ = std::stoi(std::string(literal));
      state_ = State::kMeta;
      return {};
    }
    return Scalar("a number");
  }
  Result<void> Bool(bool) override { return Scalar("true or false"); }
  Result<void> Null() override {
    if (skip_ == 0 && state_ == State::kKeysValue) {
      state_ = State::kTop;
      return {};
    }
    return Scalar("null");
  }

  Result<void> Finish() {
    if (!saw_digests_) {
      return Fail(ErrorCode::kMalformed,
                  "not a Keylime runtime policy: it has no \"digests\" (or \"hashes\") member");
    }
    if (version_ < 0) {
      return Fail(ErrorCode::kMalformed, "not a Keylime runtime policy: no meta.version");
    }
    // Runtime policies are version 1; the allowlists they replaced used
    // "hashes" with meta versions up to 5.
    if (legacy_ ? version_ > 5 : version_ != 1) {
      return Fail(ErrorCode::kUnsupported,
                  fmt::format("Keylime {} format version {} is not supported (expected {})",
                              legacy_ ? "allowlist" : "runtime policy", version_,
                              legacy_ ? "1-5" : "1"));
    }
    out_.format_version = version_;
    return {};
  }

 private:
  enum class State {
    kStart, kTop, kDone,
    kMetaValue, kMeta, kVersionValue,
    kDigestsValue, kDigests, kDigestList, kDigestItems,
    kKeyringsValue, kKeyrings, kKeyringList, kKeyringItems,
    kBufValue, kBuf, kBufList, kBufItems,
    kExcludesValue, kExcludes,
    kImaValue, kIma, kIgnoredValue, kIgnored, kLogHashAlgValue,
    kKeysValue, kAnyValue,
  };

  Result<void> TopKey(std::string_view key) {
    back_ = State::kTop;
    if (key == "meta") state_ = State::kMetaValue;
    else if (key == "digests" || key == "hashes") {
      if (saw_digests_) return Fail(ErrorCode::kMalformed, "\"digests\" given twice");
      saw_digests_ = true;
      legacy_ = key == "hashes";
      state_ = State::kDigestsValue;
    } else if (key == "excludes") state_ = State::kExcludesValue;
    else if (key == "keyrings") state_ = State::kKeyringsValue;
    else if (key == "ima") state_ = State::kImaValue;
    else if (key == "ima-buf") state_ = State::kBufValue;
    else if (key == "verification-keys") state_ = State::kKeysValue;
    else if (key == "release" || key == "timestamp" || key == "generator") state_ = State::kAnyValue;
    else {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("unknown member \"{}\" in a Keylime runtime policy (known: meta, "
                              "release, digests, excludes, keyrings, ima, ima-buf, "
                              "verification-keys)",
                              Show(key)));
    }
    return {};
  }
  // Nested values inside an ignored member.
  Result<void> Skip(int delta) {
    if (delta > 0) {
      ++skip_;
    } else if (--skip_ == 0) {
      state_ = back_;
    }
    return {};
  }
  Result<void> Scalar(std::string_view what) {
    if (skip_ > 0) return {};
    if (state_ == State::kAnyValue) {
      state_ = back_;
      return {};
    }
    return Unexpected(what);
  }
  Result<void> Unexpected(std::string_view what) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("unexpected {} {}", what, Where()));
  }
  std::string Where() const {
    switch (state_) {
      case State::kStart: return "(a Keylime policy is a JSON object)";
      case State::kDigestList: case State::kDigestItems:
        return fmt::format("in \"digests\" of \"{}\" (expected a list of hex digests)", Show(key_));
      case State::kKeyringList: case State::kKeyringItems:
        return fmt::format("in \"keyrings\" of \"{}\"", Show(key_));
      case State::kBufList: case State::kBufItems:
        return fmt::format("in \"ima-buf\" of \"{}\"", Show(key_));
      case State::kExcludes: case State::kExcludesValue: return "in \"excludes\" (expected regex strings)";
      case State::kMetaValue: case State::kMeta: case State::kVersionValue: return "in \"meta\"";
      case State::kDigestsValue: case State::kDigests: return "in \"digests\" (expected an object of path: [digests])";
      default: return "in the policy";
    }
  }
  static constexpr std::size_t kMaxPath = 16384;
  Result<void> TooLong(std::string_view key) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("path \"{}...\" is longer than {} bytes", Show(key.substr(0, 64)),
                            kMaxPath));
  }
  Result<void> TooLarge() {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the allowlist grew past its limit (4 GiB) at \"{}\"", Show(key_)));
  }
  Result<void> BadDigest(std::string_view s) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("digest '{}' of \"{}\" is not hex of a sha1/sha256/sha384/sha512 "
                            "digest",
                            Show(s), Show(key_)));
  }

  // Tells the caller how far the parser got: an unescaped key is a view
  // into the text itself.
  void Consumed(std::string_view key) {
    const auto p = reinterpret_cast<std::uintptr_t>(key.data());
    const auto base = reinterpret_cast<std::uintptr_t>(text_.data());
    if (p >= base && p - base < text_.size()) consumed_(static_cast<std::size_t>(p - base));
  }

  KeylimePolicy& out_;
  std::span<const std::uint8_t> text_;
  const std::function<void(std::size_t)>& consumed_;
  std::size_t keys_seen_ = 0;
  State state_ = State::kStart;
  State back_ = State::kTop;
  int skip_ = 0;
  int version_ = -1;
  bool saw_digests_ = false;
  bool legacy_ = false;
  std::size_t items_ = 0;
  std::string key_;
};

}  // namespace

Result<KeylimePolicy> LoadKeylimePolicy(std::span<const std::uint8_t> json,
                                        const std::function<void(std::size_t)>& consumed) {
  KeylimePolicy policy;
  // Virtual space only until used: a generous guess costs no memory.
  policy.allowlist.Reserve(json.size() / 128 + 16, json.size() / 2 + 64);
  PolicyHandler handler(policy, json, consumed);
  TC_RETURN_IF_ERROR(json::Parse(json, handler));
  TC_RETURN_IF_ERROR(handler.Finish());
  policy.allowlist.BuildIndex();
  return policy;
}

Result<void> LoadDigestList(std::string_view text, Allowlist& allowlist) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t sp = line.find(' ');
    std::array<std::uint8_t, 64> d{};
    std::size_t n = 0;
    if (sp == std::string_view::npos || !DecodeDigest(line.substr(0, sp), d, &n)) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("line {}: expected 'HEX-DIGEST  PATH' (sha256sum output)", line_no));
    }
    std::string_view path = line.substr(sp + 1);
    if (!path.empty() && (path.front() == ' ' || path.front() == '*')) path.remove_prefix(1);
    if (path.empty()) return Fail(ErrorCode::kMalformed, fmt::format("line {}: no path", line_no));
    allowlist.AllowDigest(path, std::span(d).first(n));
    if (allowlist.full()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("line {}: path longer than 16384 bytes or allowlist past 4 GiB",
                              line_no));
    }
  }
  allowlist.BuildIndex();
  return {};
}

}  // namespace tc::ima
