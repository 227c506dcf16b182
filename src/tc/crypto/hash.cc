// See LowLevelHash below: must precede every OpenSSL header.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "tc/crypto/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
// The SHA family is computed with OpenSSL's low-level SHA*_Init/Update/Final
// functions, deprecated in 3.0 but present in every 3.x. Going through EVP
// costs a short-lived process ~0.3 ms for OpenSSL's first fetch (it builds
// the name map of every legacy algorithm), a third of `eventlog show` on a
// typical log, and a context allocation per hash. SM3 and Hasher use EVP.
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <atomic>

namespace tc::crypto {
namespace {

constexpr std::array<HashAlg, 5> kAll = {HashAlg::kSha1, HashAlg::kSha256,
                                         HashAlg::kSha384, HashAlg::kSha512,
                                         HashAlg::kSm3_256};

const char* EvpName(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1: return "SHA1";
    case HashAlg::kSha256: return "SHA256";
    case HashAlg::kSha384: return "SHA384";
    case HashAlg::kSha512: return "SHA512";
    case HashAlg::kSm3_256: return "SM3";
  }
  return "";
}

std::size_t Index(HashAlg alg) {
  for (std::size_t i = 0; i < kAll.size(); ++i) {
    if (kAll[i] == alg) return i;
  }
  TC_CHECK(false);
}

// Fetched on first use, per algorithm: each fetch costs startup time, and a
// short-lived CLI process should pay only for the banks its input has.
// EVP_MD objects are immutable and thread-safe once fetched.
const EVP_MD* Md(HashAlg alg) {
  static std::array<std::atomic<EVP_MD*>, 5> mds{};
  static std::array<std::atomic<bool>, 5> tried{};
  const std::size_t i = Index(alg);
  EVP_MD* md = mds[i].load(std::memory_order_acquire);
  if (md != nullptr || tried[i].load(std::memory_order_acquire)) return md;
  md = EVP_MD_fetch(nullptr, EvpName(alg), nullptr);
  EVP_MD* expected = nullptr;
  if (md != nullptr && !mds[i].compare_exchange_strong(expected, md)) {
    EVP_MD_free(md);  // another thread won the race
    md = expected;
  }
  tried[i].store(true, std::memory_order_release);
  return md;
}

template <class Ctx>
void ShaRun(int (*init)(Ctx*), int (*update)(Ctx*, const void*, std::size_t),
            int (*final)(unsigned char*, Ctx*), std::span<const std::uint8_t> a,
            std::span<const std::uint8_t> b, std::uint8_t* out) {
  Ctx c;
  init(&c);
  update(&c, a.data(), a.size());
  if (!b.empty()) update(&c, b.data(), b.size());
  final(out, &c);
}

// H(a || b) into out for the SHA family; false for other algorithms.
bool LowLevelHash(HashAlg alg, std::span<const std::uint8_t> a,
                  std::span<const std::uint8_t> b, std::uint8_t* out) {
  switch (alg) {
    case HashAlg::kSha1:
      ShaRun<SHA_CTX>(SHA1_Init, SHA1_Update, SHA1_Final, a, b, out);
      return true;
    case HashAlg::kSha256:
      ShaRun<SHA256_CTX>(SHA256_Init, SHA256_Update, SHA256_Final, a, b, out);
      return true;
    case HashAlg::kSha384:
      ShaRun<SHA512_CTX>(SHA384_Init, SHA384_Update, SHA384_Final, a, b, out);
      return true;
    case HashAlg::kSha512:
      ShaRun<SHA512_CTX>(SHA512_Init, SHA512_Update, SHA512_Final, a, b, out);
      return true;
    case HashAlg::kSm3_256:
      return false;
  }
  return false;
}

}  // namespace

void InitForProcess() {
  // The system's openssl.cnf is not read: trustchain's results must not
  // depend on it. No atexit cleanup: the process is ending anyway, and
  // freeing every provider table costs a short-lived command noticeable time.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, nullptr);
}

namespace {

Error Unavailable(HashAlg alg) {
  return Error(ErrorCode::kUnsupported,
               std::string("hash algorithm ") + std::string(HashAlgName(alg)) +
                   " is not available in this OpenSSL build");
}

}  // namespace

std::span<const HashAlg> AllHashAlgs() { return kAll; }

std::optional<HashAlg> HashAlgFromTpmId(std::uint16_t id) {
  for (HashAlg a : kAll) {
    if (static_cast<std::uint16_t>(a) == id) return a;
  }
  return std::nullopt;
}

std::optional<HashAlg> HashAlgFromName(std::string_view name) {
  for (HashAlg a : kAll) {
    if (HashAlgName(a) == name) return a;
  }
  if (name == "sm3") return HashAlg::kSm3_256;
  return std::nullopt;
}

std::optional<HashAlg> HashAlgFromDigestSize(std::size_t size) {
  switch (size) {
    case 20: return HashAlg::kSha1;
    case 32: return HashAlg::kSha256;
    case 48: return HashAlg::kSha384;
    case 64: return HashAlg::kSha512;
    default: return std::nullopt;
  }
}

