#pragma once

// Import of Keylime runtime policies, so that existing users' whitelists
// work unchanged. Keylime's runtime policy (format version 1,
// keylime/ima/ima.py and its JSON schema):
//
//   {"meta": {"version": 1, "generator": N, "timestamp": "..."},
//    "release": N,
//    "digests":  {"/usr/bin/bash": ["<hex>", ...], ...},
//    "excludes": ["<regex>", ...],
//    "keyrings": {"<keyring>": ["<hex>", ...]},
//    "ima": {"ignored_keyrings": ["<keyring>" | "*"], "log_hash_alg": "sha1",
//            "dm_policy": null},
//    "ima-buf": {"<name>": ["<hex>", ...]},
//    "verification-keys": "<keys>"}
//
// The older allowlist format ("meta" version <= 5, digests under "hashes")
// is read too. The policy is untrusted input: every error names the line
// and column of the JSON text.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "tc/base/error.h"
#include "tc/crypto/hash.h"
#include "tc/ima/allowlist.h"

namespace tc::ima {

struct KeylimePolicy {
  Allowlist allowlist;
  int format_version = 1;
  // "ima": {"log_hash_alg"}: the bank of the list's template digests.
  std::optional<crypto::HashAlg> log_hash_alg;
  // Non-empty when the policy lists IMA signature verification keys, which
  // trustchain does not check yet (reported, never silently trusted).
  std::string verification_keys;
};

// Parses a Keylime runtime policy. kMalformed for bad JSON or a member of
// the wrong type, kUnsupported for an unknown format version,
// kInvalidArgument for a digest that is not hex of a known size or an
// exclude that does not compile.
// `consumed`, when given, is called now and then with an offset below which
// the parser will not read `json` again (so that a caller can give that
// memory back while a large policy loads).
[[nodiscard]] Result<KeylimePolicy> LoadKeylimePolicy(
    std::span<const std::uint8_t> json,
    const std::function<void(std::size_t)>& consumed = nullptr);

// Reads a digest list in sha256sum form ("HEX  PATH" per line, '*' before
// PATH allowed; also Keylime's allowlist text format) into `allowlist`.
// kMalformed naming the line.
[[nodiscard]] Result<void> LoadDigestList(std::string_view text, Allowlist& allowlist);

}  // namespace tc::ima
