#include "tc/tpm/quote.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tc/io/file.h"
#include "tc/tpm/testing/quote_builder.h"

namespace tc::tpm {
namespace {

using crypto::HashAlg;
using testing::MakeAttest;
using testing::QuoteParts;
using testing::TestKey;

QuoteParts Parts() {
  QuoteParts p;
  p.nonce = {'n', 'o', 'n', 'c', 'e', '1'};
  p.selection = {{HashAlg::kSha256, {0, 7, 10}}};
  for (std::uint8_t i : {0, 7, 10}) p.values.push_back(Bytes(32, static_cast<std::uint8_t>(i + 1)));
  return p;
}

pcr::PcrValues ValuesOf(const QuoteParts& p) {
  pcr::PcrValues v;
  std::size_t k = 0;
  for (const auto& b : p.selection) {
    for (auto pcr : b.pcrs) v.banks[b.alg].emplace(pcr, crypto::Digest(b.alg, p.values[k++]));
  }
  return v;
}

struct Case {
  TestKey key;
  QuoteParts parts;
  Bytes attest;
  Bytes sig;
  PublicKey ak;
};

Case Make(TestKey key) {
  QuoteParts parts = Parts();
  Bytes attest = MakeAttest(parts);
  Bytes sig = key.Sign(attest);
  PublicKey ak = *PublicKey::Load(key.Public2b());
  return {std::move(key), std::move(parts), std::move(attest), std::move(sig), std::move(ak)};
}

QuoteExpectations Expect(const Case& c, const pcr::PcrValues& values) {
  QuoteExpectations e;
  e.nonce = c.parts.nonce;
  e.pcr_values = &values;
  e.pcr_selection = c.parts.selection;
  return e;
}

std::string FailedCheck(const Result<QuoteVerdict>& v) {
  if (!v) return "error: " + v.error().message();
  const QuoteCheck* f = v->first_failure();
  return f == nullptr ? "none" : std::string(QuoteCheckName(f->id));
}

class QuoteTest : public ::testing::TestWithParam<bool> {
 protected:
  Case MakeCase() { return Make(GetParam() ? TestKey::Rsa2048() : TestKey::EccP256()); }
};

TEST_P(QuoteTest, GoodQuotePassesEveryCheck) {
  Case c = MakeCase();
  const pcr::PcrValues values = ValuesOf(c.parts);
  auto v = VerifyQuote(c.attest, c.sig, c.ak, Expect(c, values));
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_TRUE(v->ok()) << FailedCheck(v);
  EXPECT_EQ(v->checks.size(), 7u);
  EXPECT_TRUE(v->skipped.empty());
}

TEST_P(QuoteTest, PemKeyWorksToo) {
  Case c = MakeCase();
  auto pem = c.key.Pem();
  auto ak = PublicKey::Load(AsBytes(pem));
  ASSERT_TRUE(ak.has_value()) << ak.error().message();
  auto v = VerifyQuote(c.attest, c.sig, *ak, {});
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->ok());
  // A PEM key has no TPM attributes, and nothing else was asked: the
  // verdict says what it did not check.
  ASSERT_EQ(v->skipped.size(), 3u);
  EXPECT_EQ(v->skipped[0].rfind("ak-attributes", 0), 0u);
  EXPECT_EQ(v->skipped[1].rfind("nonce", 0), 0u);
  EXPECT_EQ(v->skipped[2].rfind("pcr-digest", 0), 0u);
}

TEST_P(QuoteTest, ValuesMustAllBeQuotedWhenNoSelectionIsGiven) {
  Case c = MakeCase();
  pcr::PcrValues values = ValuesOf(c.parts);
  values.banks[HashAlg::kSha256].emplace(14, crypto::Digest(HashAlg::kSha256));
  QuoteExpectations e;
  e.nonce = c.parts.nonce;
  e.pcr_values = &values;  // no pcr_selection: --pcrs mode
  auto v = VerifyQuote(c.attest, c.sig, c.ak, e);
  EXPECT_EQ(FailedCheck(v), "pcr-selection");
  EXPECT_NE(v->first_failure()->detail.find("not sha256 PCR 14"), std::string::npos);
}

TEST_P(QuoteTest, EmptyQuotedSelectionFailsWhenPcrsAreExpected) {
  Case c = MakeCase();
  QuoteParts empty = c.parts;
  empty.selection.clear();
  empty.values.clear();
  const Bytes attest = MakeAttest(empty);
  const Bytes sig = c.key.Sign(attest);
  const pcr::PcrValues values = ValuesOf(c.parts);
  QuoteExpectations e;
  e.pcr_values = &values;
  EXPECT_EQ(FailedCheck(VerifyQuote(attest, sig, c.ak, e)), "pcr-selection");
}

TEST_P(QuoteTest, UnrestrictedAkFailsAkAttributes) {
  Case c = MakeCase();
  Bytes pub = c.key.Public2b();
  pub[2 + 2 + 2 + 1] &= static_cast<std::uint8_t>(~0x01);  // clear TPMA_OBJECT.restricted (bit 16)
  auto ak = PublicKey::Load(pub);
  ASSERT_TRUE(ak.has_value()) << ak.error().message();
  EXPECT_EQ(FailedCheck(VerifyQuote(c.attest, c.sig, *ak, {})), "ak-attributes");
}

TEST_P(QuoteTest, SignatureWithAnotherSchemeHashThanTheAkFixesFails) {
  Case c = MakeCase();
  const Bytes sig384 = c.key.Sign(c.attest, HashAlg::kSha384);
  auto v = VerifyQuote(c.attest, sig384, c.ak, {});
  EXPECT_EQ(FailedCheck(v), "signature");
  EXPECT_NE(v->first_failure()->detail.find("fixes scheme"), std::string::npos);
  // With a PEM key (no fixed scheme) the sha384 signature verifies, and the
  // PCR digest is then taken with sha384 (Part 3, 18.4.2).
  auto pem = PublicKey::Load(AsBytes(c.key.Pem()));
  EXPECT_TRUE(VerifyQuote(c.attest, sig384, *pem, {})->ok());
}

TEST_P(QuoteTest, WrongNonceIsRejectedForItsReason) {
  Case c = MakeCase();
  const pcr::PcrValues values = ValuesOf(c.parts);
  QuoteExpectations e = Expect(c, values);
  e.nonce = Bytes{'o', 't', 'h', 'e', 'r'};
  EXPECT_EQ(FailedCheck(VerifyQuote(c.attest, c.sig, c.ak, e)), "nonce");
}

TEST_P(QuoteTest, AnotherAkIsRejectedForItsReason) {
  Case c = MakeCase();
  const pcr::PcrValues values = ValuesOf(c.parts);
  TestKey other = GetParam() ? TestKey::Rsa2048() : TestKey::EccP256();
  PublicKey other_ak = *PublicKey::Load(other.Public2b());
  EXPECT_EQ(FailedCheck(VerifyQuote(c.attest, c.sig, other_ak, Expect(c, values))), "signature");
}

TEST_P(QuoteTest, ChangedPcrValueIsRejectedForItsReason) {
  Case c = MakeCase();
  pcr::PcrValues values = ValuesOf(c.parts);
  values.banks[HashAlg::kSha256][10].mutable_bytes()[0] ^= 1;
  auto v = VerifyQuote(c.attest, c.sig, c.ak, Expect(c, values));
  EXPECT_EQ(FailedCheck(v), "pcr-digest");
}

TEST_P(QuoteTest, FlippedSignatureBitIsRejectedForItsReason) {
  Case c = MakeCase();
  const pcr::PcrValues values = ValuesOf(c.parts);
  c.sig[c.sig.size() - 3] ^= 0x10;
  EXPECT_EQ(FailedCheck(VerifyQuote(c.attest, c.sig, c.ak, Expect(c, values))), "signature");
}

TEST_P(QuoteTest, FlippedAttestBitIsRejectedBySignature) {
  Case c = MakeCase();
  const pcr::PcrValues values = ValuesOf(c.parts);
  c.attest[20] ^= 0x01;  // inside the signer name
  EXPECT_EQ(FailedCheck(VerifyQuote(c.attest, c.sig, c.ak, Expect(c, values))), "signature");
}

TEST_P(QuoteTest, TruncatedAttestIsMalformedNamingTheOffset) {
  Case c = MakeCase();
  for (std::size_t n = 0; n < c.attest.size(); ++n) {
    Bytes cut(c.attest.begin(), c.attest.begin() + static_cast<long>(n));
    auto v = VerifyQuote(cut, c.sig, c.ak, {});
    ASSERT_FALSE(v.has_value()) << n;
    EXPECT_EQ(v.error().code(), ErrorCode::kMalformed);
    EXPECT_NE(v.error().message().find("TPMS_ATTEST"), std::string::npos);
    EXPECT_NE(v.error().message().find("offset"), std::string::npos);
  }
}

TEST_P(QuoteTest, WrongMagicAndSelectionAreRejected) {
  Case c = MakeCase();
  const pcr::PcrValues values = ValuesOf(c.parts);
  Bytes forged = MakeAttest(c.parts, 0x12345678);
  Bytes sig = c.key.Sign(forged);
  EXPECT_EQ(FailedCheck(VerifyQuote(forged, sig, c.ak, Expect(c, values))), "magic");
  QuoteExpectations e = Expect(c, values);
  e.pcr_selection = PcrSelectionList{{HashAlg::kSha256, {0, 7}}};
  EXPECT_EQ(FailedCheck(VerifyQuote(c.attest, c.sig, c.ak, e)), "pcr-selection");
  QuoteExpectations missing = Expect(c, values);
  pcr::PcrValues fewer = values;
  fewer.banks[HashAlg::kSha256].erase(7);
  missing.pcr_values = &fewer;
  auto v = VerifyQuote(c.attest, c.sig, c.ak, missing);
  EXPECT_EQ(FailedCheck(v), "pcr-digest");
  EXPECT_NE(v->first_failure()->detail.find("PCR 7"), std::string::npos);
  QuoteExpectations sha1 = Expect(c, values);
  sha1.hash_alg = HashAlg::kSha1;
  EXPECT_EQ(FailedCheck(VerifyQuote(c.attest, c.sig, c.ak, sha1)), "hash-alg");
}

INSTANTIATE_TEST_SUITE_P(RsaAndEcdsa, QuoteTest, ::testing::Values(true, false),
                         [](const auto& p) { return p.param ? "Rsa2048" : "EccP256"; });

TEST(QuoteKeyTest, ForgeableRsaKeysAreRefused) {
  TestKey key = TestKey::Rsa2048();
  Bytes pub = key.Public2b();
  // TPM2B size, type, nameAlg, attributes, authPolicy, symmetric, scheme+hash,
  // keyBits: the exponent follows at offset 20.
  const std::size_t exponent_at = 2 + 2 + 2 + 4 + 2 + 2 + 4 + 2;
  Bytes e1 = pub;
  e1[exponent_at + 3] = 1;
  auto k1 = PublicKey::Load(e1);
  ASSERT_FALSE(k1.has_value());
  EXPECT_EQ(k1.error().code(), ErrorCode::kUnsupported);
  Bytes even = pub;
  even[exponent_at + 3] = 4;
  EXPECT_FALSE(PublicKey::Load(even).has_value());
  Bytes bits = pub;
  bits[exponent_at - 2] = 0x04;  // keyBits 1024 with a 2048-bit modulus
  bits[exponent_at - 1] = 0x00;
  EXPECT_EQ(PublicKey::Load(bits).error().code(), ErrorCode::kMalformed);
}

TEST(QuoteKeyTest, RsaSignatureAgainstEccKeyFailsCleanly) {
  Case rsa = Make(TestKey::Rsa2048());
  TestKey ecc = TestKey::EccP256();
  PublicKey ecc_ak = *PublicKey::Load(ecc.Public2b());
  EXPECT_EQ(FailedCheck(VerifyQuote(rsa.attest, rsa.sig, ecc_ak, {})), "signature");
}

// ../shared/bench/gen_data.py quotes (RSA-2048 AK, tpm2-tools file formats).
class GenDataQuoteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* env = std::getenv("TC_SHARED_DIR");
    const std::filesystem::path shared = env != nullptr ? env : TC_SHARED_DIR;
    const auto gen = shared / "bench" / "gen_data.py";
    const auto mb = shared / "corpus" / "eventlog" / "keylime-rhel9-ovmf-secureboot.bin";
    if (!std::filesystem::exists(gen) || !std::filesystem::exists(mb)) {
      skip_ = "missing ../shared/bench/gen_data.py or its event log (set TC_SHARED_DIR)";
      return;
    }
    if (std::system("/usr/bin/python3 -c 'import cryptography, yaml' 2>/dev/null") != 0 ||
        std::system("command -v tpm2_eventlog >/dev/null") != 0) {
      skip_ = "gen_data.py needs python3-cryptography, python3-yaml and tpm2_eventlog";
      return;
    }
    dir_ = std::filesystem::temp_directory_path() / ("tc-gendata-" + std::to_string(::getpid()));
    const std::string base = "/usr/bin/python3 " + gen.string();
    const std::string common = " --mb-log " + mb.string() + " --out " + dir_.string() + " >/dev/null";
    if (std::system((base + " ima --n 100 --seed 1" + common).c_str()) != 0 ||
        std::system((base + " quote --ima-meta " + (dir_ / "ima_100_meta.json").string() + common)
                        .c_str()) != 0 ||
        std::system((base + " quote --tamper --ima-meta " + (dir_ / "ima_100_meta.json").string() +
                     common)
                        .c_str()) != 0) {
      skip_ = "gen_data.py failed";
    }
  }
  static void TearDownTestSuite() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
  }
  static Bytes Read(const std::string& name) { return *io::ReadFile((dir_ / name).string(), 1 << 20); }
  // The nonce of gen_data.py's meta JSON ("nonce": ASCII).
  static Bytes Nonce() {
    std::ifstream f(dir_ / "quote_100_meta.json");
    const std::string s((std::istreambuf_iterator<char>(f)), {});
    const std::string key = "\"nonce\": \"";
    const std::size_t at = s.find(key) + key.size();
    const std::string nonce = s.substr(at, s.find('"', at) - at);
    return Bytes(nonce.begin(), nonce.end());
  }

  static inline std::filesystem::path dir_;
  static inline std::string skip_;
};

