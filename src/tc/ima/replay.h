#pragma once

// Replay of an IMA measurement list into PCRs, with the template digest of
// every entry checked against its template data (Linux
// ima_calc_field_array_hash, ima_pcr_extend).
//
// Every bank is replayed from the one list: the bank of the list's template
// digests extends the recorded digest; any other bank extends the hash of
// the entry's template data in that bank (what the kernel computes for each
// allocated bank). A violation (all-zero template digest) extends ff..ff in
// every bank.
//
// The quoted PCR may be ahead of the list (entries were added after the list
// was read) or behind it (read after the quote). Replayer reports the exact
// prefix of the list whose replay equals the quoted value; none means the
// list is not the one the TPM measured.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tc/base/error.h"
#include "tc/base/hex.h"
#include "tc/crypto/hash.h"
#include "tc/ima/entry.h"
#include "tc/pcr/pcr_values.h"

namespace tc::ima {

inline constexpr std::uint32_t kImaPcr = 10;

enum class TemplateCheck {
  kOk,            // the template digest is the hash of the template data
  kViolation,     // an all-zero digest: extended as ff..ff
  kMismatch,      // the digest is not the hash of the data: altered entry
  kUncheckable,   // an ascii field whose binary form is unknown (evm-sig)
};

// How many entries had each template check outcome.
struct CheckCounts {
  std::size_t ok = 0, violation = 0, mismatch = 0, uncheckable = 0;
  void Count(TemplateCheck c) {
    switch (c) {
      case TemplateCheck::kOk: ++ok; break;
      case TemplateCheck::kViolation: ++violation; break;
      case TemplateCheck::kMismatch: ++mismatch; break;
      case TemplateCheck::kUncheckable: ++uncheckable; break;
    }
  }
};

// The running state after some entries: what an agent's verifier keeps
// between deltas. Values are per PCR the list extended, per bank.
struct Checkpoint {
  std::size_t entries = 0;  // entries replayed; the next delta starts here
  pcr::PcrValues pcrs;

  // Text form:
  //   trustchain-ima-checkpoint 1
  //   entries N
  //   pcr 10 sha256 HEX         (one line per PCR and bank)
  std::string Serialize() const;
  // kMalformed naming the line.
  [[nodiscard]] static Result<Checkpoint> Parse(std::string_view text);
};

class Replayer {
 public:
  // Starts from all-zero PCRs. `list_alg` is the bank of the list's
  // template digests; `banks` the banks to replay (list_alg is added).
  Replayer(crypto::HashAlg list_alg, std::span<const crypto::HashAlg> banks);
  // Resumes after a checkpoint (its banks are replayed; list_alg's must be
  // among them). kInvalidArgument otherwise.
  [[nodiscard]] static Result<Replayer> Resume(crypto::HashAlg list_alg,
                                               const Checkpoint& checkpoint);

  // Expect PCR 10 to equal `quoted` (any banks). After Add() calls,
  // matched_prefix() tells after how many entries it did.
  // kInvalidArgument when a quoted bank is not replayed by a resumed
  // replay (its checkpoint lacks the bank).
  [[nodiscard]] Result<void> ExpectPcr10(const pcr::PcrValues& quoted);

  // Checks the entry's template digest and extends it into every bank.
  // kUnsupported when a bank cannot be computed (sm3 without OpenSSL
  // support).
  [[nodiscard]] Result<TemplateCheck> Add(const ImaEntry& entry);

  // Add() in two halves, so that the hashing (the first) can run on
  // another thread than the extending (the second). Digests() checks the
  // template digest and writes what Add extends into each bank, in banks()
  // order, concatenated, into *out (resized); `computed` gets the list
  // bank's hash of the data (for reports of a kMismatch). Thread-safe.
  [[nodiscard]] Result<TemplateCheck> Digests(const ImaEntry& entry, Bytes* out,
                                              crypto::Digest* computed) const;
  // Extends the output of Digests() into `pcr`.
  [[nodiscard]] Result<void> Extend(std::uint32_t pcr, std::span<const std::uint8_t> digests);

  // The running value of a PCR in a bank (zero if no entry extended it).
  crypto::Digest Value(std::uint32_t pcr, crypto::HashAlg bank) const;
  pcr::PcrValues Values() const;
  std::span<const crypto::HashAlg> banks() const { return banks_; }
  std::size_t entries() const { return entries_; }
  Checkpoint MakeCheckpoint() const;

  // The number of entries (counting from the list's start, checkpoints
  // included) after which every expected PCR 10 bank matched; the first
  // such prefix. nullopt when none did. A non-empty list never matches
  // with its empty prefix (a quoted all-zero PCR 10 is a rejection), but a
  // resumed replay matches with no new entry when the quote is the
  // checkpoint's value.
  std::optional<std::size_t> matched_prefix() const { return matched_; }
  // The state right after that prefix: where the next delta starts.
  const std::optional<Checkpoint>& matched_checkpoint() const { return matched_checkpoint_; }

 private:
  struct Running {
    std::uint32_t pcr;
    std::vector<crypto::Digest> values;  // parallel to banks_
  };
  Running& PcrState(std::uint32_t pcr);
  Bytes scratch_;
  void CheckExpected();

  crypto::HashAlg list_alg_;
  std::vector<crypto::HashAlg> banks_;
  std::vector<Running> pcrs_;
  std::size_t entries_ = 0;
  std::size_t start_entries_ = 0;
  std::vector<std::pair<std::size_t, crypto::Digest>> expected_;  // bank index, value
  std::optional<std::size_t> matched_;
  std::optional<Checkpoint> matched_checkpoint_;
};

// The boot_aggregate entry (the first of a list) is the hash of PCRs 0-7 in
// SHA-1, or 0-9 in other banks on Linux >= 5.8 (ima_calc_boot_aggregate);
// all zero when the kernel found no TPM.
struct BootAggregateCheck {
  bool found = false;      // the list's first entry is named boot_aggregate
  bool no_tpm = false;     // its digest is all zero
  bool match = false;
  std::string bank;        // the bank the entry's digest algorithm names
  std::string pcrs;        // "0-7" or "0-9": the range that matched
  std::string measured;    // the entry's digest, "alg:hex"
  std::string expected;    // computed from the firmware log, "alg:hex"
  std::string reason;      // why it does not match, for people
  std::string source;      // where the PCR values came from (VerifyOptions)
};

// Compares the entry (the list's first) with the boot_aggregate computed
// from `firmware` (the replayed firmware log, or quoted PCRs 0-9).
BootAggregateCheck CheckBootAggregate(const ImaEntry& first, const pcr::PcrValues& firmware);

}  // namespace tc::ima
