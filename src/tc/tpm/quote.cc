#include "tc/tpm/quote.h"

#include <fmt/format.h>

#include <algorithm>

namespace tc::tpm {

std::string_view QuoteCheckName(QuoteCheckId id) {
  switch (id) {
    case QuoteCheckId::kMagic: return "magic";
    case QuoteCheckId::kType: return "type";
    case QuoteCheckId::kAkAttributes: return "ak-attributes";
    case QuoteCheckId::kHashAlg: return "hash-alg";
    case QuoteCheckId::kSignature: return "signature";
    case QuoteCheckId::kNonce: return "nonce";
    case QuoteCheckId::kPcrSelection: return "pcr-selection";
    case QuoteCheckId::kPcrDigest: return "pcr-digest";
  }
  return "unknown";
}

bool QuoteVerdict::ok() const { return first_failure() == nullptr && !checks.empty(); }

const QuoteCheck* QuoteVerdict::first_failure() const {
  for (const QuoteCheck& c : checks) {
    if (!c.passed) return &c;
  }
  return nullptr;
}

namespace {

std::string Printable(const Bytes& b) {
  return IsPrintableAscii(b) ? "'" + PrintableAscii(b) + "'" : ToHex(b);
}

// The PCR values in the quoted selection's order (Part 3, 18.4.2).
Result<Bytes> ConcatenateSelected(const PcrSelectionList& selection,
                                  const pcr::PcrValues& values, std::string* missing) {
  Bytes out;
  for (const PcrBankSelection& bank : selection) {
    for (std::uint32_t pcr : bank.pcrs) {
      const crypto::Digest* d = values.Find(bank.alg, pcr);
      if (d == nullptr) {
        *missing = fmt::format("no value given for quoted {} PCR {}",
                               crypto::HashAlgName(bank.alg), pcr);
        return out;
      }
      out.insert(out.end(), d->bytes().begin(), d->bytes().end());
    }
  }
  return out;
}

}  // namespace

Result<QuoteVerdict> VerifyQuote(std::span<const std::uint8_t> attest_bytes,
                                 std::span<const std::uint8_t> signature_bytes,
                                 const PublicKey& ak, const QuoteExpectations& expect) {
  QuoteVerdict v;
  TC_ASSIGN_OR_RETURN(v.attest, ParseAttest(attest_bytes));
  TC_ASSIGN_OR_RETURN(v.signature, ParseSignature(signature_bytes));
  const Attest& a = v.attest;
  auto add = [&](QuoteCheckId id, bool passed, std::string detail) {
    v.checks.push_back({id, passed, std::move(detail)});
  };

  add(QuoteCheckId::kMagic, a.magic == kTpmGeneratedValue,
      a.magic == kTpmGeneratedValue
          ? "TPM_GENERATED_VALUE"
          : fmt::format("magic 0x{:08x} is not TPM_GENERATED_VALUE 0xff544347: not made by "
                        "a TPM",
                        a.magic));
  add(QuoteCheckId::kType, a.type == kStAttestQuote,
      a.type == kStAttestQuote
          ? "TPM_ST_ATTEST_QUOTE"
          : fmt::format("type 0x{:04x} is not TPM_ST_ATTEST_QUOTE 0x8018", a.type));
  if (const auto& area = ak.area()) {
    // TPMA_OBJECT (Part 2, 8.3): fixedTPM bit 1, restricted bit 16, sign bit 18.
    const bool fixed_tpm = (area->object_attributes & (1u << 1)) != 0;
    const bool good = area->restricted() && area->sign() && fixed_tpm;
    add(QuoteCheckId::kAkAttributes, good,
        good ? "restricted, sign, fixedTPM"
             : fmt::format("the AK's attributes 0x{:08x} lack {}{}{}: such a key can sign "
                           "a forged TPMS_ATTEST",
                           area->object_attributes, area->restricted() ? "" : "restricted ",
                           area->sign() ? "" : "sign ", fixed_tpm ? "" : "fixedTPM"));
  } else {
    v.skipped.push_back(
        "ak-attributes: a PEM key carries no TPM attributes; check that the AK is a "
        "restricted signing key where it was registered");
  }
  if (expect.hash_alg) {
    add(QuoteCheckId::kHashAlg, v.signature.hash == *expect.hash_alg,
        fmt::format("signed with {}, required {}", crypto::HashAlgName(v.signature.hash),
                    crypto::HashAlgName(*expect.hash_alg)));
  }
  auto verified = ak.Verify(attest_bytes, v.signature);
  if (!verified && verified.error().code() != ErrorCode::kVerificationFailed) {
    return Fail(std::move(verified).error());
  }
  add(QuoteCheckId::kSignature, verified.has_value(),
      verified ? fmt::format("{} {} signature by the {} AK",
                             v.signature.sig_alg == alg::kEcdsa ? "ECDSA"
                             : v.signature.sig_alg == alg::kRsaPss ? "RSAPSS"
                                                                   : "RSASSA",
                             crypto::HashAlgName(v.signature.hash), ak.Describe())
               : verified.error().message() + " (another AK, or altered bytes)");
  if (!expect.nonce) {
    v.skipped.push_back("nonce: no nonce given (-q): a replayed quote would pass");
  }
  if (expect.pcr_values == nullptr) {
    v.skipped.push_back("pcr-digest: no PCR values given (-f or --pcrs): any PCR state passes");
  }
  if (expect.nonce) {
    const bool same = a.extra_data == *expect.nonce;
    add(QuoteCheckId::kNonce, same,
        same ? "extraData equals the nonce"
             : fmt::format("extraData {} is not the nonce {}: a replayed or foreign quote",
                           Printable(a.extra_data), Printable(*expect.nonce)));
  }
  if (a.type == kStAttestQuote && (expect.pcr_selection || expect.pcr_values != nullptr)) {
    std::string why;
    std::size_t quoted = 0;
    for (const auto& b : a.quote_selection) quoted += b.pcrs.size();
    if (quoted == 0) {
      why = "the quote covers no PCR";
    } else if (expect.pcr_selection) {
      if (a.quote_selection != *expect.pcr_selection) {
        why = fmt::format("the quote covers {}, the PCR values are for {}",
                          PcrSelectionText(a.quote_selection),
                          PcrSelectionText(*expect.pcr_selection));
      }
    } else {
      // Every PCR the verifier gave a value for must be quoted.
      for (const auto& [alg, values] : expect.pcr_values->banks) {
        for (const auto& [index, digest] : values) {
          bool found = false;
          for (const auto& b : a.quote_selection) {
            if (b.alg == alg &&
                std::find(b.pcrs.begin(), b.pcrs.end(), index) != b.pcrs.end()) {
              found = true;
            }
          }
          if (!found && why.empty()) {
            why = fmt::format("the quote covers {} but not {} PCR {}, which the given "
                              "values expect",
                              PcrSelectionText(a.quote_selection), crypto::HashAlgName(alg),
                              index);
          }
        }
      }
    }
    add(QuoteCheckId::kPcrSelection, why.empty(),
        why.empty() ? PcrSelectionText(a.quote_selection) : why);
  }
  if (a.type == kStAttestQuote && expect.pcr_values != nullptr) {
    std::string missing;
    TC_ASSIGN_OR_RETURN(const Bytes concat,
                        ConcatenateSelected(a.quote_selection, *expect.pcr_values, &missing));
    if (!missing.empty()) {
      add(QuoteCheckId::kPcrDigest, false, missing);
    } else {
      TC_ASSIGN_OR_RETURN(const crypto::Digest d, crypto::Hash(v.signature.hash, concat));
      const bool same = std::equal(d.bytes().begin(), d.bytes().end(),
                                   a.quote_pcr_digest.begin(), a.quote_pcr_digest.end());
      add(QuoteCheckId::kPcrDigest, same,
          same ? fmt::format("pcrDigest {} matches {}", d.Hex(),
                             PcrSelectionText(a.quote_selection))
               : fmt::format("pcrDigest {} is not the {} of the given PCR values ({}): a "
                             "PCR changed",
                             ToHex(a.quote_pcr_digest), crypto::HashAlgName(v.signature.hash),
                             d.Hex()));
    }
  }
  return v;
}

namespace {
constexpr std::size_t kToolsSelectionCount = 16;       // HASH_COUNT in tpm2-tss
constexpr std::size_t kToolsSelectionSize = 8;         // TPMS_PCR_SELECTION, padded
constexpr std::size_t kToolsDigestsPerList = 8;        // TPML_DIGEST digests[8]
constexpr std::size_t kToolsDigestSize = 2 + 64;       // TPM2B_DIGEST in memory
constexpr std::size_t kToolsDigestListSize = 4 + kToolsDigestsPerList * kToolsDigestSize;
constexpr std::uint32_t kMaxToolsDigestLists = 16 * 24 / 8 + 1;
}  // namespace

Result<ToolsPcrFile> ParseToolsPcrFile(std::span<const std::uint8_t> bytes) {
  ByteReader in(bytes);
  ToolsPcrFile f;
  auto parse = [&]() -> Result<void> {
    const std::size_t at = in.offset();
    TC_ASSIGN_OR_RETURN(const std::uint32_t count, in.U32Le());
    if (count > kToolsSelectionCount) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("selection count {} at offset {} exceeds 16", count, at));
    }
    for (std::size_t i = 0; i < kToolsSelectionCount; ++i) {
      TC_ASSIGN_OR_RETURN(ByteReader sel, in.Sub(kToolsSelectionSize));
      if (i >= count) continue;
      TC_ASSIGN_OR_RETURN(const std::uint16_t id, sel.U16Le());
      const auto alg = crypto::HashAlgFromTpmId(id);
      if (!alg) return Fail(sel.MalformedHere(fmt::format("unknown bank 0x{:04x}", id)));
      TC_ASSIGN_OR_RETURN(const std::uint8_t size, sel.U8());
      if (size > kMaxSizeofSelect) return Fail(sel.MalformedHere("sizeofSelect above 4"));
      TC_ASSIGN_OR_RETURN(auto bits, sel.Bytes(size));
      PcrBankSelection b{*alg, {}};
      for (std::uint32_t pcr = 0; pcr < 8u * size; ++pcr) {
        if (bits[pcr / 8] & (1u << (pcr % 8))) b.pcrs.push_back(pcr);
      }
      f.selection.push_back(std::move(b));
    }
    const std::size_t lists_at = in.offset();
    TC_ASSIGN_OR_RETURN(const std::uint32_t lists, in.U32Le());
    if (lists > kMaxToolsDigestLists) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("digest list count {} at offset {} is absurd", lists, lists_at));
    }
    std::vector<crypto::Digest> digests;
    for (std::uint32_t l = 0; l < lists; ++l) {
      TC_ASSIGN_OR_RETURN(ByteReader list, in.Sub(kToolsDigestListSize));
      TC_ASSIGN_OR_RETURN(const std::uint32_t n, list.U32Le());
      if (n > kToolsDigestsPerList) return Fail(list.MalformedHere("TPML_DIGEST count above 8"));
      for (std::uint32_t k = 0; k < n; ++k) {
        TC_ASSIGN_OR_RETURN(ByteReader d, list.Sub(kToolsDigestSize));
        TC_ASSIGN_OR_RETURN(const std::uint16_t size, d.U16Le());
        if (size > 64) return Fail(d.MalformedHere("digest size above 64"));
        TC_ASSIGN_OR_RETURN(auto value, d.Bytes(size));
        const auto alg = crypto::HashAlgFromDigestSize(size);
        if (!alg) return Fail(d.MalformedHere(fmt::format("digest size {}", size)));
        digests.emplace_back(*alg, value);
      }
    }
    if (!in.empty()) return Fail(in.MalformedHere("bytes after the PCR file"));
    // Digests follow the selection order; each must fit its bank.
    std::size_t next = 0;
    for (const PcrBankSelection& b : f.selection) {
      for (std::uint32_t pcr : b.pcrs) {
        if (next == digests.size()) {
          return Fail(ErrorCode::kMalformed,
                      fmt::format("the PCR file has {} values for a selection of more",
                                  digests.size()));
        }
        if (crypto::DigestSize(b.alg) != digests[next].size()) {
          return Fail(ErrorCode::kMalformed,
                      fmt::format("value {} has {} bytes, not a {} digest", next,
                                  digests[next].size(), crypto::HashAlgName(b.alg)));
        }
        if (!f.values.banks[b.alg].emplace(pcr, crypto::Digest(b.alg, digests[next].bytes()))
                 .second) {
          return Fail(ErrorCode::kMalformed,
                      fmt::format("the selection lists {} PCR {} twice",
                                  crypto::HashAlgName(b.alg), pcr));
        }
        ++next;
      }
    }
    if (next != digests.size()) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("the PCR file has {} values for a selection of {}",
                              digests.size(), next));
    }
    return {};
  };
  if (auto r = parse(); !r) return Fail(std::move(r).error().Wrap("tpm2-tools PCR file"));
  return f;
}