std::string_view HashAlgName(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1: return "sha1";
    case HashAlg::kSha256: return "sha256";
    case HashAlg::kSha384: return "sha384";
    case HashAlg::kSha512: return "sha512";
    case HashAlg::kSm3_256: return "sm3_256";
  }
  return "unknown";
}

std::size_t DigestSize(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1: return 20;
    case HashAlg::kSha256: return 32;
    case HashAlg::kSha384: return 48;
    case HashAlg::kSha512: return 64;
    case HashAlg::kSm3_256: return 32;
  }
  return 0;
}

Digest::Digest(HashAlg alg)
    : alg_(alg), size_(static_cast<std::uint8_t>(DigestSize(alg))) {}

std::string Digest::TaggedHex() const {
  return std::string(HashAlgName(alg_)) + ":" + Hex();
}

Result<Digest> Digest::FromTaggedHex(std::string_view text) {
  const auto colon = text.find(':');
  const auto alg = colon == std::string_view::npos ? std::nullopt
                                                   : HashAlgFromName(text.substr(0, colon));
  if (!alg) {
    return Fail(ErrorCode::kInvalidArgument,
                "'" + std::string(text.substr(0, 80)) + "' is not ALG:HEX (e.g. sha256:3fc9...)");
  }
  Digest d(*alg);
  if (!DecodeHex(text.substr(colon + 1), d.mutable_bytes())) {
    return Fail(ErrorCode::kInvalidArgument,
                "'" + std::string(text.substr(0, 80)) + "': expected " +
                    std::to_string(d.size()) + " bytes of hex after '" +
                    std::string(text.substr(0, colon)) + ":'");
  }
  return d;
}

Digest::Digest(HashAlg alg, std::span<const std::uint8_t> bytes) : Digest(alg) {
  TC_CHECK(bytes.size() == size_);
  std::copy(bytes.begin(), bytes.end(), bytes_.begin());
}

bool HashAvailable(HashAlg alg) {
  return alg != HashAlg::kSm3_256 || Md(alg) != nullptr;
}

Result<Digest> Hash(HashAlg alg, std::span<const std::uint8_t> data) {
  Digest out(alg);
  if (LowLevelHash(alg, data, {}, out.mutable_bytes().data())) return out;
  const EVP_MD* md = Md(alg);
  if (md == nullptr) return Fail(Unavailable(alg));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.mutable_bytes().data(), &len, md,
                 nullptr) != 1 ||
      len != out.size()) {
    return Fail(ErrorCode::kInternal, "EVP_Digest failed");
  }
  return out;
}

Result<Hasher> Hasher::Create(HashAlg alg) {
  const EVP_MD* md = Md(alg);
  if (md == nullptr) return Fail(Unavailable(alg));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, md, nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return Fail(ErrorCode::kInternal, "EVP_DigestInit_ex failed");
  }
  return Hasher(alg, ctx);
}

Hasher::Hasher(Hasher&& other) noexcept : alg_(other.alg_), ctx_(other.ctx_) {
  other.ctx_ = nullptr;
}

Hasher& Hasher::operator=(Hasher&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
    alg_ = other.alg_;
    ctx_ = other.ctx_;
    other.ctx_ = nullptr;
  }
  return *this;
}

Hasher::~Hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Hasher::Update(std::span<const std::uint8_t> data) {
  TC_CHECK(EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(),
                            data.size()) == 1);
}

Digest Hasher::Final() {
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  Digest out(alg_);
  unsigned int len = 0;
  TC_CHECK(EVP_DigestFinal_ex(ctx, out.mutable_bytes().data(), &len) == 1);
  TC_CHECK(len == out.size());
  TC_CHECK(EVP_DigestInit_ex(ctx, nullptr, nullptr) == 1);
  return out;
}

Result<void> ExtendDigest(Digest& pcr, std::span<const std::uint8_t> data) {
  std::array<std::uint8_t, kMaxDigestSize> old{};
  std::copy(pcr.bytes().begin(), pcr.bytes().end(), old.begin());
  if (LowLevelHash(pcr.alg(), std::span<const std::uint8_t>(old.data(), pcr.size()), data,
                   pcr.mutable_bytes().data())) {
    return {};
  }
  const EVP_MD* md = Md(pcr.alg());
  if (md == nullptr) return Fail(Unavailable(pcr.alg()));
  // H(old || data) without allocating.
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return Fail(ErrorCode::kInternal, "EVP_MD_CTX_new failed");
  unsigned int len = 0;
  const bool ok = EVP_DigestInit_ex(ctx, md, nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, pcr.bytes().data(), pcr.size()) == 1 &&
                  EVP_DigestUpdate(ctx, data.data(), data.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, pcr.mutable_bytes().data(), &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || len != pcr.size()) {
    return Fail(ErrorCode::kInternal, "PCR extend hash failed");
  }
  return {};
}

}  // namespace tc::crypto
