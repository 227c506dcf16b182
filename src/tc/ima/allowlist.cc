#include "tc/ima/allowlist.h"

#include <fnmatch.h>
#include <regex.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <functional>
#include <optional>

#include <fmt/format.h>

#include "tc/base/hex.h"

namespace tc::ima {

// Strings mapped to lists of digests, built for a million keys: a lookup
// touches the slot array and then one arena record holding the key and its
// first digest side by side (two cache misses, not five).
//
// Arena record: u32 key size | u32 more (index of the next digest in
// extra_, or kNone) | u8 digest size | key | digest.
// Slot: tag (high 32 bits of the key's hash) << 32 | record offset.
class Allowlist::Table {
 public:
  void Reserve(std::size_t keys, std::size_t key_bytes) {
    arena_.reserve(key_bytes + keys * (kHeader + 32));
    pending_.reserve(kBatch);
    pending_hash_.reserve(kBatch);
    Rehash(std::bit_ceil(std::max<std::size_t>(16, keys * 2)));
  }

  static std::uint64_t HashKey(std::string_view key) { return std::hash<std::string_view>{}(key); }

  // Appends the record; the index is built a batch at a time (with the
  // slots prefetched), and Find also looks at the batch not yet indexed.
  // False when the arena is full (4 GiB of offsets).
  bool Add(std::string_view key, std::span<const std::uint8_t> digest) {
    const std::size_t digest_size = std::min<std::size_t>(digest.size(), kMaxDigest);
    digest = digest.first(digest_size);
    const std::size_t at = arena_.size();
    if (key.size() > kMaxKey || at > 0xffffffffu - kHeader - key.size() - digest_size) return false;
    last_ = at;
    PutU32(static_cast<std::uint32_t>(key.size()));
    PutU32(kNone);
    arena_.push_back(static_cast<std::uint8_t>(digest_size));
    arena_.insert(arena_.end(), key.begin(), key.end());
    arena_.insert(arena_.end(), digest.begin(), digest.end());
    const std::uint64_t h = HashKey(key);
    pending_.push_back((h & ~std::uint64_t{0xffffffff}) | at);
    pending_hash_.push_back(h);
    ++digests_;
    if (pending_.size() == kBatch) IndexPending();
    return true;
  }

  // Another digest for the key of the last Add (no copy of the key, no
  // duplicate check: a long list of digests for one path stays linear).
  bool AddToLast(std::span<const std::uint8_t> digest) {
    if (!last_ || extra_.size() >= 0xfffffffeu) return false;
    AddExtra(*last_, digest.first(std::min<std::size_t>(digest.size(), kMaxDigest)));
    ++digests_;
    return true;
  }

  enum class Match { kAbsent, kAllowed, kMismatch };
  // Whether `key` is present and trusts `digest`; for kMismatch, the
  // trusted digests (hex) into *expected. Records not yet indexed are
  // looked at too (slowly; none are left after IndexPending).
  Match Lookup(std::string_view key, std::uint64_t h, std::span<const std::uint8_t> digest,
               std::vector<std::string>* expected) const {
    bool found = false;
    const auto indexed = FindIndexed(key, h);
    if (indexed) {
      if (HasDigest(*indexed, digest)) return Match::kAllowed;
      found = true;
    }
    for (const std::uint64_t v : pending_) {
      const std::size_t at = static_cast<std::uint32_t>(v);
      if ((v >> 32) == (h >> 32) && KeyAt(at) == key) {
        if (HasDigest(at, digest)) return Match::kAllowed;
        found = true;
      }
    }
    if (!found) return Match::kAbsent;
    if (expected != nullptr) {
      expected->clear();
      const auto collect = [&](std::size_t at) {
        for (std::string& d : Digests(at)) {
          if (std::find(expected->begin(), expected->end(), d) == expected->end()) {
            expected->push_back(std::move(d));
          }
        }
      };
      if (indexed) collect(*indexed);
      for (const std::uint64_t v : pending_) {
        const std::size_t at = static_cast<std::uint32_t>(v);
        if ((v >> 32) == (h >> 32) && KeyAt(at) == key) collect(at);
      }
    }
    return Match::kMismatch;
  }

