#include "tc/policy/enforce.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tc/base/hex.h"
#include "tc/json/document.h"

namespace tc::policy {
namespace {

constexpr const char* kNow = "2026-11-26T10:00:00Z";
constexpr const char* kLater = "2026-11-27T09:30:00Z";

// A sha256 digest whose bytes are all `b`.
crypto::Digest D(std::uint8_t b) {
  return crypto::Digest(crypto::HashAlg::kSha256, Bytes(32, b));
}

std::string Tag(const crypto::Digest& d) { return "sha256:" + d.Hex(); }

AllowedDigest Allowed(std::uint8_t b, DigestState state = DigestState::kTrusted,
                      std::string reason = "") {
  AllowedDigest a;
  a.digest = D(b);
  a.state = state;
  a.source = "golden event";
  a.reason = std::move(reason);
  return a;
}

// A policy with a command line (one trusted digest, one already
// quarantined), a boot loader and two runtime files.
Policy BasePolicy() {
  Policy p;
  p.version = 7;
  Component cmdline;
  cmdline.name = "kernel-cmdline";
  cmdline.stage = Stage::kCmdline;
  cmdline.match.pcr = 8;
  cmdline.digests = {Allowed(0xa1), Allowed(0xa2, DigestState::kQuarantined, "earlier")};
  Component grub;
  grub.name = "grub";
  grub.stage = Stage::kBootloader;
  grub.match.pcr = 4;
  grub.digests = {Allowed(0xb1)};
  p.components = {cmdline, grub};
  p.files["/usr/bin/bash"] = {D(0xc1), D(0xc2)};
  p.files["/usr/bin/ls"] = {D(0xc3)};
  p.signature = PolicySignature{"ecdsa-p256-sha256", "00", Bytes{1, 2, 3}};
  return p;
}

EventResult Event(std::size_t index, std::uint32_t pcr, std::string type, std::string description,
                  ComponentState state, const crypto::Digest& measured, std::string content = "") {
  EventResult e;
  e.index = index;
  e.pcr = pcr;
  e.type = std::move(type);
  e.description = std::move(description);
  e.state = state;
  e.measured = Tag(measured);
  e.measured_content = std::move(content);
  return e;
}

ComponentResult Finding(std::string name, enum Stage stage, ComponentState state, std::string reason,
                       std::vector<EventResult> events, bool in_policy = true) {
  ComponentResult r;
  r.name = std::move(name);
  r.stage = stage;
  r.state = state;
  r.in_policy = in_policy;
  r.reason = std::move(reason);
  r.events = std::move(events);
  return r;
}

// A tampered command line, an unknown boot application, a tampered
// runtime file, a finding about the IMA list itself and a trusted boot
// loader.
Evaluation TamperedBoot() {
  Evaluation ev;
  ev.verdict = Verdict::kUntrusted;
  ev.components.push_back(Finding(
      "kernel-cmdline", Stage::kCmdline, ComponentState::kTampered, "the command line changed",
      {Event(17, 8, "EV_IPL", "kernel_cmdline", ComponentState::kTampered, D(0xd1),
             "quiet init=/bin/sh")}));
  ev.components.push_back(Finding("grub", Stage::kBootloader, ComponentState::kTrusted, "",
                                 {Event(12, 4, "EV_EFI_BOOT_SERVICES_APPLICATION", "grubx64.efi",
                                        ComponentState::kTrusted, D(0xb1))}));
  ev.components.push_back(Finding("evil.efi", Stage::kBootloader, ComponentState::kUnknown,
                                 "an image the policy does not know",
                                 {Event(30, 4, "EV_EFI_BOOT_SERVICES_APPLICATION",
                                        "\\EFI\\evil.efi", ComponentState::kUnknown, D(0xe1))},
                                 /*in_policy=*/false));
  ev.components.push_back(Finding("/usr/bin/bash", Stage::kOsFile, ComponentState::kTampered,
                                 "the file's digest is not in the policy",
                                 {Event(5, 10, "ima", "/usr/bin/bash", ComponentState::kTampered,
                                        D(0xf1))},
                                 /*in_policy=*/false));
  ev.components.push_back(Finding("ima-measurement-list", Stage::kOsFile, ComponentState::kTampered,
                                 "PCR 10 does not replay", {}, /*in_policy=*/false));
  return ev;
}

const AuditRecord* FindRecord(const std::vector<AuditRecord>& records, const std::string& component,
                              const crypto::Digest& d) {
  for (const AuditRecord& r : records) {
    if (r.component == component && r.digest == Tag(d)) return &r;
  }
  return nullptr;
}

TEST(QuarantineTest, TamperedComponentDigestsBecomeQuarantined) {
  Policy p = BasePolicy();
  const auto records = Quarantine(TamperedBoot(), "boot-1", kNow, p);

  const Component* c = p.FindComponent("kernel-cmdline");
  ASSERT_NE(c, nullptr);
  // The formerly trusted digest is quarantined with the finding as reason.
  const AllowedDigest* old = c->Find(D(0xa1));
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(old->state, DigestState::kQuarantined);
  EXPECT_NE(old->reason.find("the command line changed"), std::string::npos) << old->reason;
  // An already quarantined digest keeps its reason and gets no record.
  const AllowedDigest* earlier = c->Find(D(0xa2));
  ASSERT_NE(earlier, nullptr);
  EXPECT_EQ(earlier->state, DigestState::kQuarantined);
  EXPECT_EQ(earlier->reason, "earlier");
  EXPECT_EQ(FindRecord(records, "kernel-cmdline", D(0xa2)), nullptr);
  // The measured digest is added as quarantined, with where it was seen.
  const AllowedDigest* measured = c->Find(D(0xd1));
  ASSERT_NE(measured, nullptr);
  EXPECT_EQ(measured->state, DigestState::kQuarantined);
  EXPECT_NE(measured->source.find("boot-1"), std::string::npos) << measured->source;
  EXPECT_NE(measured->source.find("17"), std::string::npos) << measured->source;
  EXPECT_EQ(measured->added, kNow);
  EXPECT_EQ(measured->content, "quiet init=/bin/sh");
  EXPECT_NE(measured->reason.find("the command line changed"), std::string::npos);
  EXPECT_EQ(c->digests.size(), 3u);

  const AuditRecord* r = FindRecord(records, "kernel-cmdline", D(0xa1));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->action, "quarantine");
  EXPECT_EQ(r->time, kNow);
  EXPECT_EQ(r->evidence, "boot-1");
  EXPECT_NE(r->reason.find("the command line changed"), std::string::npos);
  r = FindRecord(records, "kernel-cmdline", D(0xd1));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->action, "quarantine");
  EXPECT_NE(r->evidence.find("boot-1"), std::string::npos);
}

