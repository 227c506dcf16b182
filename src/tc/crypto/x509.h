#pragma once

// A few facts about an X.509 certificate, for display and matching.
// The input is untrusted DER; nothing here checks a signature or a chain.

#include <cstdint>
#include <span>
#include <string>

#include "tc/base/error.h"

namespace tc::crypto {

struct CertificateSummary {
  std::string subject;      // RFC 2253 form, e.g. "CN=Microsoft ...,O=..."
  std::string issuer;
  std::string serial_hex;   // lowercase
  std::string not_before;   // "YYYY-MM-DDTHH:MM:SSZ"
  std::string not_after;
  std::string sha256_hex;   // fingerprint of the DER
};

// Upper bound on the DER we hand to OpenSSL.
inline constexpr std::size_t kMaxCertificateSize = 64 * 1024;

// Parses DER. Fails with kMalformed when it is not one whole certificate
// (trailing bytes are an error).
[[nodiscard]] Result<CertificateSummary> SummarizeCertificate(
    std::span<const std::uint8_t> der);

// Checks that the DER certificate chains to a certificate of `roots_pem`
// (one or more PEM certificates, trusted), through any of
// `intermediates_pem` (untrusted; may be empty), with valid signatures and
// validity periods now (RFC 5280 6.1, OpenSSL's X509_verify_cert). No
// purpose or policy is checked: TPM EK certificates (TCG EK Credential
// Profile 2.0, 3.2) have no subject and purposes of their own.
// kVerificationFailed with OpenSSL's reason when it does not; kMalformed for
// input that does not parse.
[[nodiscard]] Result<void> VerifyCertificateChain(std::span<const std::uint8_t> der,
                                                  std::string_view roots_pem,
                                                  std::string_view intermediates_pem);

}  // namespace tc::crypto
