#include "policy_anchor.h"

#include <fmt/format.h>

#include "tc/policy/signing.h"
#include "tpm_flags.h"

namespace tc::app {

void AddAnchorFlags(CLI::App* cmd, AnchorFlags* f) {
  cmd->add_option("--policy-nv", f->nv_index,
                  "TPM NV index (e.g. 0x01500020) holding the policy's sha256 (`policy anchor`): "
                  "a policy whose digest differs is refused, and a changed one is re-anchored")
      ->option_text("INDEX");
  cmd->add_option("--tpm", f->tpm,
                  "TPM holding --policy-nv: device:PATH, swtpm:host=H,port=P or embedded:DIR "
                  "(default: $TRUSTCHAIN_TPM, /dev/tpmrm0, else the embedded TPM)")
      ->envname("TRUSTCHAIN_TPM")
      ->option_text("SPEC");
}

Result<void> CheckAnchor(const AnchorFlags& f, const policy::Policy& policy) {
  if (f.nv_index.empty()) return {};
  TC_ASSIGN_OR_RETURN(const std::uint32_t index, ParseNvIndex(f.nv_index));
  TpmFlags tf;
  tf.tpm = f.tpm;
  TC_ASSIGN_OR_RETURN(auto tpm, OpenTpmFromFlags(tf));
  auto stored = tpm->NvRead(index);
  if (!stored) return Fail(std::move(stored).error().Wrap(fmt::format("NV index 0x{:08x}", index)));
  const crypto::Digest d = policy::PolicyDigest(policy);
  if (stored->size() != d.bytes().size() ||
      !std::equal(stored->begin(), stored->end(), d.bytes().begin())) {
    return Fail(ErrorCode::kVerificationFailed,
                fmt::format("the policy's sha256 {} is not the one anchored in NV index 0x{:08x} "
                            "({}): the whitelist was replaced or changed without re-anchoring "
                            "(`trustchain policy anchor`)",
                            d.Hex(), index, ToHex(*stored)));
  }
  return {};
}

Result<void> WriteAnchor(const AnchorFlags& f, const policy::Policy& policy) {
  if (f.nv_index.empty()) return {};
  TC_ASSIGN_OR_RETURN(const std::uint32_t index, ParseNvIndex(f.nv_index));
  TpmFlags tf;
  tf.tpm = f.tpm;
  TC_ASSIGN_OR_RETURN(auto tpm, OpenTpmFromFlags(tf));
  const crypto::Digest d = policy::PolicyDigest(policy);
  if (!tpm->NvRead(index)) {
    TC_RETURN_IF_ERROR(tpm->NvDefine(tpm::NvDefinition{index, d.bytes().size(), false,
                                                        crypto::HashAlg::kSha256}));
  }
  return tpm->NvWrite(index, d.bytes(), 0);
}

}  // namespace tc::app
