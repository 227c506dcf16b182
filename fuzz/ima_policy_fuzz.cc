// libFuzzer target: the Keylime runtime policy loader, the sha256sum digest
// list reader, the IMA checkpoint parser and the IMA signature header
// parser, and a check of one entry against what they load.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tc/ima/allowlist.h"
#include "tc/ima/keylime_policy.h"
#include "tc/ima/replay.h"
#include "tc/ima/signature.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tc::ima;
  const std::span<const std::uint8_t> bytes(data, size);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t last = 0;
  auto policy = LoadKeylimePolicy(bytes, [&](std::size_t offset) {
    if (offset < last || offset > size) __builtin_trap();  // consumed offsets only grow
    last = offset;
  });
  static const std::uint8_t kDigest[32] = {1, 2, 3};
  ImaEntry e;
  e.path = "/usr/bin/bash";
  e.template_name = "ima-ng";
  FileDigest d;
  d.alg_name = "sha256";
  d.alg = tc::crypto::HashAlg::kSha256;
  d.bytes = kDigest;
  e.digest = d;
  if (policy) (void)policy->allowlist.Check(e);
  Allowlist list;
  if (LoadDigestList(text, list)) (void)list.Check(e);
  (void)Checkpoint::Parse(text);
  (void)ParseImaSignature(bytes);
  (void)ImaKeyring().Check(d, bytes);
  return 0;
}
