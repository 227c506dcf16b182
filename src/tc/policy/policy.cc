#include "tc/policy/policy.h"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "tc/base/hex.h"
#include "tc/doc/value.h"
#include "tc/ima/allowlist.h"
#include "tc/json/document.h"

namespace tc::policy {
namespace {

constexpr std::array<std::pair<Stage, std::string_view>, 13> kStages = {{
    {Stage::kFirmware, "firmware"},
    {Stage::kBootloader, "bootloader"},
    {Stage::kVmm, "vmm"},
    {Stage::kKernel, "kernel"},
    {Stage::kInitrd, "initrd"},
    {Stage::kCmdline, "cmdline"},
    {Stage::kSecureBoot, "secureboot"},
    {Stage::kOsFile, "os-file"},
    {Stage::kGuestFirmware, "guest-firmware"},
    {Stage::kGuestKernel, "guest-kernel"},
    {Stage::kGuestInitrd, "guest-initrd"},
    {Stage::kGuestCmdline, "guest-cmdline"},
    {Stage::kGuestImage, "guest-image"},
}};

// Longest runtime file path (as ima::Allowlist).
constexpr std::size_t kMaxPathSize = 16 * 1024;

Error Bad(std::string_view path, std::string_view what) {
  return Error(ErrorCode::kInvalidArgument, fmt::format("{}: {}", path, what));
}

// Refuses members other than `known`: a misspelt member must not be
// silently ignored in a whitelist.
Result<void> OnlyMembers(const doc::Value& v, std::string_view path,
                         std::initializer_list<std::string_view> known) {
  if (!v.is_object()) return Fail(Bad(path, "expected an object"));
  for (const auto& [key, value] : v.object()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Fail(Bad(path, fmt::format("unknown member \"{}\"", PrintableAscii(AsBytes(key)))));
    }
  }
  return {};
}

Result<std::string> String(const doc::Value* v, std::string_view path, bool required) {
  if (v == nullptr) {
    if (required) return Fail(Bad(path, "missing"));
    return std::string();
  }
  if (!v->is_string()) return Fail(Bad(path, "expected a string"));
  return v->str();
}

Result<std::uint64_t> Unsigned(const doc::Value* v, std::string_view path, std::uint64_t max) {
  if (v == nullptr) return Fail(Bad(path, "missing"));
  const auto* i = std::get_if<std::int64_t>(&v->variant());
  if (i == nullptr || *i < 0 || static_cast<std::uint64_t>(*i) > max) {
    return Fail(Bad(path, fmt::format("expected an integer 0-{}", max)));
  }
  return static_cast<std::uint64_t>(*i);
}

Result<crypto::Digest> DigestOf(std::string_view alg_name, std::string_view hex,
                                std::string_view path) {
  const auto alg = crypto::HashAlgFromName(alg_name);
  if (!alg) return Fail(Bad(path, fmt::format("unknown algorithm \"{}\"", alg_name)));
  Bytes b(crypto::DigestSize(*alg));
  if (!DecodeHex(hex, b)) {
    return Fail(Bad(path, fmt::format("not {} bytes of hex for {}", b.size(), alg_name)));
  }
  return crypto::Digest(*alg, b);
}

Result<bool> Bool(const doc::Value& v, std::string_view path) {
  const auto* b = std::get_if<bool>(&v.variant());
  if (b == nullptr) return Fail(Bad(path, "expected true or false"));
  return *b;
}

Result<PolicySignature> ParseSignature(const doc::Value& v) {
  TC_RETURN_IF_ERROR(OnlyMembers(v, "signature", {"alg", "key_id", "value"}));
  PolicySignature sig;
  TC_ASSIGN_OR_RETURN(sig.alg, String(v.Find("alg"), "signature.alg", true));
  TC_ASSIGN_OR_RETURN(sig.key_id, String(v.Find("key_id"), "signature.key_id", true));
  TC_ASSIGN_OR_RETURN(const std::string value, String(v.Find("value"), "signature.value", true));
  auto bytes = ParseHex(value);
  if (!bytes || bytes->empty() || bytes->size() > 1024) {
    return Fail(Bad("signature.value", "expected hex of a DER signature"));
  }
  sig.value = std::move(*bytes);
  return sig;
}

Result<Component> ParseComponent(const doc::Value& v, const std::string& path) {
  TC_RETURN_IF_ERROR(OnlyMembers(v, path, {"name", "stage", "match", "required", "digests"}));
  Component c;
  TC_ASSIGN_OR_RETURN(c.name, String(v.Find("name"), path + ".name", true));
  if (c.name.empty()) return Fail(Bad(path + ".name", "empty"));
  TC_ASSIGN_OR_RETURN(const std::string stage, String(v.Find("stage"), path + ".stage", true));
  const auto s = StageFromName(stage);
  if (!s) {
    return Fail(Bad(path + ".stage", fmt::format("unknown stage \"{}\"",
                                                 PrintableAscii(AsBytes(stage)))));
  }
  c.stage = *s;
  if (const doc::Value* m = v.Find("match")) {
    const std::string mp = path + ".match";
    TC_RETURN_IF_ERROR(OnlyMembers(*m, mp, {"pcr", "event_type", "description"}));
    if (m->Find("pcr") != nullptr) {
      TC_ASSIGN_OR_RETURN(const std::uint64_t pcr, Unsigned(m->Find("pcr"), mp + ".pcr", 23));
      c.match.pcr = static_cast<std::uint32_t>(pcr);
    }
    if (m->Find("event_type") != nullptr) {
      TC_ASSIGN_OR_RETURN(const std::uint64_t t,
                          Unsigned(m->Find("event_type"), mp + ".event_type", 0xffffffff));
      c.match.event_type = static_cast<std::uint32_t>(t);
    }
    TC_ASSIGN_OR_RETURN(c.match.description, String(m->Find("description"), mp + ".description", false));
  }
  if (const doc::Value* r = v.Find("required")) {
    TC_ASSIGN_OR_RETURN(c.required, Bool(*r, path + ".required"));
  }
  const doc::Value* digests = v.Find("digests");
  if (digests == nullptr || !digests->is_array()) {
    return Fail(Bad(path + ".digests", "expected a list"));
  }
  for (std::size_t i = 0; i < digests->array().size(); ++i) {
    const doc::Value& d = digests->array()[i];
    const std::string dp = fmt::format("{}.digests[{}]", path, i);
    TC_RETURN_IF_ERROR(OnlyMembers(d, dp, {"alg", "digest", "state", "source", "added", "reason", "content"}));
    AllowedDigest a;
    TC_ASSIGN_OR_RETURN(const std::string alg, String(d.Find("alg"), dp + ".alg", true));
    TC_ASSIGN_OR_RETURN(const std::string hex, String(d.Find("digest"), dp + ".digest", true));
    TC_ASSIGN_OR_RETURN(a.digest, DigestOf(alg, hex, dp + ".digest"));
    TC_ASSIGN_OR_RETURN(const std::string state, String(d.Find("state"), dp + ".state", true));
    if (state == "trusted") {
      a.state = DigestState::kTrusted;
    } else if (state == "quarantined") {
      a.state = DigestState::kQuarantined;
    } else {
      return Fail(Bad(dp + ".state", "expected \"trusted\" or \"quarantined\""));
    }
    TC_ASSIGN_OR_RETURN(a.source, String(d.Find("source"), dp + ".source", false));
    TC_ASSIGN_OR_RETURN(a.added, String(d.Find("added"), dp + ".added", false));
    TC_ASSIGN_OR_RETURN(a.reason, String(d.Find("reason"), dp + ".reason", false));
    TC_ASSIGN_OR_RETURN(a.content, String(d.Find("content"), dp + ".content", false));
    if (c.Find(a.digest) != nullptr) {
      return Fail(Bad(dp + ".digest", "listed twice in this component"));
    }
    c.digests.push_back(std::move(a));
  }
  return c;
}

// Reads "files": {"/path": ["alg:hex", ...], ...} straight into
// Policy::files as the JSON is parsed (json::ParseDocumentDiverting): a
// policy of a million runtime files never becomes a document tree.
class FilesReader final : public json::Handler {
 public:
  explicit FilesReader(std::map<std::string, std::vector<crypto::Digest>, std::less<>>& files)
      : files_(files) {}

