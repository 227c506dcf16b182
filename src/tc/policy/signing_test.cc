#include "tc/policy/signing.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tc/base/hex.h"
#include "tc/io/file.h"
#include "tc/json/document.h"
#include "tc/policy/store.h"

namespace tc::policy {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

enum class PemKind { kPkcs8, kTraditional, kPublic };

std::string Pem(EVP_PKEY* k, PemKind kind) {
  BIO* bio = BIO_new(BIO_s_mem());
  int ok = 0;
  switch (kind) {
    case PemKind::kPkcs8:
      ok = PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
      break;
    case PemKind::kTraditional:
      ok = PEM_write_bio_PrivateKey_traditional(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
      break;
    case PemKind::kPublic:
      ok = PEM_write_bio_PUBKEY(bio, k);
      break;
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out = ok == 1 && n > 0 ? std::string(data, static_cast<std::size_t>(n)) : "";
  BIO_free(bio);
  return out;
}

// A freshly generated P-256 key pair, loaded both ways.
struct KeyPair {
  crypto::SigningKey priv;
  crypto::VerifyKey pub;
};

KeyPair MakeKeyPair() {
  Pkey k(EVP_EC_gen("P-256"));
  TC_CHECK(k != nullptr);
  auto priv = crypto::SigningKey::Load(AsBytes(Pem(k.get(), PemKind::kPkcs8)));
  auto pub = crypto::VerifyKey::Load(AsBytes(Pem(k.get(), PemKind::kPublic)));
  TC_CHECK(priv.has_value());
  TC_CHECK(pub.has_value());
  return {*priv, *pub};
}

const KeyPair& Key() {
  static const KeyPair* k = new KeyPair(MakeKeyPair());
  return *k;
}

const KeyPair& OtherKey() {
  static const KeyPair* k = new KeyPair(MakeKeyPair());
  return *k;
}

crypto::Digest D(std::uint8_t b) { return crypto::Digest(crypto::HashAlg::kSha256, Bytes(32, b)); }

// A policy with every kind of member the signature must cover.
Policy RichPolicy() {
  Policy p;
  p.version = 12;
  p.required_banks = {crypto::HashAlg::kSha256};
  Component k;
  k.name = "kernel-cmdline";
  k.stage = Stage::kCmdline;
  k.match.pcr = 8;
  k.match.event_type = 13;
  k.match.description = "kernel_cmdline";
  AllowedDigest a;
  a.digest = D(0x01);
  a.source = "golden boot event 40";
  a.added = "2026-11-26T10:00:00Z";
  a.content = "root=/dev/vda1 quiet \"x\" caf\xc3\xa9";
  AllowedDigest q;
  q.digest = D(0x02);
  q.state = DigestState::kQuarantined;
  q.reason = "component tampered: changed";
  k.digests = {a, q};
  Component s;
  s.name = "staged.efi";
  s.stage = Stage::kBootloader;
  s.match.pcr = 4;
  s.required = false;
  AllowedDigest sd;
  sd.digest = crypto::Digest(crypto::HashAlg::kSha1, Bytes(20, 0x03));
  s.digests = {sd};
  p.components = {k, s};
  p.files["/usr/bin/bash"] = {D(0x04), crypto::Digest(crypto::HashAlg::kSha1, Bytes(20, 0x05))};
  p.files["/etc/ld.so.cache"] = {D(0x06)};
  p.excludes = {"/tmp/.*", "/var/log/[a-z]+\\.log"};
  p.golden_pcrs.banks[crypto::HashAlg::kSha256][0] = D(0x07);
  p.golden_pcrs.banks[crypto::HashAlg::kSha256][7] = D(0x08);
  return p;
}

Policy Signed() {
  Policy p = RichPolicy();
  auto ok = SignPolicy(Key().priv, p);
  TC_CHECK(ok.has_value());
  return p;
}

void ExpectRefused(const Policy& p, const crypto::VerifyKey& key) {
  auto r = VerifyPolicySignature(p, key);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kVerificationFailed) << r.error().message();
}

TEST(SigningTest, SignThenVerify) {
  Policy p = RichPolicy();
  ASSERT_TRUE(SignPolicy(Key().priv, p).has_value());
  ASSERT_TRUE(p.signature.has_value());
  EXPECT_EQ(p.signature->alg, "ecdsa-p256-sha256");
  EXPECT_EQ(p.signature->key_id, ToHex(Key().priv.key_id()));
  EXPECT_FALSE(p.signature->value.empty());
  auto ok = VerifyPolicySignature(p, Key().pub);
  EXPECT_TRUE(ok.has_value()) << ok.error().message();
}

TEST(SigningTest, ResigningReplacesTheSignature) {
  Policy p = Signed();
  p.version++;
  ExpectRefused(p, Key().pub);
  ASSERT_TRUE(SignPolicy(Key().priv, p).has_value());
  auto ok = VerifyPolicySignature(p, Key().pub);
  EXPECT_TRUE(ok.has_value()) << ok.error().message();
}

TEST(SigningTest, SignatureSurvivesSerializeAndParse) {
  const Policy p = Signed();
  const std::string text = SerializePolicy(p);
  auto q = ParsePolicy(AsBytes(text));
  ASSERT_TRUE(q.has_value()) << q.error().message();
  ASSERT_TRUE(q->signature.has_value());
  EXPECT_EQ(q->signature->value, p.signature->value);
  EXPECT_EQ(q->signature->key_id, p.signature->key_id);
  auto ok = VerifyPolicySignature(*q, Key().pub);
  EXPECT_TRUE(ok.has_value()) << ok.error().message();
  // The signature member is in the file, and not in what it covers.
  EXPECT_NE(text.find("\"signature\""), std::string::npos);
  EXPECT_EQ(CanonicalBytes(p).find("\"signature\""), std::string::npos);
}

TEST(SigningTest, ChangingADigestBreaksIt) {
  Policy p = Signed();
  p.components[0].digests[0].digest.mutable_bytes()[5] ^= 0x01;
  ExpectRefused(p, Key().pub);
}

TEST(SigningTest, ChangingAStateBreaksIt) {
  Policy p = Signed();
  p.components[0].digests[1].state = DigestState::kTrusted;
  ExpectRefused(p, Key().pub);
}

TEST(SigningTest, ChangingTheVersionBreaksIt) {
  Policy p = Signed();
  p.version = 13;
  ExpectRefused(p, Key().pub);
}

TEST(SigningTest, ChangingFilesOrExcludesBreaksIt) {
  Policy p = Signed();
  p.files["/usr/bin/evil"] = {D(0x66)};
  ExpectRefused(p, Key().pub);
  p = Signed();
  p.excludes.push_back("/.*");
  ExpectRefused(p, Key().pub);
  p = Signed();
  p.components[1].required = true;
  ExpectRefused(p, Key().pub);
}

TEST(SigningTest, ChangingTheParsedTextBreaksIt) {
  std::string text = SerializePolicy(Signed());
  const std::string from = "\"state\": \"quarantined\"";
  const auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, from.size(), "\"state\": \"trusted\"");
  auto q = ParsePolicy(AsBytes(text));
  ASSERT_TRUE(q.has_value()) << q.error().message();
  ExpectRefused(*q, Key().pub);
}

TEST(SigningTest, AnotherKeyIsRefusedNamingTheKeyId) {
  const Policy p = Signed();
  auto r = VerifyPolicySignature(p, OtherKey().pub);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kVerificationFailed);
  EXPECT_NE(r.error().message().find(p.signature->key_id), std::string::npos)
      << r.error().message();
}

