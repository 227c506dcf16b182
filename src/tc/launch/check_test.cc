#include "tc/launch/check.h"

#include <gtest/gtest.h>

namespace tc::launch {
namespace {

using policy::ComponentState;

MeasuredInput Input(InputKind kind, std::string slot, std::string value, std::string_view bytes) {
  MeasuredInput m;
  m.input.kind = kind;
  m.input.value = std::move(value);
  m.slot = std::move(slot);
  m.sha256 = *crypto::Hash(crypto::HashAlg::kSha256, AsBytes(bytes));
  return m;
}

std::vector<MeasuredInput> Guest(std::string_view cmdline, std::string_view initrd) {
  return {Input(InputKind::kFirmwareCode, "firmware-code", "/usr/share/OVMF/OVMF_CODE_4M.fd", "ovmf"),
          Input(InputKind::kKernel, "kernel", "/vm/vmlinuz", "kernel"),
          Input(InputKind::kInitrd, "initrd", "/vm/initrd.cpio", initrd),
          Input(InputKind::kCmdline, "cmdline", std::string(cmdline), cmdline)};
}

const InputVerdict& Item(const LaunchCheck& c, std::string_view component) {
  for (const InputVerdict& v : c.items) {
    if (v.component == component) return v;
  }
  ADD_FAILURE() << "no item " << component;
  static InputVerdict none;
  return none;
}

TEST(LaunchCheckTest, LearnedLaunchIsTrusted) {
  policy::Policy p;
  const auto inputs = Guest("console=ttyS0 a=1", "initrd");
  const auto learned = LearnLaunch("web1", inputs, 15, "launch test", "2026-11-26T00:00:00Z", p);
  EXPECT_EQ(learned.size(), 4u);
  EXPECT_EQ(p.version, 2u);
  ASSERT_NE(p.FindComponent("web1/cmdline"), nullptr);
  EXPECT_EQ(p.FindComponent("web1/cmdline")->stage, policy::Stage::kGuestCmdline);
  EXPECT_EQ(p.FindComponent("web1/kernel")->match.pcr, 15u);
  EXPECT_EQ(p.FindComponent("web1/kernel")->match.description, "web1");
  const LaunchCheck c = CheckLaunch(p, "web1", inputs);
  EXPECT_EQ(c.verdict, policy::Verdict::kTrusted);
  EXPECT_EQ(c.Count(ComponentState::kTrusted), 4u);
  EXPECT_TRUE(c.problems.empty());
  // Learning the same launch again adds nothing.
  EXPECT_TRUE(LearnLaunch("web1", inputs, 15, "again", "t", p).empty());
  EXPECT_EQ(p.version, 2u);
}

TEST(LaunchCheckTest, ChangedCommandLineIsTamperedWithItsDiff) {
  policy::Policy p;
  (void)LearnLaunch("web1", Guest("console=ttyS0 a=1", "initrd"), 15, "s", "t", p);
  const auto tampered = Guest("console=ttyS0 a=2", "initrd");
  const LaunchCheck c = CheckLaunch(p, "web1", tampered);
  EXPECT_EQ(c.verdict, policy::Verdict::kUntrusted);
  const InputVerdict& v = Item(c, "web1/cmdline");
  EXPECT_EQ(v.state, ComponentState::kTampered);
  EXPECT_EQ(v.diff, "a=1 -> a=2");
  EXPECT_EQ(v.expected_content, "console=ttyS0 a=1");
  EXPECT_EQ(v.measured, tampered[3].sha256.TaggedHex());
  ASSERT_EQ(v.expected.size(), 1u);
  EXPECT_NE(v.expected[0], v.measured);
  EXPECT_EQ(Item(c, "web1/kernel").state, ComponentState::kTrusted);
  EXPECT_NE(LaunchCheckText(c).find("guest kernel command line changed (a=1 -> a=2)"),
            std::string::npos)
      << LaunchCheckText(c);
}

TEST(LaunchCheckTest, QuarantineTakesTheComponentOutOfTrustUntilApproved) {
  policy::Policy p;
  (void)LearnLaunch("web1", Guest("a=1", "initrd"), 15, "s", "t", p);
  const auto tampered = Guest("a=1", "initrd!");
  LaunchCheck c = CheckLaunch(p, "web1", tampered);
  ASSERT_EQ(Item(c, "web1/initrd").state, ComponentState::kTampered);
  const std::uint64_t before = p.version;
  const auto records = QuarantineLaunch(c, tampered, 15, "launch of web1", "t2", p);
  ASSERT_EQ(records.size(), 2u);  // the trusted digest, and the measured one
  EXPECT_EQ(records[0].action, "quarantine");
  EXPECT_EQ(records[0].component, "web1/initrd");
  EXPECT_EQ(p.version, before + 1);
  // Now both the tampered and the good initrd are refused.
  EXPECT_EQ(Item(CheckLaunch(p, "web1", tampered), "web1/initrd").state, ComponentState::kQuarantined);
  EXPECT_EQ(Item(CheckLaunch(p, "web1", Guest("a=1", "initrd")), "web1/initrd").state,
            ComponentState::kQuarantined);
  // Approving the good digest brings it back.
  const std::string good = Guest("a=1", "initrd")[2].sha256.TaggedHex();
  ASSERT_TRUE(policy::Approve("web1/initrd", good, "checked", "t3", p).has_value());
  EXPECT_EQ(CheckLaunch(p, "web1", Guest("a=1", "initrd")).verdict, policy::Verdict::kTrusted);
  EXPECT_EQ(Item(CheckLaunch(p, "web1", tampered), "web1/initrd").state, ComponentState::kQuarantined);
}

TEST(LaunchCheckTest, UnknownAndMissingInputs) {
  policy::Policy p;
  (void)LearnLaunch("web1", Guest("a=1", "initrd"), 15, "s", "t", p);
  // Another VM's launch: every input is unknown (components are per VM).
  LaunchCheck other = CheckLaunch(p, "db1", Guest("a=1", "initrd"));
  EXPECT_EQ(other.Count(ComponentState::kUnknown), 4u);
  EXPECT_EQ(other.Count(ComponentState::kMissing), 0u);
  // The initrd removed and a disk added.
  auto inputs = Guest("a=1", "initrd");
  inputs.erase(inputs.begin() + 2);
  inputs.push_back(Input(InputKind::kDisk, "disk0", "/vm/disk.img", "disk"));
  const LaunchCheck c = CheckLaunch(p, "web1", inputs);
  EXPECT_EQ(Item(c, "web1/disk0").state, ComponentState::kUnknown);
  EXPECT_EQ(Item(c, "web1/initrd").state, ComponentState::kMissing);
  EXPECT_EQ(c.verdict, policy::Verdict::kUntrusted);
  // Quarantining holds the unknown disk for approval.
  const auto records = QuarantineLaunch(c, inputs, 15, "e", "t", p);
  ASSERT_EQ(records.size(), 1u);
  const policy::Component* disk = p.FindComponent("web1/disk0");
  ASSERT_NE(disk, nullptr);
  EXPECT_FALSE(disk->required);
  EXPECT_EQ(disk->stage, policy::Stage::kGuestImage);
  ASSERT_EQ(disk->digests.size(), 1u);
  EXPECT_EQ(disk->digests[0].state, policy::DigestState::kQuarantined);
  EXPECT_EQ(disk->digests[0].content, "/vm/disk.img");
}

TEST(LaunchCheckTest, ExcludedPathsAndTheVtpmAreRecordedNotJudged) {
  policy::Policy p;
  p.excludes.push_back("/var/lib/vm/.*-vars\\.fd");
  auto inputs = Guest("a=1", "initrd");
  inputs.push_back(Input(InputKind::kFirmwareVars, "firmware-vars", "/var/lib/vm/web1-vars.fd", "v"));
  inputs.push_back(Input(InputKind::kVtpmEk, "vtpm-ek", "/var/lib/vm/tpm", "ek"));
  (void)LearnLaunch("web1", inputs, 15, "s", "t", p);
  EXPECT_EQ(p.FindComponent("web1/vtpm-ek"), nullptr);
  // The NVRAM changes as the guest runs: still launchable.
  inputs[4] = Input(InputKind::kFirmwareVars, "firmware-vars", "/var/lib/vm/web1-vars.fd", "v2");
  inputs[5] = Input(InputKind::kVtpmEk, "vtpm-ek", "/var/lib/vm/tpm", "another ek");
  const LaunchCheck c = CheckLaunch(p, "web1", inputs);
  EXPECT_EQ(c.verdict, policy::Verdict::kTrusted) << LaunchCheckText(c);
  EXPECT_FALSE(Item(c, "web1/firmware-vars").judged);
  EXPECT_FALSE(Item(c, "web1/vtpm-ek").judged);
  // Code is judged whatever the excludes say.
  p.excludes.push_back("/vm/.*");
  inputs[1] = Input(InputKind::kKernel, "kernel", "/vm/vmlinuz", "another kernel");
  EXPECT_EQ(Item(CheckLaunch(p, "web1", inputs), "web1/kernel").state, ComponentState::kTampered);
}

TEST(LaunchCheckTest, EfiBinariesAreJudgedByAuthenticode) {
  policy::Policy p;
  MeasuredInput efi = Input(InputKind::kEfiBinary, "disk0:/EFI/BOOT/BOOTX64.EFI", "/vm/esp.img:/EFI/BOOT/BOOTX64.EFI", "file");
  efi.authenticode = *crypto::Hash(crypto::HashAlg::kSha256, AsBytes(std::string_view("image")));
  std::vector<MeasuredInput> inputs = {efi};
  (void)LearnLaunch("web1", inputs, 15, "s", "t", p);
  const policy::Component* c = p.FindComponent("web1/disk0:/EFI/BOOT/BOOTX64.EFI");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->digests.at(0).digest, *efi.authenticode);
  // Same Authenticode, other file bytes (a signature added): still trusted.
  inputs[0].sha256 = *crypto::Hash(crypto::HashAlg::kSha256, AsBytes(std::string_view("signed")));
  EXPECT_EQ(CheckLaunch(p, "web1", inputs).verdict, policy::Verdict::kTrusted);
  // Not a PE image any more: tampered.
  inputs[0].authenticode.reset();
  EXPECT_EQ(Item(CheckLaunch(p, "web1", inputs), "web1/disk0:/EFI/BOOT/BOOTX64.EFI").state,
            ComponentState::kTampered);
}

TEST(LaunchCheckTest, JsonReport) {
  policy::Policy p;
  (void)LearnLaunch("web1", Guest("a=1", "initrd"), 15, "s", "t", p);
  const doc::Value d = LaunchCheckDocument(CheckLaunch(p, "web1", Guest("a=2", "initrd")));
  EXPECT_EQ(d.Find("verdict")->str(), "untrusted");
  EXPECT_EQ(d.Find("vm")->str(), "web1");
  ASSERT_EQ(d.Find("inputs")->array().size(), 4u);
  const doc::Value& cmd = d.Find("inputs")->array()[3];
  EXPECT_EQ(cmd.Find("component")->str(), "web1/cmdline");
  EXPECT_EQ(cmd.Find("state")->str(), "tampered");
  EXPECT_EQ(cmd.Find("diff")->str(), "a=1 -> a=2");
  EXPECT_EQ(cmd.Find("expected_content")->str(), "a=1");
}

}  // namespace
}  // namespace tc::launch
