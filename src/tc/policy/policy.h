#pragma once

// The whitelist: named components of the trust
// chain, each with its stage, how it is recognised in evidence, the digests
// trusted for it (several versions at once, with where each came from), and
// whether each is trusted or quarantined.
//
// JSON form (docs/policy.md when done), strict: unknown members, stages,
// states or algorithms are refused, naming the JSON path.
//
//   {"trustchain_policy": 1, "version": 7,
//    "required_banks": ["sha256"], "refuse_sha1_only": true,
//    "components": [
//      {"name": "systemd-boot", "stage": "bootloader",
//       "match": {"pcr": 4, "event_type": "EV_EFI_BOOT_SERVICES_APPLICATION",
//                 "description": "\\EFI\\BOOT\\BOOTX64.EFI"},
//       "digests": [{"alg": "sha256", "digest": "<hex>", "state": "trusted",
//                    "source": "eventlog baseline event 23",
//                    "added": "2026-11-26T10:00:00Z"}]}],
//    "files": {"/usr/bin/bash": ["sha256:<hex>"]}, "excludes": ["/tmp/.*"],
//    "golden_pcrs": {"sha256": {"0": "<hex>"}},
//    "signature": {"alg": "ecdsa-p256-sha256", "key_id": "<hex>", "value": "<hex DER>"}}
//
// docs/policy.md documents every member.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tc/base/error.h"
#include "tc/base/hex.h"
#include "tc/crypto/hash.h"
#include "tc/pcr/pcr_values.h"

namespace tc::policy {

inline constexpr int kFormatVersion = 1;

enum class Stage {
  kFirmware, kBootloader, kVmm, kKernel, kInitrd, kCmdline, kSecureBoot, kOsFile,
  kGuestFirmware, kGuestKernel, kGuestInitrd, kGuestCmdline, kGuestImage,
};
std::string_view StageName(Stage s);  // "firmware", "guest-kernel", ...
std::optional<Stage> StageFromName(std::string_view name);
// The guest-* stages: what a VMM loads into a guest, judged when it launches
// the guest (launch/check.h), never by a boot's event log.
inline bool IsGuestLaunchStage(Stage s) { return s >= Stage::kGuestFirmware; }

enum class DigestState { kTrusted, kQuarantined };

struct AllowedDigest {
  crypto::Digest digest;
  DigestState state = DigestState::kTrusted;
  std::string source;  // where it came from, for people
  std::string added;   // when (RFC 3339)
  std::string reason;  // why it was quarantined
  // What the digest covers, when the evidence shows it (a kernel command
  // line, a boot variable's value): lets a report show what changed.
  std::string content;
};

// How a component is recognised in evidence. Absent fields match anything.
struct Match {
  std::optional<std::uint32_t> pcr;
  std::optional<std::uint32_t> event_type;  // TCG event type (or IMA: none)
  std::string description;  // file name of a device path, variable name, IMA path...
};

struct Component {
  std::string name;
  Stage stage = Stage::kFirmware;
  Match match;
  // Every boot must measure it (learned from a boot); false for components
  // admitted ahead of use (from files, staged updates, approvals).
  bool required = true;
  std::vector<AllowedDigest> digests;

  // The digest entry equal to `d`, or nullptr.
  const AllowedDigest* Find(const crypto::Digest& d) const;
  AllowedDigest* Find(const crypto::Digest& d);
};

// An embedded signature over CanonicalBytes() (signing.h).
struct PolicySignature {
  std::string alg;     // "ecdsa-p256-sha256"
  std::string key_id;  // hex SHA-1 of the signer's subjectPublicKey bits (RFC 5280 4.2.1.2)
  Bytes value;         // DER ECDSA-Sig-Value
};

struct Policy {
  std::uint64_t version = 1;  // bumped on every change
  std::vector<crypto::HashAlg> required_banks;
  bool refuse_sha1_only = true;
  std::vector<Component> components;
  // Runtime files (IMA, PCR 10): trusted digests by absolute path. A file
  // taken out of trust moves to an os-file component (kept with its state).
  std::map<std::string, std::vector<crypto::Digest>, std::less<>> files;
  // Runtime paths not checked: regular expressions matched at the path's
  // start (Keylime's "excludes", Python re.match semantics).
  std::vector<std::string> excludes;
  pcr::PcrValues golden_pcrs;
  std::optional<PolicySignature> signature;

  Component* FindComponent(std::string_view name);
  const Component* FindComponent(std::string_view name) const;
};

// kMalformed for bad JSON (line and column), kInvalidArgument naming the
// JSON path for a well-formed document that is not a valid policy,
// kUnsupported for another format version.
[[nodiscard]] Result<Policy> ParsePolicy(std::span<const std::uint8_t> json);
// Canonical JSON (the form ParsePolicy reads back), with the signature.
std::string SerializePolicy(const Policy& policy);
// The bytes a signature covers: SerializePolicy without "signature".
std::string CanonicalBytes(const Policy& policy);

// "trusted" / "quarantined".
std::string_view DigestStateName(DigestState s);

}  // namespace tc::policy
