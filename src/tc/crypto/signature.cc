#include "tc/crypto/signature.h"

#include <optional>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

namespace tc::crypto {

struct VerifyKey::Impl {
  EVP_PKEY* pkey = nullptr;
  ~Impl() { EVP_PKEY_free(pkey); }
};

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct PubkeyFree {
  void operator()(X509_PUBKEY* p) const { X509_PUBKEY_free(p); }
};

const EVP_MD* Md(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1: return EVP_sha1();
    case HashAlg::kSha256: return EVP_sha256();
    case HashAlg::kSha384: return EVP_sha384();
    case HashAlg::kSha512: return EVP_sha512();
    case HashAlg::kSm3_256: return nullptr;
  }
  return nullptr;
}

// RSA >= 2048 bits with an odd e >= 3, or a NIST curve.
Result<std::string> CheckStrength(EVP_PKEY* pkey) {
  const int id = EVP_PKEY_get_base_id(pkey);
  if (id == EVP_PKEY_RSA) {
    const int bits = EVP_PKEY_get_bits(pkey);
    BIGNUM* e = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
      return Fail(ErrorCode::kMalformed, "RSA key without an exponent");
    }
    const bool weak_e = BN_is_odd(e) == 0 || BN_cmp(e, BN_value_one()) <= 0 ||
                        (BN_num_bits(e) <= 2 && BN_get_word(e) < 3);
    BN_free(e);
    if (bits < 2048 || weak_e) {
      return Fail(ErrorCode::kUnsupported,
                  fmt::format("RSA-{} key{} refused: at least 2048 bits and an odd exponent >= 3 "
                              "are required",
                              bits, weak_e ? " with a weak exponent" : ""));
    }
    return fmt::format("RSA-{}", bits);
  }
  if (id == EVP_PKEY_EC) {
    char curve[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve,
                                       &len) != 1) {
      return Fail(ErrorCode::kUnsupported, "EC key on an unnamed curve refused");
    }
    const std::string c(curve, len);
    if (c == "prime256v1" || c == "P-256") return std::string("ECDSA P-256");
    if (c == "secp384r1" || c == "P-384") return std::string("ECDSA P-384");
    if (c == "secp521r1" || c == "P-521") return std::string("ECDSA P-521");
    return Fail(ErrorCode::kUnsupported, fmt::format("EC key on curve {} refused", c));
  }
  return Fail(ErrorCode::kUnsupported, "only RSA and ECDSA keys are supported");
}

// SHA-1 of the subjectPublicKey BIT STRING's contents (RFC 5280 4.2.1.2
// method 1).
std::optional<Bytes> PublicKeyId(EVP_PKEY* pkey) {
  X509_PUBKEY* raw = nullptr;
  if (X509_PUBKEY_set(&raw, pkey) != 1) return std::nullopt;
  std::unique_ptr<X509_PUBKEY, PubkeyFree> spki(raw);
  const unsigned char* pk = nullptr;
  int pk_len = 0;
  if (X509_PUBKEY_get0_param(nullptr, &pk, &pk_len, nullptr, spki.get()) != 1) return std::nullopt;
  Bytes sha1(SHA_DIGEST_LENGTH);
  SHA1(pk, static_cast<std::size_t>(pk_len), sha1.data());
  return sha1;
}

}  // namespace

Result<VerifyKey> VerifyKey::Load(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > (1u << 20)) return Fail(ErrorCode::kInvalidArgument, "key file over 1 MiB");
  std::unique_ptr<X509, X509Free> cert;
  EVP_PKEY* pkey = nullptr;
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.find("-----BEGIN") != std::string_view::npos) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      bio.reset(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
      pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
    }
  } else {
    const unsigned char* p = bytes.data();
    cert.reset(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())));
    if (!cert) {
      p = bytes.data();
      pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(bytes.size()));
    }
  }
  if (cert) pkey = X509_get_pubkey(cert.get());
  ERR_clear_error();  // the forms tried first left errors behind
  if (pkey == nullptr) {
    return Fail(ErrorCode::kMalformed,
                "not an X.509 certificate or public key (PEM or DER)");
  }
  auto impl = std::make_shared<Impl>();
  impl->pkey = pkey;
  TC_ASSIGN_OR_RETURN(std::string desc, CheckStrength(pkey));
  VerifyKey key;
  if (cert) {
    if (const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(cert.get())) {
      key.key_ids_.emplace_back(ASN1_STRING_get0_data(skid),
                                ASN1_STRING_get0_data(skid) + ASN1_STRING_length(skid));
    }
    char name[256] = {};
    X509_NAME_oneline(X509_get_subject_name(cert.get()), name, sizeof name - 1);
    desc += fmt::format(" ({})", name);
  }
  if (auto id = PublicKeyId(pkey)) key.key_ids_.push_back(std::move(*id));
  key.impl_ = std::move(impl);
  key.description_ = std::move(desc);
  return key;
}

