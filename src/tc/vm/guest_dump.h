#pragma once

// The evidence a trustchain test guest sends to the host (issue 6, measured
// VM launch). The guest's /init (scripts/guest/init) writes it to its second
// serial port, which QEMU saves to a file on the host; this is the parser of
// that file. The framing, line by line (LF, optionally CR LF):
//
//   @@TRUSTCHAIN-GUEST 1
//   @@BEGIN <name> <size-in-bytes> <sha256-hex>
//   <base64 (RFC 4648 §4, padded) of the file, any number of lines>
//   @@END <name>
//   ...                                  (one block per file, any order)
//   @@DONE
//
// Lines before the header line are serial noise (firmware output) and are
// ignored; the header must start its line. Empty lines between blocks are
// ignored; bytes after @@DONE are ignored. Names: eventlog.bin (the firmware
// TCG event log, required), ima.bin (IMA binary measurement list),
// cmdline.txt (the guest's /proc/cmdline), pcrs.txt ("sha256 <index> <hex>"
// lines read from the guest's sysfs).
//
// Trust: the guest is untrusted, and so is everything it sends. A file that
// passes the size and sha256 checks arrived intact, nothing more: the size
// and digest come from the same guest. Whether its contents are true is for
// replay against the vTPM's PCRs to decide.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tc/base/error.h"
#include "tc/base/hex.h"

namespace tc::vm {

inline constexpr std::size_t kMaxGuestFile = 64u << 20;    // decoded bytes per file
inline constexpr std::size_t kMaxGuestDump = 256u << 20;   // whole serial capture

struct GuestFile {
  std::string name;  // one of the names above
  Bytes data;        // decoded; size and sha256 as the guest declared
};

struct GuestDump {
  std::vector<GuestFile> files;  // in the order the guest sent them

  // The file with this name, or nullptr. The pointer is valid while files
  // is not modified.
  const GuestFile* Find(std::string_view name) const;
};

// Parses the serial capture (framing above). The guest is untrusted:
// kMalformed naming the line number (1-based, counting from the start of the
// capture) and the byte offset of that line for: no header, unknown version,
// unknown or duplicate name, a size over kMaxGuestFile, base64 that is
// invalid or decodes to another size, a sha256 mismatch, a block without
// @@END, a missing @@DONE ("incomplete: the guest stopped before sending
// @@DONE"), any other line between blocks. Missing eventlog.bin is kMalformed
// too, and so is a capture over kMaxGuestDump bytes. Bytes after @@DONE are
// ignored. CR before LF is tolerated (serial consoles add it). Memory is
// bounded by the input size plus the decoded files. Thread-compatible; the
// result owns its data.
[[nodiscard]] Result<GuestDump> ParseGuestDump(std::span<const std::uint8_t> capture);

// The framing above for these files, as the guest's /init writes it (LF line
// ends, base64 lines of 76 characters): for tests and fake guests.
// ParseGuestDump(EncodeGuestDump(d)) gives back d when d's names are known
// and distinct and include eventlog.bin.
std::string EncodeGuestDump(const GuestDump& dump);

}  // namespace tc::vm
