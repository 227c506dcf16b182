// EsysTpm::Seal / Unseal against the embedded libtpms TPM (one per
// process; a fresh state directory per test).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tc/crypto/hash.h"
#include "tc/tpm/esys/esys_tpm.h"
#include "tc/tpm/esys/internal/esys.h"
#include "tc/tpm/esys/internal/libtpms_tcti.h"
#include "tc/tpm/esys/test_util.h"

namespace tc::tpm {
namespace {

using crypto::Digest;
using crypto::HashAlg;
using ::testing::HasSubstr;
using testing::TempDir;

// An EsysTpm over the embedded TPM that also lets the test query the TPM
// through the same ESYS context.
struct Embedded {
  std::unique_ptr<EsysTpm> tpm;
  ESYS_CONTEXT* ctx = nullptr;
};

Embedded OpenEmbedded(const std::string& dir) {
  Embedded out;
  if (auto loaded = internal::LoadTss(); !loaded) {
    ADD_FAILURE() << loaded.error().message();
    return out;
  }
  auto tcti = internal::OpenLibtpmsTcti(dir);
  if (!tcti.has_value()) {
    ADD_FAILURE() << tcti.error().message();
    return out;
  }
  ESYS_CONTEXT* raw = nullptr;
  if (internal::Tss().Esys_Initialize(&raw, tcti->get(), nullptr) != TSS2_RC_SUCCESS) {
    ADD_FAILURE() << "Esys_Initialize";
    return out;
  }
  auto connection = std::make_unique<internal::EsysConnection>();
  connection->ctx.reset(raw);
  (void)tcti->release();
  out.ctx = raw;
  out.tpm = std::make_unique<EsysTpm>(std::move(connection), "embedded:" + dir);
  return out;
}

// Handles of one type the TPM holds (TPM2_GetCapability(TPM_CAP_HANDLES),
// Part 3, 30.2): transient objects 0x80, loaded sessions 0x02, saved 0x03.
std::uint32_t HandleCount(ESYS_CONTEXT* ctx, std::uint32_t first) {
  TPMI_YES_NO more = TPM2_NO;
  internal::EsysPtr<TPMS_CAPABILITY_DATA> data;
  const TSS2_RC rc = internal::Tss().Esys_GetCapability(
      ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES, first,
      TPM2_MAX_CAP_HANDLES, &more, internal::OutParam(data).get());
  EXPECT_EQ(rc, TSS2_RC_SUCCESS);
  if (rc != TSS2_RC_SUCCESS || data == nullptr) return 9999;
  std::uint32_t n = 0;
  for (std::uint32_t i = 0; i < data->data.handles.count; ++i) {
    if ((data->data.handles.handle[i] >> 24) == (first >> 24)) ++n;
  }
  return n;
}

void ExpectNothingLoaded(ESYS_CONTEXT* ctx) {
  EXPECT_EQ(HandleCount(ctx, TPM2_TRANSIENT_FIRST), 0u) << "transient objects left";
  EXPECT_EQ(HandleCount(ctx, TPM2_LOADED_SESSION_FIRST), 0u) << "sessions left";
  EXPECT_EQ(HandleCount(ctx, TPM2_ACTIVE_SESSION_FIRST), 0u) << "saved sessions left";
}

Result<void> ExtendSha256(Tpm& tpm, std::uint32_t pcr, std::string_view data) {
  TC_ASSIGN_OR_RETURN(const Digest d, crypto::Hash(HashAlg::kSha256, AsBytes(data)));
  const std::vector<Digest> digests = {d};
  return tpm.Extend(pcr, digests);
}

const std::vector<PcrSelection> kSel = {{HashAlg::kSha256, {16, 0, 7}}};

TEST(EsysSealTest, SealThenUnsealReturnsSecret) {
  TempDir dir;
  Embedded e = OpenEmbedded(dir.path());
  ASSERT_NE(e.tpm, nullptr);
  ASSERT_TRUE(ExtendSha256(*e.tpm, 16, "before").has_value());
  const Bytes secret = {'d', 'i', 's', 'k', ' ', 'k', 'e', 'y', 0, 0xFF};
  auto sealed = e.tpm->Seal(secret, kSel);
  ASSERT_TRUE(sealed.has_value()) << sealed.error().message();
  EXPECT_FALSE(sealed->public_2b.empty());
  EXPECT_FALSE(sealed->private_2b.empty());
  // The selection kept is the one used: banks merged, PCRs ascending.
  ASSERT_EQ(sealed->pcrs.size(), 1u);
  EXPECT_EQ(sealed->pcrs[0].alg, HashAlg::kSha256);
  EXPECT_EQ(sealed->pcrs[0].pcrs, (std::vector<std::uint32_t>{0, 7, 16}));
  // The secret is not in the blobs in clear.
  const std::string pub(sealed->public_2b.begin(), sealed->public_2b.end());
  const std::string priv(sealed->private_2b.begin(), sealed->private_2b.end());
  EXPECT_THAT(pub + priv, ::testing::Not(HasSubstr("disk key")));

  auto unsealed = e.tpm->Unseal(*sealed);
  ASSERT_TRUE(unsealed.has_value()) << unsealed.error().message();
  EXPECT_EQ(*unsealed, secret);
  ExpectNothingLoaded(e.ctx);
}

TEST(EsysSealTest, SealsToSeveralBanksAndMaximumSize) {
  TempDir dir;
  Embedded e = OpenEmbedded(dir.path());
  ASSERT_NE(e.tpm, nullptr);
  const std::vector<PcrSelection> sel = {{HashAlg::kSha1, {23}}, {HashAlg::kSha256, {0, 23}}};
  const Bytes secret(128, 0x5A);
  auto sealed = e.tpm->Seal(secret, sel);
  ASSERT_TRUE(sealed.has_value()) << sealed.error().message();
  EXPECT_EQ(sealed->pcrs.size(), 2u);
  auto unsealed = e.tpm->Unseal(*sealed);
  ASSERT_TRUE(unsealed.has_value()) << unsealed.error().message();
  EXPECT_EQ(*unsealed, secret);
  ExpectNothingLoaded(e.ctx);
}

TEST(EsysSealTest, ExtendOfSealedPcrMakesUnsealFailVerification) {
  TempDir dir;
  Embedded e = OpenEmbedded(dir.path());
  ASSERT_NE(e.tpm, nullptr);
  const Bytes secret = {1, 2, 3};
  auto sealed = e.tpm->Seal(secret, kSel);
  ASSERT_TRUE(sealed.has_value()) << sealed.error().message();
  // A PCR outside the selection changes nothing.
  ASSERT_TRUE(ExtendSha256(*e.tpm, 23, "other").has_value());
  auto ok = e.tpm->Unseal(*sealed);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(*ok, secret);

  ASSERT_TRUE(ExtendSha256(*e.tpm, 16, "attacker").has_value());
  auto bad = e.tpm->Unseal(*sealed);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kVerificationFailed);
  EXPECT_THAT(bad.error().message(),
              HasSubstr("the PCRs no longer have the values the secret was sealed to"));
  ExpectNothingLoaded(e.ctx);
}

// Opening the embedded TPM is a reboot: PCRs return to their initial values,
// so a secret sealed to them unseals again, and one sealed after an extend
// does not.
TEST(EsysSealTest, SealedObjectSurvivesRebootOnlyWithSamePcrs) {
  TempDir dir;
  SealedObject to_initial;
  SealedObject to_extended;
  {
    Embedded e = OpenEmbedded(dir.path());
    ASSERT_NE(e.tpm, nullptr);
    auto a = e.tpm->Seal(Bytes{1}, kSel);
    ASSERT_TRUE(a.has_value()) << a.error().message();
    to_initial = *a;
    ASSERT_TRUE(ExtendSha256(*e.tpm, 16, "boot").has_value());
    auto b = e.tpm->Seal(Bytes{2}, kSel);
    ASSERT_TRUE(b.has_value()) << b.error().message();
    to_extended = *b;
  }
  Embedded e = OpenEmbedded(dir.path());
  ASSERT_NE(e.tpm, nullptr);
  auto a = e.tpm->Unseal(to_initial);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(*a, Bytes{1});
  auto b = e.tpm->Unseal(to_extended);
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code(), ErrorCode::kVerificationFailed);
  ASSERT_TRUE(ExtendSha256(*e.tpm, 16, "boot").has_value());
  b = e.tpm->Unseal(to_extended);
  ASSERT_TRUE(b.has_value()) << b.error().message();
  EXPECT_EQ(*b, Bytes{2});
}

