#include "tc/crypto/signature.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace tc::crypto {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey MakeRsa(int bits) { return Pkey(EVP_RSA_gen(static_cast<unsigned>(bits))); }
Pkey MakeEc() { return Pkey(EVP_EC_gen("P-256")); }

std::string PublicPem(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, k);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

Bytes PublicDer(EVP_PKEY* k) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(k, &der);
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

// Signs a digest the way the kernel checks IMA signatures: PKCS#1 v1.5 with
// the digest's DigestInfo, or ECDSA over the digest.
Bytes SignDigest(EVP_PKEY* k, const EVP_MD* md, std::span<const std::uint8_t> digest) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(k, nullptr);
  EVP_PKEY_sign_init(ctx);
  if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA) EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING);
  EVP_PKEY_CTX_set_signature_md(ctx, md);
  std::size_t len = 0;
  EVP_PKEY_sign(ctx, nullptr, &len, digest.data(), digest.size());
  Bytes sig(len);
  EVP_PKEY_sign(ctx, sig.data(), &len, digest.data(), digest.size());
  sig.resize(len);
  EVP_PKEY_CTX_free(ctx);
  return sig;
}

TEST(VerifyKeyTest, RsaAndEcdsaSignaturesOverDigests) {
  for (const bool rsa : {true, false}) {
    SCOPED_TRACE(rsa ? "RSA" : "ECDSA");
    Pkey k = rsa ? MakeRsa(2048) : MakeEc();
    auto key = VerifyKey::Load(AsBytes(PublicPem(k.get())));
    ASSERT_TRUE(key.has_value()) << key.error().message();
    EXPECT_EQ(key->description(), rsa ? "RSA-2048" : "ECDSA P-256");
    auto digest = Hash(HashAlg::kSha256, AsBytes("file content"));
    ASSERT_TRUE(digest.has_value());
    const Bytes sig = SignDigest(k.get(), EVP_sha256(), digest->bytes());
    EXPECT_TRUE(key->VerifyDigest(HashAlg::kSha256, digest->bytes(), sig).has_value());
    // Another digest, a changed signature, or the wrong algorithm fail.
    auto other = Hash(HashAlg::kSha256, AsBytes("other content"));
    EXPECT_EQ(key->VerifyDigest(HashAlg::kSha256, other->bytes(), sig).error().code(),
              ErrorCode::kVerificationFailed);
    Bytes flipped = sig;
    flipped[flipped.size() / 2] ^= 0x01;
    EXPECT_FALSE(key->VerifyDigest(HashAlg::kSha256, digest->bytes(), flipped).has_value());
    EXPECT_FALSE(key->VerifyDigest(HashAlg::kSha1, digest->bytes().first(20), sig).has_value());
    EXPECT_EQ(key->VerifyDigest(HashAlg::kSha256, digest->bytes().first(20), sig).error().code(),
              ErrorCode::kVerificationFailed);
  }
}

TEST(VerifyKeyTest, DerAndKeyIdIsSha1OfThePublicKeyBits) {
  Pkey k = MakeEc();
  auto key = VerifyKey::Load(PublicDer(k.get()));
  ASSERT_TRUE(key.has_value()) << key.error().message();
  // RFC 5280 4.2.1.2 method 1, computed here from the DER independently:
  // the subjectPublicKey BIT STRING is the last element; for P-256 it is
  // 66 bytes: 03 42 00 <65-byte point>.
  const Bytes der = PublicDer(k.get());
  ASSERT_GE(der.size(), 65u);
  auto expected = Hash(HashAlg::kSha1, std::span(der).last(65));
  ASSERT_EQ(key->key_ids().size(), 1u);  // no certificate, no SKID extension
  EXPECT_EQ(ToHex(key->key_ids()[0]), expected->Hex());
}

TEST(VerifyKeyTest, WeakOrUnreadableKeysAreRefused) {
  Pkey small = MakeRsa(1024);
  auto key = VerifyKey::Load(AsBytes(PublicPem(small.get())));
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), ErrorCode::kUnsupported);
  EXPECT_NE(key.error().message().find("2048"), std::string::npos);
  EXPECT_EQ(VerifyKey::Load(AsBytes("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
                .error()
                .code(),
            ErrorCode::kMalformed);
  EXPECT_EQ(VerifyKey::Load(AsBytes("not a key")).error().code(), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace tc::crypto
