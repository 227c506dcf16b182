#include "tc/tpm/credential.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rsa.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tc/tpm/testing/quote_builder.h"

namespace tc::tpm {
namespace {

using crypto::HashAlg;
using testing::PutU16Be;
using testing::PutU32Be;

// ---------------------------------------------------------------------------
// Independent computations, written from the spec text for the test.

// KDFa by a direct loop over OpenSSL's one-shot HMAC (Part 1, 11.4.10.2).
Bytes KdfALoop(const EVP_MD* md, const Bytes& key, const std::string& label, const Bytes& u,
               const Bytes& v, std::uint32_t bits) {
  Bytes out;
  for (std::uint32_t i = 1; out.size() < bits / 8; ++i) {
    Bytes msg;
    PutU32Be(msg, i);
    msg.insert(msg.end(), label.begin(), label.end());
    msg.push_back(0);
    msg.insert(msg.end(), u.begin(), u.end());
    msg.insert(msg.end(), v.begin(), v.end());
    PutU32Be(msg, bits);
    std::uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(md, key.data(), static_cast<int>(key.size()), msg.data(), msg.size(), mac, &n);
    out.insert(out.end(), mac, mac + n);
  }
  out.resize(bits / 8);
  return out;
}

// KDFa by OpenSSL's SP 800-108 KBKDF (counter mode, HMAC): its default
// layout [i]_32 || Label || 0x00 || Context || [L]_32 is the spec's.
Bytes KdfAKbkdf(const char* md, const Bytes& key, const std::string& label, const Bytes& context,
                std::size_t bits) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "KBKDF", nullptr);
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  Bytes salt(label.begin(), label.end());
  Bytes ctx_bytes = context;
  Bytes k = key;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, const_cast<char*>("counter"), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, const_cast<char*>("HMAC"), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(md), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, k.data(), k.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, ctx_bytes.data(), ctx_bytes.size()),
      OSSL_PARAM_construct_end()};
  Bytes out(bits / 8);
  const int rc = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
  EXPECT_EQ(rc, 1);
  return out;
}

// KDFe by a direct hash loop (Part 1, 11.4.10.3).
Bytes KdfELoop(const EVP_MD* md, const Bytes& z, const std::string& use, const Bytes& u,
               const Bytes& v, std::uint32_t bits) {
  Bytes out;
  for (std::uint32_t i = 1; out.size() < bits / 8; ++i) {
    Bytes msg;
    PutU32Be(msg, i);
    msg.insert(msg.end(), z.begin(), z.end());
    msg.insert(msg.end(), use.begin(), use.end());
    msg.push_back(0);
    msg.insert(msg.end(), u.begin(), u.end());
    msg.insert(msg.end(), v.begin(), v.end());
    std::uint8_t h[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(msg.data(), msg.size(), h, &n, md, nullptr);
    out.insert(out.end(), h, h + n);
  }
  out.resize(bits / 8);
  return out;
}

Bytes Seq(std::size_t n, std::uint8_t start) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(start + i);
  return b;
}

TEST(KdfATest, MatchesHmacLoopAndOpensslKbkdf) {
  const Bytes key = Seq(32, 1);
  const Bytes u = Seq(34, 0x40);
  const Bytes v = Seq(5, 0x90);
  Bytes uv = u;
  uv.insert(uv.end(), v.begin(), v.end());
  for (std::size_t bits : {8u, 128u, 256u, 264u, 520u, 1024u}) {
    SCOPED_TRACE(bits);
    auto ours = KdfA(HashAlg::kSha256, key, "STORAGE", u, v, bits);
    ASSERT_TRUE(ours.has_value()) << ours.error().message();
    EXPECT_EQ(ours->size(), bits / 8);
    EXPECT_EQ(*ours, KdfALoop(EVP_sha256(), key, "STORAGE", u, v,
                              static_cast<std::uint32_t>(bits)));
    EXPECT_EQ(*ours, KdfAKbkdf("SHA256", key, "STORAGE", uv, bits));
  }
  // Other hashes, and empty contexts (as the INTEGRITY key uses).
  auto sha1 = KdfA(HashAlg::kSha1, key, "INTEGRITY", {}, {}, 160);
  ASSERT_TRUE(sha1.has_value());
  EXPECT_EQ(*sha1, KdfAKbkdf("SHA1", key, "INTEGRITY", {}, 160));
  auto sha384 = KdfA(HashAlg::kSha384, key, "INTEGRITY", {}, {}, 384);
  ASSERT_TRUE(sha384.has_value());
  EXPECT_EQ(*sha384, KdfALoop(EVP_sha384(), key, "INTEGRITY", {}, {}, 384));
}

