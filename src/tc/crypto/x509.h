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

}  // namespace tc::crypto
