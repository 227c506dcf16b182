#include "tc/policy/evaluate.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "tc/eventlog/verify.h"
#include "tc/policy/identify.h"

namespace tc::policy {
namespace {

using Key = std::tuple<std::uint32_t, std::uint32_t, std::string>;

std::string Short(const std::string& tagged) {
  const auto colon = tagged.find(':');
  return colon == std::string::npos ? tagged : tagged.substr(0, std::min(tagged.size(), colon + 17));
}

// Judges the event's digests in `banks` (the proven ones) against `c`:
// every bank the component lists must hold the event's digest; the entry
// matched (the quarantined one if any) or nullptr when a compared digest is
// not listed or no bank could be compared.
const AllowedDigest* FindIn(const Component& c, const eventlog::RawEvent& e,
                            const std::vector<crypto::HashAlg>& banks) {
  const AllowedDigest* found = nullptr;
  for (crypto::HashAlg bank : banks) {
    const crypto::Digest* d = e.DigestFor(bank);
    if (d == nullptr) continue;
    const bool lists_bank = std::any_of(c.digests.begin(), c.digests.end(),
                                        [&](const AllowedDigest& a) { return a.digest.alg() == bank; });
    if (!lists_bank) continue;
    const AllowedDigest* a = c.Find(*d);
    if (a == nullptr) return nullptr;
    if (found == nullptr || a->state == DigestState::kQuarantined) found = a;
  }
  return found;
}

// The event's digest to show: in a compared bank the component lists, else
// the first compared bank, else the first.
const crypto::Digest* Measured(const eventlog::RawEvent& e, const Component* c,
                               const std::vector<crypto::HashAlg>& banks) {
  if (c != nullptr) {
    for (crypto::HashAlg bank : banks) {
      for (const AllowedDigest& a : c->digests) {
        if (a.digest.alg() != bank) continue;
        if (const crypto::Digest* d = e.DigestFor(bank)) return d;
      }
    }
  }
  for (crypto::HashAlg bank : banks) {
    if (const crypto::Digest* d = e.DigestFor(bank)) return d;
  }
  return e.digests.empty() ? nullptr : &e.digests.front();
}

// A PCR the log extends that no reported value covers.
PcrResult NotReported(crypto::HashAlg alg, std::uint32_t pcr, const crypto::Digest& replayed) {
  PcrResult r;
  r.alg = alg;
  r.pcr = pcr;
  r.status = "not-reported";
  r.replayed = replayed;
  return r;
}

int Severity(ComponentState s) {
  switch (s) {
    case ComponentState::kTrusted: return 0;
    case ComponentState::kQuarantined: return 1;
    case ComponentState::kUnknown: return 2;
    case ComponentState::kMissing: return 3;
    case ComponentState::kTampered: return 4;
  }
  return 4;
}

std::string TamperedReason(const ComponentResult& r) {
  const std::string& n = r.name;
  if (r.stage == Stage::kFirmware && (n.starts_with("firmware-") || n.starts_with("crtm-"))) {
    return "firmware updated: the " + r.what + " measured differently";
  }
  if (n == "boot-variable-BootOrder") return "boot order changed";
  if (n.starts_with("boot-variable-")) return r.what + " changed";
  if (n.starts_with("secureboot-") && n != "secureboot-SecureBoot") {
    return "Secure Boot " + n.substr(11) + " updated";
  }
  if (n == "grub-commands") return "boot loader configuration changed (GRUB ran other commands)";
  if (n.starts_with("separator-")) return r.what + " changed (the firmware recorded an error)";
  if (n == "gpt") return "boot disk partition table changed";
  switch (r.stage) {
    case Stage::kBootloader: return "boot loader changed (" + r.what + ")";
    case Stage::kKernel: return "kernel changed (" + r.what + ")";
    case Stage::kInitrd: return "initrd changed";
    case Stage::kCmdline: return "kernel command line changed";
    default: return r.what + " changed";
  }
}

void Describe(ComponentResult& r, const Component* c) {
  if (r.state == ComponentState::kTrusted) return;
  const EventResult* first = nullptr;
  for (const EventResult& e : r.events) {
    if (e.state == r.state) {
      first = &e;
      break;
    }
  }
  switch (r.state) {
    case ComponentState::kTrusted:
      break;
    case ComponentState::kTampered: {
      r.reason = TamperedReason(r);
      if (first != nullptr) {
        // The expected digest of the measured one's bank.
        const std::string alg = first->measured.substr(0, first->measured.find(':') + 1);
        std::string expected = first->expected.empty() ? std::string() : first->expected.front();
        for (const std::string& x : first->expected) {
          if (x.starts_with(alg)) {
            expected = x;
            break;
          }
        }
        r.reason += fmt::format(": event {} (PCR {}) measured {}, the whitelist has {}", first->index,
                                first->pcr, Short(first->measured),
                                expected.empty() ? std::string("no trusted digest") : Short(expected));
        if (!first->expected_content.empty() && !first->measured_content.empty()) {
          if (r.stage == Stage::kCmdline || r.stage == Stage::kGuestCmdline) {
            r.diff = TextDiff(first->expected_content, first->measured_content);
          } else if (first->expected_content.size() + first->measured_content.size() <= 160) {
            r.diff = first->expected_content + " -> " + first->measured_content;
          }
        }
        if (!r.diff.empty()) r.reason += " (" + r.diff + ")";
      }
      break;
    }
    case ComponentState::kUnknown:
      r.reason = fmt::format("event added: {} is not in the whitelist", r.what);
      if (first != nullptr) {
        r.reason += fmt::format(" (event {}, PCR {}, {})", first->index, first->pcr,
                                Short(first->measured));
      }
      break;
    case ComponentState::kMissing:
      r.reason = fmt::format("event missing: the whitelist expects {} in PCR {}, but this boot did "
                             "not measure it (or measured something else in its place)",
                             r.what, c != nullptr && c->match.pcr ? *c->match.pcr : 0);
      break;
    case ComponentState::kQuarantined: {
      std::string why;
      if (c != nullptr && first != nullptr) {
        for (const AllowedDigest& a : c->digests) {
          if (a.state == DigestState::kQuarantined && a.digest.TaggedHex() == first->measured) {
            why = a.reason;
          }
        }
      }
      r.reason = fmt::format("{} is quarantined{}{}; `trustchain policy approve` re-admits it",
                             r.what, why.empty() ? "" : ": ", why);
      break;
    }
  }
}

}  // namespace

std::string_view ComponentStateName(ComponentState s) {
  switch (s) {
    case ComponentState::kTrusted: return "trusted";
    case ComponentState::kUnknown: return "unknown";
    case ComponentState::kTampered: return "tampered";
    case ComponentState::kMissing: return "missing";
    case ComponentState::kQuarantined: return "quarantined";
  }
  return "?";
}

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kTrusted: return "trusted";
    case Verdict::kUntrusted: return "untrusted";
    case Verdict::kUndecided: return "undecided";
  }
  return "?";
}

