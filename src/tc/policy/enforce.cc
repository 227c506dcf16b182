#include "tc/policy/enforce.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

#include "tc/doc/value.h"

namespace tc::policy {

AuditRecord MakeAuditRecord(std::string_view action, const std::string& component, const crypto::Digest& d,
                   const std::string& reason, const std::string& evidence, const std::string& now) {
  AuditRecord r;
  r.time = now;
  r.action = std::string(action);
  r.component = component;
  r.digest = d.TaggedHex();
  r.reason = reason;
  r.evidence = evidence;
  return r;
}

void CommitChange(std::vector<AuditRecord>& records, Policy& policy) {
  if (records.empty()) return;
  ++policy.version;
  policy.signature.reset();
  for (AuditRecord& r : records) r.policy_version = policy.version;
}

std::string AuditLine(const AuditRecord& r) {
  doc::Value v = doc::Value::MakeObject();
  v.Set("time", r.time);
  v.Set("action", r.action);
  v.Set("component", r.component);
  v.Set("digest", r.digest);
  v.Set("reason", r.reason);
  if (!r.evidence.empty()) v.Set("evidence", r.evidence);
  v.Set("policy_version", static_cast<std::uint64_t>(r.policy_version));
  return doc::ToJsonLine(v);
}

std::vector<AuditRecord> Quarantine(const Evaluation& evaluation, const std::string& evidence,
                                    const std::string& now, Policy& policy) {
  std::vector<AuditRecord> records;
  // Indexes into policy.components (which grows: no pointers kept).
  std::unordered_map<std::string, std::size_t> by_name;
  std::unordered_map<std::string, std::size_t> file_component;  // os-file by path
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::string>, std::size_t> by_match;
  for (std::size_t i = 0; i < policy.components.size(); ++i) {
    const Component& c = policy.components[i];
    by_name.emplace(c.name, i);
    if (c.stage == Stage::kOsFile) file_component.emplace(c.match.description, i);
    if (c.match.pcr && c.match.event_type) {
      by_match.emplace(std::make_tuple(*c.match.pcr, *c.match.event_type, c.match.description), i);
    }
  }
  auto add = [&](Component fresh) {
    // A unique name: an IMA path or an unknown event may be named like an
    // existing component of another kind.
    std::string name = fresh.name;
    for (int n = 2; by_name.count(name) != 0; ++n) name = fmt::format("{}-{}", fresh.name, n);
    fresh.name = name;
    by_name.emplace(name, policy.components.size());
    policy.components.push_back(std::move(fresh));
    return policy.components.size() - 1;
  };
  for (const ComponentResult& r : evaluation.components) {
    if (r.state != ComponentState::kTampered && r.state != ComponentState::kUnknown) continue;
    if (r.name == "ima-measurement-list") continue;  // the list itself, not a component
    std::size_t ci = 0;
    if (r.stage == Stage::kOsFile) {
      // An IMA file: the os-file component of its path (created), out of
      // the bulk runtime set.
      const std::string& path = r.name;
      auto it = file_component.find(path);
      if (it == file_component.end()) {
        Component fresh;
        fresh.name = path;
        fresh.stage = Stage::kOsFile;
        fresh.match.pcr = 10;
        fresh.match.description = path;
        fresh.required = false;
        it = file_component.emplace(path, add(std::move(fresh))).first;
      }
      ci = it->second;
      // Also when the component exists: a later learn or import may have
      // listed the path in the bulk set again.
      if (auto f = policy.files.find(path); f != policy.files.end()) {
        Component& c = policy.components[ci];
        for (const crypto::Digest& d : f->second) {
          if (c.Find(d) != nullptr) continue;
          AllowedDigest a;
          a.digest = d;
          a.state = DigestState::kTrusted;
          a.source = "runtime files";
          c.digests.push_back(std::move(a));
        }
        policy.files.erase(f);
      }
    } else if (auto it = by_name.find(r.name); it != by_name.end() && r.in_policy) {
      ci = it->second;
    } else if (auto m = r.events.empty()
                            ? by_match.end()
                            : by_match.find(std::make_tuple(r.events.front().pcr,
                                                            r.events.front().type_value,
                                                            r.events.front().description));
               m != by_match.end()) {
      ci = m->second;  // held for approval by an earlier run
    } else {
      // An unknown component (its events share PCR, type and description).
      Component fresh;
      fresh.name = r.name;
      fresh.stage = r.stage;
      fresh.required = false;
      if (!r.events.empty()) {
        fresh.match.pcr = r.events.front().pcr;
        fresh.match.event_type = r.events.front().type_value;
        fresh.match.description = r.events.front().description;
      }
      const auto key = std::make_tuple(fresh.match.pcr.value_or(0), fresh.match.event_type.value_or(0),
                                       fresh.match.description);
      ci = add(std::move(fresh));
      if (!r.events.empty()) by_match.emplace(key, ci);
    }
    Component& c = policy.components[ci];
    const std::string reason = r.reason;
    if (r.state == ComponentState::kTampered) {
      for (AllowedDigest& a : c.digests) {
        if (a.state != DigestState::kTrusted) continue;
        a.state = DigestState::kQuarantined;
        a.reason = "component tampered: " + reason;
        records.push_back(MakeAuditRecord("quarantine", c.name, a.digest, a.reason, evidence, now));
      }
    }
    for (const EventResult& e : r.events) {
      if (e.state != ComponentState::kTampered && e.state != ComponentState::kUnknown) continue;
      auto measured = crypto::Digest::FromTaggedHex(e.measured);
      if (!measured || c.Find(*measured) != nullptr) continue;
      AllowedDigest a;
      a.digest = *measured;
      a.state = DigestState::kQuarantined;
      a.source = fmt::format("{} {} {}", evidence, e.type == "ima" ? "entry" : "event", e.index);
      a.added = now;
      a.reason = (r.state == ComponentState::kUnknown ? "unknown: " : "measured when tampered: ") +
                 reason;
      a.content = e.measured_content;
      records.push_back(MakeAuditRecord("quarantine", c.name, a.digest, a.reason, a.source, now));
      c.digests.push_back(std::move(a));
    }
  }
  CommitChange(records, policy);
  return records;
}

Result<std::vector<AuditRecord>> Approve(const std::string& component, const std::string& digest,
                                         const std::string& reason, const std::string& now,
                                         Policy& policy) {
  Component* c = policy.FindComponent(component);
  if (c == nullptr) {
    return Fail(ErrorCode::kNotFound, fmt::format("no component '{}' in the policy (see `trustchain "
                                                  "policy show`)", component));
  }
  std::optional<crypto::Digest> only;
  if (!digest.empty()) {
    TC_ASSIGN_OR_RETURN(only, crypto::Digest::FromTaggedHex(digest));
    if (c->Find(*only) == nullptr) {
      return Fail(ErrorCode::kNotFound,
                  fmt::format("component '{}' has no digest {}", component, digest));
    }
  }
  std::vector<AuditRecord> records;
  for (AllowedDigest& a : c->digests) {
    if (a.state != DigestState::kQuarantined) continue;
    if (only && !(a.digest == *only)) continue;
    a.state = DigestState::kTrusted;
    a.reason = "";
    records.push_back(MakeAuditRecord("approve", c->name, a.digest,
                             reason.empty() ? std::string("approved") : reason, "", now));
  }
  if (records.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("component '{}' has no quarantined digest{}", component,
                            digest.empty() ? "" : " " + digest));
  }
  if (c->stage == Stage::kOsFile && c->match.description == c->name) {
    // Back to the bulk set when nothing of the file is quarantined any more.
    const bool all_trusted = std::all_of(c->digests.begin(), c->digests.end(), [](const AllowedDigest& a) {
      return a.state == DigestState::kTrusted;
    });
    if (all_trusted) {
      auto& list = policy.files[c->name];
      for (const AllowedDigest& a : c->digests) list.push_back(a.digest);
      policy.components.erase(policy.components.begin() + (c - policy.components.data()));
    }
  }
  CommitChange(records, policy);
  return records;
}

