#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "tc/tpm/esys/esys_tpm.h"
#include "tc/tpm/esys/open.h"
#include "tc/tpm/esys/test_util.h"
#include "tc/tpm/credential.h"
#include "tc/tpm/marshal.h"
#include "tc/tpm/public_key.h"
#include "tc/tpm/quote.h"

namespace tc::tpm {
namespace {

using crypto::HashAlg;
using testing::TempDir;

std::unique_ptr<Tpm> Embedded(const TempDir& dir) {
  auto tpm = OpenTpm("embedded:" + dir.path());
  if (!tpm) {
    ADD_FAILURE() << tpm.error().message();
    return nullptr;
  }
  return std::move(*tpm);
}

// Quotes sha256 PCRs 0, 7 and 16 and checks the quote as a verifier would:
// the AK's public key, the nonce, and the PCR values read from the TPM.
void ExpectQuoteVerifies(Tpm& tpm, const AttestationKey& ak) {
  const std::vector<PcrSelection> sel = {{HashAlg::kSha256, {0, 7, 16}}};
  const Bytes nonce = {'f', 'r', 'e', 's', 'h', 1, 2, 3};
  auto quote = tpm.Quote(ak, nonce, sel);
  ASSERT_TRUE(quote.has_value()) << quote.error().message();
  auto values = tpm.ReadPcrs(sel);
  ASSERT_TRUE(values.has_value());
  auto key = PublicKey::Load(ak.public_2b);
  ASSERT_TRUE(key.has_value()) << key.error().message();
  QuoteExpectations e;
  e.nonce = nonce;
  e.pcr_values = &*values;
  auto v = VerifyQuote(quote->attest, quote->signature, *key, e);
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_TRUE(v->ok()) << (v->first_failure() ? v->first_failure()->detail : "");
  EXPECT_TRUE(v->skipped.empty());
  // qualifiedSigner is the AK's qualified name (Part 1, 16.6): nameAlg
  // sha256 and 32 bytes, not checked further here.
  EXPECT_EQ(v->attest.qualified_signer.size(), 34u);
}

TEST(EsysKeysTest, EkIsTheSameKeyEveryTimeAndMatchesTheTemplate) {
  TempDir dir;
  auto tpm = Embedded(dir);
  ASSERT_NE(tpm, nullptr);
  for (KeyAlg alg : {KeyAlg::kRsa2048, KeyAlg::kEccP256}) {
    auto a = tpm->ReadEk(alg);
    auto b = tpm->ReadEk(alg);
    ASSERT_TRUE(a.has_value()) << a.error().message();
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(a->public_2b, b->public_2b);
    auto area = ParsePublic2b(a->public_2b);
    ASSERT_TRUE(area.has_value());
    EXPECT_EQ(area->object_attributes, 0x000300B2u);  // EK Credential Profile L-1/L-2
    EXPECT_EQ(area->type, alg == KeyAlg::kRsa2048 ? alg::kRsa : alg::kEcc);
    EXPECT_EQ(*ObjectName(*area), a->name);
    EXPECT_FALSE(a->certificate.has_value());  // the embedded TPM has none
  }
}

TEST(EsysKeysTest, RsaAkQuoteVerifies) {
  TempDir dir;
  auto tpm = Embedded(dir);
  ASSERT_NE(tpm, nullptr);
  auto ak = tpm->CreateAk(KeyAlg::kRsa2048, KeyAlg::kRsa2048, std::nullopt);
  ASSERT_TRUE(ak.has_value()) << ak.error().message();
  EXPECT_FALSE(ak->private_2b.empty());
  ExpectQuoteVerifies(*tpm, *ak);
}

TEST(EsysKeysTest, EccAkUnderEccEkQuoteVerifies) {
  TempDir dir;
  auto tpm = Embedded(dir);
  ASSERT_NE(tpm, nullptr);
  auto ak = tpm->CreateAk(KeyAlg::kEccP256, KeyAlg::kEccP256, std::nullopt);
  ASSERT_TRUE(ak.has_value()) << ak.error().message();
  ExpectQuoteVerifies(*tpm, *ak);
}

TEST(EsysKeysTest, PersistentAkSurvivesReopenAndQuotes) {
  TempDir dir;
  AttestationKey ak;
  {
    auto tpm = Embedded(dir);
    ASSERT_NE(tpm, nullptr);
    auto made = tpm->CreateAk(KeyAlg::kRsa2048, KeyAlg::kRsa2048, 0x81010001);
    ASSERT_TRUE(made.has_value()) << made.error().message();
    EXPECT_TRUE(made->private_2b.empty());
    ak = *made;
    // The handle is taken now.
    auto again = tpm->CreateAk(KeyAlg::kRsa2048, KeyAlg::kRsa2048, 0x81010001);
    EXPECT_FALSE(again.has_value());
  }
  auto tpm = Embedded(dir);
  ASSERT_NE(tpm, nullptr);
  ExpectQuoteVerifies(*tpm, ak);
}

TEST(EsysKeysTest, ChangedPcrMakesTheOldValuesFail) {
  TempDir dir;
  auto tpm = Embedded(dir);
  ASSERT_NE(tpm, nullptr);
  auto ak = tpm->CreateAk(KeyAlg::kRsa2048, KeyAlg::kRsa2048, 0x81010002);
  ASSERT_TRUE(ak.has_value());
  const std::vector<PcrSelection> sel = {{HashAlg::kSha256, {16}}};
  auto before = tpm->ReadPcrs(sel);
  ASSERT_TRUE(tpm->Extend(16, std::vector{*crypto::Hash(HashAlg::kSha256, AsBytes("x"))}).has_value());
  auto quote = tpm->Quote(*ak, Bytes{1}, sel);
  ASSERT_TRUE(quote.has_value());
  QuoteExpectations e;
  e.pcr_values = &*before;
  auto v = VerifyQuote(quote->attest, quote->signature, *PublicKey::Load(ak->public_2b), e);
  ASSERT_TRUE(v.has_value());
  ASSERT_NE(v->first_failure(), nullptr);
  EXPECT_EQ(v->first_failure()->id, QuoteCheckId::kPcrDigest);
}

TEST(EsysKeysTest, BadArgumentsAreRefusedBeforeTheTpm) {
  TempDir dir;
  auto tpm = Embedded(dir);
  ASSERT_NE(tpm, nullptr);
  EXPECT_EQ(tpm->CreateAk(KeyAlg::kRsa2048, KeyAlg::kRsa2048, 0x80000001).error().code(),
            ErrorCode::kInvalidArgument);
  AttestationKey junk;
  junk.public_2b = {1, 2, 3};
  EXPECT_EQ(tpm->Quote(junk, Bytes{}, std::vector<PcrSelection>{{HashAlg::kSha256, {0}}})
                .error()
                .code(),
            ErrorCode::kMalformed);
  EXPECT_EQ(tpm->Quote(junk, Bytes(65, 0), std::vector<PcrSelection>{{HashAlg::kSha256, {0}}})
                .error()
                .code(),
            ErrorCode::kInvalidArgument);
}

// The verifier's software MakeCredential and this TPM's ActivateCredential
// agree, for both EK kinds; a credential made for another AK is refused.
TEST(EsysKeysTest, CredentialActivationRoundTrip) {
  TempDir dir;
  auto tpm = Embedded(dir);
  ASSERT_NE(tpm, nullptr);
  for (KeyAlg ek_alg : {KeyAlg::kRsa2048, KeyAlg::kEccP256}) {
    SCOPED_TRACE(ek_alg == KeyAlg::kRsa2048 ? "RSA EK" : "ECC EK");
    auto ek = tpm->ReadEk(ek_alg);
    ASSERT_TRUE(ek.has_value()) << ek.error().message();
    auto ak = tpm->CreateAk(KeyAlg::kRsa2048, ek_alg, std::nullopt);
    ASSERT_TRUE(ak.has_value()) << ak.error().message();
    auto other = tpm->CreateAk(KeyAlg::kEccP256, ek_alg, std::nullopt);
    ASSERT_TRUE(other.has_value());
    const Bytes secret = {'c', 'h', 'a', 'l', 'l', 'e', 'n', 'g', 'e'};
    auto cred = MakeCredential(*ParsePublic2b(ek->public_2b), ak->name, secret);
    ASSERT_TRUE(cred.has_value()) << cred.error().message();
    auto got = tpm->ActivateCredential(*ak, cred->credential_blob, cred->encrypted_secret);
    ASSERT_TRUE(got.has_value()) << got.error().message();
    EXPECT_EQ(*got, secret);
    auto refused = tpm->ActivateCredential(*other, cred->credential_blob, cred->encrypted_secret);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code(), ErrorCode::kVerificationFailed);
  }
}

// Issue 3: "10,000 quotes in a row succeed without TPM_RC_OBJECT_MEMORY or
// memory growth". With a persistent AK each quote is one TPM2_Quote; a
// leaked transient object or session would exhaust the TPM's 3 object
// slots within a few quotes.
TEST(EsysKeysTest, TenThousandQuotesInARow) {
  TempDir dir;
  auto tpm = Embedded(dir);
  ASSERT_NE(tpm, nullptr);
  auto ak = tpm->CreateAk(KeyAlg::kEccP256, KeyAlg::kRsa2048, 0x81010003);
  ASSERT_TRUE(ak.has_value()) << ak.error().message();
  const std::vector<PcrSelection> sel = {{HashAlg::kSha256, {0, 1, 2, 3, 4, 5, 6, 7}}};
  const Bytes nonce(20, 0x42);
  ASSERT_TRUE(tpm->Quote(*ak, nonce, sel).has_value());
  const std::size_t heap_before = testing::HeapInUse();
  for (int i = 0; i < 10000; ++i) {
    auto q = tpm->Quote(*ak, nonce, sel);
    ASSERT_TRUE(q.has_value()) << "quote " << i << ": " << q.error().message();
  }
  const std::size_t heap_after = testing::HeapInUse();
  EXPECT_LT(heap_after, heap_before + 64 * 1024) << "live heap grew over 10,000 quotes";
}

}  // namespace
}  // namespace tc::tpm
