#include "tc/tpm/credential.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "tc/base/byte_reader.h"

namespace tc::tpm {
namespace {

// TPM_ALG_ID (Part 2, 6.3) of the symmetric definition of a storage key.
constexpr std::uint16_t kAlgAes = 0x0006;
constexpr std::uint16_t kAlgCfb = 0x0043;

// Part 2, 8.3: TPMA_OBJECT bit 17.
constexpr std::uint32_t kAttrDecrypt = 1u << 17;

// Part 1, 24.4 and 24.5: the labels of the credential protection KDFs.
constexpr std::string_view kIdentityLabel = "IDENTITY";
constexpr std::string_view kStorageLabel = "STORAGE";
constexpr std::string_view kIntegrityLabel = "INTEGRITY";

constexpr std::size_t kMaxKdfBits = 8192;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct MacFree {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct BldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct GroupFree {
  void operator()(EC_GROUP* g) const { EC_GROUP_free(g); }
};
struct PointFree {
  void operator()(EC_POINT* p) const { EC_POINT_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using BldPtr = std::unique_ptr<OSSL_PARAM_BLD, BldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;

// Key material on the stack or heap is wiped when done with.
class SecretBytes {
 public:
  explicit SecretBytes(Bytes b) : b_(std::move(b)) {}
  SecretBytes(SecretBytes&& o) noexcept : b_(std::move(o.b_)) {}
  SecretBytes& operator=(SecretBytes&&) = delete;
  SecretBytes(const SecretBytes&) = delete;
  ~SecretBytes() { OPENSSL_cleanse(b_.data(), b_.size()); }
  std::span<const std::uint8_t> span() const { return b_; }
  const Bytes& bytes() const { return b_; }
  std::uint8_t* data() { return b_.data(); }
  std::size_t size() const { return b_.size(); }

 private:
  Bytes b_;
};

Error OsslError(std::string_view what) {
  return Error(ErrorCode::kInternal, fmt::format("OpenSSL: {} failed", what));
}

// OpenSSL's names of the hashes we derive keys with.
Result<const char*> DigestName(crypto::HashAlg alg) {
  switch (alg) {
    case crypto::HashAlg::kSha1: return "SHA1";
    case crypto::HashAlg::kSha256: return "SHA256";
    case crypto::HashAlg::kSha384: return "SHA384";
    case crypto::HashAlg::kSha512: return "SHA512";
    case crypto::HashAlg::kSm3_256: break;
  }
  return Fail(ErrorCode::kUnsupported,
              fmt::format("hash {} for credential protection", crypto::HashAlgName(alg)));
}

// Part 1, 11.4.10.2: "if the Label does not end in 0x00, one is added".
Bytes LabelWithNul(std::string_view label) {
  Bytes out(label.begin(), label.end());
  if (out.empty() || out.back() != 0) out.push_back(0);
  return out;
}

void PutU16(Bytes& b, std::size_t v) {
  b.push_back(static_cast<std::uint8_t>((v >> 8) & 0xFF));
  b.push_back(static_cast<std::uint8_t>(v & 0xFF));
}
void PutU32(Bytes& b, std::size_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    b.push_back(static_cast<std::uint8_t>((v >> shift) & 0xFF));
  }
}
void Append(Bytes& b, std::span<const std::uint8_t> s) { b.insert(b.end(), s.begin(), s.end()); }
// A TPM2B: UINT16 BE size, then the bytes (callers keep sizes below 64 KiB).
void PutTpm2b(Bytes& b, std::span<const std::uint8_t> s) {
  TC_CHECK(s.size() <= 0xFFFF);
  PutU16(b, s.size());
  Append(b, s);
}

Result<void> CheckKdfBits(std::size_t bits) {
  if (bits == 0 || bits % 8 != 0 || bits > kMaxKdfBits) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("KDF output of {} bits (a positive multiple of 8 up to {})", bits,
                            kMaxKdfBits));
  }
  return {};
}

// HMAC-`alg`(key, concatenation of parts).
class Hmac {
 public:
  static Result<Hmac> Create(crypto::HashAlg alg, std::span<const std::uint8_t> key) {
    TC_ASSIGN_OR_RETURN(const char* md, DigestName(alg));
    std::unique_ptr<EVP_MAC, MacFree> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac) return Fail(OsslError("EVP_MAC_fetch(HMAC)"));
    Hmac h;
    h.ctx_.reset(EVP_MAC_CTX_new(mac.get()));
    if (!h.ctx_) return Fail(OsslError("EVP_MAC_CTX_new"));
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(md), 0),
        OSSL_PARAM_construct_end()};
    // An empty key is valid HMAC input; OpenSSL wants a non-null pointer.
    static const std::uint8_t kNoKey = 0;
    if (EVP_MAC_init(h.ctx_.get(), key.empty() ? &kNoKey : key.data(), key.size(), params) != 1) {
      return Fail(OsslError("EVP_MAC_init"));
    }
    h.size_ = crypto::DigestSize(alg);
    return h;
  }
  // One MAC over the parts; the key is kept for the next call.
  Result<Bytes> Mac(std::initializer_list<std::span<const std::uint8_t>> parts) {
    std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_dup(ctx_.get()));
    if (!ctx) return Fail(OsslError("EVP_MAC_CTX_dup"));
    for (auto p : parts) {
      if (!p.empty() && EVP_MAC_update(ctx.get(), p.data(), p.size()) != 1) {
        return Fail(OsslError("EVP_MAC_update"));
      }
    }
    Bytes out(size_);
    std::size_t n = 0;
    if (EVP_MAC_final(ctx.get(), out.data(), &n, out.size()) != 1 || n != size_) {
      return Fail(OsslError("EVP_MAC_final"));
    }
    return out;
  }

 private:
  Hmac() = default;
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx_;
  std::size_t size_ = 0;
};

