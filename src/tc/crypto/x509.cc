#include "tc/crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>

#include <fmt/format.h>

#include "tc/base/hex.h"
#include "tc/crypto/hash.h"

namespace tc::crypto {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

std::string NameToString(const X509_NAME* name) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), name, 0,
                     (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | ASN1_STRFLGS_UTF8_CONVERT);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

std::string TimeToString(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace

Result<CertificateSummary> SummarizeCertificate(
    std::span<const std::uint8_t> der) {
  if (der.size() > kMaxCertificateSize) {
    return Fail(ErrorCode::kMalformed, "certificate larger than 64 KiB");
  }
  const unsigned char* p = der.data();
  std::unique_ptr<X509, X509Free> cert(
      d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return Fail(ErrorCode::kMalformed, "not a DER X.509 certificate");
  if (p != der.data() + der.size()) {
    return Fail(ErrorCode::kMalformed, "bytes after the certificate");
  }
  CertificateSummary s;
  s.subject = NameToString(X509_get_subject_name(cert.get()));
  s.issuer = NameToString(X509_get_issuer_name(cert.get()));
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
  if (serial != nullptr) {
    s.serial_hex = ToHex({serial->data, static_cast<std::size_t>(serial->length)});
  }
  s.not_before = TimeToString(X509_get0_notBefore(cert.get()));
  s.not_after = TimeToString(X509_get0_notAfter(cert.get()));
  TC_ASSIGN_OR_RETURN(const Digest fp, Hash(HashAlg::kSha256, der));
  s.sha256_hex = fp.Hex();
  return s;
}

}  // namespace tc::crypto
