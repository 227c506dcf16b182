#pragma once

// The host's attestation of a guest it launched (issue 6): after the guest
// booted and powered off, its vTPM (resumed with the guest's PCRs) is asked
// for a quote by an attestation key bound to the vTPM's endorsement key.
//
// Binding (TPM 2.0 Part 1, 24 "Credential Protection"): the AK is created
// under the EK; the host seals a random secret to the EK's public key and
// the AK's Name (MakeCredential) and the vTPM gives it back only if both
// keys are resident in it (ActivateCredential). The EK is the one whose
// certificate the vTPM CA issued and whose public key the launch log
// measured, so the quote belongs to the vTPM of the guest that was launched.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tc/base/error.h"
#include "tc/base/hex.h"
#include "tc/tpm/tpm.h"

namespace tc::vm {

// The PCRs a guest's evidence covers: the firmware and boot chain (0-9),
// systemd-boot/stub (12), shim (14), and IMA (10).
inline constexpr std::uint32_t kGuestQuotePcrs[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14};

struct GuestQuote {
  Bytes ek_public;                  // TPM2B_PUBLIC of the EK (RSA 2048)
  std::optional<Bytes> ek_certificate;  // DER, from the vTPM's NV
  Bytes ak_public;                  // TPM2B_PUBLIC of the AK (ECC P-256)
  Bytes attest;                     // TPMS_ATTEST (tpm2_quote -m)
  Bytes signature;                  // TPMT_SIGNATURE (tpm2_quote -s)
  Bytes pcrs;                       // the quoted values (tpm2_quote -o)
  Bytes nonce;
};

// Reads the EK (public area, certificate) of `vtpm`.
[[nodiscard]] Result<tpm::EndorsementKey> ReadGuestEk(tpm::Tpm& vtpm);

// Checks that the EK certificate (DER) certifies the EK public area
// `ek_public` (kVerificationFailed when it certifies another key).
[[nodiscard]] Result<void> CheckEkCertificate(std::span<const std::uint8_t> ek_public,
                                              std::span<const std::uint8_t> certificate);

// Creates the AK, checks the binding (above) against `expected_ek` -- the
// EK public area (TPM2B_PUBLIC) that was certified and measured into the
// launch log, not whatever EK the TPM at the other end reports: a TPM that
// is not the launched guest's vTPM cannot recover the credential --, and
// quotes kGuestQuotePcrs (sha256) with `nonce`. kVerificationFailed when
// the TPM reports another EK or the secret does not come back.
[[nodiscard]] Result<GuestQuote> QuoteGuest(tpm::Tpm& vtpm, std::span<const std::uint8_t> expected_ek,
                                            std::span<const std::uint8_t> nonce);

}  // namespace tc::vm
