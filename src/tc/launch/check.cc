#include "tc/launch/check.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "tc/ima/allowlist.h"

namespace tc::launch {
namespace {

using policy::ComponentState;

// The digest a component of this kind holds: EFI binaries by Authenticode
// (what UEFI extends for them, and what db/dbx list), everything else by the
// plain sha256 of its bytes.
const crypto::Digest* JudgedDigest(const MeasuredInput& m) {
  if (m.input.kind == InputKind::kEfiBinary) {
    return m.authenticode ? &*m.authenticode : nullptr;
  }
  return &m.sha256;
}

std::string Content(const MeasuredInput& m) {
  return m.input.value;  // the path, or the command line's text
}

std::string_view Noun(InputKind kind) {
  switch (kind) {
    case InputKind::kFirmwareCode: return "guest firmware";
    case InputKind::kFirmwareVars: return "guest firmware variable store";
    case InputKind::kKernel: return "guest kernel";
    case InputKind::kInitrd: return "guest initrd";
    case InputKind::kCmdline: return "guest kernel command line";
    case InputKind::kDisk: return "guest disk image";
    case InputKind::kEfiBinary: return "EFI binary on the guest's disk";
    case InputKind::kVtpmEk: return "guest vTPM endorsement key";
  }
  return "guest input";
}

// The policy's `excludes`, as IMA applies them.
class Excludes {
 public:
  explicit Excludes(const policy::Policy& p) {
    for (const std::string& e : p.excludes) (void)allow_.AddExcludeRegex(e);  // checked on load
  }
  bool Match(const std::string& path) const {
    // An empty digest: the answer is kExcluded or "not listed".
    return !path.empty() &&
           allow_.Check(std::string_view(path), ima::FileDigest{}, false).outcome ==
               ima::Allowlist::Outcome::kExcluded;
  }