std::string TextDiff(std::string_view before, std::string_view after) {
  auto words = [](std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && s[i] == ' ') ++i;
      const std::size_t start = i;
      while (i < s.size() && s[i] != ' ') ++i;
      if (i > start) out.emplace_back(s.substr(start, i - start));
    }
    return out;
  };
  std::multiset<std::string> a, b;
  for (auto& w : words(before)) a.insert(std::move(w));
  for (auto& w : words(after)) b.insert(std::move(w));
  std::vector<std::string> removed, added;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(removed));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(added));
  std::vector<std::string> parts;
  auto key = [](const std::string& w) { return w.substr(0, w.find('=')); };
  for (auto r = removed.begin(); r != removed.end();) {
    auto match = std::find_if(added.begin(), added.end(),
                              [&](const std::string& w) { return key(w) == key(*r); });
    if (match != added.end()) {
      parts.push_back(*r + " -> " + *match);
      added.erase(match);
      r = removed.erase(r);
    } else {
      ++r;
    }
  }
  for (const auto& r : removed) parts.push_back("removed " + r);
  for (const auto& w : added) parts.push_back("added " + w);
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  if (out.empty() && before != after) out = "whitespace or order changed";
  return out;
}

Evaluation EvaluateBoot(const Policy& policy, const BootEvidence& ev) {
  Evaluation out;
  out.reported_source = ev.reported_source;
  const eventlog::EventLog& log = *ev.log;

  // --- evidence strength -----------------------------------------------
  if (policy.refuse_sha1_only && log.banks().size() == 1 &&
      log.banks().front() == crypto::HashAlg::kSha1) {
    out.problems.push_back(
        "the evidence has only SHA-1 digests, which the policy refuses (refuse_sha1_only)");
    out.weak = true;
  }
  for (crypto::HashAlg bank : policy.required_banks) {
    if (std::find(log.banks().begin(), log.banks().end(), bank) == log.banks().end()) {
      out.problems.push_back(fmt::format("the event log has no {} bank, which the policy requires",
                                         crypto::HashAlgName(bank)));
      out.weak = true;
    } else if (ev.reported != nullptr && ev.reported->banks.count(bank) == 0) {
      out.problems.push_back(fmt::format(
          "the reported PCRs have no {} bank, which the policy requires", crypto::HashAlgName(bank)));
      out.weak = true;
    }
  }
  // Digests are compared only in banks the reported PCRs prove: a digest in
  // a bank nobody checked is whatever the log says.
  std::vector<crypto::HashAlg> banks;
  for (crypto::HashAlg bank : log.banks()) {
    if (ev.reported == nullptr || ev.reported->banks.count(bank) != 0) banks.push_back(bank);
  }

  // --- PCRs: replay against the reported values, and golden -------------
  bool pcr_failed = false;
  if (ev.reported != nullptr) {
    const eventlog::Verification v = eventlog::VerifyReplay(log, *ev.replay, *ev.reported);
    for (const eventlog::PcrCheck& c : v.checks) {
      PcrResult r;
      r.alg = c.alg;
      r.pcr = c.pcr;
      r.status = std::string(eventlog::PcrStatusName(c.status));
      r.replayed = c.replayed;
      r.reported = c.reported;
      if (c.status == eventlog::PcrStatus::kMismatch ||
          c.status == eventlog::PcrStatus::kEventsMissing) {
        out.problems.push_back(fmt::format(
            "PCR {} ({}) does not replay to its reported value: the log is not what was "
            "measured (events added, removed or changed)",
            c.pcr, crypto::HashAlgName(c.alg)));
        pcr_failed = true;
      } else if (c.status == eventlog::PcrStatus::kIncomplete) {
        out.problems.push_back(fmt::format("PCR {} ({}): some events lack this bank's digest",
                                           c.pcr, crypto::HashAlgName(c.alg)));
        pcr_failed = true;
      } else if (c.status == eventlog::PcrStatus::kNotInLog && c.pcr != ima::kImaPcr) {
        // Measured, but the log shows none of it: its events were removed.
        // (PCR 10 holds IMA, checked with --ima.)
        r.status = "events-missing";
        out.problems.push_back(fmt::format(
            "PCR {} ({}) holds measurements the event log does not show: events were removed",
            c.pcr, crypto::HashAlgName(c.alg)));
        pcr_failed = true;
      }
      out.pcrs.push_back(std::move(r));
    }
    // Every PCR the log extends must be reported in every compared bank:
    // the events of an unreported PCR are unproven.
    bool covered = !banks.empty();
    for (crypto::HashAlg bank : banks) {
      auto it = ev.replay->pcrs.banks.find(bank);
      if (it == ev.replay->pcrs.banks.end()) continue;
      for (const auto& [index, value] : it->second) {
        if (ev.reported->Find(bank, index) != nullptr) continue;
        covered = false;
        out.pcrs.push_back(NotReported(bank, index, value));
        out.problems.push_back(fmt::format(
            "PCR {} ({}) is extended by the event log but was not reported: its events are "
            "unproven (quote it too)",
            index, crypto::HashAlgName(bank)));
      }
    }
    if (banks.empty()) {
      out.problems.push_back("the reported PCRs share no bank with the event log");
    }
    out.attested = covered && !pcr_failed && v.matches > 0;
  } else {
    for (const auto& [alg, values] : ev.replay->pcrs.banks) {
      for (const auto& [index, value] : values) out.pcrs.push_back(NotReported(alg, index, value));
    }
    out.problems.push_back(
        "no PCR values were reported (--pcrs or --quote): the event log is unattested, a "
        "compromised machine can send any log");
  }
  for (const auto& [alg, values] : policy.golden_pcrs.banks) {
    for (const auto& [index, golden] : values) {
      auto it = std::find_if(out.pcrs.begin(), out.pcrs.end(),
                             [&, bank = alg, pcr = index](const PcrResult& r) {
                               return r.alg == bank && r.pcr == pcr;
                             });
      if (it == out.pcrs.end()) {
        PcrResult r;
        r.alg = alg;
        r.pcr = index;
        r.status = ev.reported != nullptr ? "not-reported" : "not-in-log";
        if (ev.reported != nullptr) {
          if (const crypto::Digest* d = ev.reported->Find(alg, index)) {
            r.status = "not-in-log";
            r.reported = *d;
          }
        }
        out.pcrs.push_back(std::move(r));
        it = out.pcrs.end() - 1;
      }
      it->golden = golden;
      // With reported PCRs only they count; without, the (unproven) replay.
      const auto& value = ev.reported != nullptr ? it->reported : it->replayed;
      if (!value) {
        out.problems.push_back(fmt::format("PCR {} ({}) has a golden value but was not {}", index,
                                           crypto::HashAlgName(alg),
                                           ev.reported != nullptr ? "reported" : "measured"));
        continue;
      }
      it->golden_match = *value == golden;
      if (!*it->golden_match) {
        out.problems.push_back(fmt::format("PCR {} ({}) differs from the policy's golden value",
                                           index, crypto::HashAlgName(alg)));
      }
    }
  }

  // --- components ---------------------------------------------------------
  // Indexes, so that the work is O(events log components), whatever a
  // hostile log or a large policy holds.
  std::map<Key, std::size_t> by_key;
  std::unordered_map<std::string, std::vector<std::size_t>> by_digest;  // "pcr/alg:hex"
  std::unordered_set<std::string_view> policy_names;
  std::vector<ComponentResult> results(policy.components.size());
  for (std::size_t i = 0; i < policy.components.size(); ++i) {
    const Component& c = policy.components[i];
    policy_names.insert(c.name);
    results[i].name = c.name;
    results[i].stage = c.stage;
    results[i].in_policy = true;
    results[i].what = c.match.description.empty() ? c.name : c.name + " (" + c.match.description + ")";
    if (c.stage == Stage::kOsFile || !c.match.pcr) continue;  // IMA, or not a firmware-log rule
    if (IsGuestLaunchStage(c.stage)) continue;  // judged at launch (launch/check.h), not in a boot log
    if (c.match.event_type) by_key.emplace(Key{*c.match.pcr, *c.match.event_type, c.match.description}, i);
    for (const AllowedDigest& a : c.digests) {
      auto& list = by_digest[fmt::format("{}/{}", *c.match.pcr, a.digest.TaggedHex())];
      if (list.empty() || list.back() != i) list.push_back(i);
    }
  }
  // Content by digest: what a digest covers, from any event whose data is it
  // (the EFI stub's LoadOptions tag carries the same digest as the boot
  // loader's EV_IPL, which shows the text), and from the policy (what a
  // trusted digest covered when it was learned). One copy per digest.
  std::unordered_map<std::string, std::string> content_by_digest;
  std::vector<EventIdentity> ids(log.events().size());
  for (const eventlog::RawEvent& e : log.events()) {
    if (!eventlog::IsExtended(e)) continue;
    ids[e.index] = Identify(e);
    if (!ids[e.index].content.empty()) {
      for (const crypto::Digest& d : e.digests) content_by_digest.emplace(d.TaggedHex(), ids[e.index].content);
    }
  }
  std::unordered_map<std::string, std::string> policy_content;
  for (const Component& c : policy.components) {
    for (const AllowedDigest& a : c.digests) {
      if (!a.content.empty()) policy_content.emplace(a.digest.TaggedHex(), a.content);
    }
  }
  auto content_of = [](const std::unordered_map<std::string, std::string>& m,
                       const std::string& digest) {
    auto it = m.find(digest);
    return it == m.end() ? std::string() : it->second;
  };
  // Keeps an event in its component: every one counts for the state, the
  // first kMaxEventsPerComponent are kept in full.
  auto keep = [](ComponentResult& r, EventResult er) {
    if (r.events.size() < kMaxEventsPerComponent) {
      r.events.push_back(std::move(er));
    } else {
      ++r.events_omitted;
    }
  };
  std::map<Key, std::size_t> unknown_index;  // into `unknown`
  std::vector<ComponentResult> unknown;
  std::unordered_set<std::string> unknown_names;
  std::vector<ComponentState> worst(policy.components.size(), ComponentState::kTrusted);
  std::vector<bool> seen(policy.components.size(), false);
  for (const eventlog::RawEvent& e : log.events()) {
    if (!eventlog::IsExtended(e)) continue;
    const EventIdentity& id = ids[e.index];
    EventResult er;
    er.index = e.index;
    er.offset = e.offset;
    er.pcr = e.pcr;
    er.type = eventlog::EventTypeName(e.type);
    er.type_value = e.type;
    er.description = id.match.description;
    auto record = [&](std::size_t i, ComponentState state, const AllowedDigest* a) {
      const Component& c = policy.components[i];
      if (const crypto::Digest* d = Measured(e, &c, banks)) er.measured = d->TaggedHex();
      er.state = state;
      if (state != ComponentState::kTrusted) {
        er.measured_content = content_of(content_by_digest, er.measured);
      }
      if (state == ComponentState::kTampered) {
        for (const AllowedDigest& t : c.digests) {
          if (t.state != DigestState::kTrusted) continue;
          er.expected.push_back(t.digest.TaggedHex());
          if (er.expected_content.empty()) er.expected_content = t.content;
          if (er.expected_content.empty()) {
            er.expected_content = content_of(policy_content, er.expected.back());
          }
        }
      } else if (a != nullptr && state != ComponentState::kTrusted) {
        er.expected_content = a->content;
      }
      seen[i] = true;
      if (Severity(state) > Severity(worst[i])) worst[i] = state;
      if (!results[i].events.empty() || results[i].what.find('(') != std::string::npos ||
          results[i].what == c.name) {
        results[i].what = id.what;
      }
      keep(results[i], std::move(er));
    };
    auto state_of = [](const AllowedDigest& a) {
      return a.state == DigestState::kTrusted ? ComponentState::kTrusted
                                              : ComponentState::kQuarantined;
    };
    bool handled = false;
    auto key = by_key.find(Key{e.pcr, e.type, id.match.description});
    if (key != by_key.end()) {
      const AllowedDigest* a = FindIn(policy.components[key->second], e, banks);
      if (a != nullptr) {
        record(key->second, state_of(*a), a);
        handled = true;
      } else if (!id.by_digest) {
        record(key->second, ComponentState::kTampered, nullptr);
        handled = true;
      }
    }
    if (!handled) {
      for (crypto::HashAlg bank : banks) {
        const crypto::Digest* d = e.DigestFor(bank);
        if (d == nullptr) continue;
        auto candidates = by_digest.find(fmt::format("{}/{}", e.pcr, d->TaggedHex()));
        if (candidates == by_digest.end()) continue;
        for (std::size_t i : candidates->second) {
          if (const AllowedDigest* a = FindIn(policy.components[i], e, banks)) {
            record(i, state_of(*a), a);
            handled = true;
            break;
          }
        }
        if (handled) break;
      }
    }
    if (!handled) {
      // Unknown: grouped by what recognises them (PCR, type, description).
      const Key k{e.pcr, e.type, id.match.description};
      auto it = unknown_index.find(k);
      if (it == unknown_index.end()) {
        if (unknown.size() >= kMaxUnknownComponents) {
          ++out.unknown_omitted;
          continue;
        }
        std::string name = id.name;
        if (policy_names.count(name) != 0) name += "-new";
        if (unknown_names.count(name) != 0) name += fmt::format("-pcr{}", e.pcr);
        for (int n = 2; unknown_names.count(name) != 0; ++n) name = fmt::format("{}-{}", id.name, n);
        unknown_names.insert(name);
        ComponentResult r;
        r.name = name;
        r.stage = id.stage;
        r.state = ComponentState::kUnknown;
        r.what = id.what;
        it = unknown_index.emplace(k, unknown.size()).first;
        unknown.push_back(std::move(r));
      }
      if (const crypto::Digest* d = Measured(e, nullptr, banks)) {
        er.measured = d->TaggedHex();
        er.measured_content = content_of(content_by_digest, er.measured);
      }
      er.state = ComponentState::kUnknown;
      keep(unknown[it->second], std::move(er));
    }
  }
  for (std::size_t i = 0; i < results.size(); ++i) {
    const Component& c = policy.components[i];
    ComponentResult& r = results[i];
    if (c.stage == Stage::kOsFile || IsGuestLaunchStage(c.stage)) continue;
    if (!seen[i]) {
      if (!c.required) continue;  // admitted ahead of use; this boot does not use it
      r.state = ComponentState::kMissing;
    } else {
      r.state = worst[i];
    }
    Describe(r, &c);
    out.components.push_back(std::move(r));
  }
  for (ComponentResult& r : unknown) {
    Describe(r, nullptr);
    out.components.push_back(std::move(r));
  }
  if (out.unknown_omitted > 0) {
    out.problems.push_back(fmt::format("{} more unknown events are not listed", out.unknown_omitted));
  }
  return out;
}

