#include "tc/crypto/x509.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tc/base/byte_reader.h"
#include "tc/base/hex.h"
#include "tc/crypto/hash.h"

namespace tc::crypto {

// The fields we show are read from the DER with ByteReader (X.509: RFC 5280,
// 4.1; DER: ITU-T X.690, 8.1) rather than with d2i_X509, which also decodes
// the public key through OpenSSL's provider decoders: that cost most of a
// short `eventlog show` (docs/benchmarks.md) and is not needed to display a
// certificate. Nothing here validates a certificate.
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

// Short names of the attribute types seen in certificates (RFC 4514, 3;
// RFC 5280, 4.1.2.4). Others are shown in dotted form.
std::string AttributeName(std::span<const std::uint8_t> oid) {
  struct Known {
    std::string_view der;  // OID content octets
    std::string_view name;
  };
  static constexpr Known kKnown[] = {
      {"\x55\x04\x03", "CN"},           {"\x55\x04\x06", "C"},
      {"\x55\x04\x07", "L"},            {"\x55\x04\x08", "ST"},
      {"\x55\x04\x0a", "O"},            {"\x55\x04\x0b", "OU"},
      {"\x55\x04\x05", "serialNumber"}, {"\x55\x04\x09", "street"},
      {"\x55\x04\x0c", "title"},        {"\x55\x04\x2a", "GN"},
      {"\x55\x04\x04", "SN"},           {"\x55\x04\x61", "organizationIdentifier"},
      {"\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01", "emailAddress"},
      {"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19", "DC"},
      {"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x01", "UID"},
  };
  for (const Known& k : kKnown) {
    if (k.der.size() == oid.size() &&
        std::equal(k.der.begin(), k.der.end(), oid.begin(),
                   [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; })) {
      return std::string(k.name);
    }
  }
  // Dotted form (X.690, 8.19).
  std::string out;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < oid.size(); ++i) {
    if (v > (std::uint64_t{1} << 56)) return "oid-too-long";
    v = (v << 7) | (oid[i] & 0x7F);
    if (oid[i] & 0x80) continue;
    if (out.empty()) {
      const std::uint64_t first = v < 80 ? v / 40 : 2;
      out = fmt::format("{}.{}", first, v - first * 40);
    } else {
      out += fmt::format(".{}", v);
    }
    v = 0;
  }
  return out.empty() ? "oid" : out;
}

// A directory string's value as UTF-8 (X.520 string types).
std::string StringValue(std::uint8_t tag, std::span<const std::uint8_t> v) {
  switch (tag) {
    case 0x1E: {  // BMPString: UTF-16 big-endian
      Bytes le(v.size());
      for (std::size_t i = 0; i + 1 < v.size(); i += 2) {
        le[i] = v[i + 1];
        le[i + 1] = v[i];
      }
      return Utf16LeToUtf8(le);
    }
    case 0x0C:  // UTF8String
    case 0x13:  // PrintableString
    case 0x16:  // IA5String
    case 0x14:  // TeletexString
    case 0x1A:  // VisibleString
      return std::string(v.begin(), v.end());
    default:
      return "#" + ToHex(v);
  }
}

