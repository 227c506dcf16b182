#pragma once

// Importing Keylime's whitelists into a trustchain policy.
//
// Runtime policy (keylime-policy, format 1, or the older allowlist JSON):
// "digests" (or "hashes") become policy.files and "excludes" policy.excludes
// (the same Python re.match semantics, ima/allowlist.h). Keyrings, ima-buf
// and verification keys are not imported (a note says so).
//
// Measured-boot reference state (Keylime's mb_refstate, the example policy
// of its elchecking module): "kernels" entries give shim, GRUB and kernel
// Authenticode digests (PCR 4, matched by digest) and initrd digests (PCR 9);
// "scrtm_and_bios" the S-CRTM and firmware blob digests (PCR 0); "mokdig" /
// "mokxdig" shim's MOK digests (PCR 14). Keylime's kernel_cmdline is a
// regular expression and its Secure Boot variables are signature entries,
// not digests: neither maps to a digest; notes say so (learn those from a
// golden boot).
//
// Input is untrusted JSON: errors name the JSON path (kInvalidArgument) or
// line and column (kMalformed). On any error `policy` and `notes` are left
// exactly as they were.

#include <cstdint>
#include <span>
#include <string>

#include "tc/base/error.h"
#include "tc/policy/learn.h"
#include "tc/policy/policy.h"

namespace tc::policy {

[[nodiscard]] Result<void> ImportKeylimeRuntimePolicy(std::span<const std::uint8_t> json,
                                                      Policy& policy, LearnNotes& notes);

[[nodiscard]] Result<void> ImportKeylimeRefstate(std::span<const std::uint8_t> json,
                                                 const std::string& source, const std::string& now,
                                                 Policy& policy, LearnNotes& notes);

}  // namespace tc::policy