// The symmetric definition of a storage key (TPMT_SYM_DEF_OBJECT, Part 2,
// 11.1.7), which ParsePublic2b skips: read again from the marshaled
// TPMT_PUBLIC (12.2.4: type, nameAlg, objectAttributes, authPolicy, then
// the parameters, which start with `symmetric` for RSA and ECC keys).
struct SymDef {
  std::uint16_t alg = alg::kNull;
  std::uint16_t key_bits = 0;
  std::uint16_t mode = alg::kNull;
};

Result<SymDef> ReadSymDef(const PublicArea& ek) {
  ByteReader in(ek.marshaled);
  TC_RETURN_IF_ERROR(in.Skip(2 + 2 + 4));
  TC_RETURN_IF_ERROR(in.SizedBytesU16Be(crypto::kMaxDigestSize));  // authPolicy
  SymDef d;
  TC_ASSIGN_OR_RETURN(d.alg, in.U16Be());
  if (d.alg == alg::kNull) return d;
  TC_ASSIGN_OR_RETURN(d.key_bits, in.U16Be());
  TC_ASSIGN_OR_RETURN(d.mode, in.U16Be());
  return d;
}

const EVP_CIPHER* AesCfb(std::uint16_t key_bits) {
  switch (key_bits) {
    case 128: return EVP_aes_128_cfb128();
    case 192: return EVP_aes_192_cfb128();
    case 256: return EVP_aes_256_cfb128();
    default: return nullptr;
  }
}

// NIST curves by TPM_ECC_CURVE (Part 2, 6.4), with their field sizes.
struct Curve {
  std::uint16_t id;
  int nid;
  const char* group;
  std::size_t bytes;
};
constexpr Curve kCurves[] = {{0x0003, NID_X9_62_prime256v1, "P-256", 32},
                             {0x0004, NID_secp384r1, "P-384", 48},
                             {0x0005, NID_secp521r1, "P-521", 66}};

// What MakeCredential needs from the EK, checked.
struct EkParams {
  const EVP_CIPHER* cipher = nullptr;
  std::size_t sym_bits = 0;
  const Curve* curve = nullptr;  // ECC only
};