TEST(SigningTest, SignatureOfAnotherKeyUnderThisKeyIdIsRefused) {
  // Signed by the other key, but claiming this key's id.
  Policy p = RichPolicy();
  ASSERT_TRUE(SignPolicy(OtherKey().priv, p).has_value());
  p.signature->key_id = ToHex(Key().priv.key_id());
  ExpectRefused(p, Key().pub);
}

TEST(SigningTest, UnsignedIsRefused) { ExpectRefused(RichPolicy(), Key().pub); }

TEST(SigningTest, AnotherAlgorithmIsRefused) {
  Policy p = Signed();
  p.signature->alg = "rsa-pkcs1-sha256";
  ExpectRefused(p, Key().pub);
}

TEST(SigningTest, TamperedSignatureBytesAreRefused) {
  const Policy good = Signed();
  const std::size_t n = good.signature->value.size();
  for (const std::size_t i : {std::size_t{0}, std::size_t{1}, n / 2, n - 1}) {
    Policy p = good;
    p.signature->value[i] ^= 0x40;
    ExpectRefused(p, Key().pub);
  }
  Policy truncated = good;
  truncated.signature->value.pop_back();
  ExpectRefused(truncated, Key().pub);
}

TEST(SigningTest, PolicyDigestCoversTheSignature) {
  const Policy unsigned_policy = RichPolicy();
  const Policy signed_policy = Signed();
  auto expected = crypto::Hash(crypto::HashAlg::kSha256, AsBytes(SerializePolicy(signed_policy)));
  ASSERT_TRUE(expected.has_value());
  EXPECT_EQ(PolicyDigest(signed_policy), *expected);
  EXPECT_FALSE(PolicyDigest(signed_policy) == PolicyDigest(unsigned_policy));
}

