#pragma once

// IMA file signatures: the `sig` field of ima-sig entries, which is the
// file's security.ima extended attribute (Linux security/integrity/
// integrity.h, struct signature_v2_hdr; ima-evm-utils writes it):
//
//   u8 type (3 = EVM_IMA_XATTR_DIGSIG) | u8 version (2) | u8 hash_algo
//   (include/uapi/linux/hash_info.h) | be32 key id | be16 size | signature
//
// A version 2 signature is over the file digest itself, with the key's
// scheme: RSASSA-PKCS1 v1.5 or ECDSA (the kernel's asymmetric_verify). The
// key id is the last 4 bytes of the key's subject key identifier.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tc/base/error.h"
#include "tc/crypto/hash.h"
#include "tc/crypto/signature.h"
#include "tc/ima/entry.h"

namespace tc::ima {

struct ImaSignature {
  std::uint8_t type = 0;
  std::uint8_t version = 0;
  std::uint8_t hash_algo = 0;              // the kernel's enum hash_algo
  std::optional<crypto::HashAlg> alg;      // when it is one we know
  std::uint32_t key_id = 0;
  std::span<const std::uint8_t> signature;
};

// kMalformed naming the byte offset within the field.
[[nodiscard]] Result<ImaSignature> ParseImaSignature(std::span<const std::uint8_t> field);

// Keys trusted to sign files (the kernel's .ima keyring).
class ImaKeyring {
 public:
  void Add(crypto::VerifyKey key) { keys_.push_back(std::move(key)); }
  bool empty() const { return keys_.empty(); }
  std::size_t size() const { return keys_.size(); }

  enum class Result { kValid, kInvalid, kUnknownKey, kUnsupported };
  struct Outcome {
    Result result;
    std::string detail;  // for people: which key, or why not
  };
  // Checks an entry's `sig` field against its file digest.
  Outcome Check(const std::optional<FileDigest>& digest,
                std::span<const std::uint8_t> signature_field) const;

 private:
  std::vector<crypto::VerifyKey> keys_;
};

}  // namespace tc::ima
