#include "tc/tpm/ak_file.h"

#include <fmt/format.h>

#include "tc/base/byte_reader.h"
#include "tc/tpm/marshal.h"

namespace tc::tpm {
namespace {

constexpr std::string_view kMagic = "TCAK";
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kMaxBlob = 4096;

void PutU16(Bytes& b, std::size_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

}  // namespace

std::string_view KeyAlgName(KeyAlg alg) { return alg == KeyAlg::kRsa2048 ? "rsa" : "ecc"; }

Result<KeyAlg> ParseKeyAlg(std::string_view name) {
  if (name == "rsa" || name == "rsa2048") return KeyAlg::kRsa2048;
  if (name == "ecc" || name == "ecc256" || name == "ecc_nist_p256") return KeyAlg::kEccP256;
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("key algorithm '{}': use rsa (RSA-2048) or ecc (NIST P-256)", name));
}

Bytes SerializeAk(const AttestationKey& ak) {
  Bytes out(kMagic.begin(), kMagic.end());
  out.push_back(kVersion);
  out.push_back(ak.alg == KeyAlg::kRsa2048 ? 0 : 1);
  out.push_back(ak.parent == KeyAlg::kRsa2048 ? 0 : 1);
  out.push_back(ak.persistent_handle ? 1 : 0);
  const std::uint32_t h = ak.persistent_handle.value_or(0);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(h >> shift));
  PutU16(out, ak.public_2b.size());
  out.insert(out.end(), ak.public_2b.begin(), ak.public_2b.end());
  PutU16(out, ak.private_2b.size());
  out.insert(out.end(), ak.private_2b.begin(), ak.private_2b.end());
  return out;
}

Result<AttestationKey> ParseAk(std::span<const std::uint8_t> bytes) {
  ByteReader in(bytes);
  AttestationKey ak;
  auto parse = [&]() -> Result<void> {
    TC_ASSIGN_OR_RETURN(auto magic, in.Bytes(kMagic.size()));
    if (!std::equal(magic.begin(), magic.end(), kMagic.begin(),
                    [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); })) {
      return Fail(ErrorCode::kMalformed, "not a trustchain AK file (no TCAK magic at offset 0)");
    }
    TC_ASSIGN_OR_RETURN(const std::uint8_t version, in.U8());
    if (version != kVersion) {
      return Fail(ErrorCode::kUnsupported, fmt::format("AK file version {}", version));
    }
    TC_ASSIGN_OR_RETURN(const std::uint8_t alg, in.U8());
    TC_ASSIGN_OR_RETURN(const std::uint8_t parent, in.U8());
    TC_ASSIGN_OR_RETURN(const std::uint8_t persistent, in.U8());
    if (alg > 1 || parent > 1 || persistent > 1) {
      return Fail(ErrorCode::kMalformed, "bad algorithm or flag byte at offset 5..7");
    }
    ak.alg = alg == 0 ? KeyAlg::kRsa2048 : KeyAlg::kEccP256;
    ak.parent = parent == 0 ? KeyAlg::kRsa2048 : KeyAlg::kEccP256;
    TC_ASSIGN_OR_RETURN(const std::uint32_t handle, in.U32Be());
    if (persistent) ak.persistent_handle = handle;
    const std::size_t pub_at = in.offset();
    TC_ASSIGN_OR_RETURN(auto pub, in.SizedBytesU16Be(kMaxBlob));
    TC_ASSIGN_OR_RETURN(auto priv, in.SizedBytesU16Be(kMaxBlob));
    if (!in.empty()) return Fail(in.MalformedHere("bytes after the AK"));
    ak.public_2b.assign(pub.begin(), pub.end());
    ak.private_2b.assign(priv.begin(), priv.end());
    if (persistent == 0 && ak.private_2b.empty()) {
      return Fail(ErrorCode::kMalformed, "a non-persistent AK needs its private blob");
    }
    auto area = ParsePublic2b(ak.public_2b);
    if (!area) return Fail(std::move(area).error().Wrap(fmt::format("offset {}", pub_at)));
    TC_ASSIGN_OR_RETURN(ak.name, ObjectName(*area));
    return {};
  };
  if (auto r = parse(); !r) return Fail(std::move(r).error().Wrap("AK file"));
  return ak;
}

}  // namespace tc::tpm
