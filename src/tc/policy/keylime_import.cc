#include "tc/policy/keylime_import.h"

#include <algorithm>

#include <fmt/format.h>

#include "tc/eventlog/event.h"
#include "tc/ima/allowlist.h"
#include "tc/json/document.h"

namespace tc::policy {
namespace {

Error Bad(std::string_view path, std::string_view what) {
  return Error(ErrorCode::kInvalidArgument, fmt::format("{}: {}", path, what));
}

// Keylime writes bare hex (the algorithm follows from the length), with or
// without "0x".
Result<crypto::Digest> KeylimeDigest(const doc::Value& v, std::string_view path,
                                     std::optional<crypto::HashAlg> alg = std::nullopt) {
  if (!v.is_string()) return Fail(Bad(path, "expected a hex digest"));
  std::string_view hex = v.str();
  if (hex.starts_with("0x") || hex.starts_with("0X")) hex.remove_prefix(2);
  if (!alg) {
    switch (hex.size()) {
      case 40: alg = crypto::HashAlg::kSha1; break;
      case 64: alg = crypto::HashAlg::kSha256; break;
      case 96: alg = crypto::HashAlg::kSha384; break;
      case 128: alg = crypto::HashAlg::kSha512; break;
      default: return Fail(Bad(path, "not a sha1/256/384/512 digest in hex"));
    }
  }
  Bytes b(crypto::DigestSize(*alg));
  if (!DecodeHex(hex, b)) return Fail(Bad(path, "not a digest in hex"));
  return crypto::Digest(*alg, b);
}

Component& Ensure(Policy& p, const std::string& name, Stage stage, std::uint32_t pcr,
                  std::optional<std::uint32_t> type, std::string description) {
  if (Component* c = p.FindComponent(name)) return *c;
  Component c;
  c.name = name;
  c.stage = stage;
  c.match.pcr = pcr;
  c.match.event_type = type;
  c.match.description = std::move(description);
  c.required = false;
  p.components.push_back(std::move(c));
  return p.components.back();
}

void Add(Component& c, const crypto::Digest& d, const std::string& source, const std::string& now) {
  if (c.Find(d) != nullptr) return;
  AllowedDigest a;
  a.digest = d;
  a.source = source;
  a.added = now;
  c.digests.push_back(std::move(a));
}

}  // namespace

namespace {

Result<void> ImportRuntime(std::span<const std::uint8_t> json, Policy& policy, LearnNotes& notes) {
  TC_ASSIGN_OR_RETURN(const doc::Value root, json::ParseDocument(json));
  if (!root.is_object()) return Fail(Bad("policy", "expected an object"));
  const doc::Value* digests = root.Find("digests");
  if (digests == nullptr) digests = root.Find("hashes");
  if (digests == nullptr || !digests->is_object()) {
    return Fail(Bad("digests", "missing: not a Keylime runtime policy"));
  }
  std::size_t count = 0;
  for (const auto& [path, list] : digests->object()) {
    const std::string where = "digests[\"" + PrintableAscii(AsBytes(path)) + "\"]";
    if (!list.is_array()) return Fail(Bad(where, "expected a list of hex digests"));
    auto& out = policy.files[path];
    for (std::size_t i = 0; i < list.array().size(); ++i) {
      TC_ASSIGN_OR_RETURN(const crypto::Digest d,
                          KeylimeDigest(list.array()[i], fmt::format("{}[{}]", where, i)));
      if (std::find(out.begin(), out.end(), d) == out.end()) {
        out.push_back(d);
        ++count;
      }
    }
    if (out.empty()) policy.files.erase(path);
  }
  notes.files_added += count;
  if (const doc::Value* excludes = root.Find("excludes")) {
    if (!excludes->is_array()) return Fail(Bad("excludes", "expected a list of regexes"));
    ima::Allowlist check;  // what verify will compile them with
    for (std::size_t i = 0; i < excludes->array().size(); ++i) {
      const doc::Value& e = excludes->array()[i];
      const std::string ep = fmt::format("excludes[{}]", i);
      if (!e.is_string()) return Fail(Bad(ep, "expected a string"));
      if (auto ok = check.AddExcludeRegex(e.str()); !ok) return Fail(std::move(ok).error().Wrap(ep));
      policy.excludes.push_back(e.str());
    }
  }
  notes.lines.push_back(fmt::format("Keylime runtime policy: {} paths, {} digests, {} excludes",
                                    digests->object().size(), count, policy.excludes.size()));
  for (const char* skipped : {"keyrings", "ima-buf", "verification-keys"}) {
    const doc::Value* v = root.Find(skipped);
    const bool empty = v == nullptr || v->is_null() || (v->is_object() && v->object().empty()) ||
                       (v->is_string() && v->str().empty()) || (v->is_array() && v->array().empty());
    if (!empty) notes.lines.push_back(fmt::format("not imported: \"{}\"", skipped));
  }
  return {};
}

Result<void> ImportRefstate(std::span<const std::uint8_t> json, const std::string& source,
                            const std::string& now, Policy& p, LearnNotes& notes) {
  const std::size_t components_before = p.components.size();
  TC_ASSIGN_OR_RETURN(const doc::Value root, json::ParseDocument(json));
  if (!root.is_object()) return Fail(Bad("refstate", "expected an object"));
  const std::uint32_t app = eventlog::ev::kEfiBootServicesApplication;
  std::size_t added = 0;
  if (const doc::Value* kernels = root.Find("kernels")) {
    if (!kernels->is_array()) return Fail(Bad("kernels", "expected a list"));
    for (std::size_t i = 0; i < kernels->array().size(); ++i) {
      const doc::Value& k = kernels->array()[i];
      const std::string kp = fmt::format("kernels[{}]", i);
      if (!k.is_object()) return Fail(Bad(kp, "expected an object"));
      struct Field {
        const char* key;
        const char* name;
        Stage stage;
        std::uint32_t pcr;
        std::optional<std::uint32_t> type;
      };
      for (const Field& fd : {Field{"shim_authcode_sha256", "shim", Stage::kBootloader, 4, app},
                              Field{"grub_authcode_sha256", "grub", Stage::kBootloader, 4, app},
                              Field{"kernel_authcode_sha256", "kernel", Stage::kKernel, 4, app},
                              Field{"initrd_plain_sha256", "initrd", Stage::kInitrd, 9, std::nullopt},
                              Field{"vmlinuz_plain_sha256", "kernel-file", Stage::kKernel, 9,
                                    std::nullopt}}) {
        const doc::Value* v = k.Find(fd.key);
        if (v == nullptr) continue;
        TC_ASSIGN_OR_RETURN(const crypto::Digest d,
                            KeylimeDigest(*v, kp + "." + fd.key, crypto::HashAlg::kSha256));
        Add(Ensure(p, std::string("keylime-") + fd.name, fd.stage, fd.pcr, fd.type, fd.key), d,
            fmt::format("{} {}.{}", source, kp, fd.key), now);
        ++added;
      }
      if (k.Find("kernel_cmdline") != nullptr) {
        notes.lines.push_back(kp + ".kernel_cmdline is a regular expression: not imported (learn "
                                   "the command line from a golden boot)");
      }
    }
  }
  if (const doc::Value* firmware = root.Find("scrtm_and_bios")) {
    if (!firmware->is_array()) return Fail(Bad("scrtm_and_bios", "expected a list"));
    for (std::size_t i = 0; i < firmware->array().size(); ++i) {
      const doc::Value& e = firmware->array()[i];
      const std::string fp = fmt::format("scrtm_and_bios[{}]", i);
      if (!e.is_object()) return Fail(Bad(fp, "expected an object"));
      Component& c = Ensure(p, "keylime-platform-firmware", Stage::kFirmware, 0, std::nullopt, "");
      if (const doc::Value* s = e.Find("scrtm")) {
        TC_ASSIGN_OR_RETURN(const crypto::Digest d, KeylimeDigest(*s, fp + ".scrtm"));
        Add(c, d, source + " " + fp + ".scrtm", now);
        ++added;
      }
      if (const doc::Value* blobs = e.Find("platform_firmware")) {
        if (!blobs->is_array()) return Fail(Bad(fp + ".platform_firmware", "expected a list"));
        for (std::size_t j = 0; j < blobs->array().size(); ++j) {
          TC_ASSIGN_OR_RETURN(const crypto::Digest d,
                              KeylimeDigest(blobs->array()[j],
                                            fmt::format("{}.platform_firmware[{}]", fp, j)));
          Add(c, d, fmt::format("{} {}.platform_firmware[{}]", source, fp, j), now);
          ++added;
        }
      }
    }
  }
  for (const char* key : {"mokdig", "mokxdig"}) {
    const doc::Value* list = root.Find(key);
    if (list == nullptr) continue;
    if (!list->is_array()) return Fail(Bad(key, "expected a list"));
    for (std::size_t i = 0; i < list->array().size(); ++i) {
      const doc::Value& e = list->array()[i];
      const std::string mp = fmt::format("{}[{}]", key, i);
      const doc::Value* v = e.is_object() ? e.Find("sha256") : &e;
      if (v == nullptr) return Fail(Bad(mp, "expected {\"sha256\": hex}"));
      TC_ASSIGN_OR_RETURN(const crypto::Digest d, KeylimeDigest(*v, mp, crypto::HashAlg::kSha256));
      Add(Ensure(p, std::string("keylime-") + key, Stage::kSecureBoot, 14, std::nullopt, ""), d,
          source + " " + mp, now);
      ++added;
    }
  }
  for (const char* key : {"pk", "kek", "db", "dbx"}) {
    if (root.Find(key) != nullptr) {
      notes.lines.push_back(fmt::format(
          "\"{}\" lists signature entries, not the variable's digest: not imported (learn Secure "
          "Boot variables from a golden boot)",
          key));
    }
  }
  notes.components_added += p.components.size() - components_before;
  notes.lines.push_back(fmt::format("Keylime measured-boot reference state: {} digests", added));
  return {};
}

}  // namespace

// Both import into a copy: a failure leaves the policy and notes as they were.
Result<void> ImportKeylimeRuntimePolicy(std::span<const std::uint8_t> json, Policy& policy,
                                        LearnNotes& notes) {
  Policy work = policy;
  LearnNotes work_notes = notes;
  TC_RETURN_IF_ERROR(ImportRuntime(json, work, work_notes));
  policy = std::move(work);
  notes = std::move(work_notes);
  return {};
}

Result<void> ImportKeylimeRefstate(std::span<const std::uint8_t> json, const std::string& source,
                                   const std::string& now, Policy& policy, LearnNotes& notes) {
  Policy work = policy;
  LearnNotes work_notes = notes;
  TC_RETURN_IF_ERROR(ImportRefstate(json, source, now, work, work_notes));
  policy = std::move(work);
  notes = std::move(work_notes);
  return {};
}

}  // namespace tc::policy
