#include "tc/eventlog/report.h"

#include <fmt/format.h>

#include <map>

#include "tc/eventlog/decode.h"

namespace tc::eventlog {
namespace {

std::string_view DataCheckName(DataCheck c) {
  switch (c) {
    case DataCheck::kNotApplicable: return "not-applicable";
    case DataCheck::kMatches: return "matches";
    case DataCheck::kMatchesPart: return "matches-part";
    case DataCheck::kMismatch: return "mismatch";
  }
  return "unknown";
}

std::string PcrLabel(const EventLog& log, std::uint32_t pcr) {
  if (pcr == 0xFFFFFFFFu) return "-1";
  if (log.register_kind() == RegisterKind::kTdxMr) {
    return pcr == 0 ? "MRTD" : fmt::format("RTMR{}", pcr - 1);
  }
  return std::to_string(pcr);
}

doc::Value QuirksDocument(const EventLog& log) {
  doc::Value list = doc::Value::MakeArray();
  for (const Quirk& q : log.quirks()) {
    doc::Value v = doc::Value::MakeObject();
    const QuirkInfo& info = GetQuirkInfo(q.id);
    v.Set("name", info.name);
    v.Set("offset", q.offset);
    v.Set("event", q.event_index ? doc::Value(*q.event_index) : doc::Value());
    v.Set("detail", q.detail);
    v.Set("handling", info.handling);
    list.Push(std::move(v));
  }
  return list;
}

doc::Value LogHeader(const EventLog& log) {
  doc::Value v = doc::Value::MakeObject();
  v.Set("format", LogFormatName(log.format()));
  v.Set("register_kind", RegisterKindName(log.register_kind()));
  v.Set("size", log.size_bytes());
  doc::Value banks = doc::Value::MakeArray();
  for (auto alg : log.banks()) banks.Push(crypto::HashAlgName(alg));
  v.Set("banks", std::move(banks));
  v.Set("event_count", log.events().size());
  v.Set("startup_locality", log.startup_locality()
                                ? doc::Value(static_cast<int>(*log.startup_locality()))
                                : doc::Value());
  return v;
}

const std::map<const RawEvent*, crypto::HashAlg> VerifiedIndex(const Verification* v) {
  std::map<const RawEvent*, crypto::HashAlg> out;
  if (v == nullptr) return out;
  for (const auto& e : v->verified) out.emplace(e.event, e.bank);
  return out;
}

doc::Value ComparisonDocument(const Verification& v) {
  doc::Value c = doc::Value::MakeObject();
  c.Set("all_match", v.AllMatch());
  c.Set("matches", v.matches);
  c.Set("mismatches", v.mismatches);
  doc::Value list = doc::Value::MakeArray();
  for (const PcrCheck& k : v.checks) {
    doc::Value e = doc::Value::MakeObject();
    e.Set("bank", crypto::HashAlgName(k.alg));
    e.Set("pcr", k.pcr);
    e.Set("status", PcrStatusName(k.status));
    e.Set("replayed", k.replayed.Hex());
    e.Set("reported", k.reported.Hex());
    list.Push(std::move(e));
  }
  c.Set("pcrs", std::move(list));
  return c;
}

std::string QuirksText(const EventLog& log) {
  std::string out;
  for (const Quirk& q : log.quirks()) out += "  " + q.Describe() + "\n";
  return out;
}

std::string ComparisonText(const Verification& v) {
  std::string out;
  if (v.banks_compared == 0) {
    return "No bank of the reported PCR values is in this log: nothing compared.\n";
  }
  for (const PcrCheck& k : v.checks) {
    switch (k.status) {
      case PcrStatus::kMatch:
        out += fmt::format("  {:<7} PCR {:>2}  match     {}\n", crypto::HashAlgName(k.alg),
                           k.pcr, k.replayed.Hex());
        break;
      case PcrStatus::kMismatch:
      case PcrStatus::kIncomplete:
        out += fmt::format("  {:<7} PCR {:>2}  {}  replayed {}\n{:29}reported {}\n",
                           crypto::HashAlgName(k.alg), k.pcr,
                           k.status == PcrStatus::kMismatch ? "MISMATCH" : "INCOMPLETE",
                           k.replayed.Hex(), "", k.reported.Hex());
        break;
      case PcrStatus::kNotInLog:
        out += fmt::format("  {:<7} PCR {:>2}  not in log (reported {}; extended by "
                           "something this log does not record)\n",
                           crypto::HashAlgName(k.alg), k.pcr, k.reported.Hex());
        break;
      case PcrStatus::kEventsMissing:
        out += fmt::format("  {:<7} PCR {:>2}  EVENTS MISSING: reported {}, but the log has "
                           "no event for this firmware PCR\n",
                           crypto::HashAlgName(k.alg), k.pcr, k.reported.Hex());
        break;
    }
  }
  if (v.matches == 0 && v.mismatches == 0) {
    return out + "No PCR the log records was reported: nothing was verified.\n";
  }
  out += v.AllMatch()
             ? fmt::format("All {} compared PCRs match: for those PCRs the log's "
                           "digests are what the TPM reported.\n",
                           v.matches)
             : fmt::format("{} PCR(s) do not match: this log is not what the TPM "
                           "measured (or the PCR values are from another boot).\n",
                           v.mismatches);
  return out;
}

}  // namespace

doc::Value ShowDocument(const ShowInput& in) {
  const EventLog& log = *in.log;
  doc::Value root = LogHeader(log);
  root.Set("trust", kTrustNote);
  const auto verified = VerifiedIndex(in.verification);
  doc::Value events = doc::Value::MakeArray();
  doc::Value mismatches = doc::Value::MakeArray();
  for (const RawEvent& e : log.events()) {
    doc::Value v = doc::Value::MakeObject();
    v.Set("index", e.index);
    v.Set("offset", e.offset);
    v.Set("pcr", e.pcr == 0xFFFFFFFFu ? doc::Value(-1) : doc::Value(e.pcr));
    v.Set("type", EventTypeName(e.type));
    v.Set("type_value", e.type);
    doc::Value digests = doc::Value::MakeObject();
    for (const auto& d : e.digests) digests.Set(std::string(crypto::HashAlgName(d.alg())), d.Hex());
    v.Set("digests", std::move(digests));
    v.Set("extended", IsExtended(e));
    const EventDataCheck check = CheckEventData(e);
    v.Set("data_check", DataCheckName(check.result));
    if (in.verification != nullptr) {
      auto it = verified.find(&e);
      v.Set("verified", it != verified.end());
    }
    v.Set("data_size", e.data.size());
    v.Set("data", DecodeEventData(e.type, e.pcr, e.data));
    events.Push(std::move(v));
    if (check.result == DataCheck::kMismatch) {
      doc::Value m = doc::Value::MakeObject();
      m.Set("event", e.index);
      m.Set("offset", e.offset);
      m.Set("type", EventTypeName(e.type));
      m.Set("rule", check.rule);
      m.Set("bank", crypto::HashAlgName(check.logged->alg()));
      m.Set("logged", check.logged->Hex());
      m.Set("computed", check.computed ? doc::Value(check.computed->Hex()) : doc::Value());
      mismatches.Push(std::move(m));
    }
  }
  root.Set("events", std::move(events));
  root.Set("quirks", QuirksDocument(log));
  root.Set("digest_mismatches", std::move(mismatches));
  if (in.verification != nullptr) {
    root.Set("comparison", ComparisonDocument(*in.verification));
  }
  return root;
}

std::string ShowText(const ShowInput& in) {
  const EventLog& log = *in.log;
  std::string out;
  std::string banks;
  for (auto alg : log.banks()) {
    if (!banks.empty()) banks += ",";
    banks += crypto::HashAlgName(alg);
  }
  out += fmt::format("{} log, {} event(s), {} bytes, banks {}{}{}\n",
                     LogFormatName(log.format()), log.events().size(), log.size_bytes(),
                     banks,
                     log.register_kind() == RegisterKind::kTdxMr
                         ? ", TDX CCEL (indices are measurement registers)"
                         : "",
                     log.startup_locality()
                         ? fmt::format(", StartupLocality {}", *log.startup_locality())
                         : "");
  out += fmt::format("Note: {}.\n\n", kTrustNote);

  // The digest column shows the strongest bank (the longest digest).
  crypto::HashAlg shown = log.banks().front();
  for (crypto::HashAlg b : log.banks()) {
    if (crypto::DigestSize(b) > crypto::DigestSize(shown)) shown = b;
  }
  const auto verified = VerifiedIndex(in.verification);
  const bool proving = in.verification != nullptr;
  out += fmt::format("{:>4} {:>5}  {:<33} {:<16}  {:<4} {}{}\n", "#", "PCR", "TYPE",
                     fmt::format("{} (prefix)", crypto::HashAlgName(shown)), "DATA",
                     proving ? "PCR  " : "", "CONTENT");
  for (const RawEvent& e : log.events()) {
    const crypto::Digest* d = e.DigestFor(shown);
    std::string_view data_mark;
    switch (CheckEventData(e).result) {
      case DataCheck::kMatches: data_mark = "ok"; break;
      case DataCheck::kMatchesPart: data_mark = "part"; break;
      case DataCheck::kMismatch: data_mark = "BAD"; break;
      case DataCheck::kNotApplicable: data_mark = "-"; break;
    }
    std::string_view pcr_mark;
    if (proving) pcr_mark = !IsExtended(e) ? "-    " : verified.count(&e) != 0 ? "yes  " : "NO   ";
    std::string digest = d != nullptr ? d->Hex().substr(0, 16) : "(none)";
    if (!IsExtended(e)) digest = "(not extended)";
    out += fmt::format("{:>4} {:>5}  {:<33} {:<16}  {:<4} {}{}\n", e.index, PcrLabel(log, e.pcr),
                       EventTypeName(e.type), digest, data_mark, pcr_mark,
                       SummarizeEventData(e.type, e.pcr, e.data));
  }
  out += "\nDATA: ok = the digest is the hash of the data shown, part = of the variable's "
         "data only (its name and GUID are not covered), BAD = it is not, - = the digest "
         "covers something outside the log.\n";
  if (proving) {
    out += "PCR: yes = the digest is proven by a matching reported PCR, NO = its PCR "
           "does not match or was not reported.\n";
  }
  if (!log.quirks().empty()) {
    out += fmt::format("\nQuirks ({}; accepted, --strict rejects them):\n", log.quirks().size());
    out += QuirksText(log);
  }
  const auto mismatches = FindDigestMismatches(log);
  if (!mismatches.empty()) {
    out += fmt::format("\nDigest mismatches ({}): the data shown is not what was measured\n",
                       mismatches.size());
    for (const auto& m : mismatches) {
      out += fmt::format("  event {} at offset {} ({}): {} logged {}, {} gives {}\n",
                         m.event_index, m.offset,
                         EventTypeName(log.events()[m.event_index].type),
                         crypto::HashAlgName(m.check.logged->alg()), m.check.logged->Hex(),
                         m.check.rule, m.check.computed ? m.check.computed->Hex() : "?");
    }
  }
  if (in.verification != nullptr) {
    out += "\nReplay against the reported PCR values:\n" + ComparisonText(*in.verification);
  }
  return out;
}

doc::Value ReplayDocument(const ReplayInput& in) {
  doc::Value root = doc::Value::MakeObject();
  doc::Value banks = doc::Value::MakeObject();
  for (const auto& [alg, values] : in.replay->pcrs.banks) {
    doc::Value b = doc::Value::MakeObject();
    for (const auto& [index, d] : values) b.Set(std::to_string(index), d.Hex());
    banks.Set(std::string(crypto::HashAlgName(alg)), std::move(b));
  }
  root.Set("banks", std::move(banks));
  doc::Value header = LogHeader(*in.log);
  for (const auto& [k, v] : header.object()) {
    if (k != "banks") root.Set(k, v);
  }
  root.Set("extended_events", in.replay->extended_events);
  doc::Value inc = doc::Value::MakeObject();
  for (const auto& [alg, set] : in.replay->incomplete) {
    doc::Value l = doc::Value::MakeArray();
    for (auto p : set) l.Push(p);
    inc.Set(std::string(crypto::HashAlgName(alg)), std::move(l));
  }
  root.Set("incomplete", std::move(inc));
  root.Set("quirks", QuirksDocument(*in.log));
  if (in.verification != nullptr) {
    root.Set("comparison", ComparisonDocument(*in.verification));
  }
  return root;
}

std::string ReplayText(const ReplayInput& in) {
  const EventLog& log = *in.log;
  std::string out = fmt::format(
      "Replay of {} events ({} log{}{}):\n", in.replay->extended_events,
      LogFormatName(log.format()),
      log.register_kind() == RegisterKind::kTdxMr ? ", TDX measurement registers" : "",
      log.startup_locality() ? fmt::format(", PCR 0 starts at locality {}", *log.startup_locality())
                             : "");
  for (const auto& [alg, values] : in.replay->pcrs.banks) {
    out += fmt::format("{}:\n", crypto::HashAlgName(alg));
    const auto inc = in.replay->incomplete.find(alg);
    for (const auto& [index, d] : values) {
      const bool incomplete = inc != in.replay->incomplete.end() && inc->second.count(index);
      out += fmt::format("  {:>5} : {}{}\n", PcrLabel(log, index), d.Hex(),
                         incomplete ? "  (incomplete: an event lacks this bank)" : "");
    }
  }
  if (!log.quirks().empty()) out += "Quirks:\n" + QuirksText(log);
  if (in.verification != nullptr) {
    out += "Compared with the reported PCR values:\n" + ComparisonText(*in.verification);
  }
  return out;
}

}  // namespace tc::eventlog