ima::Allowlist BuildAllowlist(const Policy& policy) {
  ima::Allowlist allow;
  for (const auto& [path, digests] : policy.files) {
    bool first = true;
    for (const crypto::Digest& d : digests) {
      if (first) {
        allow.AllowDigest(path, d.bytes());
      } else {
        allow.AllowAnotherDigest(d.bytes());
      }
      first = false;
    }
  }
  for (const Component& c : policy.components) {
    if (c.stage != Stage::kOsFile || c.match.description.empty()) continue;
    for (const AllowedDigest& a : c.digests) {
      if (a.state == DigestState::kTrusted) allow.AllowDigest(c.match.description, a.digest.bytes());
    }
  }
  for (const std::string& e : policy.excludes) (void)allow.AddExcludeRegex(e);  // checked on load
  // Checked against the firmware PCRs (ima::CheckBootAggregate) instead.
  (void)allow.AddExcludeRegex("boot_aggregate$");
  allow.BuildIndex();
  return allow;
}

void AddImaResult(const Policy& policy, ima::VerifyResult result, Evaluation& out,
                  std::size_t max_components) {
  ComponentResult list;
  list.name = "ima-measurement-list";
  list.stage = Stage::kOsFile;
  list.in_policy = false;
  list.what = "IMA runtime measurement list";
  std::map<std::string, std::size_t> file_index;
  std::size_t first_file = out.components.size();
  for (const ima::Violation& v : result.violations) {
    EventResult er;
    er.index = v.entry;
    er.offset = v.offset;
    er.pcr = ima::kImaPcr;
    er.type = "ima";
    er.description = v.path;
    er.measured = v.measured;
    if (!v.expected.empty()) er.expected.push_back(v.expected);
    const bool file_finding = v.finding == ima::Finding::kDigestNotAllowed ||
                              v.finding == ima::Finding::kNotInPolicy ||
                              v.finding == ima::Finding::kSignatureInvalid;
    if (!file_finding) {
      er.state = ComponentState::kTampered;
      list.events.push_back(std::move(er));
      if (list.reason.empty()) {
        list.reason = fmt::format("{} at entry {}: {}", ima::FindingName(v.finding), v.entry, v.detail);
      }
      continue;
    }
    ComponentState state = v.finding == ima::Finding::kNotInPolicy ? ComponentState::kUnknown
                                                                    : ComponentState::kTampered;
    std::string reason;
    // A quarantined digest for this path is held by an os-file component.
    for (const Component& c : policy.components) {
      if (c.stage != Stage::kOsFile || c.match.description != v.path) continue;
      for (const AllowedDigest& a : c.digests) {
        if (a.state == DigestState::kQuarantined && a.digest.TaggedHex() == v.measured) {
          state = ComponentState::kQuarantined;
          reason = a.reason;
        }
      }
    }
    er.state = state;
    auto it = file_index.find(v.path);
    if (it == file_index.end()) {
      if (file_index.size() >= max_components) {
        ++out.ima_components_omitted;
        continue;
      }
      ComponentResult r;
      r.name = v.path;
      r.stage = Stage::kOsFile;
      r.state = state;
      r.in_policy = state != ComponentState::kUnknown;
      r.what = "runtime file " + v.path;
      switch (state) {
        case ComponentState::kUnknown:
          r.reason = fmt::format("file added: {} is not in the whitelist (IMA entry {})", v.path, v.entry);
          break;
        case ComponentState::kQuarantined:
          r.reason = fmt::format("{} is quarantined{}{}; `trustchain policy approve` re-admits it",
                                 r.what, reason.empty() ? "" : ": ", reason);
          break;
        default:
          r.reason = fmt::format("file changed: {} (IMA entry {}): {}", v.path, v.entry, v.detail);
      }
      it = file_index.emplace(v.path, out.components.size()).first;
      out.components.push_back(std::move(r));
    }
    ComponentResult& r = out.components[it->second];
    if (Severity(state) > Severity(r.state)) r.state = state;
    r.events.push_back(std::move(er));
  }
  if (result.violations_total > result.violations.size()) {
    out.ima_components_omitted += result.violations_total - result.violations.size();
  }
  if (result.quote_given && !result.matched_prefix) {
    list.reason = "the IMA list does not replay to the reported PCR 10: entries were removed or "
                  "changed";
    list.state = ComponentState::kTampered;
  } else if (!result.quote_given) {
    out.problems.push_back("the reported PCRs lack PCR 10: the IMA list is unattested");
  }
  if (!list.events.empty()) list.state = ComponentState::kTampered;
  // The list itself first, then its files.
  out.components.insert(out.components.begin() + static_cast<std::ptrdiff_t>(first_file), std::move(list));
  out.ima = std::move(result);
}

