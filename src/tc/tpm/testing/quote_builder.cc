#include "tc/tpm/testing/quote_builder.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <string>

namespace tc::tpm::testing {

void PutU16Be(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void PutU32Be(Bytes& b, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

namespace {
void Put2b(Bytes& b, const Bytes& v) {
  PutU16Be(b, static_cast<std::uint16_t>(v.size()));
  b.insert(b.end(), v.begin(), v.end());
}
Bytes BnBytes(EVP_PKEY* k, const char* name, std::size_t pad = 0) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(k, name, &bn);
  Bytes out(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_free(bn);
  if (out.size() < pad) out.insert(out.begin(), pad - out.size(), 0);
  return out;
}
}  // namespace

TestKey TestKey::Rsa2048() {
  TestKey k;
  k.pkey_ = EVP_RSA_gen(2048);
  k.rsa_ = true;
  return k;
}

TestKey TestKey::EccP256() {
  TestKey k;
  k.pkey_ = EVP_EC_gen("P-256");
  return k;
}

TestKey::~TestKey() { EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_)); }
TestKey::TestKey(TestKey&& o) noexcept : pkey_(o.pkey_), rsa_(o.rsa_) { o.pkey_ = nullptr; }

Bytes TestKey::Public2b() const {
  auto* k = static_cast<EVP_PKEY*>(pkey_);
  Bytes t;
  PutU16Be(t, rsa_ ? alg::kRsa : alg::kEcc);
  PutU16Be(t, 0x000B);      // nameAlg sha256
  PutU32Be(t, 0x00050072);  // fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign
  Put2b(t, {});             // authPolicy
  PutU16Be(t, alg::kNull);  // symmetric
  PutU16Be(t, rsa_ ? alg::kRsaSsa : alg::kEcdsa);
  PutU16Be(t, 0x000B);
  if (rsa_) {
    PutU16Be(t, 2048);
    PutU32Be(t, 0);
    Put2b(t, BnBytes(k, OSSL_PKEY_PARAM_RSA_N));
  } else {
    PutU16Be(t, 0x0003);      // NIST P-256
    PutU16Be(t, alg::kNull);  // kdf
    Put2b(t, BnBytes(k, OSSL_PKEY_PARAM_EC_PUB_X, 32));
    Put2b(t, BnBytes(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
  }
  Bytes out;
  Put2b(out, t);
  return out;
}

std::string TestKey::Pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, static_cast<EVP_PKEY*>(pkey_));
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string s(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return s;
}

Bytes TestKey::Sign(const Bytes& message, crypto::HashAlg hash) const {
  auto* k = static_cast<EVP_PKEY*>(pkey_);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr,
                     EVP_get_digestbyname(std::string(crypto::HashAlgName(hash)).c_str()),
                     nullptr, k);
  std::size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, message.data(), message.size());
  Bytes sig(len);
  EVP_DigestSign(ctx, sig.data(), &len, message.data(), message.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  Bytes out;
  PutU16Be(out, rsa_ ? alg::kRsaSsa : alg::kEcdsa);
  PutU16Be(out, static_cast<std::uint16_t>(hash));
  if (rsa_) {
    Put2b(out, sig);
  } else {
    const unsigned char* p = sig.data();
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    auto bn = [](const BIGNUM* b) {
      Bytes v(32, 0);
      BN_bn2binpad(b, v.data(), 32);
      return v;
    };
    Put2b(out, bn(ECDSA_SIG_get0_r(es)));
    Put2b(out, bn(ECDSA_SIG_get0_s(es)));
    ECDSA_SIG_free(es);
  }
  return out;
}

Bytes MakeAttest(const QuoteParts& parts, std::uint32_t magic) {
  Bytes a;
  PutU32Be(a, magic);
  PutU16Be(a, kStAttestQuote);
  Bytes name = {0x00, 0x0B};
  name.resize(34, 0x5A);
  Put2b(a, name);
  Put2b(a, parts.nonce);
  for (int i = 0; i < 8; ++i) a.push_back(0);  // clock
  PutU32Be(a, 1);                              // resetCount
  PutU32Be(a, 0);                              // restartCount
  a.push_back(1);                              // safe
  for (int i = 0; i < 8; ++i) a.push_back(0);  // firmwareVersion
  PutU32Be(a, static_cast<std::uint32_t>(parts.selection.size()));
  for (const auto& b : parts.selection) {
    PutU16Be(a, static_cast<std::uint16_t>(b.alg));
    a.push_back(3);
    std::uint8_t bits[3] = {0, 0, 0};
    for (auto p : b.pcrs) bits[p / 8] = static_cast<std::uint8_t>(bits[p / 8] | (1u << (p % 8)));
    a.insert(a.end(), bits, bits + 3);
  }
  Bytes concat;
  for (const Bytes& v : parts.values) concat.insert(concat.end(), v.begin(), v.end());
  const auto d = *crypto::Hash(crypto::HashAlg::kSha256, concat);
  Put2b(a, Bytes(d.bytes().begin(), d.bytes().end()));
  return a;
}

}  // namespace tc::tpm::testing