TEST(EsysSealTest, RejectsBadArguments) {
  TempDir dir;
  Embedded e = OpenEmbedded(dir.path());
  ASSERT_NE(e.tpm, nullptr);
  auto big = e.tpm->Seal(Bytes(129, 1), kSel);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code(), ErrorCode::kInvalidArgument);
  auto empty = e.tpm->Seal(Bytes{}, kSel);
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalidArgument);
  auto no_pcrs = e.tpm->Seal(Bytes{1}, {});
  ASSERT_FALSE(no_pcrs.has_value());
  EXPECT_EQ(no_pcrs.error().code(), ErrorCode::kInvalidArgument);
  const std::vector<PcrSelection> bad_pcr = {{HashAlg::kSha256, {24}}};
  auto out_of_range = e.tpm->Seal(Bytes{1}, bad_pcr);
  ASSERT_FALSE(out_of_range.has_value());
  EXPECT_EQ(out_of_range.error().code(), ErrorCode::kInvalidArgument);
  ExpectNothingLoaded(e.ctx);
}

TEST(EsysSealTest, DamagedBlobsAreRejectedAndFlushed) {
  TempDir dir;
  Embedded e = OpenEmbedded(dir.path());
  ASSERT_NE(e.tpm, nullptr);
  auto a = e.tpm->Seal(Bytes{1, 2}, kSel);
  auto b = e.tpm->Seal(Bytes{3, 4}, kSel);
  ASSERT_TRUE(a.has_value() && b.has_value());

  SealedObject truncated = *a;
  truncated.public_2b.pop_back();
  auto r = e.tpm->Unseal(truncated);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);

  SealedObject trailing = *a;
  trailing.private_2b.push_back(0);
  r = e.tpm->Unseal(trailing);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);

  // The private part of another object: the TPM's integrity check fails.
  SealedObject mixed = *a;
  mixed.private_2b = b->private_2b;
  r = e.tpm->Unseal(mixed);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kTpm);

  // A flipped bit in the encrypted sensitive area.
  SealedObject flipped = *a;
  flipped.private_2b[flipped.private_2b.size() - 1] ^= 1;
  r = e.tpm->Unseal(flipped);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kTpm);
  ExpectNothingLoaded(e.ctx);
}