  // Fetches the memory a later Find(key, h) reads: stage 0 its slot, stage
  // 1 (a few checks later, once the slot is in cache) its record.
  void Prefetch(std::uint64_t h, int stage) const {
    if (slots_.empty()) return;
    const std::size_t slot = static_cast<std::size_t>(h) & (slots_.size() - 1);
    if (stage == 0) {
      __builtin_prefetch(&slots_[slot]);
    } else if (slots_[slot] != kEmpty) {
      __builtin_prefetch(arena_.data() + static_cast<std::uint32_t>(slots_[slot]));
    }
  }

  // Indexes records added since the last batch.
  void IndexPending() {
    if (pending_.empty()) return;
    if ((count_ + pending_.size()) * 2 > slots_.size()) {
      Rehash(std::bit_ceil(std::max<std::size_t>(16, (count_ + pending_.size()) * 2)));
    }
    std::vector<std::uint64_t> batch = std::move(pending_);
    std::vector<std::uint64_t> hashes = std::move(pending_hash_);
    pending_.clear();
    pending_hash_.clear();
    const std::size_t mask = slots_.size() - 1;
    constexpr std::size_t kAhead = 16;
    for (std::size_t i = 0; i < std::min(kAhead, batch.size()); ++i) {
      __builtin_prefetch(&slots_[hashes[i] & mask]);
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (i + kAhead < batch.size()) __builtin_prefetch(&slots_[hashes[i + kAhead] & mask]);
      const std::size_t at = static_cast<std::uint32_t>(batch[i]);
      const std::uint64_t tag = hashes[i] >> 32;
      std::size_t slot = hashes[i] & mask;
      bool merged = false;
      while (slots_[slot] != kEmpty) {
        if ((slots_[slot] >> 32) == tag) {
          const std::size_t old = static_cast<std::uint32_t>(slots_[slot]);
          if (KeyAt(old) == KeyAt(at)) {
            // The key again: its digests join the first record's (the
            // repeated record stays unused in the arena). Linear in its
            // digests; repeats are not looked for.
            AddExtra(old, FirstDigest(at));
            for (std::uint32_t x = U32At(at + 4); x != kNone; x = extra_[x].next) {
              AddExtraCopy(old, x);
            }
            if (last_ == at) last_ = old;
            merged = true;
            break;
          }
        }
        slot = (slot + 1) & mask;
      }
      if (merged) continue;
      slots_[slot] = (tag << 32) | at;
      ++count_;
    }
  }

  bool HasDigest(std::size_t at, std::span<const std::uint8_t> digest) const {
    if (std::ranges::equal(FirstDigest(at), digest)) return true;
    for (std::uint32_t x = U32At(at + 4); x != kNone; x = extra_[x].next) {
      if (std::ranges::equal(ExtraDigest(x), digest)) return true;
    }
    return false;
  }

  // Distinct digests, for reports (at most kMaxReported).
  std::vector<std::string> Digests(std::size_t at) const {
    std::vector<std::string> out{ToHex(FirstDigest(at))};
    for (std::uint32_t x = U32At(at + 4); x != kNone && out.size() < kMaxReported;
         x = extra_[x].next) {
      std::string h = ToHex(ExtraDigest(x));
      if (std::find(out.begin(), out.end(), h) == out.end()) out.push_back(std::move(h));
    }
    return out;
  }