TEST_F(GenDataQuoteTest, GoodQuotePassesWithTpm2bAndPemKeys) {
  const auto pcrs = ParseToolsPcrFile(Read("quote_100_pcr.bin"));
  ASSERT_TRUE(pcrs.has_value()) << pcrs.error().message();
  for (const char* key : {"quote_100_ak_tpm2b.bin", "quote_100_ak.pem"}) {
    auto ak = PublicKey::Load(Read(key));
    ASSERT_TRUE(ak.has_value()) << ak.error().message();
    QuoteExpectations e;
    e.nonce = Nonce();
    e.pcr_values = &pcrs->values;
    e.pcr_selection = pcrs->selection;
    e.hash_alg = HashAlg::kSha256;
    auto v = VerifyQuote(Read("quote_100_attest.bin"), Read("quote_100_sig.bin"), *ak, e);
    ASSERT_TRUE(v.has_value()) << v.error().message();
    EXPECT_TRUE(v->ok()) << key << ": " << FailedCheck(v);
  }
}

TEST_F(GenDataQuoteTest, TamperedQuoteFailsOnThePcrDigestAgainstTheGoodValues) {
  const auto good = ParseToolsPcrFile(Read("quote_100_pcr.bin"));
  const auto bad = ParseToolsPcrFile(Read("quote_tamper_100_pcr.bin"));
  ASSERT_TRUE(good.has_value() && bad.has_value());
  auto ak = PublicKey::Load(Read("quote_tamper_100_ak_tpm2b.bin"));
  ASSERT_TRUE(ak.has_value()) << ak.error().message();
  QuoteExpectations e;
  e.nonce = Nonce();
  e.pcr_values = &good->values;  // what the verifier expects
  auto v = VerifyQuote(Read("quote_tamper_100_attest.bin"), Read("quote_tamper_100_sig.bin"), *ak, e);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(FailedCheck(v), "pcr-digest");
  // The tampered quote is a genuine signature over the tampered PCR 10:
  // it verifies against its own values, and differs from the good ones
  // only in PCR 10.
  e.pcr_values = &bad->values;
  EXPECT_TRUE(VerifyQuote(Read("quote_tamper_100_attest.bin"), Read("quote_tamper_100_sig.bin"), *ak, e)->ok());
  for (const auto& [index, d] : good->values.banks.at(HashAlg::kSha256)) {
    const crypto::Digest* other = bad->values.Find(HashAlg::kSha256, index);
    ASSERT_NE(other, nullptr) << index;
    EXPECT_EQ(d == *other, index != 10) << index;
  }
}

}  // namespace
}  // namespace tc::tpm
