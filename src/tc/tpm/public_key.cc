#include "tc/tpm/public_key.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <fmt/format.h>

namespace tc::tpm {

struct PublicKey::Impl {
  EVP_PKEY* pkey = nullptr;
  ~Impl() { EVP_PKEY_free(pkey); }
};

namespace {

struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_PKEY_CTX, CtxFree>;

// TPM_ECC_CURVE (Part 2, 6.4) to OpenSSL group names and field sizes.
struct Curve {
  std::uint16_t id;
  const char* group;
  std::size_t bytes;
};
constexpr Curve kCurves[] = {
    {0x0003, "P-256", 32}, {0x0004, "P-384", 48}, {0x0005, "P-521", 66}};

const EVP_MD* Md(crypto::HashAlg alg) {
  switch (alg) {
    case crypto::HashAlg::kSha1: return EVP_sha1();
    case crypto::HashAlg::kSha256: return EVP_sha256();
    case crypto::HashAlg::kSha384: return EVP_sha384();
    case crypto::HashAlg::kSha512: return EVP_sha512();
    case crypto::HashAlg::kSm3_256: return nullptr;
  }
  return nullptr;
}

Result<EVP_PKEY*> FromData(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  CtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  const bool ok = params != nullptr && ctx && EVP_PKEY_fromdata_init(ctx.get()) == 1 &&
                  EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  OSSL_PARAM_free(params);
  if (!ok) return Fail(ErrorCode::kMalformed, std::string("not a usable ") + type + " public key");
  return pkey;
}

constexpr std::size_t kMinRsaBits = 2048;

// The exponent and size rules of the class comment.
Result<void> CheckRsa(std::size_t modulus_bits, const BIGNUM* e) {
  if (modulus_bits < kMinRsaBits || modulus_bits > 8 * kMaxRsaKeyBytes) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("RSA key of {} bits (2048 to 4096 are accepted)", modulus_bits));
  }
  if (BN_is_odd(e) == 0 || BN_cmp(e, BN_value_one()) <= 0 || BN_num_bits(e) < 2) {
    return Fail(ErrorCode::kUnsupported,
                "RSA public exponent is not an odd number of at least 3: anyone could forge "
                "signatures for this key");
  }
  return {};
}

}  // namespace