TEST(QuarantineTest, TrustedComponentIsLeftAlone) {
  Policy p = BasePolicy();
  (void)Quarantine(TamperedBoot(), "boot-1", kNow, p);
  const Component* grub = p.FindComponent("grub");
  ASSERT_NE(grub, nullptr);
  ASSERT_EQ(grub->digests.size(), 1u);
  EXPECT_EQ(grub->digests[0].state, DigestState::kTrusted);
}

TEST(QuarantineTest, UnknownComponentIsAddedNotRequired) {
  Policy p = BasePolicy();
  const auto records = Quarantine(TamperedBoot(), "boot-1", kNow, p);
  const Component* c = p.FindComponent("evil.efi");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->required);
  EXPECT_EQ(c->stage, Stage::kBootloader);
  EXPECT_EQ(c->match.pcr, 4u);
  EXPECT_EQ(c->match.description, "\\EFI\\evil.efi");
  ASSERT_EQ(c->digests.size(), 1u);
  EXPECT_EQ(c->digests[0].digest, D(0xe1));
  EXPECT_EQ(c->digests[0].state, DigestState::kQuarantined);
  EXPECT_NE(c->digests[0].reason.find("an image the policy does not know"), std::string::npos);
  EXPECT_NE(c->digests[0].source.find("30"), std::string::npos) << c->digests[0].source;
  EXPECT_NE(FindRecord(records, "evil.efi", D(0xe1)), nullptr);
}