TEST(SigningKeyTest, TraditionalEcPemLoadsWithTheSameKeyId) {
  Pkey k(EVP_EC_gen("P-256"));
  ASSERT_NE(k, nullptr);
  const std::string traditional = Pem(k.get(), PemKind::kTraditional);
  ASSERT_NE(traditional.find("EC PRIVATE KEY"), std::string::npos);
  auto a = crypto::SigningKey::Load(AsBytes(traditional));
  ASSERT_TRUE(a.has_value()) << a.error().message();
  auto b = crypto::SigningKey::Load(AsBytes(Pem(k.get(), PemKind::kPkcs8)));
  ASSERT_TRUE(b.has_value()) << b.error().message();
  EXPECT_EQ(a->key_id(), b->key_id());
  auto pub = crypto::VerifyKey::Load(AsBytes(Pem(k.get(), PemKind::kPublic)));
  ASSERT_TRUE(pub.has_value()) << pub.error().message();
  Policy p = RichPolicy();
  ASSERT_TRUE(SignPolicy(*a, p).has_value());
  auto ok = VerifyPolicySignature(p, *pub);
  EXPECT_TRUE(ok.has_value()) << ok.error().message();
}

TEST(SigningKeyTest, RsaAndP384AreUnsupported) {
  Pkey rsa(EVP_RSA_gen(2048));
  ASSERT_NE(rsa, nullptr);
  auto r = crypto::SigningKey::Load(AsBytes(Pem(rsa.get(), PemKind::kPkcs8)));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
  Pkey p384(EVP_EC_gen("P-384"));
  ASSERT_NE(p384, nullptr);
  r = crypto::SigningKey::Load(AsBytes(Pem(p384.get(), PemKind::kPkcs8)));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
}

TEST(SigningKeyTest, GarbageIsMalformed) {
  for (const std::string& text :
       {std::string("not a key"), std::string(""),
        std::string("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
        std::string(300, '\xff')}) {
    auto r = crypto::SigningKey::Load(AsBytes(text));
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << text;
  }
}

TEST(SigningKeyTest, PublicKeyPemIsNotASigningKey) {
  Pkey k(EVP_EC_gen("P-256"));
  ASSERT_NE(k, nullptr);
  auto r = crypto::SigningKey::Load(AsBytes(Pem(k.get(), PemKind::kPublic)));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
}

// A directory of its own for each test, removed afterwards.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("tc_policy_store_" + std::to_string(::getpid()) + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(StoreTest, SignedPolicyWithoutKeyIsRefused) {
  const std::string path = Path("policy.json");
  ASSERT_TRUE(SavePolicyFile(path, Signed()).has_value());
  auto p = LoadPolicyFile(path, nullptr);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(p.error().message().find(path), std::string::npos) << p.error().message();
}

TEST_F(StoreTest, SignedPolicyWithItsKeyLoads) {
  const std::string path = Path("policy.json");
  const Policy signed_policy = Signed();
  ASSERT_TRUE(SavePolicyFile(path, signed_policy).has_value());
  auto p = LoadPolicyFile(path, &Key().pub);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(SerializePolicy(*p), SerializePolicy(signed_policy));
}