Result<EkParams> CheckEk(const PublicArea& ek) {
  EkParams p;
  if (ek.type != alg::kRsa && ek.type != alg::kEcc) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("EK type 0x{:04x} (RSA and ECC are supported)", ek.type));
  }
  TC_RETURN_IF_ERROR(DigestName(ek.name_alg));
  if ((ek.object_attributes & kAttrDecrypt) == 0) {
    return Fail(ErrorCode::kInvalidArgument, "EK is not a decryption key");
  }
  if (ek.marshaled.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "EK public area has no marshaled TPMT_PUBLIC (use ParsePublic2b)");
  }
  auto sym = ReadSymDef(ek);
  if (!sym) {
    return Fail(ErrorCode::kInvalidArgument,
                "EK symmetric definition: " + sym.error().message());
  }
  if (sym->alg == alg::kNull) {
    return Fail(ErrorCode::kInvalidArgument,
                "EK has no symmetric definition: not a storage key");
  }
  if (sym->alg != kAlgAes || sym->mode != kAlgCfb || AesCfb(sym->key_bits) == nullptr) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("EK symmetric algorithm 0x{:04x}, {} bits, mode 0x{:04x} "
                            "(AES-128/192/256 in CFB mode are supported)",
                            sym->alg, sym->key_bits, sym->mode));
  }
  p.cipher = AesCfb(sym->key_bits);
  p.sym_bits = sym->key_bits;
  if (ek.type == alg::kRsa) {
    const std::size_t bits = ek.rsa_modulus.size() * 8;
    if (bits < 2048 || bits > 8 * kMaxRsaKeyBytes || bits != ek.rsa_key_bits ||
        ek.rsa_modulus[0] < 0x80) {
      return Fail(ErrorCode::kUnsupported,
                  fmt::format("RSA EK with a {}-byte modulus and keyBits {} (2048 to 4096 "
                              "bits are supported)",
                              ek.rsa_modulus.size(), ek.rsa_key_bits));
    }
  } else {
    for (const Curve& c : kCurves) {
      if (c.id == ek.ecc_curve) p.curve = &c;
    }
    if (p.curve == nullptr) {
      return Fail(ErrorCode::kUnsupported,
                  fmt::format("ECC EK curve 0x{:04x} (NIST P-256, P-384, P-521 are supported)",
                              ek.ecc_curve));
    }
    if (ek.ecc_x.empty() || ek.ecc_y.empty() || ek.ecc_x.size() > p.curve->bytes ||
        ek.ecc_y.size() > p.curve->bytes) {
      return Fail(ErrorCode::kInvalidArgument, "ECC EK point does not fit its curve");
    }
  }
  return p;
}

Result<void> CheckName(std::span<const std::uint8_t> name) {
  if (name.size() < 2) return Fail(ErrorCode::kInvalidArgument, "AK name shorter than 2 bytes");
  const auto id = static_cast<std::uint16_t>((name[0] << 8) | name[1]);
  const std::optional<crypto::HashAlg> alg = crypto::HashAlgFromTpmId(id);
  if (!alg || name.size() != 2 + crypto::DigestSize(*alg)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("AK name of {} bytes with nameAlg 0x{:04x} is not nameAlg || digest",
                            name.size(), id));
  }
  return {};
}

// Part 1, 24 (and B.10.3): RSA-OAEP of the seed to the EK, with the EK's
// nameAlg for both the OAEP hash and MGF1, and the label "IDENTITY\0".
Result<Bytes> RsaOaepEncrypt(const PublicArea& ek, std::span<const std::uint8_t> seed) {
  TC_ASSIGN_OR_RETURN(const char* md, DigestName(ek.name_alg));
  BnPtr n(BN_bin2bn(ek.rsa_modulus.data(), static_cast<int>(ek.rsa_modulus.size()), nullptr));
  BnPtr e(BN_new());
  BldPtr bld(OSSL_PARAM_BLD_new());
  // Part 2, 12.2.3.5: an exponent of zero means 2^16 + 1.
  if (!n || !e || !bld || BN_set_word(e.get(), ek.rsa_exponent == 0 ? 65537 : ek.rsa_exponent) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return Fail(OsslError("RSA parameters"));
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr fctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !fctx || EVP_PKEY_fromdata_init(fctx.get()) != 1 ||
      EVP_PKEY_fromdata(fctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return Fail(ErrorCode::kInvalidArgument, "RSA EK is not a usable public key");
  }
  PkeyPtr key(raw);

  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  Bytes label = LabelWithNul(kIdentityLabel);
  OSSL_PARAM oaep[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
                                       const_cast<char*>(OSSL_PKEY_RSA_PAD_MODE_OAEP), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST,
                                       const_cast<char*>(md), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST,
                                       const_cast<char*>(md), 0),
      OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, label.data(),
                                        label.size()),
      OSSL_PARAM_construct_end()};
  std::size_t out_len = 0;
  if (!ctx || EVP_PKEY_encrypt_init_ex(ctx.get(), oaep) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &out_len, seed.data(), seed.size()) != 1) {
    return Fail(OsslError("RSA-OAEP setup"));
  }
  Bytes out(out_len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &out_len, seed.data(), seed.size()) != 1) {
    return Fail(OsslError("RSA-OAEP encryption"));
  }
  out.resize(out_len);
  return out;
}

