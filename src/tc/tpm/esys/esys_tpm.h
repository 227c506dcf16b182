#pragma once

// tc::tpm::Tpm over tpm2-tss ESYS (TCG TSS 2.0 Enhanced System API), for
// any TCTI: a TPM device, swtpm, the mssim simulator, or the embedded
// libtpms TPM. Built by OpenTpm (tc/tpm/esys/open.h); only apps call that.
//
// Every ESYS output is freed before a call returns; no transient object or
// session is created by the operations here (PCR reads, extends and random
// bytes use no session or a password session). Errors from the TPM or the
// TSS stack are kTpm with the call and the decoded response code, e.g.
// "Esys_PCR_Read: tpm:error(2.0): TPM not initialized". After a transport
// failure (the TCTI could not send or receive, e.g. swtpm died) ESYS may
// refuse later calls on the same context ("bad sequence"): open a new
// EsysTpm rather than retrying on this one.
// Not thread-safe: one caller at a time.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "tc/tpm/tpm.h"

namespace tc::tpm {

namespace internal {
struct EsysConnection;  // internal/esys.h
}  // namespace internal

// Most bytes one GetRandom call returns (many TPM2_GetRandom calls).
inline constexpr std::size_t kMaxRandomSize = 1u << 20;

class EsysTpm final : public Tpm {
 public:
  // Takes an initialized ESYS context (with its TCTI). `transport` is the
  // selection string reported by Info(), e.g. "swtpm:host=...,port=2321".
  EsysTpm(std::unique_ptr<internal::EsysConnection> connection,
          std::string transport);
  ~EsysTpm() override;
  EsysTpm(const EsysTpm&) = delete;
  EsysTpm& operator=(const EsysTpm&) = delete;

  // TPM2_GetCapability: TPM_CAP_TPM_PROPERTIES (PT_FIXED group) and
  // TPM_CAP_PCRS (TPM 2.0 Part 3, 30.2).
  [[nodiscard]] Result<TpmInfo> Info() override;
  [[nodiscard]] Result<void> SelfTest(bool full) override;
  [[nodiscard]] Result<void> Shutdown() override;
  // TPM2_PCR_Read (Part 3, 22.4), repeated until every requested PCR is
  // read. Fails with kInvalidArgument for a PCR index >= 24 and kNotFound
  // when the TPM returns nothing for a requested bank or PCR (bank not
  // active). An empty selection reads nothing.
  [[nodiscard]] Result<pcr::PcrValues> ReadPcrs(
      std::span<const PcrSelection> selection) override;
  // TPM2_PCR_Extend (Part 3, 22.2) with the empty password. kInvalidArgument
  // for no digests, more than 16, the same bank twice, or pcr >= 24.
  [[nodiscard]] Result<void> Extend(
      std::uint32_t pcr, std::span<const crypto::Digest> digests) override;
  // TPM2_GetRandom (Part 3, 16.1), repeated: the TPM returns at most the
  // size of its largest digest per call. kInvalidArgument above
  // kMaxRandomSize.
  [[nodiscard]] Result<Bytes> GetRandom(std::size_t size) override;

  // esys_keys.cc
  [[nodiscard]] Result<EndorsementKey> ReadEk(KeyAlg alg) override;
  [[nodiscard]] Result<AttestationKey> CreateAk(
      KeyAlg alg, KeyAlg parent, std::optional<std::uint32_t> persist_at) override;
  [[nodiscard]] Result<QuoteBlob> Quote(const AttestationKey& ak,
                                        std::span<const std::uint8_t> nonce,
                                        std::span<const PcrSelection> selection) override;
  [[nodiscard]] Result<Bytes> ActivateCredential(
      const AttestationKey& ak, std::span<const std::uint8_t> credential_blob,
      std::span<const std::uint8_t> encrypted_secret) override;

  // esys_nv.cc
  [[nodiscard]] Result<void> NvDefine(const NvDefinition& nv) override;
  [[nodiscard]] Result<void> NvUndefine(std::uint32_t index) override;
  [[nodiscard]] Result<void> NvWrite(std::uint32_t index, std::span<const std::uint8_t> data,
                                     std::uint16_t offset) override;
  [[nodiscard]] Result<Bytes> NvRead(std::uint32_t index) override;
  [[nodiscard]] Result<void> NvExtend(std::uint32_t index,
                                      std::span<const std::uint8_t> data) override;
  [[nodiscard]] Result<void> NvWriteLock(std::uint32_t index) override;

  // esys_seal.cc
  [[nodiscard]] Result<SealedObject> Seal(std::span<const std::uint8_t> secret,
                                          std::span<const PcrSelection> pcrs) override;
  [[nodiscard]] Result<Bytes> Unseal(const SealedObject& sealed) override;

 private:
  // Reads a whole NV index of any range (esys_nv.cc): NvRead for the owner
  // range, ReadEk for the EK certificate indices. kNotFound when undefined.
  [[nodiscard]] Result<Bytes> ReadNvIndex(std::uint32_t index);
  // kInvalidArgument unless every bank of `pcrs` is allocated (esys_seal.cc).
  [[nodiscard]] Result<void> RequireAllocated(std::span<const PcrSelection> pcrs);

  std::unique_ptr<internal::EsysConnection> connection_;
  std::string transport_;
};

}  // namespace tc::tpm