TEST_F(StoreTest, SignedPolicyWithAnotherKeyFailsVerification) {
  const std::string path = Path("policy.json");
  ASSERT_TRUE(SavePolicyFile(path, Signed()).has_value());
  auto p = LoadPolicyFile(path, &OtherKey().pub);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), ErrorCode::kVerificationFailed);
  EXPECT_NE(p.error().message().find(path), std::string::npos) << p.error().message();
}

TEST_F(StoreTest, UnsignedPolicyWithAKeyFailsVerification) {
  const std::string path = Path("policy.json");
  ASSERT_TRUE(SavePolicyFile(path, RichPolicy()).has_value());
  auto p = LoadPolicyFile(path, &Key().pub);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), ErrorCode::kVerificationFailed);
  auto q = LoadPolicyFile(path, nullptr);
  ASSERT_TRUE(q.has_value()) << q.error().message();
}

TEST_F(StoreTest, EditedFileFailsVerification) {
  const std::string path = Path("policy.json");
  ASSERT_TRUE(SavePolicyFile(path, Signed()).has_value());
  auto text = io::ReadTextFile(path, 1 << 20);
  ASSERT_TRUE(text.has_value());
  const std::string from = "\"version\": 12";
  const auto at = text->find(from);
  ASSERT_NE(at, std::string::npos) << *text;
  text->replace(at, from.size(), "\"version\": 11");
  ASSERT_TRUE(io::WriteFile(path, AsBytes(*text)).has_value());
  auto p = LoadPolicyFile(path, &Key().pub);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), ErrorCode::kVerificationFailed);
}

TEST_F(StoreTest, SaveThenLoadRoundTrips) {
  const std::string path = Path("policy.json");
  const Policy original = RichPolicy();
  ASSERT_TRUE(SavePolicyFile(path, original).has_value());
  auto p = LoadPolicyFile(path, nullptr);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(SerializePolicy(*p), SerializePolicy(original));
  EXPECT_EQ(p->version, 12u);
  EXPECT_EQ(p->files.size(), 2u);
  EXPECT_EQ(p->excludes, original.excludes);
  ASSERT_EQ(p->components.size(), 2u);
  EXPECT_FALSE(p->components[1].required);
  EXPECT_EQ(p->components[0].digests[0].content, original.components[0].digests[0].content);
  // Saving over an existing file replaces it.
  Policy newer = original;
  newer.version = 13;
  ASSERT_TRUE(SavePolicyFile(path, newer).has_value());
  auto q = LoadPolicyFile(path, nullptr);
  ASSERT_TRUE(q.has_value()) << q.error().message();
  EXPECT_EQ(q->version, 13u);
}

TEST_F(StoreTest, MissingFileIsNotFound) {
  auto p = LoadPolicyFile(Path("absent.json"), nullptr);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), ErrorCode::kNotFound);
}

TEST_F(StoreTest, AppendAuditAppendsOneLinePerRecord) {
  const std::string path = DefaultAuditPath(Path("policy.json"));
  EXPECT_EQ(path, Path("policy.json") + ".audit.jsonl");
  AuditRecord a;
  a.time = "2026-11-26T10:00:00Z";
  a.action = "stage";
  a.component = "grub";
  a.digest = "sha256:" + D(0x01).Hex();
  a.reason = "staged ahead of an update";
  a.policy_version = 3;
  AuditRecord b = a;
  b.action = "retire";
  b.policy_version = 4;
  ASSERT_TRUE(AppendAudit(path, {a}).has_value());
  ASSERT_TRUE(AppendAudit(path, {b}).has_value());
  ASSERT_TRUE(AppendAudit(path, {}).has_value());
  auto text = io::ReadTextFile(path, 1 << 20);
  ASSERT_TRUE(text.has_value()) << text.error().message();
  ASSERT_FALSE(text->empty());
  EXPECT_EQ(text->back(), '\n');
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text->find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(text->substr(start, nl - start));
  }
  ASSERT_EQ(lines.size(), 2u) << *text;
  const char* actions[] = {"stage", "retire"};
  for (std::size_t i = 0; i < 2; ++i) {
    auto doc = json::ParseDocument(AsBytes(lines[i]));
    ASSERT_TRUE(doc.has_value()) << lines[i];
    ASSERT_NE(doc->Find("action"), nullptr);
    EXPECT_EQ(doc->Find("action")->str(), actions[i]);
  }
}

}  // namespace
}  // namespace tc::policy