// A fixed answer, so a change to both our KDFa and the test's loops (or to
// OpenSSL) cannot pass unnoticed. Computed separately with Python's hmac:
// HMAC-SHA256(0x0b * 32, 00000001 || "STORAGE\0" || "name" || 00000080)[:16].
constexpr char kKdfAKnownAnswer[] = "913e36c870a0fc53ad2d9e28940d1e13";

TEST(KdfATest, KnownAnswer) {
  const Bytes key(32, 0x0B);
  auto k = KdfA(HashAlg::kSha256, key, "STORAGE", AsBytes("name"), {}, 128);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(ToHex(*k), ToHex(KdfALoop(EVP_sha256(), key, "STORAGE", Bytes{'n', 'a', 'm', 'e'},
                                      {}, 128)));
  EXPECT_EQ(ToHex(*k), kKdfAKnownAnswer);
}

TEST(KdfATest, LabelEndingInNulGetsNoSecondNul) {
  const Bytes key = Seq(32, 7);
  auto plain = KdfA(HashAlg::kSha256, key, "IDENTITY", {}, {}, 256);
  auto with_nul = KdfA(HashAlg::kSha256, key, std::string_view("IDENTITY\0", 9), {}, {}, 256);
  ASSERT_TRUE(plain.has_value());
  ASSERT_TRUE(with_nul.has_value());
  EXPECT_EQ(*plain, *with_nul);
}

