#include "tc/crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/x509.h>

#include <memory>

#include <fmt/format.h>

#include "tc/base/byte_reader.h"
#include "tc/base/hex.h"
#include "tc/crypto/hash.h"

namespace tc::crypto {
namespace {

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


}  // namespace

// The fields we show are read from the DER ourselves (X.509: RFC 5280,
// 4.1; DER: ITU-T X.690, 8.1): only the names go through OpenSSL, as
// X509_NAME. Decoding the whole certificate with d2i_X509 also decodes its
// public key through OpenSSL's provider decoders, which cost most of a
// short `eventlog show` (docs/benchmarks.md) and is not needed to display a
// certificate.
namespace {

constexpr std::uint8_t kSequence = 0x30;
constexpr std::uint8_t kInteger = 0x02;
constexpr std::uint8_t kUtcTime = 0x17;
constexpr std::uint8_t kGeneralizedTime = 0x18;
constexpr std::uint8_t kExplicit0 = 0xA0;

struct Tlv {
  std::uint8_t tag;
  ByteReader body;                      // the content, in the file's offsets
  std::span<const std::uint8_t> whole;  // tag, length and content
};

// One DER TLV with a single-byte tag and a definite length of at most four
// length bytes.
Result<Tlv> ReadTlv(ByteReader& in) {
  const std::span<const std::uint8_t> rest = in.Peek(in.remaining()).value();
  const std::size_t start = in.offset();
  TC_ASSIGN_OR_RETURN(const std::uint8_t tag, in.U8());
  TC_ASSIGN_OR_RETURN(const std::uint8_t first, in.U8());
  std::size_t length = first;
  if (first & 0x80) {
    const std::size_t n = first & 0x7F;
    if (n == 0 || n > 4) return Fail(in.MalformedHere("unsupported DER length form"));
    length = 0;
    for (std::size_t i = 0; i < n; ++i) {
      TC_ASSIGN_OR_RETURN(const std::uint8_t b, in.U8());
      length = (length << 8) | b;
    }
  }
  TC_ASSIGN_OR_RETURN(ByteReader body, in.Sub(length));
  return Tlv{tag, body, rest.first(in.offset() - start)};
}

Result<Tlv> Expect(ByteReader& in, std::uint8_t tag, std::string_view what) {
  const std::size_t at = in.offset();
  TC_ASSIGN_OR_RETURN(Tlv t, ReadTlv(in));
  if (t.tag != tag) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("{}: expected DER tag 0x{:02x}, found 0x{:02x} at offset {}",
                            what, tag, t.tag, at));
  }
  return t;
}

Result<std::string> NameText(const Tlv& name) {
  const unsigned char* p = name.whole.data();
  X509_NAME* n = d2i_X509_NAME(nullptr, &p, static_cast<long>(name.whole.size()));
  if (n == nullptr) return Fail(ErrorCode::kMalformed, "bad X.509 name");
  std::string s = NameToString(n);
  X509_NAME_free(n);
  return s;
}

// UTCTime "YYMMDDHHMMSSZ" or GeneralizedTime "YYYYMMDDHHMMSSZ" (RFC 5280,
// 4.1.2.5) as "YYYY-MM-DDTHH:MM:SSZ"; anything else is shown as it is.
std::string TimeText(const Tlv& t) {
  ByteReader body = t.body;
  const auto content = body.Rest();
  std::string s(content.begin(), content.end());
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) c = '?';
  }
  std::string digits = s;
  if (t.tag == kUtcTime && s.size() == 13 && s.back() == 'Z') {
    digits = (s[0] >= '5' ? "19" : "20") + s;
  } else if (!(t.tag == kGeneralizedTime && s.size() == 15 && s.back() == 'Z')) {
    return s;
  }
  for (std::size_t i = 0; i + 1 < digits.size(); ++i) {
    if (digits[i] < '0' || digits[i] > '9') return s;
  }
  return fmt::format("{}-{}-{}T{}:{}:{}Z", digits.substr(0, 4), digits.substr(4, 2),
                     digits.substr(6, 2), digits.substr(8, 2), digits.substr(10, 2),
                     digits.substr(12, 2));
}

}  // namespace

Result<CertificateSummary> SummarizeCertificate(std::span<const std::uint8_t> der) {
  if (der.size() > kMaxCertificateSize) {
    return Fail(ErrorCode::kMalformed, "certificate larger than 64 KiB");
  }
  ByteReader in(der);
  auto parse = [&]() -> Result<CertificateSummary> {
    TC_ASSIGN_OR_RETURN(Tlv cert, Expect(in, kSequence, "Certificate"));
    if (!in.empty()) return Fail(in.MalformedHere("bytes after the certificate"));
    TC_ASSIGN_OR_RETURN(Tlv tbs, Expect(cert.body, kSequence, "TBSCertificate"));
    ByteReader& t = tbs.body;
    TC_ASSIGN_OR_RETURN(auto peek, t.Peek(1));
    if (peek[0] == kExplicit0) TC_RETURN_IF_ERROR(ReadTlv(t));  // version
    TC_ASSIGN_OR_RETURN(Tlv serial, Expect(t, kInteger, "serialNumber"));
    TC_RETURN_IF_ERROR(Expect(t, kSequence, "signature"));
    TC_ASSIGN_OR_RETURN(Tlv issuer, Expect(t, kSequence, "issuer"));
    TC_ASSIGN_OR_RETURN(Tlv validity, Expect(t, kSequence, "validity"));
    TC_ASSIGN_OR_RETURN(Tlv subject, Expect(t, kSequence, "subject"));
    TC_ASSIGN_OR_RETURN(Tlv not_before, ReadTlv(validity.body));
    TC_ASSIGN_OR_RETURN(Tlv not_after, ReadTlv(validity.body));
    CertificateSummary s;
    TC_ASSIGN_OR_RETURN(s.subject, NameText(subject));
    TC_ASSIGN_OR_RETURN(s.issuer, NameText(issuer));
    auto serial_bytes = serial.body.Rest();
    // DER prefixes a 0x00 to positive integers whose top bit is set.
    if (serial_bytes.size() > 1 && serial_bytes[0] == 0) serial_bytes = serial_bytes.subspan(1);
    s.serial_hex = ToHex(serial_bytes);
    s.not_before = TimeText(not_before);
    s.not_after = TimeText(not_after);
    TC_ASSIGN_OR_RETURN(const Digest fp, Hash(HashAlg::kSha256, der));
    s.sha256_hex = fp.Hex();
    return s;
  };
  auto s = parse();
  if (!s) return Fail(std::move(s).error().Wrap("not a DER X.509 certificate"));
  return s;
}

}  // namespace tc::crypto