TEST(QuarantineTest, ImaFileLeavesFilesForOsFileComponent) {
  Policy p = BasePolicy();
  const auto records = Quarantine(TamperedBoot(), "boot-1", kNow, p);
  EXPECT_EQ(p.files.count("/usr/bin/bash"), 0u);
  EXPECT_EQ(p.files.count("/usr/bin/ls"), 1u);  // other files stay
  const Component* c = p.FindComponent("/usr/bin/bash");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->stage, Stage::kOsFile);
  EXPECT_FALSE(c->required);
  EXPECT_EQ(c->match.pcr, 10u);
  EXPECT_EQ(c->match.description, "/usr/bin/bash");
  // The two formerly trusted digests and the measured one, all quarantined.
  ASSERT_EQ(c->digests.size(), 3u);
  for (const std::uint8_t b : {0xc1, 0xc2, 0xf1}) {
    const AllowedDigest* a = c->Find(D(b));
    ASSERT_NE(a, nullptr) << int{b};
    EXPECT_EQ(a->state, DigestState::kQuarantined) << int{b};
    EXPECT_FALSE(a->reason.empty());
    EXPECT_NE(FindRecord(records, "/usr/bin/bash", D(b)), nullptr) << int{b};
  }
  EXPECT_NE(c->Find(D(0xf1))->source.find("5"), std::string::npos);
}

TEST(QuarantineTest, ListFindingIsNotAComponent) {
  Policy p = BasePolicy();
  (void)Quarantine(TamperedBoot(), "boot-1", kNow, p);
  EXPECT_EQ(p.FindComponent("ima-measurement-list"), nullptr);
}

TEST(QuarantineTest, BumpsVersionOnceDropsSignatureAndStampsRecords) {
  Policy p = BasePolicy();
  const auto records = Quarantine(TamperedBoot(), "boot-1", kNow, p);
  // a1 and d1 (command line), e1 (unknown), c1, c2, f1 (bash).
  EXPECT_EQ(records.size(), 6u);
  EXPECT_EQ(p.version, 8u);
  EXPECT_FALSE(p.signature.has_value());
  for (const AuditRecord& r : records) {
    EXPECT_EQ(r.policy_version, 8u);
    EXPECT_EQ(r.action, "quarantine");
    EXPECT_EQ(r.time, kNow);
  }
}

TEST(QuarantineTest, NothingTamperedChangesNothing) {
  Policy p = BasePolicy();
  const std::string before = SerializePolicy(p);
  Evaluation ev;
  ev.verdict = Verdict::kTrusted;
  ev.components.push_back(Finding("grub", Stage::kBootloader, ComponentState::kTrusted, "",
                                 {Event(12, 4, "EV_EFI_BOOT_SERVICES_APPLICATION", "grubx64.efi",
                                        ComponentState::kTrusted, D(0xb1))}));
  ev.components.push_back(Finding("kernel-cmdline", Stage::kCmdline, ComponentState::kMissing,
                                 "not measured", {}));
  const auto records = Quarantine(ev, "boot-2", kNow, p);
  EXPECT_TRUE(records.empty());
  EXPECT_EQ(p.version, 7u);
  EXPECT_TRUE(p.signature.has_value());
  EXPECT_EQ(SerializePolicy(p), before);
}

TEST(QuarantineTest, RunTwiceAddsNothingNew) {
  Policy p = BasePolicy();
  (void)Quarantine(TamperedBoot(), "boot-1", kNow, p);
  const std::uint64_t version = p.version;
  const auto again = Quarantine(TamperedBoot(), "boot-1", kLater, p);
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(p.version, version);
}

// BUG: enforce.cc Quarantine (the `ima_file && c == nullptr` branch, line 97)
// only moves a path's digests out of policy.files when no os-file component
// of that name exists yet. When one exists (an earlier quarantine) and the
// path was added to files again (a later `policy learn` or Keylime import),
// the path's digests stay trusted in policy.files, although the header
// says they leave policy.files for the os-file component, quarantined.
TEST(QuarantineTest, ImaFileLeavesFilesAlsoWhenItsComponentExists) {
  Policy p = BasePolicy();
  Component bash;
  bash.name = "/usr/bin/bash";
  bash.stage = Stage::kOsFile;
  bash.match.pcr = 10;
  bash.match.description = "/usr/bin/bash";
  bash.required = false;
  bash.digests = {Allowed(0x99, DigestState::kQuarantined, "earlier")};
  p.components.push_back(bash);
  Evaluation ev;
  ev.components.push_back(Finding("/usr/bin/bash", Stage::kOsFile, ComponentState::kTampered,
                                 "the file's digest is not in the policy",
                                 {Event(5, 10, "ima", "/usr/bin/bash", ComponentState::kTampered,
                                        D(0xf1))},
                                 false));
  (void)Quarantine(ev, "boot-3", kNow, p);
  EXPECT_EQ(p.files.count("/usr/bin/bash"), 0u);
  const Component* c = p.FindComponent("/usr/bin/bash");
  ASSERT_NE(c, nullptr);
  for (const std::uint8_t b : {0xc1, 0xc2}) {
    const AllowedDigest* a = c->Find(D(b));
    ASSERT_NE(a, nullptr) << int{b};
    EXPECT_EQ(a->state, DigestState::kQuarantined);
  }
}

