#include "tc/tpm/sealed_file.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "tc/base/byte_reader.h"
#include "tc/crypto/hash.h"
#include "tc/pcr/pcr_values.h"

namespace tc::tpm {
namespace {

constexpr std::array<std::uint8_t, 8> kMagic = {'T', 'C', 'S', 'E', 'A', 'L', 'E', 'D'};
constexpr std::uint16_t kVersion = 1;

void PutU16Be(Bytes& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>((v >> 8) & 0xFF));
  out.push_back(static_cast<std::uint8_t>(v & 0xFF));
}

Result<void> CheckBlob(const Bytes& blob, std::string_view what) {
  if (blob.empty() || blob.size() > kMaxSealedBlobSize) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("sealed object: {} of {} bytes (1..{})", what, blob.size(),
                            kMaxSealedBlobSize));
  }
  return {};
}

Result<Bytes> ReadBlob(ByteReader& in, std::string_view what) {
  const std::size_t at = in.offset();
  TC_ASSIGN_OR_RETURN(const std::uint16_t size, in.U16Be());
  if (size == 0 || size > kMaxSealedBlobSize) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("{} size {} out of range (1..{}) at offset {}", what, size,
                            kMaxSealedBlobSize, at));
  }
  TC_ASSIGN_OR_RETURN(const auto bytes, in.Bytes(size));
  return Bytes(bytes.begin(), bytes.end());
}

}  // namespace

Result<Bytes> SerializeSealedObject(const SealedObject& sealed) {
  TC_RETURN_IF_ERROR(CheckBlob(sealed.public_2b, "public part"));
  TC_RETURN_IF_ERROR(CheckBlob(sealed.private_2b, "private part"));
  // Banks in first-seen order, PCRs sorted and merged.
  std::vector<std::pair<crypto::HashAlg, std::set<std::uint32_t>>> banks;
  for (const PcrSelection& sel : sealed.pcrs) {
    auto it = std::find_if(banks.begin(), banks.end(),
                           [&](const auto& b) { return b.first == sel.alg; });
    if (it == banks.end()) it = banks.insert(banks.end(), {sel.alg, {}});
    for (std::uint32_t p : sel.pcrs) {
      if (p >= pcr::kNumPcrs) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("sealed object: PCR {} out of range (0..{})", p,
                                pcr::kNumPcrs - 1));
      }
      it->second.insert(p);
    }
  }
  std::erase_if(banks, [](const auto& b) { return b.second.empty(); });
  if (banks.empty() || banks.size() > kMaxSealedBanks) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("sealed object: {} PCR banks with PCRs (1..{})", banks.size(),
                            kMaxSealedBanks));
  }
  Bytes out(kMagic.begin(), kMagic.end());
  PutU16Be(out, kVersion);
  out.push_back(static_cast<std::uint8_t>(banks.size()));
  for (const auto& [alg, pcrs] : banks) {
    PutU16Be(out, static_cast<std::uint16_t>(alg));
    out.push_back(static_cast<std::uint8_t>(pcrs.size()));
    for (std::uint32_t p : pcrs) out.push_back(static_cast<std::uint8_t>(p));
  }
  PutU16Be(out, sealed.public_2b.size());
  out.insert(out.end(), sealed.public_2b.begin(), sealed.public_2b.end());
  PutU16Be(out, sealed.private_2b.size());
  out.insert(out.end(), sealed.private_2b.begin(), sealed.private_2b.end());
  return out;
}

Result<SealedObject> ParseSealedObject(std::span<const std::uint8_t> file) {
  if (file.size() > kMaxSealedFileSize) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("sealed object file of {} bytes (at most {})", file.size(),
                            kMaxSealedFileSize));
  }
  ByteReader in(file);
  TC_ASSIGN_OR_RETURN(const auto magic, in.Bytes(kMagic.size()));
  if (!std::equal(magic.begin(), magic.end(), kMagic.begin())) {
    return Fail(ErrorCode::kMalformed,
                "not a trustchain sealed object file (no TCSEALED magic)");
  }
  TC_ASSIGN_OR_RETURN(const std::uint16_t version, in.U16Be());
  if (version != kVersion) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("sealed object file version {} (this trustchain reads {})",
                            version, kVersion));
  }
  SealedObject sealed;
  const std::size_t banks_at = in.offset();
  TC_ASSIGN_OR_RETURN(const std::uint8_t banks, in.U8());
  if (banks == 0 || banks > kMaxSealedBanks) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("bank count {} out of range (1..{}) at offset {}", banks,
                            kMaxSealedBanks, banks_at));
  }
  for (std::uint8_t b = 0; b < banks; ++b) {
    const std::size_t alg_at = in.offset();
    TC_ASSIGN_OR_RETURN(const std::uint16_t alg_id, in.U16Be());
    const auto alg = crypto::HashAlgFromTpmId(alg_id);
    if (!alg) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("unknown hash 0x{:04x} at offset {}", alg_id, alg_at));
    }
    for (const PcrSelection& seen : sealed.pcrs) {
      if (seen.alg == *alg) {
        return Fail(ErrorCode::kMalformed,
                    fmt::format("bank {} given twice at offset {}",
                                crypto::HashAlgName(*alg), alg_at));
      }
    }
    const std::size_t count_at = in.offset();
    TC_ASSIGN_OR_RETURN(const std::uint8_t count, in.U8());
    if (count == 0 || count > pcr::kNumPcrs) {
      return Fail(ErrorCode::kMalformed,
                  fmt::format("PCR count {} out of range (1..{}) at offset {}", count,
                              pcr::kNumPcrs, count_at));
    }
    PcrSelection sel{*alg, {}};
    for (std::uint8_t i = 0; i < count; ++i) {
      const std::size_t pcr_at = in.offset();
      TC_ASSIGN_OR_RETURN(const std::uint8_t p, in.U8());
      if (p >= pcr::kNumPcrs || (!sel.pcrs.empty() && p <= sel.pcrs.back())) {
        return Fail(ErrorCode::kMalformed,
                    fmt::format("PCR {} out of range or out of order at offset {}", p,
                                pcr_at));
      }
      sel.pcrs.push_back(p);
    }
    sealed.pcrs.push_back(std::move(sel));
  }
  TC_ASSIGN_OR_RETURN(sealed.public_2b, ReadBlob(in, "public part"));
  TC_ASSIGN_OR_RETURN(sealed.private_2b, ReadBlob(in, "private part"));
  if (!in.empty()) {
    return Fail(in.MalformedHere(fmt::format("{} trailing bytes", in.remaining())));
  }
  return sealed;
}

}  // namespace tc::tpm