  Result<void> BeginObject() override {
    if (depth_ != 0) return Unexpected();
    depth_ = 1;
    return {};
  }
  Result<void> Key(std::string_view path) override {
    if (depth_ != 1) return Unexpected();
    where_ = "files[\"" + PrintableAscii(AsBytes(path.substr(0, 200))) + "\"]";
    if (path.empty() || path.size() > kMaxPathSize) return Fail(Bad(where_, "bad path length"));
    auto [it, fresh] = files_.try_emplace(std::string(path));
    if (!fresh) return Fail(Bad(where_, "listed twice"));
    current_ = &it->second;
    return {};
  }
  Result<void> BeginArray() override {
    if (depth_ != 1 || current_ == nullptr) return Unexpected();
    depth_ = 2;
    index_ = 0;
    return {};
  }
  Result<void> String(std::string_view tagged) override {
    if (depth_ != 2) return Unexpected();
    auto d = crypto::Digest::FromTaggedHex(tagged);
    if (!d) return Fail(std::move(d).error().Wrap(fmt::format("{}[{}]", where_, index_)));
    ++index_;
    if (std::find(current_->begin(), current_->end(), *d) == current_->end()) current_->push_back(*d);
    return {};
  }
  Result<void> EndArray() override {
    if (depth_ != 2) return Unexpected();
    if (current_->empty()) return Fail(Bad(where_, "expected a non-empty list of \"alg:hex\""));
    depth_ = 1;
    current_ = nullptr;
    return {};
  }
  Result<void> EndObject() override {
    if (depth_ != 1) return Unexpected();
    depth_ = 0;
    return {};
  }
  Result<void> Number(std::string_view) override { return Unexpected(); }
  Result<void> Bool(bool) override { return Unexpected(); }
  Result<void> Null() override { return Unexpected(); }

