#pragma once

// Anchoring a policy in a TPM NV index: the sha256 of its canonical form
// (signature included, policy::PolicyDigest) is written to an ordinary
// 32-byte owner NV index; a verifier given the index refuses a policy whose
// digest differs, so the whitelist file cannot be swapped on the host
// without also writing the TPM (which needs owner authorization).

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "tc/base/error.h"
#include "tc/policy/policy.h"

namespace tc::app {

struct AnchorFlags {
  std::string nv_index;  // "" = not anchored
  std::string tpm;       // --tpm SPEC ("" = the default TPM)
};

// Adds --policy-nv INDEX and --tpm SPEC.
void AddAnchorFlags(CLI::App* cmd, AnchorFlags* f);

// kVerificationFailed when the index holds another digest, kTpm/kNotFound
// when it cannot be read. No-op without --policy-nv.
[[nodiscard]] Result<void> CheckAnchor(const AnchorFlags& f, const policy::Policy& policy);

// Writes the policy's digest to the index, defining it (32 bytes) when
// absent. No-op without --policy-nv.
[[nodiscard]] Result<void> WriteAnchor(const AnchorFlags& f, const policy::Policy& policy);

}  // namespace tc::app
