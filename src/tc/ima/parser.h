#pragma once

// Parsers of IMA measurement lists (securityfs
// ascii_runtime_measurements[_ALG] and binary_runtime_measurements[_ALG];
// Linux security/integrity/ima/ima_fs.c ima_measurements_show and
// ima_ascii_measurements_show).
//
// A list is read entry by entry from a ByteSource with bounded memory, so a
// list of any length can be verified in one pass. Everything read is
// untrusted: every length has a cap, and every error names the line
// (ascii) or the entry index and byte offset (binary).
//
// Binary layout of one entry (all integers in the list's byte order):
//   u32 pcr | template digest (bank size) | u32 name_len | name
//   | u32 template_data_len | template data      (absent for "ima")
// Template data is the fields, each u32 len | bytes; the legacy "ima"
// template writes d as 20 bare bytes and n as u32 len | name without NUL.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tc/base/byte_source.h"
#include "tc/base/error.h"
#include "tc/crypto/hash.h"
#include "tc/ima/entry.h"
#include "tc/ima/template.h"

namespace tc::ima {

enum class ListFormat { kAuto, kAscii, kBinary };
// Binary lists are in the kernel's byte order unless it was booted with
// ima_canonical_fmt (little-endian). kAuto detects it from the first entry.
enum class ByteOrder { kAuto, kLittle, kBig };

// Caps on untrusted sizes.
inline constexpr std::size_t kMaxTemplateNameSize = 255;
inline constexpr std::size_t kMaxTemplateDataSize = 1 << 20;
inline constexpr std::size_t kMaxLineSize = 3 << 20;  // hex doubles the data
inline constexpr std::uint32_t kMaxPcrIndex = 23;

struct ParseOptions {
  ListFormat format = ListFormat::kAuto;
  // The bank of the template digests. Unset: the classic lists use SHA-1;
  // a binary list's digest size is detected from its first entry (the
  // per-bank lists of Linux 6.x, binary_runtime_measurements_sha256), and an
  // ascii list's from the length of its first template hash.
  std::optional<crypto::HashAlg> template_hash_alg;
  ByteOrder byte_order = ByteOrder::kAuto;
  // Refuse trailing bytes that do not form a whole entry (by default they
  // are reported in Summary::trailing and ignored: a list copied while it
  // grew, or a stray newline).
  bool strict = false;
  // Index given to the first entry read (a delta sent after a checkpoint).
  std::size_t first_index = 0;
};

// What was read besides the entries.
struct StreamSummary {
  ListFormat format = ListFormat::kAscii;
  ByteOrder byte_order = ByteOrder::kLittle;
  crypto::HashAlg template_hash_alg = crypto::HashAlg::kSha1;
  std::size_t entries = 0;
  std::size_t bytes = 0;
  // Non-strict only: an incomplete entry (or stray bytes) at the end.
  std::optional<std::string> trailing;
};

// Reads entries one at a time from a source.
class EntryStream {
 public:
  EntryStream(ByteSource& source, ParseOptions options);
  ~EntryStream();
  EntryStream(const EntryStream&) = delete;
  EntryStream& operator=(const EntryStream&) = delete;

  // The next entry into *entry (its views valid until the next call);
  // false at the end of the list. kMalformed / kUnsupported name where.
  [[nodiscard]] Result<bool> Next(ImaEntry* entry);

  // Valid after the first call to Next.
  const StreamSummary& summary() const { return summary_; }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  StreamSummary summary_;
  friend class Impl;
};

}  // namespace tc::ima