 private:
  Result<void> Unexpected() const {
    if (depth_ == 2) return Fail(Bad(fmt::format("{}[{}]", where_, index_), "expected \"alg:hex\""));
    return Fail(Bad(depth_ == 1 && current_ != nullptr ? where_ : std::string("files"),
                    "expected an object of path: [\"alg:hex\", ...]"));
  }

  std::map<std::string, std::vector<crypto::Digest>, std::less<>>& files_;
  std::vector<crypto::Digest>* current_ = nullptr;
  std::string where_;
  std::size_t index_ = 0;
  int depth_ = 0;
};

}  // namespace

std::string_view StageName(Stage s) {
  for (const auto& [stage, name] : kStages) {
    if (stage == s) return name;
  }
  return "?";
}

std::optional<Stage> StageFromName(std::string_view name) {
  for (const auto& [stage, n] : kStages) {
    if (n == name) return stage;
  }
  return std::nullopt;
}

Result<Policy> ParsePolicy(std::span<const std::uint8_t> json) {
  Policy p;
  FilesReader files(p.files);
  TC_ASSIGN_OR_RETURN(const doc::Value root,
                      json::ParseDocumentDiverting(json, [&](std::string_view key) -> json::Handler* {
                        return key == "files" ? &files : nullptr;
                      }));
  if (!root.is_object()) return Fail(Bad("policy", "expected a JSON object"));
  const doc::Value* format = root.Find("trustchain_policy");
  if (format == nullptr) {
    return Fail(Bad("policy", "not a trustchain policy (no \"trustchain_policy\" member)"));
  }
  TC_ASSIGN_OR_RETURN(const std::uint64_t fv, Unsigned(format, "trustchain_policy", 1000));
  if (fv != kFormatVersion) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("policy format {} is not supported (this trustchain reads {})", fv,
                            kFormatVersion));
  }
  TC_RETURN_IF_ERROR(OnlyMembers(root, "policy",
                                 {"trustchain_policy", "version", "required_banks",
                                  "refuse_sha1_only", "components", "files", "excludes", "golden_pcrs",
                                  "signature"}));
  // "files" was read into p.files as the text was parsed.
  TC_ASSIGN_OR_RETURN(p.version, Unsigned(root.Find("version"), "version", UINT64_C(1) << 53));
  if (const doc::Value* banks = root.Find("required_banks")) {
    if (!banks->is_array()) return Fail(Bad("required_banks", "expected a list"));
    for (const doc::Value& b : banks->array()) {
      const auto alg = b.is_string() ? crypto::HashAlgFromName(b.str()) : std::nullopt;
      if (!alg) return Fail(Bad("required_banks", "expected hash algorithm names"));
      p.required_banks.push_back(*alg);
    }
  }
  if (const doc::Value* r = root.Find("refuse_sha1_only")) {
    const auto* b = std::get_if<bool>(&r->variant());
    if (b == nullptr) return Fail(Bad("refuse_sha1_only", "expected true or false"));
    p.refuse_sha1_only = *b;
  }
  if (const doc::Value* excludes = root.Find("excludes")) {
    if (!excludes->is_array()) return Fail(Bad("excludes", "expected a list of regexes"));
    ima::Allowlist check;
    for (std::size_t i = 0; i < excludes->array().size(); ++i) {
      const std::string ep = fmt::format("excludes[{}]", i);
      TC_ASSIGN_OR_RETURN(std::string e, String(&excludes->array()[i], ep, true));
      if (auto ok = check.AddExcludeRegex(e); !ok) {
        return Fail(std::move(ok).error().Wrap(ep));
      }
      p.excludes.push_back(std::move(e));
    }
  }
  if (const doc::Value* sig = root.Find("signature")) {
    TC_ASSIGN_OR_RETURN(p.signature, ParseSignature(*sig));
  }
  const doc::Value* components = root.Find("components");
  if (components == nullptr || !components->is_array()) {
    return Fail(Bad("components", "expected a list"));
  }
  for (std::size_t i = 0; i < components->array().size(); ++i) {
    TC_ASSIGN_OR_RETURN(Component c,
                        ParseComponent(components->array()[i], fmt::format("components[{}]", i)));
    for (const Component& other : p.components) {
      if (other.name == c.name) {
        return Fail(Bad(fmt::format("components[{}].name", i),
                        fmt::format("\"{}\" is already a component", c.name)));
      }
    }
    p.components.push_back(std::move(c));
  }
  if (const doc::Value* golden = root.Find("golden_pcrs")) {
    if (!golden->is_object()) return Fail(Bad("golden_pcrs", "expected an object"));
    for (const auto& [bank, values] : golden->object()) {
      const std::string gp = "golden_pcrs." + bank;
      if (!values.is_object()) return Fail(Bad(gp, "expected an object of PCR: hex"));
      for (const auto& [index, hex] : values.object()) {
        if (index.empty() || index.size() > 2 ||
            index.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(index) >= pcr::kNumPcrs) {
          return Fail(Bad(gp, fmt::format("\"{}\" is not a PCR index 0-23", index)));
        }
        TC_ASSIGN_OR_RETURN(const std::string h, String(&hex, gp + "." + index, true));
        TC_ASSIGN_OR_RETURN(crypto::Digest d, DigestOf(bank, h, gp + "." + index));
        p.golden_pcrs.banks[d.alg()][static_cast<std::uint32_t>(std::stoul(index))] = d;
      }
    }
  }
  return p;
}