Bytes LeftPad(std::span<const std::uint8_t> b, std::size_t size) {
  Bytes out(size - std::min(size, b.size()), 0);
  Append(out, b);
  return out;
}

// An EC key on `curve` from its uncompressed public point, and, when
// `priv` is given, its private scalar.
Result<PkeyPtr> EcKey(const Curve& curve, std::span<const std::uint8_t> point,
                      const BIGNUM* priv) {
  BldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      (priv != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1)) {
    return Fail(OsslError("EC parameters"));
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr fctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  const int selection = priv != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
  if (!params || !fctx || EVP_PKEY_fromdata_init(fctx.get()) != 1 ||
      EVP_PKEY_fromdata(fctx.get(), &raw, selection, params.get()) != 1) {
    return Fail(ErrorCode::kInvalidArgument, "ECC EK point is not a usable public key");
  }
  PkeyPtr key(raw);
  // A point off the curve would leak bits of the ephemeral key and make a
  // credential no TPM opens: refuse it up front.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return Fail(ErrorCode::kInvalidArgument, "ECC EK point is not on its curve");
  }
  return key;
}

// The seed and encrypted secret of an ECC EK (Part 1, 24.4; the ECDH
// secret sharing of Annex C.6.1): Z = x of d_e * Q_ek;
// seed = KDFe(nameAlg, Z, "IDENTITY", x_e, x_ek, digest bits);
// encrypted secret = the ephemeral public point Q_e as TPMS_ECC_POINT.
struct EccSeed {
  SecretBytes seed;
  Bytes point;  // TPMS_ECC_POINT (Part 2, 11.2.5.2), no outer size
};

Result<EccSeed> EccSecret(const PublicArea& ek, const Curve& curve,
                          std::span<const std::uint8_t> ephemeral_priv) {
  if (ephemeral_priv.size() != curve.bytes) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("ephemeral ECC key of {} bytes ({} expected)", ephemeral_priv.size(),
                            curve.bytes));
  }
  std::unique_ptr<EC_GROUP, GroupFree> group(EC_GROUP_new_by_curve_name(curve.nid));
  BnPtr d(BN_bin2bn(ephemeral_priv.data(), static_cast<int>(ephemeral_priv.size()), nullptr));
  if (!group || !d) return Fail(OsslError("EC group"));
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(group.get())) >= 0) {
    return Fail(ErrorCode::kInvalidArgument, "ephemeral ECC key is not in [1, n-1]");
  }
  std::unique_ptr<EC_POINT, PointFree> q(EC_POINT_new(group.get()));
  Bytes q_oct(1 + 2 * curve.bytes);
  if (!q || EC_POINT_mul(group.get(), q.get(), d.get(), nullptr, nullptr, nullptr) != 1 ||
      EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, q_oct.data(),
                         q_oct.size(), nullptr) != q_oct.size()) {
    return Fail(OsslError("ephemeral public key"));
  }
  TC_ASSIGN_OR_RETURN(PkeyPtr ephemeral, EcKey(curve, q_oct, d.get()));

  Bytes ek_oct = {0x04};
  Append(ek_oct, LeftPad(ek.ecc_x, curve.bytes));
  Append(ek_oct, LeftPad(ek.ecc_y, curve.bytes));
  TC_ASSIGN_OR_RETURN(PkeyPtr peer, EcKey(curve, ek_oct, nullptr));

  PkeyCtxPtr dctx(EVP_PKEY_CTX_new_from_pkey(nullptr, ephemeral.get(), nullptr));
  std::size_t z_len = 0;
  if (!dctx || EVP_PKEY_derive_init(dctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(dctx.get(), peer.get()) != 1 ||
      EVP_PKEY_derive(dctx.get(), nullptr, &z_len) != 1 || z_len != curve.bytes) {
    return Fail(OsslError("ECDH setup"));
  }
  SecretBytes z{Bytes(z_len)};
  if (EVP_PKEY_derive(dctx.get(), z.data(), &z_len) != 1 ||
      z_len != curve.bytes) {
    return Fail(OsslError("ECDH"));
  }
  const std::span<const std::uint8_t> xe(q_oct.data() + 1, curve.bytes);
  const std::span<const std::uint8_t> ye(q_oct.data() + 1 + curve.bytes, curve.bytes);
  // PartyVInfo is the EK's x as its public area holds it: the TPM uses
  // those bytes when it repeats the derivation.
  TC_ASSIGN_OR_RETURN(Bytes seed, KdfE(ek.name_alg, z.span(), kIdentityLabel, xe, ek.ecc_x,
                                       8 * crypto::DigestSize(ek.name_alg)));
  Bytes point;
  PutTpm2b(point, xe);
  PutTpm2b(point, ye);
  return EccSeed{SecretBytes(std::move(seed)), std::move(point)};
}