Result<std::vector<AuditRecord>> StageUpdate(const std::string& component,
                                       std::span<const StagedDigest> digests,
                                       const std::string& now, Policy& policy) {
  Component* c = policy.FindComponent(component);
  if (c == nullptr) {
    return Fail(ErrorCode::kNotFound, fmt::format("no component '{}' in the policy (see `trustchain "
                                                  "policy show`)", component));
  }
  // All or nothing: a quarantined digest refuses the whole change.
  for (const StagedDigest& s : digests) {
    const AllowedDigest* a = c->Find(s.digest);
    if (a != nullptr && a->state == DigestState::kQuarantined) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{} is quarantined in '{}': review it and use `policy approve`",
                              s.digest.TaggedHex(), component));
    }
  }
  std::vector<AuditRecord> records;
  for (const StagedDigest& s : digests) {
    if (c->Find(s.digest) != nullptr) continue;  // already trusted
    AllowedDigest a;
    a.digest = s.digest;
    a.source = s.source;
    a.added = now;
    records.push_back(MakeAuditRecord("stage", c->name, s.digest, "staged ahead of an update", s.source, now));
    c->digests.push_back(std::move(a));
  }
  CommitChange(records, policy);
  return records;
}

Result<std::vector<AuditRecord>> StageUpdate(const std::string& component, const crypto::Digest& digest,
                                       const std::string& source, const std::string& now,
                                       Policy& policy) {
  const StagedDigest one{digest, source};
  return StageUpdate(component, std::span<const StagedDigest>(&one, 1), now, policy);
}

Result<std::vector<AuditRecord>> Retire(const std::string& component, const std::string& digest,
                                        const std::string& now, Policy& policy) {
  Component* c = policy.FindComponent(component);
  if (c == nullptr) {
    return Fail(ErrorCode::kNotFound, fmt::format("no component '{}' in the policy", component));
  }
  std::optional<crypto::Digest> only;
  if (digest != "quarantined") {
    TC_ASSIGN_OR_RETURN(only, crypto::Digest::FromTaggedHex(digest));
  }
  std::vector<AuditRecord> records;
  auto& ds = c->digests;
  for (auto it = ds.begin(); it != ds.end();) {
    const bool hit = only ? it->digest == *only : it->state == DigestState::kQuarantined;
    if (hit) {
      records.push_back(MakeAuditRecord("retire", c->name, it->digest, "retired", "", now));
      it = ds.erase(it);
    } else {
      ++it;
    }
  }
  if (records.empty()) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("component '{}' has no {} digest", component,
                            only ? only->TaggedHex() : std::string("quarantined")));
  }
  if (ds.empty()) {
    policy.components.erase(policy.components.begin() + (c - policy.components.data()));
  }
  CommitChange(records, policy);
  return records;
}

}  // namespace tc::policy
