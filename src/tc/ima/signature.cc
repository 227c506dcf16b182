#include "tc/ima/signature.h"

#include <algorithm>

#include <fmt/format.h>

#include "tc/base/byte_reader.h"

namespace tc::ima {
namespace {

constexpr std::uint8_t kDigsig = 3;      // EVM_IMA_XATTR_DIGSIG
constexpr std::uint8_t kVersion2 = 2;    // DIGSIG_VERSION_2

// include/uapi/linux/hash_info.h
std::optional<crypto::HashAlg> KernelHashAlgo(std::uint8_t id) {
  switch (id) {
    case 2: return crypto::HashAlg::kSha1;
    case 4: return crypto::HashAlg::kSha256;
    case 5: return crypto::HashAlg::kSha384;
    case 6: return crypto::HashAlg::kSha512;
    case 17: return crypto::HashAlg::kSm3_256;
    default: return std::nullopt;
  }
}

}  // namespace

Result<ImaSignature> ParseImaSignature(std::span<const std::uint8_t> field) {
  ByteReader r(field);
  ImaSignature s;
  const auto wrap = [](Error e) { return Fail(std::move(e).Wrap("IMA signature")); };
  auto header = r.Bytes(3);
  if (!header) return wrap(header.error());
  s.type = (*header)[0];
  s.version = (*header)[1];
  s.hash_algo = (*header)[2];
  s.alg = KernelHashAlgo(s.hash_algo);
  if (s.type != kDigsig || s.version != kVersion2) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("IMA signature type {} version {} (only digsig version 2 is checked)",
                            s.type, s.version));
  }
  auto key_id = r.U32Be();
  if (!key_id) return wrap(key_id.error());
  s.key_id = *key_id;
  auto sig = r.SizedBytesU16Be(field.size());
  if (!sig) return wrap(sig.error());
  s.signature = *sig;
  if (!r.empty()) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("IMA signature: {} bytes after the signature at offset {}",
                            r.remaining(), r.offset()));
  }
  return s;
}

ImaKeyring::Outcome ImaKeyring::Check(const std::optional<FileDigest>& digest,
                                      std::span<const std::uint8_t> field) const {
  auto sig = ParseImaSignature(field);
  if (!sig) {
    return {sig.error().code() == ErrorCode::kUnsupported ? Result::kUnsupported : Result::kInvalid,
            sig.error().message()};
  }
  if (!digest || !digest->alg) return {Result::kInvalid, "the entry has no file digest to check"};
  if (!sig->alg || *sig->alg != *digest->alg) {
    return {Result::kInvalid,
            fmt::format("the signature's hash algorithm ({}) is not the file digest's ({})",
                        sig->hash_algo, crypto::HashAlgName(*digest->alg))};
  }
  bool known = false;
  for (const crypto::VerifyKey& key : keys_) {
    const bool id_matches = std::any_of(key.key_ids().begin(), key.key_ids().end(), [&](const Bytes& id) {
      if (id.size() < 4) return false;
      const std::size_t n = id.size();
      const std::uint32_t low = (std::uint32_t{id[n - 4]} << 24) | (std::uint32_t{id[n - 3]} << 16) |
                                (std::uint32_t{id[n - 2]} << 8) | std::uint32_t{id[n - 1]};
      return low == sig->key_id;
    });
    if (!id_matches) continue;
    known = true;
    if (key.VerifyDigest(*digest->alg, digest->bytes, sig->signature).has_value()) {
      return {Result::kValid, fmt::format("signed by {}", key.description())};
    }
  }
  if (!known) {
    return {Result::kUnknownKey, fmt::format("signed by key id {:08x}, which is not a trusted key",
                                             sig->key_id)};
  }
  return {Result::kInvalid,
          fmt::format("the signature by key id {:08x} does not verify", sig->key_id)};
}

}  // namespace tc::ima