// Part 1, 24.4 and 24.5, given the seed:
//   symKey = KDFa(nameAlg, seed, "STORAGE", name, NULL, symmetric keyBits)
//   encIdentity = AES-CFB(symKey, IV = 0, TPM2B_DIGEST(secret))
//   HMACkey = KDFa(nameAlg, seed, "INTEGRITY", NULL, NULL, digest bits)
//   outerHMAC = HMAC(HMACkey, encIdentity || name)
//   TPM2B_ID_OBJECT = size || TPM2B(outerHMAC) || encIdentity
Result<Bytes> IdObject(const PublicArea& ek, const EkParams& p, std::span<const std::uint8_t> seed,
                       std::span<const std::uint8_t> name, std::span<const std::uint8_t> secret) {
  TC_ASSIGN_OR_RETURN(Bytes sym_key_bytes, KdfA(ek.name_alg, seed, kStorageLabel, name, {}, p.sym_bits));
  const SecretBytes sym_key(std::move(sym_key_bytes));
  Bytes plain;
  PutTpm2b(plain, secret);
  const SecretBytes plain_s(std::move(plain));

  // Part 1, 24.4: the IV is zero (each seed, hence key, is used once).
  const Bytes iv(static_cast<std::size_t>(EVP_CIPHER_get_iv_length(p.cipher)), 0);
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> cctx(EVP_CIPHER_CTX_new());
  Bytes enc(plain_s.bytes().size());
  int n1 = 0;
  int n2 = 0;
  if (!cctx ||
      EVP_EncryptInit_ex(cctx.get(), p.cipher, nullptr, sym_key.bytes().data(), iv.data()) != 1 ||
      EVP_EncryptUpdate(cctx.get(), enc.data(), &n1, plain_s.bytes().data(),
                        static_cast<int>(plain_s.bytes().size())) != 1 ||
      EVP_EncryptFinal_ex(cctx.get(), enc.data() + n1, &n2) != 1 ||
      static_cast<std::size_t>(n1) + static_cast<std::size_t>(n2) != enc.size()) {
    return Fail(OsslError("AES-CFB encryption"));
  }

  const std::size_t digest_bits = 8 * crypto::DigestSize(ek.name_alg);
  TC_ASSIGN_OR_RETURN(Bytes hmac_key_bytes, KdfA(ek.name_alg, seed, kIntegrityLabel, {}, {}, digest_bits));
  const SecretBytes hmac_key(std::move(hmac_key_bytes));
  TC_ASSIGN_OR_RETURN(Hmac hmac, Hmac::Create(ek.name_alg, hmac_key.span()));
  TC_ASSIGN_OR_RETURN(const Bytes outer, hmac.Mac({enc, name}));

  Bytes body;
  PutTpm2b(body, outer);
  Append(body, enc);
  Bytes blob;
  PutTpm2b(blob, body);
  return blob;
}

