#pragma once

// One pass over an IMA measurement list: every entry's template digest is
// checked, PCR 10 is replayed in every requested bank and compared with the
// quoted value, the boot_aggregate with the firmware log, and every entry
// with an allowlist. Memory stays bounded whatever the list's length.
//
// A quoted PCR 10 decides which entries count: only the prefix of the list
// whose replay equals the quote is attested; findings in entries after it
// are dropped (they are unproven, and the next quote will cover them).

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tc/base/byte_source.h"
#include "tc/base/error.h"
#include "tc/ima/allowlist.h"
#include "tc/ima/parser.h"
#include "tc/ima/replay.h"
#include "tc/ima/signature.h"
#include "tc/pcr/pcr_values.h"

namespace tc::ima {

// Why an entry failed, as a stable token (JSON "reason").
enum class Finding {
  kTemplateHash,          // "template-hash": the digest is not the hash of its data
  kTemplateUncheckable,   // "template-uncheckable": ascii field with no exact binary form
  kDigestNotAllowed,      // "digest-not-allowed": listed path, other digest
  kNotInPolicy,           // "not-in-policy"
  kMeasurementViolation,  // "measurement-violation": IMA recorded a violation
  kNoFileDigest,          // "no-file-digest": unknown template, nothing to check
  kBootAggregate,         // "boot-aggregate"
  kSignatureInvalid,      // "signature-invalid": a file signature that does not verify
  kPcrNotQuoted,          // "pcr-not-quoted": with a quote, an entry extending a PCR other than 10
};
std::string_view FindingName(Finding f);

struct Violation {
  Finding finding;
  std::size_t entry = 0;   // 0-based index in the whole list
  std::size_t line = 0;    // ascii: 1-based line; 0 for binary
  std::size_t offset = 0;  // byte offset in the input read
  std::string path;        // printable form of the event name
  std::string expected;    // "alg:hex" (several joined by ", "), or "" when none
  std::string measured;    // "alg:hex"
  std::string detail;      // one sentence for people
};

// An allowlist that may still be loading on another thread when the list's
// verification starts: entries read meanwhile are kept (compactly, up to
// VerifyOptions::max_pending_bytes) and checked once it is ready, so that
// loading a large policy and hashing a large list use both cores.
class AllowlistSource {
 public:
  virtual ~AllowlistSource() = default;
  // The allowlist when loaded, nullptr while it loads, the loader's error
  // if it failed; never blocks.
  [[nodiscard]] virtual Result<const Allowlist*> Ready() = 0;
  // Blocks until loaded; the loader's error if it failed.
  [[nodiscard]] virtual Result<const Allowlist*> Wait() = 0;
};

// Runs `load` on a thread of its own; the destructor joins it.
class BackgroundAllowlist final : public AllowlistSource {
 public:
  explicit BackgroundAllowlist(std::function<Result<Allowlist>()> load);
  ~BackgroundAllowlist() override;
  BackgroundAllowlist(const BackgroundAllowlist&) = delete;
  BackgroundAllowlist& operator=(const BackgroundAllowlist&) = delete;
  Result<const Allowlist*> Ready() override;
  Result<const Allowlist*> Wait() override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

struct VerifyOptions {
  ParseOptions parse;
  // Banks to replay besides the list's own (e.g. sha256 for a SHA-1 list).
  std::vector<crypto::HashAlg> banks;
  // The quoted PCR 10 (any banks), if any.
  std::optional<pcr::PcrValues> quoted;
  // PCRs 0-9 to check boot_aggregate against: quoted values (proven), or
  // a firmware log's replay (proven only as far as a quote covers it).
  std::optional<pcr::PcrValues> firmware;
  std::string firmware_source;  // for reports: "quoted PCRs", ...
  const Allowlist* allowlist = nullptr;
  // Keys trusted to sign files: an entry whose `sig` verifies with one is
  // trusted whatever the allowlist says; one that does not verify is a
  // violation. Signatures by other keys leave the entry to the allowlist.
  const ImaKeyring* keyring = nullptr;
  // Instead of `allowlist`: one still loading.
  AllowlistSource* allowlist_source = nullptr;
  std::size_t max_pending_bytes = std::size_t{128} << 20;
  // Continue after a checkpoint: the input holds entries from
  // resume->entries on.
  std::optional<Checkpoint> resume;
  // Violations kept in full (all are counted).
  std::size_t max_violations = 1000;
  // Called every `progress_every` entries with (entries, bytes read).
  std::function<void(std::size_t, std::size_t)> progress;
  std::size_t progress_every = 100000;
};

struct VerifyResult {
  StreamSummary stream;
  std::size_t first_entry = 0;     // index of the first entry read (resume)
  std::size_t entries_read = 0;
  std::size_t entries_checked = 0; // attested (or all, without a quote)
  std::size_t unattested = 0;      // read after the quoted prefix
  std::size_t measurement_violations = 0;  // all-zero template digests
  CheckCounts checks;                      // of every entry read
  std::size_t excluded = 0;
  std::size_t allowed = 0;
  std::size_t signed_valid = 0;  // entries whose signature verified
  std::size_t violations_total = 0;
  std::vector<Violation> violations;  // the first max_violations
  pcr::PcrValues replayed;            // after every entry read
  // With a quote: after how many entries (from the list's start) the replay
  // equalled it; nullopt = no prefix matched.
  bool quote_given = false;
  std::optional<std::size_t> matched_prefix;
  pcr::PcrValues quoted;
  std::optional<BootAggregateCheck> boot_aggregate;
  // Where the next delta starts: after the attested prefix (with a quote)
  // or after every entry read.
  std::optional<Checkpoint> checkpoint;

  // Everything checked holds. Without a quote that is not attestation:
  // a compromised machine can send any self-consistent list
  // (VerifyDocument says "unattested").
  bool ok() const;
};

// kMalformed / kUnsupported for input that cannot be read (the verdict is
// "could not decide"); a failed check is a Violation, not an error.
[[nodiscard]] Result<VerifyResult> Verify(ByteSource& list, const VerifyOptions& options);

}  // namespace tc::ima
