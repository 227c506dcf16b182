#include "tc/policy/report.h"

#include <map>

#include <fmt/format.h>

namespace tc::policy {
namespace {

std::string Short(const std::string& tagged, std::size_t hex = 16) {
  const auto colon = tagged.find(':');
  if (colon == std::string::npos) return tagged;
  return tagged.substr(0, std::min(tagged.size(), colon + 1 + hex));
}

doc::Value EventDocument(const EventResult& e) {
  doc::Value v = doc::Value::MakeObject();
  v.Set("index", static_cast<std::uint64_t>(e.index));
  v.Set("offset", static_cast<std::uint64_t>(e.offset));
  v.Set("pcr", e.pcr);
  v.Set("type", e.type);
  v.Set("description", e.description);
  v.Set("state", ComponentStateName(e.state));
  v.Set("measured", e.measured);
  doc::Value expected = doc::Value::MakeArray();
  for (const std::string& x : e.expected) expected.Push(x);
  v.Set("expected", std::move(expected));
  if (!e.measured_content.empty()) v.Set("measured_content", e.measured_content);
  if (!e.expected_content.empty()) v.Set("expected_content", e.expected_content);
  return v;
}

}  // namespace

doc::Value EvaluationDocument(const Evaluation& ev, bool verbose) {
  doc::Value root = doc::Value::MakeObject();
  root.Set("verdict", VerdictName(ev.verdict));
  doc::Value components = doc::Value::MakeArray();
  std::map<std::string, std::size_t> counts;
  for (const ComponentResult& c : ev.components) {
    ++counts[std::string(ComponentStateName(c.state))];
    doc::Value v = doc::Value::MakeObject();
    v.Set("name", c.name);
    v.Set("stage", StageName(c.stage));
    v.Set("state", ComponentStateName(c.state));
    v.Set("reason", c.reason);
    v.Set("what", c.what);
    v.Set("in_policy", c.in_policy);
    if (!c.diff.empty()) v.Set("diff", c.diff);
    doc::Value events = doc::Value::MakeArray();
    for (const EventResult& e : c.events) {
      if (verbose || e.state != ComponentState::kTrusted || c.state == ComponentState::kTrusted) {
        events.Push(EventDocument(e));
      }
    }
    v.Set("events", std::move(events));
    components.Push(std::move(v));
  }
  root.Set("components", std::move(components));
  doc::Value summary = doc::Value::MakeObject();
  for (const char* s : {"trusted", "unknown", "tampered", "missing", "quarantined"}) {
    summary.Set(s, static_cast<std::uint64_t>(counts[s]));
  }
  root.Set("summary", std::move(summary));
  doc::Value pcrs = doc::Value::MakeArray();
  for (const PcrResult& p : ev.pcrs) {
    doc::Value v = doc::Value::MakeObject();
    v.Set("bank", crypto::HashAlgName(p.alg));
    v.Set("pcr", p.pcr);
    v.Set("status", p.status);
    if (p.replayed) v.Set("replayed", p.replayed->Hex());
    if (p.reported) v.Set("reported", p.reported->Hex());
    if (p.golden) v.Set("golden", p.golden->Hex());
    if (p.golden_match) v.Set("golden_match", *p.golden_match);
    pcrs.Push(std::move(v));
  }
  root.Set("pcrs", std::move(pcrs));
  doc::Value problems = doc::Value::MakeArray();
  for (const std::string& p : ev.problems) problems.Push(p);
  root.Set("problems", std::move(problems));
  root.Set("attested", ev.attested);
  root.Set("reported_source", ev.reported_source);
  if (ev.ima) {
    doc::Value ima = doc::Value::MakeObject();
    ima.Set("entries_read", static_cast<std::uint64_t>(ev.ima->entries_read));
    ima.Set("entries_checked", static_cast<std::uint64_t>(ev.ima->entries_checked));
    ima.Set("allowed", static_cast<std::uint64_t>(ev.ima->allowed));
    ima.Set("findings", static_cast<std::uint64_t>(ev.ima->violations_total));
    ima.Set("components_omitted", static_cast<std::uint64_t>(ev.ima_components_omitted));
    ima.Set("pcr10_attested", ev.ima->quote_given && ev.ima->matched_prefix.has_value());
    if (ev.ima->boot_aggregate) ima.Set("boot_aggregate_match", ev.ima->boot_aggregate->match);
    root.Set("ima", std::move(ima));
  }
  return root;
}

std::string EvaluationText(const Evaluation& ev, bool verbose) {
  std::string out;
  std::map<ComponentState, std::size_t> counts;
  for (const ComponentResult& c : ev.components) ++counts[c.state];
  out += fmt::format("{:<12} {:<32} {:<12} {}\n", "STATE", "COMPONENT", "STAGE", "WHAT / REASON");
  for (const ComponentResult& c : ev.components) {
    const bool trusted = c.state == ComponentState::kTrusted;
    if (trusted && !verbose) continue;
    out += fmt::format("{:<12} {:<32} {:<12} {}\n", ComponentStateName(c.state), c.name,
                       StageName(c.stage), trusted ? c.what : c.reason);
    if (trusted) continue;
    for (const EventResult& e : c.events) {
      if (e.state == ComponentState::kTrusted) continue;
      out += fmt::format("             {} {} PCR {} {}{}\n", e.type == "ima" ? "entry" : "event",
                         e.index, e.pcr, e.type == "ima" ? "" : e.type + " ", e.description);
      if (!e.expected.empty()) {
        out += fmt::format("               expected {}{}\n", e.expected.front(),
                           e.expected.size() > 1 ? fmt::format(" (or {} more)", e.expected.size() - 1)
                                                 : "");
      }
      if (!e.measured.empty()) out += fmt::format("               measured {}\n", e.measured);
      if (!e.expected_content.empty()) {
        out += fmt::format("               was:  {}\n", e.expected_content);
      }
      if (!e.measured_content.empty() && e.state != ComponentState::kTrusted) {
        out += fmt::format("               now:  {}\n", e.measured_content);
      }
    }
  }
  if (!verbose && counts[ComponentState::kTrusted] > 0) {
    out += fmt::format("{:<12} {} component(s) (--verbose lists them)\n", "trusted",
                       counts[ComponentState::kTrusted]);
  }
  std::size_t shown = 0, mismatched = 0;
  for (const PcrResult& p : ev.pcrs) {
    const bool bad = p.status == "mismatch" || p.status == "events-missing" ||
                     p.status == "incomplete" || (p.golden_match && !*p.golden_match);
    if (bad) ++mismatched;
    if (!verbose && !bad) continue;
    if (shown++ == 0) out += "\nPCR  BANK    STATUS          REPLAYED          REPORTED          GOLDEN\n";
    out += fmt::format("{:<4} {:<7} {:<15} {:<17} {:<17} {}\n", p.pcr, crypto::HashAlgName(p.alg),
                       p.status, p.replayed ? p.replayed->Hex().substr(0, 16) : "-",
                       p.reported ? p.reported->Hex().substr(0, 16) : "-",
                       p.golden ? (p.golden_match && *p.golden_match ? "match" : "DIFFERS") : "-");
  }
  std::size_t reported = 0;
  for (const PcrResult& p : ev.pcrs) reported += p.reported ? 1 : 0;
  out += fmt::format("\nPCRs: {} compared with the reported values{}, {} not matching{}\n", reported,
                     ev.reported_source.empty() ? "" : " (" + ev.reported_source + ")", mismatched,
                     verbose ? "" : " (--verbose lists all)");
  if (ev.ima) {
    out += fmt::format("IMA: {} entries read, {} allowed, {} findings{}\n", ev.ima->entries_read,
                       ev.ima->allowed, ev.ima->violations_total,
                       ev.ima_components_omitted > 0
                           ? fmt::format(" ({} not listed)", ev.ima_components_omitted)
                           : "");
  }
  for (const std::string& p : ev.problems) out += "- " + p + "\n";
  out += fmt::format("verdict: {}\n", VerdictName(ev.verdict));
  return out;
}

doc::Value PolicyDocument(const Policy& p) {
  doc::Value root = doc::Value::MakeObject();
  root.Set("version", static_cast<std::uint64_t>(p.version));
  root.Set("signed", p.signature.has_value());
  doc::Value components = doc::Value::MakeArray();
  for (const Component& c : p.components) {
    doc::Value v = doc::Value::MakeObject();
    v.Set("name", c.name);
    v.Set("stage", StageName(c.stage));
    if (c.match.pcr) v.Set("pcr", *c.match.pcr);
    v.Set("description", c.match.description);
    v.Set("required", c.required);
    std::size_t trusted = 0, quarantined = 0;
    for (const AllowedDigest& a : c.digests) {
      (a.state == DigestState::kTrusted ? trusted : quarantined)++;
    }
    v.Set("trusted_digests", static_cast<std::uint64_t>(trusted));
    v.Set("quarantined_digests", static_cast<std::uint64_t>(quarantined));
    components.Push(std::move(v));
  }
  root.Set("components", std::move(components));
  root.Set("files", static_cast<std::uint64_t>(p.files.size()));
  std::size_t golden = 0;
  for (const auto& [alg, values] : p.golden_pcrs.banks) golden += values.size();
  root.Set("golden_pcrs", static_cast<std::uint64_t>(golden));
  return root;
}

std::string PolicyText(const Policy& p) {
  std::string out = fmt::format("policy version {}{}, {} components, {} runtime files\n", p.version,
                                p.signature ? fmt::format(", signed by key {}", p.signature->key_id)
                                            : ", unsigned",
                                p.components.size(), p.files.size());
  out += fmt::format("{:<32} {:<12} {:<4} {:<12} {}\n", "COMPONENT", "STAGE", "PCR", "DIGESTS",
                     "DESCRIPTION");
  for (const Component& c : p.components) {
    std::size_t trusted = 0, quarantined = 0;
    for (const AllowedDigest& a : c.digests) {
      (a.state == DigestState::kTrusted ? trusted : quarantined)++;
    }
    out += fmt::format("{:<32} {:<12} {:<4} {:<12} {}{}\n", c.name, StageName(c.stage),
                       c.match.pcr ? std::to_string(*c.match.pcr) : "-",
                       quarantined > 0 ? fmt::format("{}+{}Q", trusted, quarantined)
                                       : std::to_string(trusted),
                       c.match.description, c.required ? "" : " (not required)");
    for (const AllowedDigest& a : c.digests) {
      if (a.state != DigestState::kQuarantined) continue;
      out += fmt::format("    QUARANTINED {} {}\n", Short(a.digest.TaggedHex()), a.reason);
    }
  }
  return out;
}

PolicyDiff DiffPolicies(const Policy& a, const Policy& b) {
  PolicyDiff d;
  if (a.version != b.version) d.lines.push_back(fmt::format("~ version {} -> {}", a.version, b.version));
  for (const Component& ca : a.components) {
    const Component* cb = b.FindComponent(ca.name);
    if (cb == nullptr) {
      d.lines.push_back(fmt::format("- component {} ({})", ca.name, StageName(ca.stage)));
      continue;
    }
    for (const AllowedDigest& x : ca.digests) {
      const AllowedDigest* y = cb->Find(x.digest);
      if (y == nullptr) {
        d.lines.push_back(fmt::format("- {}: {} ({})", ca.name, x.digest.TaggedHex(), DigestStateName(x.state)));
      } else if (y->state != x.state) {
        d.lines.push_back(fmt::format("~ {}: {} {} -> {}", ca.name, x.digest.TaggedHex(),
                                      DigestStateName(x.state), DigestStateName(y->state)));
      }
    }
    for (const AllowedDigest& y : cb->digests) {
      if (ca.Find(y.digest) == nullptr) {
        d.lines.push_back(fmt::format("+ {}: {} ({})", ca.name, y.digest.TaggedHex(), DigestStateName(y.state)));
      }
    }
  }
  for (const Component& cb : b.components) {
    if (a.FindComponent(cb.name) == nullptr) {
      d.lines.push_back(fmt::format("+ component {} ({}, {} digests)", cb.name, StageName(cb.stage),
                                    cb.digests.size()));
    }
  }
  for (const auto& [path, digests] : a.files) {
    auto it = b.files.find(path);
    if (it == b.files.end()) {
      d.lines.push_back("- file " + path);
    } else if (it->second != digests) {
      d.lines.push_back("~ file " + path);
    }
  }
  for (const auto& [path, digests] : b.files) {
    if (a.files.find(path) == a.files.end()) d.lines.push_back("+ file " + path);
  }
  if (a.golden_pcrs.banks != b.golden_pcrs.banks) d.lines.push_back("~ golden_pcrs");
  if (a.required_banks != b.required_banks) d.lines.push_back("~ required_banks");
  if (a.refuse_sha1_only != b.refuse_sha1_only) d.lines.push_back("~ refuse_sha1_only");
  return d;
}

}  // namespace tc::policy