Result<void> VerifyKey::VerifyDigest(HashAlg alg, std::span<const std::uint8_t> digest,
                                     std::span<const std::uint8_t> signature) const {
  const EVP_MD* md = Md(alg);
  if (md == nullptr) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("signatures over {} digests are not supported", HashAlgName(alg)));
  }
  if (digest.size() != DigestSize(alg)) {
    return Fail(ErrorCode::kVerificationFailed,
                fmt::format("a {} digest has {} bytes, not {}", HashAlgName(alg),
                            DigestSize(alg), digest.size()));
  }
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(impl_->pkey, nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1) {
    return Fail(ErrorCode::kInternal, "EVP_PKEY_verify_init failed");
  }
  if (EVP_PKEY_get_base_id(impl_->pkey) == EVP_PKEY_RSA &&
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) {
    return Fail(ErrorCode::kInternal, "cannot set PKCS#1 v1.5 padding");
  }
  if (EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1) {
    return Fail(ErrorCode::kInternal, "cannot set the signature digest");
  }
  const int ok = EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), digest.data(),
                                 digest.size());
  ERR_clear_error();
  if (ok != 1) {
    return Fail(ErrorCode::kVerificationFailed,
                fmt::format("the signature does not verify with {}", description_));
  }
  return {};
}

struct SigningKey::Impl {
  EVP_PKEY* pkey = nullptr;
  ~Impl() { EVP_PKEY_free(pkey); }
};

Result<SigningKey> SigningKey::Load(std::span<const std::uint8_t> pem) {
  if (pem.size() > (1u << 20)) return Fail(ErrorCode::kMalformed, "key file too large");
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  if (pkey == nullptr) {
    return Fail(ErrorCode::kMalformed,
                "not an unencrypted PEM private key (make one with `openssl ecparam -name "
                "prime256v1 -genkey -noout -out key.pem`)");
  }
  auto impl = std::make_shared<Impl>();
  impl->pkey = pkey;
  char curve[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC ||
      EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve,
                                     &len) != 1 ||
      std::string_view(curve) != "prime256v1") {
    ERR_clear_error();
    return Fail(ErrorCode::kUnsupported, "policy signing keys are ECDSA P-256 (prime256v1)");
  }
  SigningKey key;
  auto id = PublicKeyId(pkey);
  if (!id) return Fail(ErrorCode::kInternal, "cannot encode the public key");
  key.key_id_ = std::move(*id);
  key.impl_ = std::move(impl);
  return key;
}

Result<Bytes> SigningKey::SignDigest(HashAlg alg, std::span<const std::uint8_t> digest) const {
  const EVP_MD* md = Md(alg);
  if (md == nullptr || digest.size() != DigestSize(alg)) {
    return Fail(ErrorCode::kInvalidArgument, "bad digest to sign");
  }
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(impl_->pkey, nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1) {
    return Fail(ErrorCode::kInternal, "EVP_PKEY_sign_init failed");
  }
  std::size_t size = 0;
  if (EVP_PKEY_sign(ctx.get(), nullptr, &size, digest.data(), digest.size()) != 1) {
    return Fail(ErrorCode::kInternal, "EVP_PKEY_sign failed");
  }
  Bytes sig(size);
  if (EVP_PKEY_sign(ctx.get(), sig.data(), &size, digest.data(), digest.size()) != 1) {
    return Fail(ErrorCode::kInternal, "EVP_PKEY_sign failed");
  }
  sig.resize(size);
  return sig;
}

}  // namespace tc::crypto