Result<PublicKey> PublicKey::FromPublicArea(const PublicArea& area) {
  if (area.type == alg::kRsa) {
    // Part 2, 12.2.3.5: keyBits is the modulus size; the modulus must use it.
    const std::size_t bits = area.rsa_modulus.size() * 8;
    if (area.rsa_modulus.empty() || area.rsa_modulus[0] < 0x80 || bits != area.rsa_key_bits) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("RSA modulus of {} bytes does not have keyBits {}",
                              area.rsa_modulus.size(), area.rsa_key_bits));
    }
  }
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (bld == nullptr) return Fail(ErrorCode::kInternal, "OSSL_PARAM_BLD_new failed");
  PublicKey key;
  Result<EVP_PKEY*> pkey = Fail(ErrorCode::kUnsupported, "key type");
  if (area.type == alg::kRsa) {
    BIGNUM* n = BN_bin2bn(area.rsa_modulus.data(), static_cast<int>(area.rsa_modulus.size()), nullptr);
    BIGNUM* e = BN_new();
    // Part 2, 12.2.3.5: an exponent of zero means 2^16 + 1.
    if (n == nullptr || e == nullptr ||
        BN_set_word(e, area.rsa_exponent == 0 ? 65537 : area.rsa_exponent) != 1) {
      pkey = Fail(ErrorCode::kInternal, "BIGNUM allocation failed");
    } else if (auto ok = CheckRsa(area.rsa_modulus.size() * 8, e); !ok) {
      pkey = Fail(std::move(ok).error());
    } else if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
               OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1) {
      pkey = Fail(ErrorCode::kInternal, "OSSL_PARAM_BLD_push_BN failed");
    } else {
      pkey = FromData("RSA", bld);
    }
    BN_free(n);
    BN_free(e);
    key.rsa_ = true;
    key.bits_ = static_cast<int>(area.rsa_modulus.size() * 8);
  } else if (area.type == alg::kEcc) {
    const Curve* curve = nullptr;
    for (const Curve& c : kCurves) {
      if (c.id == area.ecc_curve) curve = &c;
    }
    if (curve == nullptr) {
      OSSL_PARAM_BLD_free(bld);
      return Fail(ErrorCode::kUnsupported,
                  fmt::format("ECC curve 0x{:04x} (NIST P-256, P-384, P-521 are supported)",
                              area.ecc_curve));
    }
    if (area.ecc_x.size() > curve->bytes || area.ecc_y.size() > curve->bytes) {
      OSSL_PARAM_BLD_free(bld);
      return Fail(ErrorCode::kMalformed, "ECC point larger than its curve");
    }
    // SEC 1, 2.3.3: 04 || X || Y, each left-padded to the field size.
    Bytes point(1 + 2 * curve->bytes, 0);
    point[0] = 0x04;
    std::copy(area.ecc_x.begin(), area.ecc_x.end(),
              point.begin() + static_cast<long>(1 + curve->bytes - area.ecc_x.size()));
    std::copy(area.ecc_y.begin(), area.ecc_y.end(),
              point.begin() + static_cast<long>(1 + 2 * curve->bytes - area.ecc_y.size()));
    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
      pkey = Fail(ErrorCode::kInternal, "OSSL_PARAM_BLD push failed");
    } else {
      pkey = FromData("EC", bld);  // also checks that the point is on the curve
    }
    key.bits_ = static_cast<int>(curve->bytes * 8);
  }
  OSSL_PARAM_BLD_free(bld);
  if (!pkey) return Fail(std::move(pkey).error());
  auto impl = std::make_shared<Impl>();
  impl->pkey = *pkey;
  key.impl_ = std::move(impl);
  key.area_ = area;
  return key;
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return Fail(ErrorCode::kInternal, "BIO_new_mem_buf failed");
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey == nullptr) return Fail(ErrorCode::kMalformed, "not a PEM public key");
  PublicKey key;
  const int id = EVP_PKEY_get_base_id(pkey);
  if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC) {
    EVP_PKEY_free(pkey);
    return Fail(ErrorCode::kUnsupported, "PEM key is neither RSA nor EC");
  }
  key.rsa_ = id == EVP_PKEY_RSA;
  key.bits_ = EVP_PKEY_get_bits(pkey);
  if (key.rsa_) {
    BIGNUM* e = nullptr;
    Result<void> ok = Fail(ErrorCode::kMalformed, "RSA key without an exponent");
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1) {
      ok = CheckRsa(static_cast<std::size_t>(key.bits_), e);
    }
    BN_free(e);
    if (!ok) {
      EVP_PKEY_free(pkey);
      return Fail(std::move(ok).error());
    }
  } else {
    char group[32] = {};
    std::size_t len = 0;
    const bool nist = EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                                     sizeof group, &len) == 1 &&
                      (std::string_view(group) == "prime256v1" ||
                       std::string_view(group) == "secp384r1" ||
                       std::string_view(group) == "secp521r1" ||
                       std::string_view(group) == "P-256" || std::string_view(group) == "P-384" ||
                       std::string_view(group) == "P-521");
    if (!nist) {
      EVP_PKEY_free(pkey);
      return Fail(ErrorCode::kUnsupported,
                  "EC key not on NIST P-256, P-384 or P-521 (the curves TPMs use)");
    }
  }
  auto impl = std::make_shared<Impl>();
  impl->pkey = pkey;
  key.impl_ = std::move(impl);
  return key;
}