TEST(KdfATest, RejectsBadSizes) {
  const Bytes key(32, 1);
  for (std::size_t bits : {0u, 12u, 8200u}) {
    auto k = KdfA(HashAlg::kSha256, key, "STORAGE", {}, {}, bits);
    ASSERT_FALSE(k.has_value()) << bits;
    EXPECT_EQ(k.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(KdfETest, MatchesHashLoop) {
  const Bytes z = Seq(32, 3);
  const Bytes u = Seq(32, 0x30);
  const Bytes v = Seq(32, 0x70);
  for (std::size_t bits : {256u, 128u, 520u}) {
    auto ours = KdfE(HashAlg::kSha256, z, "IDENTITY", u, v, bits);
    ASSERT_TRUE(ours.has_value());
    EXPECT_EQ(*ours, KdfELoop(EVP_sha256(), z, "IDENTITY", u, v,
                              static_cast<std::uint32_t>(bits)));
  }
  auto bad = KdfE(HashAlg::kSha256, z, "IDENTITY", u, v, 7);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// EKs made with OpenSSL, marshaled per the TCG EK Credential Profile
// templates (Part 2, 12.2.4 TPMT_PUBLIC).

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// fixedTPM | fixedParent | sensitiveDataOrigin | adminWithPolicy |
// restricted | decrypt.
constexpr std::uint32_t kEkAttributes = 0x000300B2;

struct EkOptions {
  std::uint16_t type = alg::kRsa;
  std::uint32_t attributes = kEkAttributes;
  std::uint16_t sym_alg = 0x0006;  // AES
  std::uint16_t sym_bits = 128;
  std::uint16_t sym_mode = 0x0043;  // CFB
  std::uint16_t curve = 0x0003;
};

Bytes EkPublic2b(const EkOptions& o, const Bytes& modulus, const Bytes& x, const Bytes& y) {
  Bytes t;
  PutU16Be(t, o.type);
  PutU16Be(t, 0x000B);  // sha256
  PutU32Be(t, o.attributes);
  PutU16Be(t, 32);
  for (int i = 0; i < 32; ++i) t.push_back(static_cast<std::uint8_t>(0x80 + i));  // authPolicy
  PutU16Be(t, o.sym_alg);
  if (o.sym_alg != alg::kNull) {
    PutU16Be(t, o.sym_bits);
    PutU16Be(t, o.sym_mode);
  }
  PutU16Be(t, alg::kNull);  // scheme
  if (o.type == alg::kRsa) {
    PutU16Be(t, static_cast<std::uint16_t>(modulus.size() * 8));
    PutU32Be(t, 0);
    PutU16Be(t, static_cast<std::uint16_t>(modulus.size()));
    t.insert(t.end(), modulus.begin(), modulus.end());
  } else if (o.type == alg::kEcc) {
    PutU16Be(t, o.curve);
    PutU16Be(t, alg::kNull);  // kdf
    PutU16Be(t, static_cast<std::uint16_t>(x.size()));
    t.insert(t.end(), x.begin(), x.end());
    PutU16Be(t, static_cast<std::uint16_t>(y.size()));
    t.insert(t.end(), y.begin(), y.end());
  }
  Bytes out;
  PutU16Be(out, static_cast<std::uint16_t>(t.size()));
  out.insert(out.end(), t.begin(), t.end());
  return out;
}

struct TestEk {
  std::shared_ptr<EVP_PKEY> key;
  PublicArea area;
};

// One RSA key for all tests: generating one takes ~100 ms.
std::shared_ptr<EVP_PKEY> SharedRsaKey() {
  static const std::shared_ptr<EVP_PKEY> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)), PkeyFree());
  return key;
}

TestEk RsaEk(const EkOptions& o = {}) {
  TestEk ek;
  ek.key = SharedRsaKey();
  BIGNUM* n = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(ek.key.get(), OSSL_PKEY_PARAM_RSA_N, &n), 1);
  Bytes modulus(256);
  BN_bn2binpad(n, modulus.data(), 256);
  BN_free(n);
  auto area = ParsePublic2b(EkPublic2b(o, modulus, {}, {}));
  EXPECT_TRUE(area.has_value()) << area.error().message();
  ek.area = *area;
  return ek;
}

TestEk EccEk(EkOptions o = {}) {
  o.type = alg::kEcc;
  TestEk ek;
  ek.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), PkeyFree());
  std::uint8_t point[65];
  std::size_t len = 0;
  EXPECT_EQ(EVP_PKEY_get_octet_string_param(ek.key.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                            point, sizeof point, &len),
            1);
  EXPECT_EQ(len, 65u);
  auto area = ParsePublic2b(
      EkPublic2b(o, {}, Bytes(point + 1, point + 33), Bytes(point + 33, point + 65)));
  EXPECT_TRUE(area.has_value()) << area.error().message();
  ek.area = *area;
  return ek;
}

Bytes AkName() {
  Bytes name = {0x00, 0x0B};
  for (int i = 0; i < 32; ++i) name.push_back(static_cast<std::uint8_t>(0x11 * i));
  return name;
}

// ---------------------------------------------------------------------------
// TPM2_ActivateCredential in software (Part 1, 24.5 backwards), with the
// EK's private key and the test's own KDF loops: an independent check that
// a TPM following the spec recovers the secret.

