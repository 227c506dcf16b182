#pragma once

// One entry of an IMA measurement list, as read from the list: nothing here
// is verified. ima::Replayer checks the template digest against the
// template data; only a PCR 10 value the TPM quoted proves the entries.
//
// Views (spans, string_views) point into the parser's input or scratch
// space and are valid until the next entry is read.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "tc/crypto/hash.h"

namespace tc::ima {

// The file digest of the d, d-ng or d-ngv2 field.
struct FileDigest {
  // The algorithm name the entry gives ("sha256"); empty for the legacy
  // "ima" template, whose d field is a bare SHA-1 (or zero-padded MD5).
  std::string_view alg_name;
  // For d-ngv2: the digest type, "ima" or "verity"; empty otherwise.
  std::string_view type;
  // The algorithm, when it is one we know (sha1 for the "ima" template).
  std::optional<crypto::HashAlg> alg;
  std::span<const std::uint8_t> bytes;
};

struct ImaEntry {
  std::size_t index = 0;   // 0-based position in the whole list
  std::size_t line = 0;    // 1-based line of an ascii list; 0 for binary
  std::size_t offset = 0;  // byte offset of the entry in the input
  std::uint32_t pcr = 0;
  // The template digest as recorded (the size of the list's bank digest).
  std::span<const std::uint8_t> template_digest;
  std::string_view template_name;
  // The bytes the template digest is a hash of (Linux
  // ima_calc_field_array_hash): the template data for every template but
  // "ima", whose name is zero-padded to 256 bytes.
  std::span<const std::uint8_t> hash_input;
  // False when an ascii entry has a field whose binary form cannot be
  // rebuilt from its text (evm-sig's xattr fields): its template digest
  // cannot be checked. Binary entries are always checkable.
  bool hash_input_exact = true;

  // Decoded fields (absent fields are empty / nullopt).
  std::optional<FileDigest> digest;             // d, d-ng, d-ngv2
  std::optional<std::string_view> path;         // n, n-ng (the event name)
  std::span<const std::uint8_t> signature;      // sig (IMA/EVM signature)
  std::span<const std::uint8_t> buffer;         // buf (ima-buf)
  std::optional<FileDigest> modsig_digest;      // d-modsig
  std::span<const std::uint8_t> modsig;         // modsig

  // A "violation" entry: IMA records an all-zero template digest when a
  // file was measured while open for writing (or open-writers), and extends
  // 0xff..ff instead (Linux ima_add_violation).
  bool IsViolation() const;
};

}  // namespace tc::ima
