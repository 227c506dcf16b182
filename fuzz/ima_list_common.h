#pragma once

// Shared body of the IMA list fuzz targets: parse every entry, replay it in
// two banks against a quoted value, check it against a small allowlist and
// render it, as `trustchain ima verify` and `show` do.

#include <cstddef>
#include <cstdint>

#include "tc/base/byte_source.h"
#include "tc/doc/value.h"
#include "tc/ima/allowlist.h"
#include "tc/ima/parser.h"
#include "tc/ima/report.h"
#include "tc/ima/verify.h"

namespace tc::fuzz {

inline void FuzzImaList(const std::uint8_t* data, std::size_t size, ima::ListFormat format) {
  const std::span<const std::uint8_t> bytes(data, size);
  ima::ParseOptions parse;
  parse.format = format;
  parse.strict = size % 2 == 0;
  if (size % 3 == 0) parse.template_hash_alg = crypto::HashAlg::kSha256;
  {
    SpanSource source(bytes);
    ima::EntryStream stream(source, parse);
    ima::ImaEntry e;
    while (true) {
      auto more = stream.Next(&e);
      if (!more || !*more) break;
      (void)doc::ToJson(ima::EntryDocument(e, stream.summary().template_hash_alg,
                                           ima::TemplateCheck::kOk));
      (void)ima::EntryText(e, ima::TemplateCheck::kOk);
    }
  }
  ima::Allowlist allow;
  allow.AllowDigest("boot_aggregate", std::span<const std::uint8_t>(bytes.data(), std::min<std::size_t>(size, 32)));
  (void)allow.AddExcludeRegex("/tmp/.*");
  allow.AllowKeyringDigest(".ima", std::span<const std::uint8_t>(bytes.data(), std::min<std::size_t>(size, 20)));
  SpanSource source(bytes);
  ima::VerifyOptions options;
  options.parse = parse;
  options.banks = {crypto::HashAlg::kSha1, crypto::HashAlg::kSha256};
  options.allowlist = &allow;
  options.max_violations = 4;
  pcr::PcrValues quoted;
  quoted.banks[crypto::HashAlg::kSha256][10] = crypto::Digest(crypto::HashAlg::kSha256);
  options.quoted = quoted;
  pcr::PcrValues firmware;
  firmware.banks[crypto::HashAlg::kSha256][0] = crypto::Digest(crypto::HashAlg::kSha256);
  options.firmware = firmware;
  auto result = ima::Verify(source, options);
  if (result) {
    (void)doc::ToJson(ima::VerifyDocument(*result, true));
    (void)ima::VerifyText(*result, true);
    if (result->checkpoint) {
      auto again = ima::Checkpoint::Parse(result->checkpoint->Serialize());
      if (!again) __builtin_trap();  // our own checkpoint must parse
    }
  }
}

}  // namespace tc::fuzz