TEST(ApproveTest, AllQuarantinedDigests) {
  Policy p = BasePolicy();
  auto records = Approve("kernel-cmdline", "", "reviewed by ops", kNow, p);
  ASSERT_TRUE(records.has_value()) << records.error().message();
  ASSERT_EQ(records->size(), 1u);  // only a2 was quarantined
  EXPECT_EQ((*records)[0].action, "approve");
  EXPECT_EQ((*records)[0].digest, Tag(D(0xa2)));
  EXPECT_EQ((*records)[0].reason, "reviewed by ops");
  EXPECT_EQ((*records)[0].policy_version, 8u);
  EXPECT_EQ(p.version, 8u);
  EXPECT_FALSE(p.signature.has_value());
  const AllowedDigest* a = p.FindComponent("kernel-cmdline")->Find(D(0xa2));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->state, DigestState::kTrusted);
  EXPECT_TRUE(a->reason.empty());
}

TEST(ApproveTest, OneDigestLeavesTheOthersQuarantined) {
  Policy p = BasePolicy();
  (void)Quarantine(TamperedBoot(), "boot-1", kNow, p);
  const std::uint64_t version = p.version;
  auto records = Approve("kernel-cmdline", Tag(D(0xd1)), "", kLater, p);
  ASSERT_TRUE(records.has_value()) << records.error().message();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].digest, Tag(D(0xd1)));
  EXPECT_FALSE((*records)[0].reason.empty());
  EXPECT_EQ((*records)[0].time, kLater);
  EXPECT_EQ(p.version, version + 1);
  const Component* c = p.FindComponent("kernel-cmdline");
  EXPECT_EQ(c->Find(D(0xd1))->state, DigestState::kTrusted);
  EXPECT_EQ(c->Find(D(0xa1))->state, DigestState::kQuarantined);
  EXPECT_EQ(c->Find(D(0xa2))->state, DigestState::kQuarantined);
}

TEST(ApproveTest, UnknownComponentOrDigestIsNotFound) {
  Policy p = BasePolicy();
  auto r = Approve("no-such", "", "", kNow, p);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  r = Approve("kernel-cmdline", Tag(D(0x55)), "", kNow, p);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  r = Approve("kernel-cmdline", "sha256:nothex", "", kNow, p);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(p.version, 7u);
}

TEST(ApproveTest, NothingQuarantinedIsInvalidArgument) {
  Policy p = BasePolicy();
  auto r = Approve("grub", "", "", kNow, p);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  // A digest that is there but trusted.
  r = Approve("kernel-cmdline", Tag(D(0xa1)), "", kNow, p);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(p.version, 7u);
  EXPECT_TRUE(p.signature.has_value());
}

TEST(ApproveTest, OsFileFullyApprovedGoesBackToFiles) {
  Policy p = BasePolicy();
  (void)Quarantine(TamperedBoot(), "boot-1", kNow, p);
  const std::uint64_t version = p.version;
  // Approving one of three keeps the component.
  auto one = Approve("/usr/bin/bash", Tag(D(0xf1)), "", kLater, p);
  ASSERT_TRUE(one.has_value()) << one.error().message();
  EXPECT_NE(p.FindComponent("/usr/bin/bash"), nullptr);
  EXPECT_EQ(p.files.count("/usr/bin/bash"), 0u);
  // Approving the rest moves every digest back to the bulk set.
  auto rest = Approve("/usr/bin/bash", "", "", kLater, p);
  ASSERT_TRUE(rest.has_value()) << rest.error().message();
  EXPECT_EQ(rest->size(), 2u);
  EXPECT_EQ(p.FindComponent("/usr/bin/bash"), nullptr);
  ASSERT_EQ(p.files.count("/usr/bin/bash"), 1u);
  std::vector<crypto::Digest> got = p.files["/usr/bin/bash"];
  EXPECT_EQ(got.size(), 3u);
  for (const std::uint8_t b : {0xc1, 0xc2, 0xf1}) {
    EXPECT_NE(std::find(got.begin(), got.end(), D(b)), got.end()) << int{b};
  }
  EXPECT_EQ(p.version, version + 2);
  // The result is a valid policy.
  auto back = ParsePolicy(AsBytes(SerializePolicy(p)));
  ASSERT_TRUE(back.has_value()) << back.error().message();
}