Result<Bytes> RecoverSeed(const TestEk& ek, const Credential& c) {
  ByteReader in(c.encrypted_secret);
  TC_ASSIGN_OR_RETURN(auto body, in.SizedBytesU16Be(1024));
  if (!in.empty()) return Fail(ErrorCode::kMalformed, "encrypted secret size");
  if (ek.area.type == alg::kRsa) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(ek.key.get(), nullptr);
    EVP_PKEY_decrypt_init(ctx);
    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING);
    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256());
    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256());
    static const char kLabel[] = "IDENTITY";  // with its NUL: 9 bytes
    void* label = OPENSSL_memdup(kLabel, sizeof kLabel);
    EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, static_cast<int>(sizeof kLabel));
    Bytes seed(256);
    std::size_t n = seed.size();
    const int rc = EVP_PKEY_decrypt(ctx, seed.data(), &n, body.data(), body.size());
    EVP_PKEY_CTX_free(ctx);
    if (rc != 1) return Fail(ErrorCode::kVerificationFailed, "OAEP decryption");
    seed.resize(n);
    return seed;
  }
  // ECC: TPMS_ECC_POINT; Z = x of d_ek * Q_e.
  ByteReader p(body);
  TC_ASSIGN_OR_RETURN(auto x, p.SizedBytesU16Be(66));
  TC_ASSIGN_OR_RETURN(auto y, p.SizedBytesU16Be(66));
  Bytes oct = {0x04};
  oct.insert(oct.end(), x.begin(), x.end());
  oct.insert(oct.end(), y.begin(), y.end());
  PkeyPtr peer(EVP_PKEY_new());
  EVP_PKEY_copy_parameters(peer.get(), ek.key.get());
  if (EVP_PKEY_set1_encoded_public_key(peer.get(), oct.data(), oct.size()) != 1) {
    return Fail(ErrorCode::kMalformed, "ephemeral point");
  }
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(ek.key.get(), nullptr);
  Bytes z(32);
  std::size_t zn = z.size();
  const bool ok = EVP_PKEY_derive_init(ctx) == 1 &&
                  EVP_PKEY_derive_set_peer(ctx, peer.get()) == 1 &&
                  EVP_PKEY_derive(ctx, z.data(), &zn) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return Fail(ErrorCode::kVerificationFailed, "ECDH");
  return KdfELoop(EVP_sha256(), z, "IDENTITY", Bytes(x.begin(), x.end()), ek.area.ecc_x, 256);
}

Result<Bytes> SoftActivate(const TestEk& ek, const Bytes& name, const Credential& c) {
  TC_ASSIGN_OR_RETURN(const Bytes seed, RecoverSeed(ek, c));
  ByteReader in(c.credential_blob);
  TC_ASSIGN_OR_RETURN(auto id_object, in.SizedBytesU16Be(1024));
  ByteReader id(id_object);
  TC_ASSIGN_OR_RETURN(auto hmac, id.SizedBytesU16Be(64));
  const auto enc = id.Rest();
  const Bytes hmac_key = KdfALoop(EVP_sha256(), seed, "INTEGRITY", {}, {}, 256);
  Bytes msg(enc.begin(), enc.end());
  msg.insert(msg.end(), name.begin(), name.end());
  std::uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), hmac_key.data(), 32, msg.data(), msg.size(), mac, &n);
  if (Bytes(mac, mac + n) != Bytes(hmac.begin(), hmac.end())) {
    return Fail(ErrorCode::kVerificationFailed, "integrity");
  }
  const Bytes sym_key = KdfALoop(EVP_sha256(), seed, "STORAGE", name, {}, 128);
  const Bytes iv(16, 0);
  Bytes plain(enc.size());
  int l1 = 0;
  int l2 = 0;
  EVP_CIPHER_CTX* cctx = EVP_CIPHER_CTX_new();
  EVP_DecryptInit_ex(cctx, EVP_aes_128_cfb128(), nullptr, sym_key.data(), iv.data());
  EVP_DecryptUpdate(cctx, plain.data(), &l1, enc.data(), static_cast<int>(enc.size()));
  EVP_DecryptFinal_ex(cctx, plain.data() + l1, &l2);
  EVP_CIPHER_CTX_free(cctx);
  ByteReader pr(plain);
  TC_ASSIGN_OR_RETURN(auto secret, pr.SizedBytesU16Be(64));
  if (!pr.empty()) return Fail(ErrorCode::kMalformed, "encIdentity size");
  return Bytes(secret.begin(), secret.end());
}

