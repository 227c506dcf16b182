#include "tc/policy/learn.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "tc/eventlog/replay.h"
#include "tc/policy/identify.h"

namespace tc::policy {
namespace {

std::string UniqueName(const Policy& policy, std::string name) {
  if (policy.FindComponent(name) == nullptr) return name;
  for (int i = 2;; ++i) {
    std::string candidate = fmt::format("{}-{}", name, i);
    if (policy.FindComponent(candidate) == nullptr) return candidate;
  }
}

}  // namespace

std::string NowRfc3339() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<void> LearnEventLog(const eventlog::EventLog& log, const std::string& log_name,
                           const std::string& now, Policy& policy, LearnNotes& notes) {
  using Key = std::tuple<std::uint32_t, std::uint32_t, std::string>;
  std::map<Key, std::string> by_key;  // component names of this policy
  for (const Component& c : policy.components) {
    if (c.match.pcr && c.match.event_type) {
      by_key[{*c.match.pcr, *c.match.event_type, c.match.description}] = c.name;
    }
  }
  std::size_t extended = 0;
  for (const eventlog::RawEvent& e : log.events()) {
    if (!eventlog::IsExtended(e)) continue;
    ++extended;
    const EventIdentity id = Identify(e);
    const Key key{e.pcr, e.type, id.match.description};
    Component* c = nullptr;
    if (auto it = by_key.find(key); it != by_key.end()) c = policy.FindComponent(it->second);
    if (c == nullptr) {
      Component fresh;
      fresh.name = UniqueName(policy, id.name);
      fresh.stage = id.stage;
      fresh.match = id.match;
      policy.components.push_back(std::move(fresh));
      c = &policy.components.back();
      by_key[key] = c->name;
      ++notes.components_added;
    }
    for (const crypto::Digest& d : e.digests) {
      if (c->Find(d) != nullptr) continue;
      AllowedDigest a;
      a.digest = d;
      a.source = fmt::format("{} event {}", log_name, e.index);
      a.added = now;
      a.content = id.content;
      c->digests.push_back(std::move(a));
    }
  }
  if (extended == 0) {
    return Fail(ErrorCode::kInvalidArgument,
                log_name + ": the event log has no measured event to learn from");
  }
  notes.lines.push_back(fmt::format("{}: {} measured events -> {} components", log_name, extended,
                                    notes.components_added));
  return {};
}

Result<void> LearnImaList(ByteSource& list, const ima::ParseOptions& options, Policy& policy,
                          LearnNotes& notes) {
  ima::EntryStream stream(list, options);
  ima::ImaEntry entry;
  std::size_t entries = 0, skipped = 0;
  while (true) {
    TC_ASSIGN_OR_RETURN(const bool more, stream.Next(&entry));
    if (!more) break;
    ++entries;
    if (!entry.path || !entry.digest || !entry.digest->alg || !entry.buffer.empty() ||
        entry.template_name == "ima-buf" || *entry.path == "boot_aggregate" || entry.IsViolation() ||
        entry.digest->bytes.size() != crypto::DigestSize(*entry.digest->alg)) {
      ++skipped;
      continue;
    }
    const crypto::Digest d(*entry.digest->alg, entry.digest->bytes);
    auto& digests = policy.files[std::string(*entry.path)];
    if (std::find(digests.begin(), digests.end(), d) == digests.end()) {
      digests.push_back(d);
      ++notes.files_added;
    }
  }
  notes.lines.push_back(fmt::format(
      "IMA list: {} entries, {} file digests (skipped {}: boot_aggregate, buffers, keys, "
      "violations)",
      entries, entries - skipped, skipped));
  return {};
}

void LearnFiles(const std::vector<LearnedFile>& files, const std::string& now, Policy& policy,
                LearnNotes& notes) {
  std::size_t images = 0, matched = 0, runtime = 0;
  for (const LearnedFile& f : files) {
    if (f.authenticode) {
      ++images;
      bool found = false;
      for (Component& c : policy.components) {
        if (c.match.pcr != 4u) continue;
        if (AllowedDigest* a = c.Find(*f.authenticode)) {
          a->source += (a->source.empty() ? "" : "; ") + ("file " + f.path);
          notes.lines.push_back(fmt::format(
              "{}: Authenticode sha256 {} = the digest of {} ({})", f.path, f.authenticode->Hex(),
              c.name, c.match.description));
          found = true;
          ++matched;
          break;
        }
      }
      if (!found) {
        const std::string base = PathBasename(f.path);
        const bool kernel = LooksLikeKernel(base);
        Component c;
        c.name = UniqueName(policy, (kernel ? "kernel-file-" : "efi-file-") + base);
        c.stage = kernel ? Stage::kKernel : Stage::kBootloader;
        c.match.pcr = 4;
        c.match.event_type = eventlog::ev::kEfiBootServicesApplication;
        c.match.description = base;
        c.required = false;
        AllowedDigest a;
        a.digest = *f.authenticode;
        a.source = "Authenticode of file " + f.path;
        a.added = now;
        c.digests.push_back(std::move(a));
        notes.lines.push_back(fmt::format("{}: Authenticode sha256 {} is in no event of the log: "
                                          "admitted as {} (not required)",
                                          f.path, f.authenticode->Hex(), c.name));
        policy.components.push_back(std::move(c));
        ++notes.components_added;
      }
      continue;
    }
    // A plain file hashed by the firmware or a boot loader (an initrd in
    // PCR 9) is noted on its component; it stays a runtime file too.
    for (Component& c : policy.components) {
      if (!c.match.pcr || *c.match.pcr == 4) continue;
      if (AllowedDigest* a = c.Find(f.sha256)) {
        a->source += (a->source.empty() ? "" : "; ") + ("file " + f.path);
        notes.lines.push_back(fmt::format("{}: sha256 {} = the digest of {}", f.path,
                                          f.sha256.Hex(), c.name));
        ++matched;
      }
    }
    auto& digests = policy.files[f.path];
    if (std::find(digests.begin(), digests.end(), f.sha256) == digests.end()) {
      digests.push_back(f.sha256);
      ++notes.files_added;
      ++runtime;
    }
  }
  notes.lines.push_back(fmt::format(
      "files: {} measured, {} EFI images (Authenticode), {} equal to a measured event, {} runtime "
      "digests",
      files.size(), images, matched, runtime));
}

}  // namespace tc::policy
