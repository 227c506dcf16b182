#pragma once

// Learning a whitelist from a golden boot (its firmware event log and IMA
// list) and from files on disk (what a boot will load, before it boots).
//
// Trust: learning trusts its input. Learn from a boot you trust (ideally
// one whose log replays to a checked quote: the caller checks that) and
// from files you installed yourself.

#include <string>
#include <vector>

#include "tc/base/byte_source.h"
#include "tc/base/error.h"
#include "tc/eventlog/parser.h"
#include "tc/ima/parser.h"
#include "tc/policy/policy.h"

namespace tc::policy {

// A file measured on disk (see measure::FileMeasurement; kept separate so
// that this module does not depend on how files are read).
struct LearnedFile {
  std::string path;
  crypto::Digest sha256;
  std::optional<crypto::Digest> authenticode;  // sha256, for PE/COFF images
};

// What learning found, for people: one line each.
struct LearnNotes {
  std::vector<std::string> lines;
  std::size_t components_added = 0;
  std::size_t files_added = 0;  // runtime file digests
};

// Adds a component per distinct event identity of the log's extended
// events (identify.h), each digest of every bank as trusted, with its
// source ("<log_name> event N") and time `now` (RFC 3339). Several events
// with the same identity (GRUB commands) give one component with several
// digests. Returns kInvalidArgument when the log has no extended event.
[[nodiscard]] Result<void> LearnEventLog(const eventlog::EventLog& log, const std::string& log_name,
                                         const std::string& now, Policy& policy, LearnNotes& notes);

// Adds every file digest of an IMA list to policy.files (not the
// boot_aggregate, not buffers or keys: those are per boot). kMalformed
// naming the entry for a list that does not parse; the policy then holds
// the digests read before the error and must be discarded.
[[nodiscard]] Result<void> LearnImaList(ByteSource& list, const ima::ParseOptions& options,
                                        Policy& policy, LearnNotes& notes);

// Files: an EFI image (authenticode set) whose Authenticode hash an
// existing PCR 4 component lists gets the file named in that digest's
// source (a note says it equals the event's digest); another EFI image
// becomes a component admitted ahead of use (required = false, matched by
// digest in PCR 4); a file whose sha256 an existing component lists (an
// initrd, PCR 9) is noted there; every other file goes to policy.files by
// its path.
void LearnFiles(const std::vector<LearnedFile>& files, const std::string& now, Policy& policy,
                LearnNotes& notes);

// The current time as RFC 3339 UTC ("2026-11-26T10:00:00Z").
std::string NowRfc3339();

}  // namespace tc::policy
