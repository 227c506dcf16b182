#include "tc/crypto/x509.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "tc/base/hex.h"
#include "tc/crypto/hash.h"

namespace tc::crypto {
namespace {

// A certificate made here with OpenSSL, and OpenSSL's own rendering of its
// names: SummarizeCertificate must agree with it (differential test).
struct Made {
  Bytes der;
  std::string subject;
  std::string issuer;
};

std::string OpenSslName(const X509_NAME* n) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, n, 0, (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | ASN1_STRFLGS_UTF8_CONVERT);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string s(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return s;
}

Made MakeCertificate() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 0x8123);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  auto add = [&](const char* f, const char* v) {
    X509_NAME_add_entry_by_txt(name, f, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(v), -1, -1, 0);
  };
  add("C", "DE");
  add("O", "Trust, Chain \"Test\"");
  add("CN", "K\xC3\xB6nig #1 ");
  add("emailAddress", "a@b.example");
  X509_set_issuer_name(x, name);
  X509_sign(x, key, EVP_sha256());
  Made m;
  unsigned char* buf = nullptr;
  const int len = i2d_X509(x, &buf);
  m.der.assign(buf, buf + len);
  OPENSSL_free(buf);
  m.subject = OpenSslName(X509_get_subject_name(x));
  m.issuer = OpenSslName(X509_get_issuer_name(x));
  X509_free(x);
  EVP_PKEY_free(key);
  return m;
}

TEST(SummarizeCertificateTest, AgreesWithOpenSsl) {
  const Made m = MakeCertificate();
  auto s = SummarizeCertificate(m.der);
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->subject, m.subject);
  EXPECT_EQ(s->issuer, m.issuer);
  EXPECT_EQ(s->serial_hex, "8123");
  EXPECT_EQ(s->not_before.size(), 20u);
  EXPECT_EQ(s->sha256_hex, Hash(HashAlg::kSha256, m.der)->Hex());
}

TEST(SummarizeCertificateTest, RejectsEveryTruncationAndTrailingBytes) {
  const Made m = MakeCertificate();
  for (std::size_t n = 0; n < m.der.size(); n += 7) {
    auto s = SummarizeCertificate(std::span(m.der).first(n));
    EXPECT_FALSE(s.has_value()) << n;
  }
  Bytes extra = m.der;
  extra.push_back(0);
  auto s = SummarizeCertificate(extra);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace tc::crypto