  // Exact also before IndexPending: pending records of a key already seen
  // add only their new digests.
  std::size_t size() const {
    std::size_t n = count_;
    for (std::size_t i = 0; i < pending_.size(); ++i) {
      if (!SeenBefore(i)) ++n;
    }
    return n;
  }
  // Digests stored, a repeated one counted again.
  std::size_t digest_count() const { return digests_; }
  std::size_t memory_bytes() const {
    return arena_.size() + slots_.size() * 8 + extra_.size() * sizeof(Extra) + extra_bytes_.size();
  }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  static constexpr std::uint32_t kNone = 0xffffffff;
  static constexpr std::size_t kHeader = 9;
  static constexpr std::size_t kMaxDigest = 64;
  static constexpr std::size_t kBatch = 256;
  static constexpr std::size_t kMaxKey = 16384;
  static constexpr std::size_t kMaxReported = 16;
  // Whether pending record i's key is indexed or pending earlier.
  bool SeenBefore(std::size_t i) const {
    const std::string_view key = KeyAt(static_cast<std::uint32_t>(pending_[i]));
    if (FindIndexed(key, pending_hash_[i])) return true;
    for (std::size_t j = 0; j < i; ++j) {
      if (pending_hash_[j] == pending_hash_[i] &&
          KeyAt(static_cast<std::uint32_t>(pending_[j])) == key) {
        return true;
      }
    }
    return false;
  }

  struct Extra {
    std::uint32_t offset;
    std::uint32_t next;
    std::uint8_t size;
  };

  std::uint32_t U32At(std::size_t at) const {
    std::uint32_t v;
    std::memcpy(&v, arena_.data() + at, 4);
    return v;
  }
  void PutU32(std::uint32_t v) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    arena_.insert(arena_.end(), p, p + 4);
  }
  std::optional<std::size_t> FindIndexed(std::string_view key, std::uint64_t h) const {
    if (slots_.empty()) return std::nullopt;
    const std::uint64_t tag = h >> 32;
    std::size_t slot = static_cast<std::size_t>(h) & (slots_.size() - 1);
    while (slots_[slot] != kEmpty) {
      if ((slots_[slot] >> 32) == tag) {
        const std::size_t at = static_cast<std::uint32_t>(slots_[slot]);
        if (KeyAt(at) == key) return at;
      }
      slot = (slot + 1) & (slots_.size() - 1);
    }
    return std::nullopt;
  }

  std::string_view KeyAt(std::size_t at) const {
    return {reinterpret_cast<const char*>(arena_.data()) + at + kHeader, U32At(at)};
  }
  std::span<const std::uint8_t> FirstDigest(std::size_t at) const {
    return std::span(arena_).subspan(at + kHeader + U32At(at), arena_[at + 8]);
  }
  std::span<const std::uint8_t> ExtraDigest(std::uint32_t x) const {
    return std::span(extra_bytes_).subspan(extra_[x].offset, extra_[x].size);
  }
  void AddExtra(std::size_t at, std::span<const std::uint8_t> digest) {
    // Newest first: a chain through extra_, its head in the record.
    const std::uint32_t head = U32At(at + 4);
    extra_.push_back({static_cast<std::uint32_t>(extra_bytes_.size()), head,
                      static_cast<std::uint8_t>(digest.size())});
    extra_bytes_.insert(extra_bytes_.end(), digest.begin(), digest.end());
    const auto x = static_cast<std::uint32_t>(extra_.size() - 1);
    std::memcpy(arena_.data() + at + 4, &x, 4);
  }
  // Copies extra digest x (of a repeated record) to record `at`'s chain.
  void AddExtraCopy(std::size_t at, std::uint32_t x) {
    const Extra e = extra_[x];
    const std::uint32_t head = U32At(at + 4);
    extra_.push_back({e.offset, head, e.size});  // shares the bytes
    const auto n = static_cast<std::uint32_t>(extra_.size() - 1);
    std::memcpy(arena_.data() + at + 4, &n, 4);
  }
  void Rehash(std::size_t n) {
    if (n <= slots_.size()) return;
    std::vector<std::uint64_t> old = std::move(slots_);
    slots_.assign(n, kEmpty);
    for (const std::uint64_t v : old) {
      if (v == kEmpty) continue;
      const std::size_t at = static_cast<std::uint32_t>(v);
      std::size_t slot = HashKey(KeyAt(at)) & (n - 1);
      while (slots_[slot] != kEmpty) slot = (slot + 1) & (n - 1);
      slots_[slot] = v;
    }
  }