TEST(StageTest, AddsTrustedDigest) {
  Policy p = BasePolicy();
  auto records = StageUpdate("grub", D(0xb2), "grub 2.12 package", kNow, p);
  ASSERT_TRUE(records.has_value()) << records.error().message();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].action, "stage");
  EXPECT_EQ((*records)[0].component, "grub");
  EXPECT_EQ((*records)[0].digest, Tag(D(0xb2)));
  EXPECT_EQ((*records)[0].policy_version, 8u);
  EXPECT_EQ(p.version, 8u);
  EXPECT_FALSE(p.signature.has_value());
  const AllowedDigest* a = p.FindComponent("grub")->Find(D(0xb2));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->state, DigestState::kTrusted);
  EXPECT_EQ(a->source, "grub 2.12 package");
  EXPECT_EQ(a->added, kNow);
  EXPECT_EQ(p.FindComponent("grub")->digests.size(), 2u);
}

TEST(StageTest, AlreadyTrustedChangesNothing) {
  Policy p = BasePolicy();
  auto records = StageUpdate("grub", D(0xb1), "again", kNow, p);
  ASSERT_TRUE(records.has_value()) << records.error().message();
  EXPECT_TRUE(records->empty());
  EXPECT_EQ(p.version, 7u);
  EXPECT_TRUE(p.signature.has_value());
  EXPECT_EQ(p.FindComponent("grub")->digests.size(), 1u);
}

TEST(StageTest, QuarantinedOrUnknownComponentIsRefused) {
  Policy p = BasePolicy();
  auto r = StageUpdate("kernel-cmdline", D(0xa2), "x", kNow, p);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(p.FindComponent("kernel-cmdline")->Find(D(0xa2))->state, DigestState::kQuarantined);
  r = StageUpdate("no-such", D(0x01), "x", kNow, p);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(p.version, 7u);
}

TEST(RetireTest, OneDigest) {
  Policy p = BasePolicy();
  auto records = Retire("kernel-cmdline", Tag(D(0xa1)), kNow, p);
  ASSERT_TRUE(records.has_value()) << records.error().message();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].action, "retire");
  EXPECT_EQ((*records)[0].digest, Tag(D(0xa1)));
  EXPECT_EQ((*records)[0].policy_version, 8u);
  const Component* c = p.FindComponent("kernel-cmdline");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->Find(D(0xa1)), nullptr);
  EXPECT_NE(c->Find(D(0xa2)), nullptr);
  EXPECT_EQ(p.version, 8u);
  EXPECT_FALSE(p.signature.has_value());
}

TEST(RetireTest, QuarantinedRemovesOnlyQuarantined) {
  Policy p = BasePolicy();
  (void)Quarantine(TamperedBoot(), "boot-1", kNow, p);
  // kernel-cmdline: a1, a2 and d1 are all quarantined now; approve a1 back.
  ASSERT_TRUE(Approve("kernel-cmdline", Tag(D(0xa1)), "", kNow, p).has_value());
  const std::uint64_t version = p.version;
  auto records = Retire("kernel-cmdline", "quarantined", kLater, p);
  ASSERT_TRUE(records.has_value()) << records.error().message();
  EXPECT_EQ(records->size(), 2u);
  const Component* c = p.FindComponent("kernel-cmdline");
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->digests.size(), 1u);
  EXPECT_EQ(c->digests[0].digest, D(0xa1));
  EXPECT_EQ(p.version, version + 1);
}