bool Evaluation::EvidenceProven() const {
  if (!attested || weak) return false;
  return !ima || (ima->quote_given && ima->matched_prefix.has_value());
}

void Decide(const Policy& policy, Evaluation& out) {
  const bool runtime_files =
      !policy.files.empty() ||
      std::any_of(policy.components.begin(), policy.components.end(),
                  [](const Component& c) { return c.stage == Stage::kOsFile; });
  if (runtime_files && !out.ima) {
    out.problems.push_back(
        "the policy lists runtime files but no IMA list was given (--ima): they were not checked");
  }
  bool failed = false;
  for (const ComponentResult& c : out.components) {
    if (c.state != ComponentState::kTrusted) failed = true;
  }
  for (const PcrResult& p : out.pcrs) {
    if (p.status == "mismatch" || p.status == "events-missing") failed = true;
    if (p.golden_match && !*p.golden_match) failed = true;
  }
  std::size_t non_trusted = 0;
  for (const ComponentResult& c : out.components) {
    if (c.state != ComponentState::kTrusted) ++non_trusted;
  }
  if (non_trusted > 0) {
    out.problems.insert(out.problems.begin(),
                        fmt::format("{} component(s) not trusted", non_trusted));
  }
  if (failed) {
    out.verdict = Verdict::kUntrusted;
  } else if (!out.problems.empty()) {
    out.verdict = Verdict::kUndecided;
  } else {
    out.verdict = Verdict::kTrusted;
  }
}

}  // namespace tc::policy