  Bytes arena_;
  std::vector<std::uint64_t> slots_;
  std::vector<std::uint64_t> pending_;       // tag << 32 | offset, not yet indexed
  std::vector<std::uint64_t> pending_hash_;  // their full hashes
  std::vector<Extra> extra_;
  Bytes extra_bytes_;
  std::size_t count_ = 0;
  std::size_t digests_ = 0;
  std::optional<std::size_t> last_;  // the record of the last Add
};

struct Allowlist::Exclude {
  std::string pattern;
  // The literal text every match starts with (a quick reject before the
  // regex runs; most exclusions are directory prefixes).
  std::string prefix;
  bool glob = false;
  bool compiled = false;
  regex_t re{};
  ~Exclude() {
    if (compiled) regfree(&re);
  }
  bool Matches(std::string_view path) const {
    if (!path.starts_with(prefix)) return false;
    const std::string p(path);
    if (glob) return fnmatch(pattern.c_str(), p.c_str(), 0) == 0;
    return regexec(&re, p.c_str(), 0, nullptr, 0) == 0;
  }
};

Allowlist::Allowlist()
    : files_(std::make_unique<Table>()),
      keyrings_(std::make_unique<Table>()),
      buffers_(std::make_unique<Table>()) {}
Allowlist::~Allowlist() = default;
Allowlist::Allowlist(Allowlist&&) noexcept = default;
Allowlist& Allowlist::operator=(Allowlist&&) noexcept = default;

void Allowlist::Reserve(std::size_t paths, std::size_t path_bytes) {
  files_->Reserve(paths, path_bytes);
}

void Allowlist::AllowDigest(std::string_view path, std::span<const std::uint8_t> digest) {
  if (!files_->Add(path, digest)) full_ = true;
}
void Allowlist::AllowAnotherDigest(std::span<const std::uint8_t> digest) {
  if (!files_->AddToLast(digest)) full_ = true;
}
void Allowlist::AllowKeyringDigest(std::string_view keyring, std::span<const std::uint8_t> digest) {
  if (!keyrings_->Add(keyring, digest)) full_ = true;
}
void Allowlist::AllowBufferDigest(std::string_view name, std::span<const std::uint8_t> digest) {
  if (!buffers_->Add(name, digest)) full_ = true;
}
void Allowlist::IgnoreKeyring(std::string_view keyring) {
  if (keyring == "*") ignore_all_keyrings_ = true;
  ignored_keyrings_.emplace_back(keyring);
}