TEST(RetireTest, ComponentLeftEmptyIsRemoved) {
  Policy p = BasePolicy();
  auto records = Retire("grub", Tag(D(0xb1)), kNow, p);
  ASSERT_TRUE(records.has_value()) << records.error().message();
  EXPECT_EQ(p.FindComponent("grub"), nullptr);
  EXPECT_NE(p.FindComponent("kernel-cmdline"), nullptr);
  EXPECT_EQ(p.components.size(), 1u);
}

TEST(RetireTest, MissingIsNotFound) {
  Policy p = BasePolicy();
  auto r = Retire("grub", Tag(D(0x42)), kNow, p);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  r = Retire("grub", "quarantined", kNow, p);  // nothing quarantined there
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  r = Retire("no-such", Tag(D(0xb1)), kNow, p);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  r = Retire("grub", "sha256:1234", kNow, p);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(p.version, 7u);
  EXPECT_NE(p.FindComponent("grub"), nullptr);
}

TEST(ParseTaggedDigestTest, Good) {
  auto d = crypto::Digest::FromTaggedHex("sha256:" + std::string(62, '0') + "Ab");
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->alg(), crypto::HashAlg::kSha256);
  ASSERT_EQ(d->size(), 32u);
  EXPECT_EQ(d->bytes()[31], 0xab);
  EXPECT_EQ(d->bytes()[0], 0x00);
  auto s1 = crypto::Digest::FromTaggedHex("sha1:" + std::string(40, 'f'));
  ASSERT_TRUE(s1.has_value()) << s1.error().message();
  EXPECT_EQ(s1->alg(), crypto::HashAlg::kSha1);
  EXPECT_EQ(s1->Hex(), std::string(40, 'f'));
}

TEST(ParseTaggedDigestTest, RefusesBadText) {
  const std::string hex64(64, '1');
  for (const std::string& text :
       {"md5:" + std::string(32, '1'), "sha257:" + hex64, hex64, "sha256:" + std::string(63, '1') + "g",
        "sha256:" + std::string(62, '1'), "sha256:" + hex64 + "11", std::string("sha256:"),
        std::string("")}) {
    auto d = crypto::Digest::FromTaggedHex(text);
    ASSERT_FALSE(d.has_value()) << text;
    EXPECT_EQ(d.error().code(), ErrorCode::kInvalidArgument) << text;
  }
}

TEST(AuditLineTest, OneLineThatParsesBack) {
  AuditRecord r;
  r.time = kNow;
  r.action = "quarantine";
  r.component = "kernel cmdline";
  r.digest = Tag(D(0x11));
  r.reason = "changed: \"quiet\" -> \"quiet  init=/bin/sh\"\nsecond line \\ end";
  r.evidence = "boot-1 event 17";
  r.policy_version = 42;
  const std::string line = AuditLine(r);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_FALSE(line.empty());
  auto doc = json::ParseDocument(AsBytes(line));
  ASSERT_TRUE(doc.has_value()) << doc.error().message() << "\n" << line;
  ASSERT_TRUE(doc->is_object());
  const auto str = [&](const char* key) -> std::string {
    const doc::Value* v = doc->Find(key);
    return v != nullptr && v->is_string() ? v->str() : "<missing>";
  };
  EXPECT_EQ(str("time"), r.time);
  EXPECT_EQ(str("action"), r.action);
  EXPECT_EQ(str("component"), r.component);  // spaces inside strings kept
  EXPECT_EQ(str("digest"), r.digest);
  EXPECT_EQ(str("reason"), r.reason);
  EXPECT_EQ(str("evidence"), r.evidence);
  const doc::Value* v = doc->Find("policy_version");
  ASSERT_NE(v, nullptr);
  const auto* n = std::get_if<std::int64_t>(&v->variant());
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(*n, 42);
}

TEST(AuditLineTest, EveryRecordOfQuarantineIsOneJsonLine) {
  Policy p = BasePolicy();
  const auto records = Quarantine(TamperedBoot(), "boot-1", kNow, p);
  ASSERT_FALSE(records.empty());
  for (const AuditRecord& r : records) {
    const std::string line = AuditLine(r);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    auto doc = json::ParseDocument(AsBytes(line));
    ASSERT_TRUE(doc.has_value()) << line;
    ASSERT_NE(doc->Find("component"), nullptr);
    EXPECT_EQ(doc->Find("component")->str(), r.component);
  }
}

}  // namespace
}  // namespace tc::policy
