#include "tc/tpm/marshal.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace tc::tpm {
namespace {

constexpr std::uint16_t kRsaEs = 0x0015;  // RSAES: a scheme without details
constexpr std::uint16_t kEcdaa = 0x001A;  // its details have a count too

Result<crypto::HashAlg> ReadHashAlg(ByteReader& in, std::string_view what) {
  const std::size_t at = in.offset();
  TC_ASSIGN_OR_RETURN(const std::uint16_t id, in.U16Be());
  const auto alg = crypto::HashAlgFromTpmId(id);
  if (!alg) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("{}: hash algorithm 0x{:04x} at offset {} is not supported",
                            what, id, at));
  }
  return *alg;
}

Result<Bytes> ReadTpm2b(ByteReader& in, std::size_t max) {
  TC_ASSIGN_OR_RETURN(auto b, in.SizedBytesU16Be(max));
  return Bytes(b.begin(), b.end());
}

Result<void> ExpectEnd(const ByteReader& in, std::string_view what) {
  if (!in.empty()) {
    return Fail(in.MalformedHere(fmt::format("{} bytes after the {}", in.remaining(), what)));
  }
  return {};
}

}  // namespace

std::string PcrSelectionText(const PcrSelectionList& s) {
  std::string out;
  for (const auto& b : s) {
    if (!out.empty()) out += "+";
    out += crypto::HashAlgName(b.alg);
    out += ":";
    for (std::size_t i = 0; i < b.pcrs.size(); ++i) {
      if (i) out += ",";
      out += std::to_string(b.pcrs[i]);
    }
  }
  return out;
}

Result<PcrSelectionList> ParsePcrSelectionText(std::string_view text) {
  PcrSelectionList out;
  auto fail = [&](std::string what) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("PCR selection '{}': {} (expected e.g. sha256:0,1,2+sha1:all)",
                            text, what));
  };
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t plus = rest.find('+');
    std::string_view bank = rest.substr(0, plus);
    rest = plus == std::string_view::npos ? std::string_view() : rest.substr(plus + 1);
    const std::size_t colon = bank.find(':');
    if (colon == std::string_view::npos) return fail("a bank needs 'alg:pcrs'");
    const auto alg = crypto::HashAlgFromName(bank.substr(0, colon));
    if (!alg) return fail("unknown bank '" + std::string(bank.substr(0, colon)) + "'");
    PcrBankSelection sel{*alg, {}};
    std::string_view list = bank.substr(colon + 1);
    if (list == "all") {
      for (std::uint32_t i = 0; i < 24; ++i) sel.pcrs.push_back(i);
    } else {
      while (!list.empty()) {
        const std::size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        std::uint32_t v = 0;
        auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (ec != std::errc() || p != item.data() + item.size() || v >= 24) {
          return fail("bad PCR index '" + std::string(item) + "'");
        }
        sel.pcrs.push_back(v);
      }
      std::sort(sel.pcrs.begin(), sel.pcrs.end());
      sel.pcrs.erase(std::unique(sel.pcrs.begin(), sel.pcrs.end()), sel.pcrs.end());
    }
    out.push_back(std::move(sel));
  }
  if (out.empty()) return fail("empty");
  return out;
}

// TPML_PCR_SELECTION, Part 2, 10.9.7; TPMS_PCR_SELECTION, 10.6.2.
Result<PcrSelectionList> ReadPcrSelectionList(ByteReader& in) {
  const std::size_t at = in.offset();
  TC_ASSIGN_OR_RETURN(const std::uint32_t count, in.U32Be());
  if (count > kMaxPcrSelections) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("TPML_PCR_SELECTION count {} at offset {} exceeds {}", count, at,
                            kMaxPcrSelections));
  }
  PcrSelectionList out;
  for (std::uint32_t i = 0; i < count; ++i) {
    TC_ASSIGN_OR_RETURN(const crypto::HashAlg alg, ReadHashAlg(in, "PCR selection"));
    const std::size_t size_at = in.offset();
    TC_ASSIGN_OR_RETURN(const std::uint8_t size, in.U8());
    if (size > kMaxSizeofSelect) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("sizeofSelect {} at offset {} exceeds {}", size, size_at,
                              kMaxSizeofSelect));
    }
    TC_ASSIGN_OR_RETURN(auto bits, in.Bytes(size));
    PcrBankSelection sel{alg, {}};
    for (std::uint32_t pcr = 0; pcr < 8u * size; ++pcr) {
      if (bits[pcr / 8] & (1u << (pcr % 8))) sel.pcrs.push_back(pcr);
    }
    out.push_back(std::move(sel));
  }
  return out;
}