Result<Credential> Make(const PublicArea& ek, const EkParams& p,
                        std::span<const std::uint8_t> ak_name,
                        std::span<const std::uint8_t> secret,
                        std::span<const std::uint8_t> randomness) {
  Credential c;
  if (ek.type == alg::kRsa) {
    if (randomness.size() != crypto::DigestSize(ek.name_alg)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("RSA seed of {} bytes ({} expected)", randomness.size(),
                              crypto::DigestSize(ek.name_alg)));
    }
    TC_ASSIGN_OR_RETURN(const Bytes enc_seed, RsaOaepEncrypt(ek, randomness));
    PutTpm2b(c.encrypted_secret, enc_seed);
    TC_ASSIGN_OR_RETURN(c.credential_blob, IdObject(ek, p, randomness, ak_name, secret));
  } else {
    TC_ASSIGN_OR_RETURN(const EccSeed s, EccSecret(ek, *p.curve, randomness));
    PutTpm2b(c.encrypted_secret, s.point);
    TC_ASSIGN_OR_RETURN(c.credential_blob, IdObject(ek, p, s.seed.span(), ak_name, secret));
  }
  return c;
}

Result<EkParams> CheckInputs(const PublicArea& ek, std::span<const std::uint8_t> ak_name,
                             std::span<const std::uint8_t> secret) {
  TC_ASSIGN_OR_RETURN(EkParams p, CheckEk(ek));
  TC_RETURN_IF_ERROR(CheckName(ak_name));
  // Part 3, 12.6: the credential is a TPM2B_DIGEST; we hold it to the EK's
  // nameAlg digest size, which every TPM that has the EK supports.
  const std::size_t max = crypto::DigestSize(ek.name_alg);
  if (secret.empty() || secret.size() > max) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("credential secret of {} bytes (1 to {} for {})", secret.size(), max,
                            crypto::HashAlgName(ek.name_alg)));
  }
  return p;
}

}  // namespace

Result<Bytes> KdfA(crypto::HashAlg alg, std::span<const std::uint8_t> key, std::string_view label,
                   std::span<const std::uint8_t> context_u,
                   std::span<const std::uint8_t> context_v, std::size_t bits) {
  TC_RETURN_IF_ERROR(CheckKdfBits(bits));
  TC_ASSIGN_OR_RETURN(Hmac hmac, Hmac::Create(alg, key));
  const Bytes l = LabelWithNul(label);
  Bytes bits_be;
  PutU32(bits_be, bits);
  Bytes out;
  for (std::size_t i = 1; out.size() < bits / 8; ++i) {
    Bytes counter;
    PutU32(counter, i);
    TC_ASSIGN_OR_RETURN(Bytes k, hmac.Mac({counter, l, context_u, context_v, bits_be}));
    Append(out, k);
    OPENSSL_cleanse(k.data(), k.size());
  }
  // The leftmost bits are kept (Part 1, 11.4.10.2).
  OPENSSL_cleanse(out.data() + bits / 8, out.size() - bits / 8);
  out.resize(bits / 8);
  return out;
}

Result<Bytes> KdfE(crypto::HashAlg alg, std::span<const std::uint8_t> z, std::string_view use,
                   std::span<const std::uint8_t> party_u_info,
                   std::span<const std::uint8_t> party_v_info, std::size_t bits) {
  TC_RETURN_IF_ERROR(CheckKdfBits(bits));
  TC_ASSIGN_OR_RETURN(const char* md_name, DigestName(alg));
  EVP_MD* md = EVP_MD_fetch(nullptr, md_name, nullptr);
  if (md == nullptr) return Fail(ErrorCode::kUnsupported, fmt::format("hash {}", md_name));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const Bytes u = LabelWithNul(use);
  Bytes out;
  bool ok = ctx != nullptr;
  for (std::size_t i = 1; ok && out.size() < bits / 8; ++i) {
    Bytes counter;
    PutU32(counter, i);
    Bytes k(static_cast<std::size_t>(EVP_MD_get_size(md)));
    unsigned int n = 0;
    ok = EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1;
    for (std::span<const std::uint8_t> part :
         {std::span<const std::uint8_t>(counter), z, std::span<const std::uint8_t>(u),
          party_u_info, party_v_info}) {
      ok = ok && (part.empty() || EVP_DigestUpdate(ctx.get(), part.data(), part.size()) == 1);
    }
    ok = ok && EVP_DigestFinal_ex(ctx.get(), k.data(), &n) == 1 && n == k.size();
    Append(out, k);
    OPENSSL_cleanse(k.data(), k.size());
  }
  EVP_MD_free(md);
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());
    return Fail(OsslError("KDFe hashing"));
  }
  OPENSSL_cleanse(out.data() + bits / 8, out.size() - bits / 8);
  out.resize(bits / 8);
  return out;
}