std::string_view DigestStateName(DigestState s) {
  return s == DigestState::kTrusted ? "trusted" : "quarantined";
}

const AllowedDigest* Component::Find(const crypto::Digest& d) const {
  for (const AllowedDigest& a : digests) {
    if (a.digest == d) return &a;
  }
  return nullptr;
}

AllowedDigest* Component::Find(const crypto::Digest& d) {
  return const_cast<AllowedDigest*>(std::as_const(*this).Find(d));
}

const Component* Policy::FindComponent(std::string_view name) const {
  for (const Component& c : components) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Component* Policy::FindComponent(std::string_view name) {
  return const_cast<Component*>(std::as_const(*this).FindComponent(name));
}

namespace {

doc::Value ToDocument(const Policy& p, bool with_signature) {
  doc::Value root = doc::Value::MakeObject();
  root.Set("trustchain_policy", kFormatVersion);
  root.Set("version", static_cast<std::uint64_t>(p.version));
  doc::Value banks = doc::Value::MakeArray();
  for (const crypto::HashAlg alg : p.required_banks) banks.Push(crypto::HashAlgName(alg));
  root.Set("required_banks", std::move(banks));
  root.Set("refuse_sha1_only", p.refuse_sha1_only);
  doc::Value components = doc::Value::MakeArray();
  for (const Component& c : p.components) {
    doc::Value v = doc::Value::MakeObject();
    v.Set("name", c.name);
    v.Set("stage", StageName(c.stage));
    doc::Value m = doc::Value::MakeObject();
    if (c.match.pcr) m.Set("pcr", *c.match.pcr);
    if (c.match.event_type) m.Set("event_type", *c.match.event_type);
    if (!c.match.description.empty()) m.Set("description", c.match.description);
    v.Set("match", std::move(m));
    if (!c.required) v.Set("required", false);
    doc::Value digests = doc::Value::MakeArray();
    for (const AllowedDigest& a : c.digests) {
      doc::Value d = doc::Value::MakeObject();
      d.Set("alg", crypto::HashAlgName(a.digest.alg()));
      d.Set("digest", a.digest.Hex());
      d.Set("state", DigestStateName(a.state));
      if (!a.source.empty()) d.Set("source", a.source);
      if (!a.added.empty()) d.Set("added", a.added);
      if (!a.reason.empty()) d.Set("reason", a.reason);
      if (!a.content.empty()) d.Set("content", a.content);
      digests.Push(std::move(d));
    }
    v.Set("digests", std::move(digests));
    components.Push(std::move(v));
  }
  root.Set("components", std::move(components));
  if (!p.files.empty()) {
    doc::Value files = doc::Value::MakeObject();
    for (const auto& [path, digests] : p.files) {
      doc::Value list = doc::Value::MakeArray();
      for (const crypto::Digest& d : digests) {
        list.Push(d.TaggedHex());
      }
      files.Set(path, std::move(list));
    }
    root.Set("files", std::move(files));
  }
  if (!p.excludes.empty()) {
    doc::Value excludes = doc::Value::MakeArray();
    for (const std::string& e : p.excludes) excludes.Push(e);
    root.Set("excludes", std::move(excludes));
  }
  if (!p.golden_pcrs.empty()) {
    doc::Value golden = doc::Value::MakeObject();
    for (const auto& [alg, values] : p.golden_pcrs.banks) {
      doc::Value bank = doc::Value::MakeObject();
      for (const auto& [index, value] : values) bank.Set(std::to_string(index), value.Hex());
      golden.Set(std::string(crypto::HashAlgName(alg)), std::move(bank));
    }
    root.Set("golden_pcrs", std::move(golden));
  }
  if (with_signature && p.signature) {
    doc::Value sig = doc::Value::MakeObject();
    sig.Set("alg", p.signature->alg);
    sig.Set("key_id", p.signature->key_id);
    sig.Set("value", ToHex(p.signature->value));
    root.Set("signature", std::move(sig));
  }
  return root;
}

}  // namespace

std::string SerializePolicy(const Policy& p) { return doc::ToJson(ToDocument(p, true)); }

std::string CanonicalBytes(const Policy& p) { return doc::ToJson(ToDocument(p, false)); }

}  // namespace tc::policy