namespace {

// Python re syntax Keylime users write, in POSIX ERE. Returns nullopt for
// constructs ERE lacks.
std::optional<std::string> ToPosixEre(std::string_view p, std::string* prefix) {
  std::string out = "^(";
  bool literal = true;  // still in the leading literal run
  bool prev_quantifier = false;
  bool in_bracket = false;  // inside [...], where * + ? { are plain
  int depth = 0;            // of groups: "x)|(y" must not escape the anchor
  prefix->clear();
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size() && in_bracket) {
      // Inside [...] POSIX has no escapes: classes by name, others as is.
      const char n = p[++i];
      switch (n) {
        case 'd': out += "0-9"; break;
        case 'w': out += "A-Za-z0-9_"; break;
        case 's': out += "[:space:]"; break;
        case 'D': case 'W': case 'S': return std::nullopt;
        default:
          if (std::isalnum(static_cast<unsigned char>(n))) return std::nullopt;
          if (n == ']' || n == '\\' || n == '^' || n == '-') return std::nullopt;
          out += n;
      }
      continue;
    }
    if (c == '\\' && i + 1 < p.size()) {
      const char n = p[++i];
      switch (n) {
        case 'd': out += "[0-9]"; literal = false; break;
        case 'D': out += "[^0-9]"; literal = false; break;
        case 'w': out += "[A-Za-z0-9_]"; literal = false; break;
        case 'W': out += "[^A-Za-z0-9_]"; literal = false; break;
        case 's': out += "[[:space:]]"; literal = false; break;
        case 'S': out += "[^[:space:]]"; literal = false; break;
        case 'A': case 'Z': case 'b': case 'B': case 'z': return std::nullopt;
        default:
          if (std::isalnum(static_cast<unsigned char>(n))) return std::nullopt;
          // A literal character, bracketed: GNU regcomp reads \< \> \` \'
          // as anchors where Python sees the plain characters.
          if (n == '^') {
            out += "\\^";
          } else if (n == ']' || n == '\\') {
            out += '\\';
            out += n;
          } else {
            out += '[';
            out += n;
            out += ']';
          }
          if (literal) *prefix += n;
      }
      prev_quantifier = false;
      continue;
    }
    if (in_bracket) {
      if (c == '[' && i + 1 < p.size() && (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
        return std::nullopt;  // POSIX class syntax; means something else in Python
      }
      if (c == ']') in_bracket = false;
      out += c;
      continue;
    }
    if (c == '(' && p.substr(i).starts_with("(?:")) {
      out += '(';
      i += 2;
      ++depth;
      literal = false;
      prev_quantifier = false;
      continue;
    }
    if (c == '(' && i + 1 < p.size() && p[i + 1] == '?') return std::nullopt;
    const bool quantifier = c == '*' || c == '+' || c == '?' || c == '{';
    if (quantifier && prev_quantifier) return std::nullopt;  // lazy or possessive
    prev_quantifier = c == '*' || c == '+' || c == '?' || c == '}';
    if (c == '[') {
      literal = false;
      out += '[';
      std::size_t j = i + 1;
      if (j < p.size() && p[j] == '^') out += p[j++];
      if (j < p.size() && p[j] == ']') out += p[j++];  // a leading ']' is a member
      i = j - 1;
      in_bracket = true;
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')' && --depth < 0) return std::nullopt;  // unbalanced: could unanchor
    const bool meta = std::string_view(".[]()*+?{}|^$").find(c) != std::string_view::npos;
    if (meta && literal) {
      literal = false;
      // A quantifier makes the preceding character optional.
      if ((c == '*' || c == '?' || c == '{') && !prefix->empty()) prefix->pop_back();
      if (c == '|') prefix->clear();
    }
    if (literal) *prefix += c;
    if (c == '.') {
      out += "[^\n]";  // Python's '.' does not match a newline; POSIX's does
    } else {
      out += c;
    }
  }
  if (depth != 0 || in_bracket) return std::nullopt;
  out += ')';
  // An alternation anywhere means no common literal prefix.
  if (p.find('|') != std::string_view::npos) prefix->clear();
  return out;
}

}  // namespace

Result<void> Allowlist::AddExcludeRegex(std::string_view pattern) {
  auto ex = std::make_unique<Exclude>();
  ex->pattern = std::string(pattern);
  const auto ere = ToPosixEre(pattern, &ex->prefix);
  if (!ere) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("exclude regex '{}' uses syntax POSIX extended regular expressions "
                            "lack (lookaround, lazy quantifiers, \\b, \\A, \\Z)",
                            PrintableAscii(AsBytes(pattern))));
  }
  const int rc = regcomp(&ex->re, ere->c_str(), REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char msg[256];
    regerror(rc, &ex->re, msg, sizeof msg);
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("exclude regex '{}' does not compile: {}",
                            PrintableAscii(AsBytes(pattern)), msg));
  }
  ex->compiled = true;
  excludes_.push_back(std::move(ex));
  return {};
}