 private:
  ima::Allowlist allow_;
};

// Only what the guest itself writes may be excluded: a data disk, the
// variable store. Code (firmware, kernel, initrd, EFI binaries) and the
// command line are always judged, whatever the policy's `excludes` (which
// also hold the guest's IMA exclusions) say.
bool Excludable(InputKind kind) {
  return kind == InputKind::kDisk || kind == InputKind::kFirmwareVars;
}

}  // namespace

policy::Stage StageOf(InputKind kind) {
  switch (kind) {
    case InputKind::kFirmwareCode:
    case InputKind::kFirmwareVars: return policy::Stage::kGuestFirmware;
    case InputKind::kKernel: return policy::Stage::kGuestKernel;
    case InputKind::kInitrd: return policy::Stage::kGuestInitrd;
    case InputKind::kCmdline: return policy::Stage::kGuestCmdline;
    case InputKind::kDisk:
    case InputKind::kEfiBinary:
    case InputKind::kVtpmEk: return policy::Stage::kGuestImage;
  }
  return policy::Stage::kGuestImage;
}

std::string ComponentName(std::string_view vm, std::string_view slot) {
  return fmt::format("{}/{}", vm, slot);
}

std::size_t LaunchCheck::Count(ComponentState state) const {
  return static_cast<std::size_t>(std::count_if(items.begin(), items.end(), [&](const InputVerdict& v) {
    return v.judged && v.state == state;
  }));
}

LaunchCheck CheckLaunch(const policy::Policy& policy, std::string_view vm,
                        std::span<const MeasuredInput> inputs) {
  LaunchCheck out;
  out.vm = std::string(vm);
  const Excludes excludes(policy);
  std::set<std::string> filled;
  for (const MeasuredInput& m : inputs) {
    InputVerdict v;
    v.component = ComponentName(vm, m.slot);
    v.stage = StageOf(m.input.kind);
    v.kind = std::string(InputKindName(m.input.kind));
    if (m.input.kind != InputKind::kCmdline) v.path = m.input.value;
    v.measured_content = Content(m);
    const crypto::Digest* d = JudgedDigest(m);
    if (d != nullptr) v.measured = d->TaggedHex();
    filled.insert(v.component);
    if (m.input.kind == InputKind::kVtpmEk) {
      v.judged = false;
      v.reason = "recorded: binds the guest's vTPM to this launch";
      out.items.push_back(std::move(v));
      continue;
    }
    if (Excludable(m.input.kind) && excludes.Match(m.input.value)) {
      v.judged = false;
      v.reason = "recorded, not judged: the path matches the policy's excludes";
      out.items.push_back(std::move(v));
      continue;
    }
    const policy::Component* c = policy.FindComponent(v.component);
    if (c == nullptr) {
      v.state = ComponentState::kUnknown;
      v.reason = fmt::format("{} not in the whitelist (no component {})", Noun(m.input.kind),
                             v.component);
    } else if (d == nullptr) {
      v.state = ComponentState::kTampered;
      v.reason = fmt::format("{} is no longer a valid EFI image", Noun(m.input.kind));
    } else {
      for (const policy::AllowedDigest& a : c->digests) {
        if (a.state != policy::DigestState::kTrusted) continue;
        v.expected.push_back(a.digest.TaggedHex());
        if (v.expected_content.empty()) v.expected_content = a.content;
      }
      const policy::AllowedDigest* hit = c->Find(*d);
      if (hit != nullptr && hit->state == policy::DigestState::kTrusted) {
        v.state = ComponentState::kTrusted;
        v.expected_content.clear();
      } else if (hit != nullptr) {
        v.state = ComponentState::kQuarantined;
        v.reason = fmt::format("{} is quarantined ({})", Noun(m.input.kind),
                               hit->reason.empty() ? "awaiting approval" : hit->reason);
      } else {
        v.state = ComponentState::kTampered;
        v.reason = fmt::format("{} changed", Noun(m.input.kind));
        if (m.input.kind == InputKind::kCmdline && !v.expected_content.empty()) {
          v.diff = policy::TextDiff(v.expected_content, v.measured_content);
          if (!v.diff.empty()) v.reason += " (" + v.diff + ")";
        } else if (!v.expected_content.empty() && v.expected_content != v.measured_content) {
          v.reason += fmt::format(" (and moved: {} -> {})", v.expected_content, v.measured_content);
        }
      }
    }
    out.items.push_back(std::move(v));
  }
  // Components of this VM that every launch must fill.
  const std::string prefix = std::string(vm) + "/";
  for (const policy::Component& c : policy.components) {
    if (!c.required || c.name.rfind(prefix, 0) != 0 || filled.count(c.name) != 0) continue;
    if (!policy::IsGuestLaunchStage(c.stage)) continue;
    InputVerdict v;
    v.component = c.name;
    v.stage = c.stage;
    v.kind = std::string(policy::StageName(c.stage));
    v.state = ComponentState::kMissing;
    v.reason = "the launch does not load this component (input removed or renamed)";
    for (const policy::AllowedDigest& a : c.digests) {
      if (a.state != policy::DigestState::kTrusted) continue;
      v.expected.push_back(a.digest.TaggedHex());
      if (v.expected_content.empty()) v.expected_content = a.content;
    }
    out.items.push_back(std::move(v));
  }
  for (const InputVerdict& v : out.items) {
    if (!v.judged || v.state == ComponentState::kTrusted) continue;
    out.verdict = policy::Verdict::kUntrusted;
    out.problems.push_back(fmt::format("{} {}: {}", v.component,
                                       policy::ComponentStateName(v.state), v.reason));
  }
  return out;
}

std::vector<policy::AuditRecord> QuarantineLaunch(const LaunchCheck& check,
                                                  std::span<const MeasuredInput> inputs,
                                                  std::uint32_t pcr, const std::string& evidence,
                                                  const std::string& now, policy::Policy& policy) {
  std::vector<policy::AuditRecord> records;
  std::map<std::string, const MeasuredInput*> by_component;
  for (const MeasuredInput& m : inputs) by_component[ComponentName(check.vm, m.slot)] = &m;
  for (const InputVerdict& v : check.items) {
    if (!v.judged) continue;
    if (v.state != ComponentState::kTampered && v.state != ComponentState::kUnknown) continue;
    auto it = by_component.find(v.component);
    if (it == by_component.end()) continue;
    const MeasuredInput& m = *it->second;
    const crypto::Digest* d = JudgedDigest(m);
    policy::Component* c = policy.FindComponent(v.component);
    if (c == nullptr && d == nullptr) continue;  // nothing to hold
    if (c == nullptr) {
      policy::Component fresh;
      fresh.name = v.component;
      fresh.stage = v.stage;
      fresh.match.pcr = pcr;
      fresh.match.description = check.vm;
      fresh.required = false;
      policy.components.push_back(std::move(fresh));
      c = &policy.components.back();
    } else {
      for (policy::AllowedDigest& a : c->digests) {
        if (a.state != policy::DigestState::kTrusted) continue;
        a.state = policy::DigestState::kQuarantined;
        a.reason = "component tampered: " + v.reason;
        records.push_back(
            policy::MakeAuditRecord("quarantine", c->name, a.digest, a.reason, evidence, now));
      }
    }
    if (d == nullptr || c->Find(*d) != nullptr) continue;
    policy::AllowedDigest a;
    a.digest = *d;
    a.state = policy::DigestState::kQuarantined;
    a.source = evidence;
    a.added = now;
    a.reason = v.state == ComponentState::kUnknown ? "unknown component, held for approval"
                                                   : "measured at launch: " + v.reason;
    a.content = Content(m);
    records.push_back(policy::MakeAuditRecord("quarantine", c->name, a.digest, a.reason, evidence, now));
    c->digests.push_back(std::move(a));
  }
  policy::CommitChange(records, policy);
  return records;
}

std::vector<policy::AuditRecord> LearnLaunch(std::string_view vm,
                                             std::span<const MeasuredInput> inputs,
                                             std::uint32_t pcr, const std::string& source,
                                             const std::string& now, policy::Policy& policy) {
  std::vector<policy::AuditRecord> records;
  const Excludes excludes(policy);
  for (const MeasuredInput& m : inputs) {
    if (m.input.kind == InputKind::kVtpmEk) continue;
    if (Excludable(m.input.kind) && excludes.Match(m.input.value)) continue;
    const crypto::Digest* d = JudgedDigest(m);
    if (d == nullptr) continue;
    const std::string name = ComponentName(vm, m.slot);
    policy::Component* c = policy.FindComponent(name);
    if (c == nullptr) {
      policy::Component fresh;
      fresh.name = name;
      fresh.stage = StageOf(m.input.kind);
      fresh.match.pcr = pcr;
      fresh.match.description = std::string(vm);
      fresh.required = true;
      policy.components.push_back(std::move(fresh));
      c = &policy.components.back();
    }
    if (c->Find(*d) != nullptr) continue;
    policy::AllowedDigest a;
    a.digest = *d;
    a.state = policy::DigestState::kTrusted;
    a.source = source;
    a.added = now;
    a.content = Content(m);
    records.push_back(policy::MakeAuditRecord("learn", c->name, a.digest, "learned from a launch",
                                              source, now));
    c->digests.push_back(std::move(a));
  }
  policy::CommitChange(records, policy);
  return records;
}

std::string LaunchCheckText(const LaunchCheck& check) {
  std::string out = fmt::format("{:<12} {:<36} {:<14} {}\n", "STATE", "COMPONENT", "KIND",
                                "PATH / REASON");
  for (const InputVerdict& v : check.items) {
    const std::string state =
        v.judged ? std::string(policy::ComponentStateName(v.state)) : std::string("recorded");
    const bool finding = v.judged && v.state != ComponentState::kTrusted;
    out += fmt::format("{:<12} {:<36} {:<14} {}\n", state, v.component, v.kind,
                       finding ? v.reason : (v.path.empty() ? v.measured_content : v.path));
    if (!finding) continue;
    if (!v.expected.empty()) {
      out += fmt::format("             expected {}{}\n", v.expected.front(),
                         v.expected.size() > 1 ? fmt::format(" (or {} more)", v.expected.size() - 1)
                                               : "");
    }
    if (!v.measured.empty()) out += fmt::format("             measured {}\n", v.measured);
    if (v.kind == "cmdline" && !v.expected_content.empty()) {
      out += fmt::format("             was:  {}\n             now:  {}\n", v.expected_content,
                         v.measured_content);
    } else if (!v.path.empty() && v.state != ComponentState::kUnknown) {
      out += fmt::format("             file: {}\n", v.path);
    }
  }
  out += fmt::format("launch check of {}: {} ({} trusted, {} tampered, {} unknown, {} quarantined, "
                     "{} missing)\n",
                     check.vm, policy::VerdictName(check.verdict), check.Count(ComponentState::kTrusted),
                     check.Count(ComponentState::kTampered), check.Count(ComponentState::kUnknown),
                     check.Count(ComponentState::kQuarantined), check.Count(ComponentState::kMissing));
  return out;
}

doc::Value LaunchCheckDocument(const LaunchCheck& check) {
  doc::Value root = doc::Value::MakeObject();
  root.Set("vm", check.vm);
  root.Set("verdict", std::string(policy::VerdictName(check.verdict)));
  doc::Value items = doc::Value::MakeArray();
  for (const InputVerdict& v : check.items) {
    doc::Value i = doc::Value::MakeObject();
    i.Set("component", v.component);
    i.Set("stage", std::string(policy::StageName(v.stage)));
    i.Set("kind", v.kind);
    i.Set("path", v.path);
    i.Set("state", v.judged ? std::string(policy::ComponentStateName(v.state)) : "recorded");
    i.Set("judged", v.judged);
    i.Set("reason", v.reason);
    if (!v.diff.empty()) i.Set("diff", v.diff);
    i.Set("measured", v.measured);
    doc::Value expected = doc::Value::MakeArray();
    for (const std::string& e : v.expected) expected.Push(e);
    i.Set("expected", std::move(expected));
    if (v.kind == "cmdline") {
      i.Set("measured_content", v.measured_content);
      if (!v.expected_content.empty()) i.Set("expected_content", v.expected_content);
    }
    items.Push(std::move(i));
  }
  root.Set("inputs", std::move(items));
  doc::Value problems = doc::Value::MakeArray();
  for (const std::string& p : check.problems) problems.Push(p);
  root.Set("problems", std::move(problems));
  doc::Value summary = doc::Value::MakeObject();
  for (ComponentState s : {ComponentState::kTrusted, ComponentState::kTampered, ComponentState::kUnknown,
                           ComponentState::kQuarantined, ComponentState::kMissing}) {
    summary.Set(std::string(policy::ComponentStateName(s)), static_cast<std::uint64_t>(check.Count(s)));
  }
  root.Set("summary", std::move(summary));
  return root;
}

}  // namespace tc::launch