Result<Bytes> SerializeToolsPcrFile(const PcrSelectionList& selection,
                                    const pcr::PcrValues& values) {
  if (selection.size() > kToolsSelectionCount) {
    return Fail(ErrorCode::kInvalidArgument, "more than 16 banks selected");
  }
  auto put32 = [](Bytes& b, std::size_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  Bytes out;
  put32(out, selection.size());
  std::vector<const crypto::Digest*> digests;
  for (std::size_t i = 0; i < kToolsSelectionCount; ++i) {
    Bytes sel(kToolsSelectionSize, 0);
    if (i < selection.size()) {
      const PcrBankSelection& b = selection[i];
      sel[0] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(b.alg));
      sel[1] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(b.alg) >> 8);
      sel[2] = 3;  // sizeofSelect
      for (std::uint32_t pcr : b.pcrs) {
        if (pcr >= 24) return Fail(ErrorCode::kInvalidArgument, "PCR index above 23");
        sel[3 + pcr / 8] = static_cast<std::uint8_t>(sel[3 + pcr / 8] | (1u << (pcr % 8)));
        const crypto::Digest* d = values.Find(b.alg, pcr);
        if (d == nullptr) {
          return Fail(ErrorCode::kInvalidArgument,
                      fmt::format("no value for {} PCR {}", crypto::HashAlgName(b.alg), pcr));
        }
        digests.push_back(d);
      }
    }
    out.insert(out.end(), sel.begin(), sel.end());
  }
  const std::size_t lists = (digests.size() + kToolsDigestsPerList - 1) / kToolsDigestsPerList;
  put32(out, lists);
  for (std::size_t l = 0; l < lists; ++l) {
    const std::size_t n = std::min(kToolsDigestsPerList, digests.size() - l * kToolsDigestsPerList);
    put32(out, n);
    for (std::size_t k = 0; k < kToolsDigestsPerList; ++k) {
      Bytes entry(kToolsDigestSize, 0);
      if (k < n) {
        const crypto::Digest* d = digests[l * kToolsDigestsPerList + k];
        entry[0] = static_cast<std::uint8_t>(d->size());
        std::copy(d->bytes().begin(), d->bytes().end(), entry.begin() + 2);
      }
      out.insert(out.end(), entry.begin(), entry.end());
    }
  }
  return out;
}

Result<ToolsPcrFile> ParseToolsPcrValues(std::span<const std::uint8_t> bytes,
                                         const PcrSelectionList& selection) {
  ToolsPcrFile f;
  f.selection = selection;
  ByteReader in(bytes);
  for (const PcrBankSelection& b : selection) {
    for (std::uint32_t pcr : b.pcrs) {
      auto d = in.Bytes(crypto::DigestSize(b.alg));
      if (!d) {
        return Fail(ErrorCode::kMalformed,
                    fmt::format("PCR values file: {} bytes do not hold the values of {}",
                                bytes.size(), PcrSelectionText(selection)));
      }
      if (!f.values.banks[b.alg].emplace(pcr, crypto::Digest(b.alg, *d)).second) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("PCR selection lists {} PCR {} twice", crypto::HashAlgName(b.alg),
                                pcr));
      }
    }
  }
  if (!in.empty()) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("PCR values file: {} bytes left after the values of {}",
                            in.remaining(), PcrSelectionText(selection)));
  }
  return f;
}

}  // namespace tc::tpm