Result<Attest> ParseAttest(std::span<const std::uint8_t> bytes) {
  ByteReader in(bytes);
  Attest a;
  auto parse = [&]() -> Result<void> {
    TC_ASSIGN_OR_RETURN(a.magic, in.U32Be());
    TC_ASSIGN_OR_RETURN(a.type, in.U16Be());
    TC_ASSIGN_OR_RETURN(a.qualified_signer, ReadTpm2b(in, kMaxBufferSize));
    TC_ASSIGN_OR_RETURN(a.extra_data, ReadTpm2b(in, kMaxBufferSize));
    TC_ASSIGN_OR_RETURN(a.clock_info.clock, in.U64Be());
    TC_ASSIGN_OR_RETURN(a.clock_info.reset_count, in.U32Be());
    TC_ASSIGN_OR_RETURN(a.clock_info.restart_count, in.U32Be());
    const std::size_t safe_at = in.offset();
    TC_ASSIGN_OR_RETURN(const std::uint8_t safe, in.U8());
    if (safe > 1) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("clockInfo.safe {} at offset {} is not a TPMI_YES_NO", safe,
                              safe_at));
    }
    a.clock_info.safe = safe == 1;
    TC_ASSIGN_OR_RETURN(a.firmware_version, in.U64Be());
    if (a.type == kStAttestQuote) {
      TC_ASSIGN_OR_RETURN(a.quote_selection, ReadPcrSelectionList(in));
      TC_ASSIGN_OR_RETURN(a.quote_pcr_digest, ReadTpm2b(in, kMaxBufferSize));
      TC_RETURN_IF_ERROR(ExpectEnd(in, "TPMS_ATTEST"));
    } else {
      in.Rest();  // another attestation type: not parsed further
    }
    return {};
  };
  if (auto r = parse(); !r) return Fail(std::move(r).error().Wrap("TPMS_ATTEST"));
  return a;
}

Result<Signature> ParseSignature(std::span<const std::uint8_t> bytes) {
  ByteReader in(bytes);
  Signature s;
  auto parse = [&]() -> Result<void> {
    const std::size_t at = in.offset();
    TC_ASSIGN_OR_RETURN(s.sig_alg, in.U16Be());
    switch (s.sig_alg) {
      case alg::kRsaSsa:
      case alg::kRsaPss: {
        TC_ASSIGN_OR_RETURN(s.hash, ReadHashAlg(in, "signature"));
        TC_ASSIGN_OR_RETURN(s.rsa, ReadTpm2b(in, kMaxRsaKeyBytes));
        break;
      }
      case alg::kEcdsa: {
        TC_ASSIGN_OR_RETURN(s.hash, ReadHashAlg(in, "signature"));
        TC_ASSIGN_OR_RETURN(s.ecdsa_r, ReadTpm2b(in, kMaxEccCoordinate));
        TC_ASSIGN_OR_RETURN(s.ecdsa_s, ReadTpm2b(in, kMaxEccCoordinate));
        break;
      }
      default:
        return Fail(ErrorCode::kUnsupported,
                    fmt::format("signature scheme 0x{:04x} at offset {} (RSASSA, RSAPSS "
                                "and ECDSA are supported)",
                                s.sig_alg, at));
    }
    return ExpectEnd(in, "TPMT_SIGNATURE");
  };
  if (auto r = parse(); !r) return Fail(std::move(r).error().Wrap("TPMT_SIGNATURE"));
  return s;
}

