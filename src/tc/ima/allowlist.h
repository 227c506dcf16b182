#pragma once

// An IMA runtime allowlist: the file digests trusted for each path, the
// paths excluded from checking, and the digests trusted for ima-buf
// measurements (keys measured into keyrings, other named buffers).
//
// Built for large lists (a million paths): paths and digests are kept in
// arenas and found through an open-addressing hash table, about 100 bytes
// per path beyond the path itself.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tc/base/error.h"
#include "tc/ima/entry.h"

namespace tc::ima {

class Allowlist {
 public:
  Allowlist();
  ~Allowlist();
  Allowlist(Allowlist&&) noexcept;
  Allowlist& operator=(Allowlist&&) noexcept;

  // Space hints for a loader that knows roughly how much is coming.
  void Reserve(std::size_t paths, std::size_t path_bytes);

  // Trusts `digest` (raw bytes; any algorithm, matched by value and size)
  // for the file `path`. Several digests may be trusted per path.
  // Paths longer than 16 KiB, or an allowlist past 4 GiB, are not added
  // and make full() true (loaders then fail).
  void AllowDigest(std::string_view path, std::span<const std::uint8_t> digest);
  // One more digest for the path of the last AllowDigest, without storing
  // the path again (a policy's list of digests for one path).
  void AllowAnotherDigest(std::span<const std::uint8_t> digest);
  bool full() const { return full_; }
  // Excludes paths matching a regular expression anchored at the path's
  // start (as Keylime applies its "excludes" with Python's re.match). POSIX
  // extended syntax plus \d \w \s \D \W \S and (?:...). kInvalidArgument
  // naming the pattern when it does not compile.
  [[nodiscard]] Result<void> AddExcludeRegex(std::string_view pattern);
  // Excludes paths matching a shell glob (fnmatch; '*' crosses '/').
  [[nodiscard]] Result<void> AddExcludeGlob(std::string_view glob);
  // ima-buf measurements named `keyring` (keys added to that keyring) with
  // this digest are trusted.
  void AllowKeyringDigest(std::string_view keyring, std::span<const std::uint8_t> digest);
  // ima-buf measurements of this keyring ("*": of every keyring) are not
  // checked.
  void IgnoreKeyring(std::string_view keyring);
  // Other ima-buf measurements (kexec-cmdline, critical data) named `name`.
  void AllowBufferDigest(std::string_view name, std::span<const std::uint8_t> digest);

  // Finishes the lookup index after the last Allow* call. Lookups are
  // correct without it, only slower.
  void BuildIndex();

  // Batch checks: the hash of a path, and a hint that fetches the memory a
  // later Check(..., hash) of that path reads (stage 0 some checks ahead,
  // stage 1 a few checks ahead), so that a million lookups do not wait for
  // memory one at a time.
  static std::uint64_t HashPath(std::string_view path);
  void Prefetch(std::uint64_t path_hash, int stage) const;

  std::size_t path_count() const;
  std::size_t digest_count() const;
  std::size_t exclude_count() const;
  // Approximate heap bytes held.
  std::size_t memory_bytes() const;

  enum class Outcome {
    kAllowed,         // the path (or buffer) is listed with this digest
    kExcluded,        // the path matches an exclusion
    kIgnored,         // a keyring the policy ignores
    kNotListed,       // the path (or buffer name) is not in the allowlist
    kDigestMismatch,  // listed, but not with this digest
    kNoDigest,        // the entry carries no file digest or name (unknown template)
  };
  struct Decision {
    Outcome outcome;
    // For kDigestMismatch: the trusted digests, "hex" each.
    std::vector<std::string> expected;
  };
  // Checks one entry. Entries with a buf field are looked up among keyring
  // and buffer digests, all others among file digests.
  Decision Check(const ImaEntry& entry) const;
  // The same from the parts Check uses: the event name, the file digest,
  // and whether the entry measures a buffer (has a buf field or is
  // "ima-buf").
  Decision Check(std::optional<std::string_view> path, const std::optional<FileDigest>& digest,
                 bool is_buffer) const;
  // The same with the path's hash precomputed (HashPath).
  Decision Check(std::optional<std::string_view> path, const std::optional<FileDigest>& digest,
                 bool is_buffer, std::uint64_t path_hash) const;
  static bool IsBufferEntry(const ImaEntry& entry) {
    return !entry.buffer.empty() || entry.template_name == "ima-buf";
  }

 private:
  class Table;
  std::unique_ptr<Table> files_;
  std::unique_ptr<Table> keyrings_;
  std::unique_ptr<Table> buffers_;
  struct Exclude;
  std::vector<std::unique_ptr<Exclude>> excludes_;
  std::vector<std::string> ignored_keyrings_;
  bool ignore_all_keyrings_ = false;
  bool full_ = false;

  bool Excluded(std::string_view path) const;
};

}  // namespace tc::ima
