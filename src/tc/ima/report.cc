#include "tc/ima/report.h"

#include <fmt/format.h>

#include "tc/base/hex.h"

namespace tc::ima {
namespace {

std::string DigestText(const FileDigest& d) {
  return fmt::format("{}{}:{}", d.type.empty() ? "" : PrintableAscii(AsBytes(d.type)) + ":",
                     d.alg_name.empty() ? "sha1" : PrintableAscii(AsBytes(d.alg_name)),
                     ToHex(d.bytes));
}

std::string Path(const ImaEntry& e) { return e.path ? PrintableAscii(AsBytes(*e.path)) : ""; }

std::string_view FormatName(ListFormat f) { return f == ListFormat::kBinary ? "binary" : "ascii"; }

doc::Value PcrMap(const pcr::PcrValues& values) {
  doc::Value banks = doc::Value::MakeObject();
  for (const auto& [alg, pcrs] : values.banks) {
    doc::Value bank = doc::Value::MakeObject();
    for (const auto& [index, value] : pcrs) bank.Set(std::to_string(index), value.Hex());
    banks.Set(std::string(crypto::HashAlgName(alg)), std::move(bank));
  }
  return banks;
}

std::string PrefixText(bool given, const std::optional<std::size_t>& prefix,
                       std::size_t total_end) {
  if (!given) return "";
  if (!prefix) {
    return "PCR 10: MISMATCH: no prefix of the list replays to the quoted value (the list is not "
           "what the TPM measured, or the TPM is ahead of it: read the list again after the "
           "quote)\n";
  }
  if (*prefix == total_end) {
    return fmt::format("PCR 10: match after all {} entries\n", *prefix);
  }
  return fmt::format(
      "PCR 10: match after entry {} of {} ({} later entries are not covered by the quote and "
      "were not checked)\n",
      *prefix, total_end, total_end - *prefix);
}

}  // namespace

std::string_view TemplateCheckName(TemplateCheck c) {
  switch (c) {
    case TemplateCheck::kOk: return "ok";
    case TemplateCheck::kViolation: return "violation";
    case TemplateCheck::kMismatch: return "mismatch";
    case TemplateCheck::kUncheckable: return "uncheckable";
  }
  return "?";
}

doc::Value EntryDocument(const ImaEntry& e, crypto::HashAlg list_alg, TemplateCheck check) {
  doc::Value v = doc::Value::MakeObject();
  v.Set("index", e.index);
  if (e.line > 0) v.Set("line", e.line);
  v.Set("offset", e.offset);
  v.Set("pcr", e.pcr);
  v.Set("template", PrintableAscii(AsBytes(e.template_name)));
  v.Set("template_hash", fmt::format("{}:{}", crypto::HashAlgName(list_alg), ToHex(e.template_digest)));
  v.Set("template_check", TemplateCheckName(check));
  if (e.digest) v.Set("digest", DigestText(*e.digest));
  if (e.path) v.Set("path", Path(e));
  if (!e.signature.empty()) v.Set("signature", ToHex(e.signature));
  if (!e.buffer.empty()) v.Set("buffer", ToHex(e.buffer));
  if (e.modsig_digest) v.Set("modsig_digest", DigestText(*e.modsig_digest));
  if (!e.modsig.empty()) v.Set("modsig", ToHex(e.modsig));
  return v;
}

std::string EntryText(const ImaEntry& e, TemplateCheck check) {
  std::string out = fmt::format("{:>7} {:>2} {} {} {}", e.index, e.pcr,
                                PrintableAscii(AsBytes(e.template_name)),
                                e.digest ? DigestText(*e.digest) : "-", Path(e));
  if (!e.signature.empty()) out += fmt::format(" sig:{}B", e.signature.size());
  if (!e.buffer.empty()) {
    out += e.buffer.size() <= 64 ? " buf:" + ToHex(e.buffer)
                                 : fmt::format(" buf:{}B", e.buffer.size());
  }
  if (check == TemplateCheck::kViolation) out += "  [violation: extended as ff..ff]";
  if (check == TemplateCheck::kMismatch) out += "  [TEMPLATE HASH MISMATCH]";
  if (check == TemplateCheck::kUncheckable) out += "  [template hash not checkable from ascii]";
  out += '\n';
  return out;
}

doc::Value SummaryDocument(const StreamSummary& s, const CheckCounts& c) {
  doc::Value v = doc::Value::MakeObject();
  v.Set("format", FormatName(s.format));
  if (s.format == ListFormat::kBinary) {
    v.Set("byte_order", s.byte_order == ByteOrder::kBig ? "big-endian" : "little-endian");
  }
  v.Set("template_hash_alg", crypto::HashAlgName(s.template_hash_alg));
  v.Set("entries", s.entries);
  doc::Value checks = doc::Value::MakeObject();
  checks.Set("ok", c.ok);
  checks.Set("violation", c.violation);
  checks.Set("mismatch", c.mismatch);
  checks.Set("uncheckable", c.uncheckable);
  v.Set("template_checks", std::move(checks));
  if (s.trailing) v.Set("trailing", *s.trailing);
  return v;
}

std::string SummaryText(const StreamSummary& s, const CheckCounts& c) {
  std::string out = fmt::format(
      "{} list ({}{} template digests): {} entries; template digests: {} ok, {} violations "
      "(extended as ff..ff), {} MISMATCH{}\n",
      FormatName(s.format),
      s.format == ListFormat::kBinary
          ? (s.byte_order == ByteOrder::kBig ? "big-endian, " : "little-endian, ")
          : "",
      crypto::HashAlgName(s.template_hash_alg), s.entries, c.ok, c.violation, c.mismatch,
      c.uncheckable ? fmt::format(", {} not checkable from ascii", c.uncheckable) : "");
  if (s.trailing) out += fmt::format("note: {}; ignored (--strict refuses it)\n", *s.trailing);
  return out;
}

doc::Value ReplayDocument(const ReplayReport& r) {
  doc::Value v = SummaryDocument(*r.summary, r.checks);
  v.Set("banks", PcrMap(r.values));
  if (r.quote_given) {
    doc::Value q = doc::Value::MakeObject();
    q.Set("quoted", PcrMap(r.quoted));
    q.Set("match", r.matched_prefix.has_value());
    q.Set("matched_prefix", r.matched_prefix ? doc::Value(*r.matched_prefix) : doc::Value());
    v.Set("pcr10", std::move(q));
  }
  v.Set("note", kTrustNote);
  return v;
}

std::string ReplayText(const ReplayReport& r) {
  std::string out = SummaryText(*r.summary, r.checks);
  for (const auto& [alg, pcrs] : r.values.banks) {
    for (const auto& [index, value] : pcrs) {
      out += fmt::format("{:<7} PCR {:>2}: {}\n", crypto::HashAlgName(alg), index, value.Hex());
    }
  }
  out += PrefixText(r.quote_given, r.matched_prefix, r.entries);
  return out;
}

doc::Value VerifyDocument(const VerifyResult& r, bool policy_given) {
  doc::Value v = doc::Value::MakeObject();
  v.Set("verdict", !r.ok() ? "untrusted" : r.quote_given ? "trusted" : "unattested");
  v.Set("entries", r.entries_checked);
  v.Set("entries_read", r.entries_read);
  v.Set("first_entry", r.first_entry);
  v.Set("unattested", r.unattested);
  doc::Value list = doc::Value::MakeArray();
  for (const Violation& x : r.violations) {
    doc::Value o = doc::Value::MakeObject();
    o.Set("entry", x.entry);
    if (x.line > 0) o.Set("line", x.line);
    o.Set("offset", x.offset);
    o.Set("path", x.path);
    o.Set("expected", x.expected);
    o.Set("measured", x.measured);
    o.Set("reason", FindingName(x.finding));
    o.Set("detail", x.detail);
    list.Push(std::move(o));
  }
  v.Set("violations", std::move(list));
  v.Set("violations_total", r.violations_total);
  v.Set("measurement_violations", r.measurement_violations);
  if (policy_given) {
    doc::Value p = doc::Value::MakeObject();
    p.Set("allowed", r.allowed);
    p.Set("excluded", r.excluded);
    v.Set("policy", std::move(p));
  }
  v.Set("signatures_verified", r.signed_valid);
  doc::Value pcr10 = doc::Value::MakeObject();
  pcr10.Set("replayed", PcrMap(r.replayed));
  if (r.quote_given) {
    pcr10.Set("quoted", PcrMap(r.quoted));
    pcr10.Set("match", r.matched_prefix.has_value());
    pcr10.Set("matched_prefix", r.matched_prefix ? doc::Value(*r.matched_prefix) : doc::Value());
  }
  v.Set("pcr10", std::move(pcr10));
  if (r.boot_aggregate) {
    const BootAggregateCheck& b = *r.boot_aggregate;
    doc::Value o = doc::Value::MakeObject();
    o.Set("match", b.match);
    o.Set("measured", b.measured);
    o.Set("expected", b.expected);
    if (!b.source.empty()) o.Set("source", b.source);
    if (b.match) o.Set("pcrs", b.pcrs);
    else o.Set("reason", b.reason);
    v.Set("boot_aggregate", std::move(o));
  }
  v.Set("list", SummaryDocument(r.stream, r.checks));
  return v;
}

std::string VerifyText(const VerifyResult& r, bool policy_given) {
  std::string out;
  out += fmt::format("{} list, {} template digests, entries {}-{} read\n",
                     FormatName(r.stream.format), crypto::HashAlgName(r.stream.template_hash_alg),
                     r.first_entry, r.first_entry + r.entries_read);
  if (r.stream.trailing) out += fmt::format("note: {}; ignored\n", *r.stream.trailing);
  out += PrefixText(r.quote_given, r.matched_prefix, r.first_entry + r.entries_read);
  if (!r.quote_given) {
    out += "PCR 10: not compared (no --pcr10/--pcrs): the entries are checked for consistency "
           "and policy but not proven by a TPM\n";
  }
  if (r.boot_aggregate) {
    const BootAggregateCheck& b = *r.boot_aggregate;
    out += b.match ? fmt::format("boot_aggregate: match ({} PCRs {}{})\n", b.bank, b.pcrs,
                                 b.source.empty() ? "" : ", " + b.source)
                   : fmt::format("boot_aggregate: MISMATCH: {}\n  measured {}\n  expected {}\n",
                                 b.reason, b.measured, b.expected);
  }
  if (policy_given) {
    out += fmt::format("policy: {} allowed, {} excluded\n", r.allowed, r.excluded);
  }
  if (r.signed_valid > 0) {
    out += fmt::format("file signatures verified: {}\n", r.signed_valid);
  }
  if (r.measurement_violations > 0) {
    out += fmt::format("IMA violations (all-zero template digests): {}\n", r.measurement_violations);
  }
  for (const Violation& x : r.violations) {
    out += fmt::format("VIOLATION {} entry {}{} {}: {}\n", FindingName(x.finding), x.entry,
                       x.line > 0 ? fmt::format(" (line {})", x.line)
                                  : fmt::format(" (offset {})", x.offset),
                       x.path.empty() ? "-" : x.path, x.detail);
    if (!x.expected.empty()) out += fmt::format("  expected {}\n", x.expected);
    if (!x.measured.empty()) out += fmt::format("  measured {}\n", x.measured);
  }
  if (r.violations_total > r.violations.size()) {
    out += fmt::format("... and {} more violations\n", r.violations_total - r.violations.size());
  }
  out += fmt::format("verdict: {} ({} entries checked{})\n",
                     !r.ok()          ? "UNTRUSTED"
                     : r.quote_given  ? "trusted"
                                      : "unattested: every check holds, but no quoted PCR 10 "
                                        "proves the list",
                     r.entries_checked,
                     r.unattested ? fmt::format(", {} after the quoted prefix not checked",
                                                r.unattested)
                                  : "");
  return out;
}

}  // namespace tc::ima