namespace {

// TPMT_SYM_DEF_OBJECT (Part 2, 11.1.7): algorithm, then keyBits and mode
// unless it is TPM_ALG_NULL.
Result<void> SkipSymDefObject(ByteReader& in) {
  TC_ASSIGN_OR_RETURN(const std::uint16_t sym, in.U16Be());
  if (sym != alg::kNull) TC_RETURN_IF_ERROR(in.Skip(4));
  return {};
}

// TPMT_RSA_SCHEME / TPMT_ECC_SCHEME (11.2.4.2, 11.2.5.6): scheme, then
// details: a hash for every scheme but NULL and RSAES (ECDAA adds a count).
Result<void> ReadScheme(ByteReader& in, PublicArea& p) {
  TC_ASSIGN_OR_RETURN(p.scheme, in.U16Be());
  if (p.scheme == alg::kNull || p.scheme == kRsaEs) return {};
  TC_ASSIGN_OR_RETURN(p.scheme_hash, ReadHashAlg(in, "key scheme"));
  if (p.scheme == kEcdaa) TC_RETURN_IF_ERROR(in.Skip(2));
  return {};
}

Result<void> ParseTpmtPublic(ByteReader& in, PublicArea& p) {
  const std::size_t at = in.offset();
  TC_ASSIGN_OR_RETURN(p.type, in.U16Be());
  TC_ASSIGN_OR_RETURN(p.name_alg, ReadHashAlg(in, "nameAlg"));
  TC_ASSIGN_OR_RETURN(p.object_attributes, in.U32Be());
  TC_ASSIGN_OR_RETURN(p.auth_policy, ReadTpm2b(in, crypto::kMaxDigestSize));
  switch (p.type) {
    case alg::kRsa: {  // TPMS_RSA_PARMS, 12.2.3.5
      TC_RETURN_IF_ERROR(SkipSymDefObject(in));
      TC_RETURN_IF_ERROR(ReadScheme(in, p));
      TC_ASSIGN_OR_RETURN(p.rsa_key_bits, in.U16Be());
      TC_ASSIGN_OR_RETURN(p.rsa_exponent, in.U32Be());
      TC_ASSIGN_OR_RETURN(p.rsa_modulus, ReadTpm2b(in, kMaxRsaKeyBytes));
      if (p.rsa_modulus.empty()) return Fail(in.MalformedHere("empty RSA modulus"));
      return {};
    }
    case alg::kEcc: {  // TPMS_ECC_PARMS, 12.2.3.6
      TC_RETURN_IF_ERROR(SkipSymDefObject(in));
      TC_RETURN_IF_ERROR(ReadScheme(in, p));
      TC_ASSIGN_OR_RETURN(p.ecc_curve, in.U16Be());
      TC_ASSIGN_OR_RETURN(const std::uint16_t kdf, in.U16Be());
      if (kdf != alg::kNull) TC_RETURN_IF_ERROR(in.Skip(2));
      TC_ASSIGN_OR_RETURN(p.ecc_x, ReadTpm2b(in, kMaxEccCoordinate));
      TC_ASSIGN_OR_RETURN(p.ecc_y, ReadTpm2b(in, kMaxEccCoordinate));
      return {};
    }
    default:
      return Fail(ErrorCode::kUnsupported,
                  fmt::format("key type 0x{:04x} at offset {} (RSA and ECC keys are "
                              "supported)",
                              p.type, at));
  }
}

}  // namespace

Result<PublicArea> ParsePublic2b(std::span<const std::uint8_t> bytes) {
  ByteReader in(bytes);
  PublicArea p;
  auto parse = [&]() -> Result<void> {
    TC_ASSIGN_OR_RETURN(auto area, in.SizedBytesU16Be(bytes.size()));
    TC_RETURN_IF_ERROR(ExpectEnd(in, "TPM2B_PUBLIC"));
    ByteReader t(area, 2);
    TC_RETURN_IF_ERROR(ParseTpmtPublic(t, p));
    TC_RETURN_IF_ERROR(ExpectEnd(t, "TPMT_PUBLIC"));
    p.marshaled.assign(area.begin(), area.end());
    return {};
  };
  if (auto r = parse(); !r) return Fail(std::move(r).error().Wrap("TPM2B_PUBLIC"));
  return p;
}

Result<Bytes> ObjectName(const PublicArea& p) {
  TC_ASSIGN_OR_RETURN(const crypto::Digest h, crypto::Hash(p.name_alg, p.marshaled));
  Bytes name = {static_cast<std::uint8_t>(static_cast<std::uint16_t>(p.name_alg) >> 8),
                static_cast<std::uint8_t>(static_cast<std::uint16_t>(p.name_alg) & 0xFF)};
  name.insert(name.end(), h.bytes().begin(), h.bytes().end());
  return name;
}

}  // namespace tc::tpm