// RFC 4514, 2.4: escape the specials, a leading space or '#', a trailing
// space; control characters as \XX.
std::string Escape(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    const bool special = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' ||
                         c == '>' || c == ';' || c == '=' ||
                         ((c == ' ' || c == '#') && i == 0) ||
                         (c == ' ' && i + 1 == v.size());
    if (special) {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      out += fmt::format("\\{:02X}", static_cast<unsigned char>(c));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Name ::= SEQUENCE OF RelativeDistinguishedName (RFC 5280, 4.1.2.4), shown
// as RFC 4514 text: last RDN first, multi-valued RDNs joined with '+'.
Result<std::string> NameText(Tlv& name) {
  std::vector<std::string> rdns;
  constexpr std::size_t kMaxRdns = 64;
  while (!name.body.empty()) {
    if (rdns.size() == kMaxRdns) return Fail(ErrorCode::kMalformed, "name has too many parts");
    TC_ASSIGN_OR_RETURN(Tlv set, Expect(name.body, 0x31, "RelativeDistinguishedName"));
    std::string rdn;
    while (!set.body.empty()) {
      TC_ASSIGN_OR_RETURN(Tlv atv, Expect(set.body, kSequence, "AttributeTypeAndValue"));
      TC_ASSIGN_OR_RETURN(Tlv oid, Expect(atv.body, 0x06, "attribute type"));
      TC_ASSIGN_OR_RETURN(Tlv value, ReadTlv(atv.body));
      if (!rdn.empty()) rdn += "+";
      rdn += AttributeName(oid.body.Rest()) + "=" + Escape(StringValue(value.tag, value.body.Rest()));
      if (rdn.size() > 4096) return Fail(ErrorCode::kMalformed, "name too long");
    }
    rdns.push_back(std::move(rdn));
  }
  std::string out;
  for (auto it = rdns.rbegin(); it != rdns.rend(); ++it) {
    if (!out.empty()) out += ",";
    out += *it;
  }
  return out;
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

namespace tc::crypto {
namespace {

struct X509Free { void operator()(X509* x) const { X509_free(x); } };
struct StoreFree { void operator()(X509_STORE* s) const { X509_STORE_free(s); } };
struct StoreCtxFree { void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); } };
struct StackFree { void operator()(STACK_OF(X509)* s) const { sk_X509_pop_free(s, X509_free); } };

// Every certificate of a PEM text.
Result<std::vector<std::unique_ptr<X509, X509Free>>> ReadPemCertificates(std::string_view pem,
                                                                         std::string_view what) {
  std::vector<std::unique_ptr<X509, X509Free>> out;
  if (pem.empty()) return out;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return Fail(ErrorCode::kInternal, "BIO_new_mem_buf failed");
  while (true) {
    X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (x == nullptr) break;
    out.emplace_back(x);
  }
  BIO_free(bio);
  ERR_clear_error();
  if (out.empty()) {
    return Fail(ErrorCode::kMalformed, fmt::format("{}: no PEM certificate found", what));
  }
  return out;
}

}  // namespace

Result<void> VerifyCertificateChain(std::span<const std::uint8_t> der, std::string_view roots_pem,
                                    std::string_view intermediates_pem) {
  if (der.size() > kMaxCertificateSize) {
    return Fail(ErrorCode::kMalformed, "certificate larger than 64 KiB");
  }
  const unsigned char* p = der.data();
  std::unique_ptr<X509, X509Free> leaf(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!leaf || p != der.data() + der.size()) {
    ERR_clear_error();
    return Fail(ErrorCode::kMalformed, "not one DER certificate");
  }
  TC_ASSIGN_OR_RETURN(auto roots, ReadPemCertificates(roots_pem, "trusted roots"));
  TC_ASSIGN_OR_RETURN(auto inter, ReadPemCertificates(intermediates_pem, "intermediates"));
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<STACK_OF(X509), StackFree> chain(sk_X509_new_null());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!store || !chain || !ctx) return Fail(ErrorCode::kInternal, "OpenSSL allocation failed");
  for (auto& r : roots) {
    if (X509_STORE_add_cert(store.get(), r.get()) != 1) {
      ERR_clear_error();
    }
  }
  for (auto& i : inter) {
    if (sk_X509_push(chain.get(), i.release()) <= 0) {
      return Fail(ErrorCode::kInternal, "OpenSSL allocation failed");
    }
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), chain.get()) != 1) {
    ERR_clear_error();
    return Fail(ErrorCode::kInternal, "X509_STORE_CTX_init failed");
  }
  // EK certificates mark the TPM's identity in a critical subjectAltName
  // with a directoryName, which OpenSSL handles; other unknown critical
  // extensions still fail the check.
  const int ok = X509_verify_cert(ctx.get());
  if (ok != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return Fail(ErrorCode::kVerificationFailed,
                fmt::format("the certificate does not chain to a trusted root: {} (at depth {})",
                            X509_verify_cert_error_string(err),
                            X509_STORE_CTX_get_error_depth(ctx.get())));
  }
  return {};
}

}  // namespace tc::crypto