Result<PublicKey> PublicKey::Load(std::span<const std::uint8_t> bytes) {
  static constexpr std::string_view kPem = "-----BEGIN";
  if (bytes.size() >= kPem.size() &&
      std::equal(kPem.begin(), kPem.end(), bytes.begin(),
                 [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; })) {
    return FromPem(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  TC_ASSIGN_OR_RETURN(PublicArea area, ParsePublic2b(bytes));
  return FromPublicArea(area);
}

std::string PublicKey::Describe() const {
  return rsa_ ? fmt::format("RSA-{}", bits_) : fmt::format("ECC P-{}", bits_ == 528 ? 521 : bits_);
}

Result<void> PublicKey::Verify(std::span<const std::uint8_t> message,
                               const Signature& sig) const {
  const bool rsa_sig = sig.sig_alg == alg::kRsaSsa || sig.sig_alg == alg::kRsaPss;
  if (rsa_sig != rsa_) {
    return Fail(ErrorCode::kVerificationFailed,
                fmt::format("the signature is {} but the key is {}", rsa_sig ? "RSA" : "ECDSA",
                            Describe()));
  }
  // A TPM signs with the scheme its key fixes (Part 3, 20.2.1); anything
  // else did not come from that key's TPM object.
  if (area_ && area_->scheme != alg::kNull &&
      (area_->scheme != sig.sig_alg || area_->scheme_hash != sig.hash)) {
    return Fail(ErrorCode::kVerificationFailed,
                fmt::format("the AK fixes scheme 0x{:04x} with {} but the signature uses "
                            "0x{:04x} with {}",
                            area_->scheme,
                            area_->scheme_hash ? crypto::HashAlgName(*area_->scheme_hash) : "-",
                            sig.sig_alg, crypto::HashAlgName(sig.hash)));
  }
  const EVP_MD* md = Md(sig.hash);
  if (md == nullptr) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("signatures with {} are not checked", crypto::HashAlgName(sig.hash)));
  }
  TC_ASSIGN_OR_RETURN(const crypto::Digest digest, crypto::Hash(sig.hash, message));
  TC_CHECK(impl_ != nullptr);
  CtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, impl_->pkey, nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1) {
    return Fail(ErrorCode::kInternal, "EVP_PKEY_verify_init failed");
  }
  int rc = 0;
  if (rsa_) {
    const int padding = sig.sig_alg == alg::kRsaPss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING;
    if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), padding) != 1 ||
        (padding == RSA_PKCS1_PSS_PADDING &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_AUTO) != 1)) {
      return Fail(ErrorCode::kInternal, "cannot set RSA padding");
    }
    rc = EVP_PKEY_verify(ctx.get(), sig.rsa.data(), sig.rsa.size(), digest.bytes().data(),
                         digest.size());
  } else {
    // ECDSA: the TPM gives r and s; OpenSSL wants the DER ECDSA-Sig-Value.
    ECDSA_SIG* es = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(sig.ecdsa_r.data(), static_cast<int>(sig.ecdsa_r.size()), nullptr);
    BIGNUM* s = BN_bin2bn(sig.ecdsa_s.data(), static_cast<int>(sig.ecdsa_s.size()), nullptr);
    unsigned char* der = nullptr;
    int der_len = -1;
    if (es != nullptr && r != nullptr && s != nullptr && ECDSA_SIG_set0(es, r, s) == 1) {
      r = s = nullptr;  // owned by es now
      der_len = i2d_ECDSA_SIG(es, &der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    if (der_len <= 0) return Fail(ErrorCode::kInternal, "cannot encode the ECDSA signature");
    rc = EVP_PKEY_verify(ctx.get(), der, static_cast<std::size_t>(der_len),
                         digest.bytes().data(), digest.size());
    OPENSSL_free(der);
  }
  if (rc != 1) {
    return Fail(ErrorCode::kVerificationFailed,
                fmt::format("the signature does not verify with this {} key", Describe()));
  }
  return {};
}

Result<bool> PublicKey::CertifiedBy(std::span<const std::uint8_t> der) const {
  if (der.size() > (64u << 10)) return Fail(ErrorCode::kMalformed, "certificate larger than 64 KiB");
  const unsigned char* p = der.data();
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (cert == nullptr || p != der.data() + der.size()) {
    X509_free(cert);
    ERR_clear_error();
    return Fail(ErrorCode::kMalformed, "not one DER certificate");
  }
  const EVP_PKEY* certified = X509_get0_pubkey(cert);
  const bool same = certified != nullptr && EVP_PKEY_eq(certified, impl_->pkey) == 1;
  X509_free(cert);
  ERR_clear_error();
  return same;
}

}  // namespace tc::tpm
