#pragma once

// The TCG Canonical Event Log in its JSON form (CEL-JSON, TCG "Canonical
// Event Log Format" 1.0, the JSON encoding of CEL records): the host launch
// log the measured VM launcher appends to (issue 6), readable by the same
// tools as systemd's measurement log.
//
// A record: {"recnum": N, "pcr": P, "digests": [{"hashAlg": "sha256",
// "digest": "<hex>"}, ...], "content_type": "<type>", "content": {...}}.
// Two framings are read: a JSON array of records (CEL-JSON), and a JSON text
// sequence (RFC 7464: each record after a 0x1E byte, ended by a newline), the
// append-only form systemd writes, where "recnum" may be absent and is then
// the record's position. Records are written in the second form, so that a
// log is only ever appended to.
//
// The input is untrusted: every record is parsed strictly through the JSON
// reader; errors name the record and its byte offset; caps bound memory.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tc/base/error.h"
#include "tc/crypto/hash.h"
#include "tc/doc/value.h"
#include "tc/pcr/pcr_values.h"

namespace tc::cel {

inline constexpr std::size_t kMaxLogSize = std::size_t{256} << 20;
inline constexpr std::size_t kMaxRecords = 1'000'000;
inline constexpr std::size_t kMaxRecordSize = std::size_t{1} << 20;

struct Record {
  std::uint64_t recnum = 0;
  std::uint32_t pcr = 0;  // 0..23
  std::vector<crypto::Digest> digests;  // one per bank, each bank once
  std::string content_type;
  doc::Value content;  // unverified: proven only where the digest covers it
};

// One record as a JSON text sequence element: 0x1E, compact JSON, newline.
std::string SequenceElement(const Record& record);

// Both framings (see above). kMalformed naming "record N at offset O" for a
// record that does not parse or is not a CEL record (pcr out of range, a
// digest whose length does not fit its algorithm, a bank twice, recnums not
// increasing).
[[nodiscard]] Result<std::vector<Record>> Parse(std::span<const std::uint8_t> text);

// The PCR values the records extend, in every bank they carry, from zero.
// kUnsupported when a bank's hash is unavailable here.
[[nodiscard]] Result<pcr::PcrValues> Replay(std::span<const Record> records);

}  // namespace tc::cel