TEST(CredentialTest, RsaSoftwareActivationRecoversSecret) {
  const TestEk ek = RsaEk();
  const Bytes secret = Seq(32, 0x21);
  auto c = MakeCredential(ek.area, AkName(), secret);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  auto got = SoftActivate(ek, AkName(), *c);
  ASSERT_TRUE(got.has_value()) << got.error().message();
  EXPECT_EQ(*got, secret);
  Bytes other = AkName();
  other[5] ^= 1;
  auto wrong = SoftActivate(ek, other, *c);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kVerificationFailed);
}

TEST(CredentialTest, EccSoftwareActivationRecoversSecret) {
  const TestEk ek = EccEk();
  for (const Bytes& secret : {Seq(32, 0x21), Seq(1, 0x99), Seq(16, 0)}) {
    auto c = MakeCredential(ek.area, AkName(), secret);
    ASSERT_TRUE(c.has_value()) << c.error().message();
    auto got = SoftActivate(ek, AkName(), *c);
    ASSERT_TRUE(got.has_value()) << got.error().message();
    EXPECT_EQ(*got, secret);
  }
}

TEST(CredentialTest, RsaLayout) {
  const TestEk ek = RsaEk();
  const Bytes secret = Seq(20, 1);
  auto c = MakeCredential(ek.area, AkName(), secret);
  ASSERT_TRUE(c.has_value());
  // size || TPM2B(HMAC-SHA256) || AES-CFB(size || secret)
  const std::size_t body = 2 + 32 + 2 + secret.size();
  ASSERT_EQ(c->credential_blob.size(), 2 + body);
  EXPECT_EQ(c->credential_blob[0], 0);
  EXPECT_EQ(c->credential_blob[1], body);
  EXPECT_EQ(c->credential_blob[2], 0);
  EXPECT_EQ(c->credential_blob[3], 32);
  // size || 256-byte OAEP ciphertext.
  ASSERT_EQ(c->encrypted_secret.size(), 2u + 256u);
  EXPECT_EQ(c->encrypted_secret[0], 0x01);
  EXPECT_EQ(c->encrypted_secret[1], 0x00);
}

TEST(CredentialTest, EccLayout) {
  const TestEk ek = EccEk();
  auto c = MakeCredential(ek.area, AkName(), Seq(32, 1));
  ASSERT_TRUE(c.has_value());
  ASSERT_EQ(c->credential_blob.size(), 2u + 2u + 32u + 2u + 32u);
  // size || TPMS_ECC_POINT: TPM2B(x, 32) || TPM2B(y, 32).
  ASSERT_EQ(c->encrypted_secret.size(), 2u + 2u + 32u + 2u + 32u);
  EXPECT_EQ(c->encrypted_secret[1], 68);
  EXPECT_EQ(c->encrypted_secret[3], 32);
  EXPECT_EQ(c->encrypted_secret[2 + 2 + 32 + 1], 32);
}

TEST(CredentialTest, SuppliedRandomnessIsDeterministic) {
  const TestEk rsa = RsaEk();
  const Bytes seed = Seq(32, 0x55);
  auto a = MakeCredentialWithRandomness(rsa.area, AkName(), Seq(32, 1), seed);
  auto b = MakeCredentialWithRandomness(rsa.area, AkName(), Seq(32, 1), seed);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(a->credential_blob, b->credential_blob);
  EXPECT_NE(a->encrypted_secret, b->encrypted_secret);  // OAEP is randomized
  auto seed_back = RecoverSeed(rsa, *a);
  ASSERT_TRUE(seed_back.has_value());
  EXPECT_EQ(*seed_back, seed);

  const TestEk ecc = EccEk();
  const Bytes d = Seq(32, 0x01);
  auto e1 = MakeCredentialWithRandomness(ecc.area, AkName(), Seq(32, 1), d);
  auto e2 = MakeCredentialWithRandomness(ecc.area, AkName(), Seq(32, 1), d);
  ASSERT_TRUE(e1.has_value()) << e1.error().message();
  ASSERT_TRUE(e2.has_value());
  EXPECT_EQ(*e1, *e2);
  auto got = SoftActivate(ecc, AkName(), *e1);
  ASSERT_TRUE(got.has_value()) << got.error().message();
  EXPECT_EQ(*got, Seq(32, 1));
  // Fresh randomness otherwise.
  auto f1 = MakeCredential(ecc.area, AkName(), Seq(32, 1));
  auto f2 = MakeCredential(ecc.area, AkName(), Seq(32, 1));
  ASSERT_TRUE(f1.has_value());
  ASSERT_TRUE(f2.has_value());
  EXPECT_NE(f1->encrypted_secret, f2->encrypted_secret);
  EXPECT_NE(f1->credential_blob, f2->credential_blob);
}

