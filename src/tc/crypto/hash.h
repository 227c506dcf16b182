#pragma once

// Hash algorithms by their TPM 2.0 identifiers (TPM 2.0 Library Part 2,
// 6.3 TPM_ALG_ID) and one-shot / incremental hashing through OpenSSL EVP.
// All functions are thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tc/base/error.h"
#include "tc/base/hex.h"

namespace tc::crypto {

enum class HashAlg : std::uint16_t {
  kSha1 = 0x0004,
  kSha256 = 0x000B,
  kSha384 = 0x000C,
  kSha512 = 0x000D,
  kSm3_256 = 0x0012,
};

inline constexpr std::size_t kMaxDigestSize = 64;

// Call once at the start of a program (apps only), before any other use of
// OpenSSL: skips the system openssl.cnf and the exit-time cleanup.
void InitForProcess();

// Every algorithm we know, in TPM_ALG_ID order.
std::span<const HashAlg> AllHashAlgs();

std::optional<HashAlg> HashAlgFromTpmId(std::uint16_t id);
// "sha1", "sha256", "sha384", "sha512", "sm3_256" (also "sm3").
std::optional<HashAlg> HashAlgFromName(std::string_view name);
// The algorithm whose digests have this many bytes, if exactly one does
// among sha1/sha256/sha384/sha512 (sm3_256 shares sha256's size; we infer
// sha256).
std::optional<HashAlg> HashAlgFromDigestSize(std::size_t size);
std::string_view HashAlgName(HashAlg alg);
std::size_t DigestSize(HashAlg alg);

// A digest with its algorithm; fixed storage, no allocation.
class Digest {
 public:
  Digest() = default;
  // A digest of all zero bytes.
  explicit Digest(HashAlg alg);
  // bytes.size() must equal DigestSize(alg) (TC_CHECK).
  Digest(HashAlg alg, std::span<const std::uint8_t> bytes);

  HashAlg alg() const { return alg_; }
  std::span<const std::uint8_t> bytes() const { return {bytes_.data(), size_}; }
  std::span<std::uint8_t> mutable_bytes() { return {bytes_.data(), size_}; }
  std::size_t size() const { return size_; }
  std::string Hex() const { return ToHex(bytes()); }
  // "sha256:3fc9..." (the algorithm's name, a colon, lowercase hex): how
  // policies, reports and Keylime-style lists write a digest.
  std::string TaggedHex() const;
  // Parses TaggedHex's form; kInvalidArgument naming the text when the
  // algorithm is unknown or the hex is not a digest of its size.
  [[nodiscard]] static Result<Digest> FromTaggedHex(std::string_view text);

  friend bool operator==(const Digest& a, const Digest& b) {
    return a.alg_ == b.alg_ && a.size_ == b.size_ &&
           std::equal(a.bytes_.begin(), a.bytes_.begin() + a.size_,
                      b.bytes_.begin());
  }

 private:
  HashAlg alg_ = HashAlg::kSha256;
  std::uint8_t size_ = 0;
  std::array<std::uint8_t, kMaxDigestSize> bytes_{};
};

// Fails with kUnsupported when this OpenSSL lacks the algorithm (sm3 on
// some builds).
[[nodiscard]] Result<Digest> Hash(HashAlg alg, std::span<const std::uint8_t> data);

// True when this OpenSSL build can compute alg.
bool HashAvailable(HashAlg alg);

// Incremental hashing. Not copyable.
class Hasher {
 public:
  [[nodiscard]] static Result<Hasher> Create(HashAlg alg);
  Hasher(Hasher&& other) noexcept;
  Hasher& operator=(Hasher&& other) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  ~Hasher();

  void Update(std::span<const std::uint8_t> data);
  // Finishes and resets for reuse.
  Digest Final();

 private:
  Hasher(HashAlg alg, void* ctx) : alg_(alg), ctx_(ctx) {}
  HashAlg alg_;
  void* ctx_;  // EVP_MD_CTX*
};

// new = H(old || data), the TPM2_PCR_Extend operation (TPM 2.0 Library
// Part 1, 17.2). data.size() may be anything; for PCR extends it is a digest
// of the same algorithm.
[[nodiscard]] Result<void> ExtendDigest(Digest& pcr,
                                        std::span<const std::uint8_t> data);

}  // namespace tc::crypto