Result<void> Allowlist::AddExcludeGlob(std::string_view glob) {
  if (glob.find('\0') != std::string_view::npos || glob.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "exclude glob is empty or holds a NUL");
  }
  auto ex = std::make_unique<Exclude>();
  ex->pattern = std::string(glob);
  ex->glob = true;
  const std::size_t meta = glob.find_first_of("*?[\\");
  ex->prefix = std::string(glob.substr(0, meta));
  excludes_.push_back(std::move(ex));
  return {};
}

bool Allowlist::Excluded(std::string_view path) const {
  if (path.find('\0') != std::string_view::npos) return false;
  return std::any_of(excludes_.begin(), excludes_.end(),
                     [&](const auto& ex) { return ex->Matches(path); });
}

std::size_t Allowlist::path_count() const { return files_->size(); }
std::size_t Allowlist::digest_count() const {
  return files_->digest_count() + keyrings_->digest_count() + buffers_->digest_count();
}
std::size_t Allowlist::exclude_count() const { return excludes_.size(); }
std::size_t Allowlist::memory_bytes() const {
  return files_->memory_bytes() + keyrings_->memory_bytes() + buffers_->memory_bytes();
}

void Allowlist::BuildIndex() {
  files_->IndexPending();
  keyrings_->IndexPending();
  buffers_->IndexPending();
}

std::uint64_t Allowlist::HashPath(std::string_view path) { return Table::HashKey(path); }

void Allowlist::Prefetch(std::uint64_t path_hash, int stage) const {
  files_->Prefetch(path_hash, stage);
}

Allowlist::Decision Allowlist::Check(const ImaEntry& entry) const {
  return Check(entry.path, entry.digest, IsBufferEntry(entry));
}

Allowlist::Decision Allowlist::Check(std::optional<std::string_view> path,
                                     const std::optional<FileDigest>& file_digest,
                                     bool is_buffer) const {
  return Check(path, file_digest, is_buffer, path ? HashPath(*path) : 0);
}

Allowlist::Decision Allowlist::Check(std::optional<std::string_view> path,
                                     const std::optional<FileDigest>& file_digest,
                                     bool is_buffer, std::uint64_t path_hash) const {
  if (!path || !file_digest) return {Outcome::kNoDigest, {}};
  const std::string_view name = *path;
  const std::span<const std::uint8_t> digest = file_digest->bytes;
  if (is_buffer) {
    Decision d{Outcome::kDigestMismatch, {}};
    switch (keyrings_->Lookup(name, Table::HashKey(name), digest, &d.expected)) {
      case Table::Match::kAllowed: return {Outcome::kAllowed, {}};
      case Table::Match::kMismatch: return d;
      case Table::Match::kAbsent: break;
    }
    switch (buffers_->Lookup(name, Table::HashKey(name), digest, &d.expected)) {
      case Table::Match::kAllowed: return {Outcome::kAllowed, {}};
      case Table::Match::kMismatch: return d;
      case Table::Match::kAbsent: break;
    }
    // Ignored keyrings cover key measurements only (kernel keyrings are
    // named ".ima", ".builtin_trusted_keys", "_ima"...), never other buffers
    // such as kexec-cmdline or critical data.
    const bool keyring_name = !name.empty() && (name.front() == '.' || name.front() == '_');
    if (keyring_name &&
        (ignore_all_keyrings_ || std::find(ignored_keyrings_.begin(), ignored_keyrings_.end(),
                                           name) != ignored_keyrings_.end())) {
      return {Outcome::kIgnored, {}};
    }
    return {Outcome::kNotListed, {}};
  }
  if (!excludes_.empty() && Excluded(name)) return {Outcome::kExcluded, {}};
  Decision d{Outcome::kDigestMismatch, {}};
  switch (files_->Lookup(name, path_hash, digest, &d.expected)) {
    case Table::Match::kAllowed: return {Outcome::kAllowed, {}};
    case Table::Match::kMismatch: return d;
    case Table::Match::kAbsent: break;
  }
  return {Outcome::kNotListed, {}};
}

}  // namespace tc::ima