void ExpectCode(const Result<Credential>& r, ErrorCode code) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), code) << r.error().message();
}

TEST(CredentialTest, RejectsBadSecretAndName) {
  const TestEk ek = RsaEk();
  ExpectCode(MakeCredential(ek.area, AkName(), Bytes(33, 1)), ErrorCode::kInvalidArgument);
  ExpectCode(MakeCredential(ek.area, AkName(), Bytes{}), ErrorCode::kInvalidArgument);
  Bytes short_name = AkName();
  short_name.pop_back();
  ExpectCode(MakeCredential(ek.area, short_name, Bytes(32, 1)), ErrorCode::kInvalidArgument);
  Bytes bad_alg = AkName();
  bad_alg[1] = 0x42;
  ExpectCode(MakeCredential(ek.area, bad_alg, Bytes(32, 1)), ErrorCode::kInvalidArgument);
  ExpectCode(MakeCredential(ek.area, Bytes{0x00}, Bytes(32, 1)), ErrorCode::kInvalidArgument);
}

TEST(CredentialTest, RejectsBadRandomness) {
  const TestEk rsa = RsaEk();
  ExpectCode(MakeCredentialWithRandomness(rsa.area, AkName(), Bytes(32, 1), Bytes(31, 1)),
             ErrorCode::kInvalidArgument);
  const TestEk ecc = EccEk();
  ExpectCode(MakeCredentialWithRandomness(ecc.area, AkName(), Bytes(32, 1), Bytes(32, 0)),
             ErrorCode::kInvalidArgument);
  ExpectCode(MakeCredentialWithRandomness(ecc.area, AkName(), Bytes(32, 1), Bytes(32, 0xFF)),
             ErrorCode::kInvalidArgument);  // >= n
  ExpectCode(MakeCredentialWithRandomness(ecc.area, AkName(), Bytes(32, 1), Bytes(31, 1)),
             ErrorCode::kInvalidArgument);
}

TEST(CredentialTest, RejectsUnsupportedEks) {
  EkOptions cbc;
  cbc.sym_mode = 0x0042;
  ExpectCode(MakeCredential(RsaEk(cbc).area, AkName(), Bytes(32, 1)), ErrorCode::kUnsupported);
  EkOptions aes512;
  aes512.sym_bits = 512;
  ExpectCode(MakeCredential(RsaEk(aes512).area, AkName(), Bytes(32, 1)), ErrorCode::kUnsupported);
  EkOptions sm4;
  sm4.sym_alg = 0x0013;
  ExpectCode(MakeCredential(EccEk(sm4).area, AkName(), Bytes(32, 1)), ErrorCode::kUnsupported);

  // BN P-256 (0x0010): parses, but not a curve we derive on.
  TestEk bn = EccEk();
  bn.area.ecc_curve = 0x0010;
  ExpectCode(MakeCredential(bn.area, AkName(), Bytes(32, 1)), ErrorCode::kUnsupported);

  PublicArea keyed = RsaEk().area;
  keyed.type = alg::kKeyedHash;
  ExpectCode(MakeCredential(keyed, AkName(), Bytes(32, 1)), ErrorCode::kUnsupported);

  PublicArea sm3 = RsaEk().area;
  sm3.name_alg = HashAlg::kSm3_256;
  ExpectCode(MakeCredential(sm3, AkName(), Bytes(32, 1)), ErrorCode::kUnsupported);
}

