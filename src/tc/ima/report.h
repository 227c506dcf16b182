#pragma once

// What `trustchain ima show | replay | verify` print: a document (rendered
// as JSON or YAML by tc/doc) and a text view for people from the same facts.
// `show` streams, one entry at a time, so that a list of any length prints
// in bounded memory.

#include <cstddef>
#include <string>

#include "tc/doc/value.h"
#include "tc/ima/entry.h"
#include "tc/ima/parser.h"
#include "tc/ima/replay.h"
#include "tc/ima/verify.h"

namespace tc::ima {

inline constexpr std::string_view kTrustNote =
    "entries are unverified until the replay of PCR 10 equals a value the TPM quoted "
    "(--pcr10); a template digest that checks proves only that the entry is self-consistent";

std::string_view TemplateCheckName(TemplateCheck c);  // "ok", "violation", ...

// One entry: {"index", "line"|"offset", "pcr", "template", "template_hash",
// "template_check", "digest", "path", ["signature"], ["buffer"]}.
doc::Value EntryDocument(const ImaEntry& e, crypto::HashAlg list_alg, TemplateCheck check);
// One line for people: "  12 10 ima-ng sha256:ab.. /usr/bin/bash".
std::string EntryText(const ImaEntry& e, TemplateCheck check);

// The list's summary after reading: format, byte order, bank, entries,
// trailing bytes, template checks.
doc::Value SummaryDocument(const StreamSummary& s, const CheckCounts& checks);
std::string SummaryText(const StreamSummary& s, const CheckCounts& checks);

// `replay`: {"format", "entries", "template_checks", "banks": {bank: {pcr:
// hex}}, ["pcr10": {"quoted", "matched_prefix", "match"}]}.
struct ReplayReport {
  const StreamSummary* summary = nullptr;
  CheckCounts checks;
  pcr::PcrValues values;
  bool quote_given = false;
  pcr::PcrValues quoted;
  std::optional<std::size_t> matched_prefix;
  std::size_t entries = 0;
};
doc::Value ReplayDocument(const ReplayReport& r);
std::string ReplayText(const ReplayReport& r);

// `verify`: {"verdict", "entries", "violations": [{"entry", "line",
// "offset", "path", "expected", "measured", "reason", "detail"}], ...}.
doc::Value VerifyDocument(const VerifyResult& r, bool policy_given);
std::string VerifyText(const VerifyResult& r, bool policy_given);

}  // namespace tc::ima