// Every object and session is flushed on every path: far more rounds than
// the TPM has slots (libtpms: 3 objects, 3 loaded sessions) succeed, the
// failing unseals included, and after each round the TPM holds no
// transient object or session. (No heap bound here: ESYS's libcrypto and
// libtpms fill caches over the first ~1000 sessions before levelling off;
// EsysNvTest.ManyCallsDoNotGrowHeap covers ESYS_TR bookkeeping.)
TEST(EsysSealTest, TwoHundredRoundsLeaveNothingLoaded) {
  TempDir dir;
  Embedded e = OpenEmbedded(dir.path());
  ASSERT_NE(e.tpm, nullptr);
  const std::vector<PcrSelection> changed = {{HashAlg::kSha256, {16, 23}}};
  auto stale = e.tpm->Seal(Bytes{9}, changed);
  ASSERT_TRUE(stale.has_value()) << stale.error().message();
  ASSERT_TRUE(ExtendSha256(*e.tpm, 23, "x").has_value());
  for (int i = 0; i < 200; ++i) {
    const Bytes secret = {static_cast<std::uint8_t>(i), 0x42};
    auto sealed = e.tpm->Seal(secret, kSel);
    ASSERT_TRUE(sealed.has_value()) << "round " << i << ": " << sealed.error().message();
    auto unsealed = e.tpm->Unseal(*sealed);
    ASSERT_TRUE(unsealed.has_value()) << "round " << i << ": " << unsealed.error().message();
    ASSERT_EQ(*unsealed, secret);
    auto failed = e.tpm->Unseal(*stale);
    ASSERT_FALSE(failed.has_value());
    ASSERT_EQ(failed.error().code(), ErrorCode::kVerificationFailed)
        << "round " << i << ": " << failed.error().message();
    ASSERT_EQ(HandleCount(e.ctx, TPM2_TRANSIENT_FIRST), 0u) << "round " << i;
    ASSERT_EQ(HandleCount(e.ctx, TPM2_LOADED_SESSION_FIRST), 0u) << "round " << i;
    ASSERT_EQ(HandleCount(e.ctx, TPM2_ACTIVE_SESSION_FIRST), 0u) << "round " << i;
  }
}

}  // namespace
}  // namespace tc::tpm