Result<Credential> MakeCredentialWithRandomness(const PublicArea& ek,
                                                std::span<const std::uint8_t> ak_name,
                                                std::span<const std::uint8_t> secret,
                                                std::span<const std::uint8_t> randomness) {
  TC_ASSIGN_OR_RETURN(const EkParams p, CheckInputs(ek, ak_name, secret));
  return Make(ek, p, ak_name, secret, randomness);
}

Result<Credential> MakeCredential(const PublicArea& ek, std::span<const std::uint8_t> ak_name,
                                  std::span<const std::uint8_t> secret) {
  TC_ASSIGN_OR_RETURN(const EkParams p, CheckInputs(ek, ak_name, secret));
  if (ek.type == alg::kRsa) {
    SecretBytes seed{Bytes(crypto::DigestSize(ek.name_alg))};
    if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
      return Fail(OsslError("RAND_bytes"));
    }
    return Make(ek, p, ak_name, secret, seed.span());
  }
  // A uniform scalar in [1, n-1] from OpenSSL's generator.
  std::unique_ptr<EC_GROUP, GroupFree> group(EC_GROUP_new_by_curve_name(p.curve->nid));
  BnPtr d(BN_new());
  if (!group || !d) return Fail(OsslError("EC group"));
  do {
    if (BN_priv_rand_range(d.get(), EC_GROUP_get0_order(group.get())) != 1) {
      return Fail(OsslError("BN_priv_rand_range"));
    }
  } while (BN_is_zero(d.get()));
  SecretBytes scalar{Bytes(p.curve->bytes)};
  if (BN_bn2binpad(d.get(), scalar.data(), static_cast<int>(scalar.size())) < 0) {
    return Fail(OsslError("BN_bn2binpad"));
  }
  return Make(ek, p, ak_name, secret, scalar.span());
}

Result<Bytes> Tpm2ToolsCredentialFile(const Credential& c) {
  auto check = [](const Bytes& b, std::size_t cap, std::string_view what) -> Result<void> {
    if (b.size() < 2 || b.size() - 2 != static_cast<std::size_t>((b[0] << 8) | b[1]) ||
        b.size() - 2 > cap) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{} of {} bytes is not one TPM2B of at most {} bytes", what,
                              b.size(), cap));
    }
    return {};
  };
  TC_RETURN_IF_ERROR(check(c.credential_blob, kMaxIdObjectSize, "credential blob"));
  TC_RETURN_IF_ERROR(check(c.encrypted_secret, kMaxEncryptedSecretSize, "encrypted secret"));
  Bytes out;
  PutU32(out, kTpm2ToolsMagic);
  PutU32(out, kTpm2ToolsCredentialVersion);
  Append(out, c.credential_blob);
  Append(out, c.encrypted_secret);
  return out;
}

Result<Credential> ParseTpm2ToolsCredentialFile(std::span<const std::uint8_t> bytes) {
  ByteReader in(bytes);
  TC_ASSIGN_OR_RETURN(const std::uint32_t magic, in.U32Be());
  if (magic != kTpm2ToolsMagic) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("credential file magic 0x{:08x} (0x{:08x} expected)", magic,
                            kTpm2ToolsMagic));
  }
  TC_ASSIGN_OR_RETURN(const std::uint32_t version, in.U32Be());
  if (version != kTpm2ToolsCredentialVersion) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("credential file version {} (1 is supported)", version));
  }
  Credential c;
  TC_ASSIGN_OR_RETURN(const auto blob, in.SizedBytesU16Be(kMaxIdObjectSize));
  PutTpm2b(c.credential_blob, blob);
  TC_ASSIGN_OR_RETURN(const auto secret, in.SizedBytesU16Be(kMaxEncryptedSecretSize));
  PutTpm2b(c.encrypted_secret, secret);
  if (!in.empty()) return Fail(in.MalformedHere("trailing bytes after the credential"));
  return c;
}

}  // namespace tc::tpm