TEST(CredentialTest, RejectsNonStorageEks) {
  EkOptions no_sym;
  no_sym.sym_alg = alg::kNull;
  ExpectCode(MakeCredential(RsaEk(no_sym).area, AkName(), Bytes(32, 1)),
             ErrorCode::kInvalidArgument);
  EkOptions sign_only;
  sign_only.attributes = (kEkAttributes & ~(1u << 17)) | (1u << 18);
  ExpectCode(MakeCredential(EccEk(sign_only).area, AkName(), Bytes(32, 1)),
             ErrorCode::kInvalidArgument);
  // Built by hand without the marshaled TPMT_PUBLIC.
  PublicArea bare = RsaEk().area;
  bare.marshaled.clear();
  ExpectCode(MakeCredential(bare, AkName(), Bytes(32, 1)), ErrorCode::kInvalidArgument);
  // A point that is not on P-256.
  TestEk off = EccEk();
  off.area.ecc_y.back() ^= 1;
  ExpectCode(MakeCredential(off.area, AkName(), Bytes(32, 1)), ErrorCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// The tpm2-tools credential file.

Credential SmallCredential() {
  return Credential{{0x00, 0x03, 0xAA, 0xBB, 0xCC}, {0x00, 0x02, 0x11, 0x22}};
}

TEST(Tpm2ToolsCredentialFileTest, LayoutAndRoundTrip) {
  auto file = Tpm2ToolsCredentialFile(SmallCredential());
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(ToHex(*file), "badcc0de00000001" "0003aabbcc" "00021122");
  auto back = ParseTpm2ToolsCredentialFile(*file);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, SmallCredential());

  auto real = MakeCredential(RsaEk().area, AkName(), Bytes(32, 1));
  ASSERT_TRUE(real.has_value());
  auto real_file = Tpm2ToolsCredentialFile(*real);
  ASSERT_TRUE(real_file.has_value());
  EXPECT_EQ(real_file->size(), 8u + (2 + 68) + (2 + 256));
  auto real_back = ParseTpm2ToolsCredentialFile(*real_file);
  ASSERT_TRUE(real_back.has_value());
  EXPECT_EQ(*real_back, *real);
}

TEST(Tpm2ToolsCredentialFileTest, WriterRejectsFieldsThatAreNotOneTpm2b) {
  Credential c = SmallCredential();
  c.credential_blob.push_back(0);
  auto r = Tpm2ToolsCredentialFile(c);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  c = SmallCredential();
  c.encrypted_secret = {0x00};
  r = Tpm2ToolsCredentialFile(c);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(Tpm2ToolsCredentialFileTest, ParserRejectsBadFiles) {
  const Bytes good = *Tpm2ToolsCredentialFile(SmallCredential());
  auto code_of = [](const Bytes& b) {
    auto r = ParseTpm2ToolsCredentialFile(b);
    EXPECT_FALSE(r.has_value());
    return r ? ErrorCode::kInternal : r.error().code();
  };
  Bytes bad_magic = good;
  bad_magic[0] = 0xBB;
  EXPECT_EQ(code_of(bad_magic), ErrorCode::kMalformed);
  Bytes v2 = good;
  v2[7] = 2;
  EXPECT_EQ(code_of(v2), ErrorCode::kUnsupported);
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_EQ(code_of(Bytes(good.begin(), good.begin() + static_cast<long>(n))),
              ErrorCode::kMalformed)
        << n;
  }
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_EQ(code_of(trailing), ErrorCode::kMalformed);
  // A credential blob size beyond the TPMS_ID_OBJECT cap.
  Bytes huge = {0xBA, 0xDC, 0xC0, 0xDE, 0, 0, 0, 1, 0x00, 0x85};
  huge.resize(huge.size() + 0x85 + 2, 0);
  EXPECT_EQ(code_of(huge), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace tc::tpm
