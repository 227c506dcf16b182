// The whitelist on real measured boots of a QEMU guest (../shared/corpus/vm,
// made with OVMF, systemd-boot or shim+GRUB, Debian's kernel, swtpm):
// learned from baseline-tcg, each boot is judged as the issue requires.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tc/base/byte_source.h"
#include "tc/eventlog/parser.h"
#include "tc/eventlog/replay.h"
#include "tc/eventlog/test_util.h"
#include "tc/ima/verify.h"
#include "tc/pcr/pcr_values.h"
#include "tc/policy/enforce.h"
#include "tc/policy/evaluate.h"
#include "tc/policy/test_util.h"
#include "tc/policy/learn.h"

namespace tc::policy {
namespace {

namespace fs = std::filesystem;
using eventlog::testing::ReadBytes;
using policy::testing::NotTrusted;
using eventlog::testing::ReadText;

std::optional<fs::path> VmDir() {
  auto shared = eventlog::testing::SharedDir();
  if (!shared || !fs::exists(*shared / "corpus/vm/baseline-tcg/eventlog.bin")) return std::nullopt;
  return *shared / "corpus/vm";
}

#define REQUIRE_VM_CORPUS(dir)                                                       \
  const auto dir = VmDir();                                                          \
  if (!dir) GTEST_SKIP() << "needs ../shared/corpus/vm (set TC_SHARED_DIR): absent"

struct Boot {
  eventlog::EventLog log;
  eventlog::ReplayResult replay;
  pcr::PcrValues pcrs;
  fs::path dir;
};

Boot LoadBoot(const fs::path& dir) {
  auto log = eventlog::EventLog::Parse(ReadBytes(dir / "eventlog.bin"));
  EXPECT_TRUE(log.has_value()) << dir;
  auto replay = eventlog::Replay(*log);
  EXPECT_TRUE(replay.has_value());
  auto pcrs = pcr::ParsePcrValues(ReadText(dir / "pcrs-host.txt"));
  EXPECT_TRUE(pcrs.has_value());
  return Boot{std::move(*log), std::move(*replay), std::move(*pcrs), dir};
}

Policy LearnBaseline(const fs::path& vm) {
  Boot b = LoadBoot(vm / "baseline-tcg");
  Policy p;
  LearnNotes notes;
  EXPECT_TRUE(LearnEventLog(b.log, "baseline", "2026-11-26T00:00:00Z", p, notes).has_value());
  const Bytes list = ReadBytes(vm / "baseline-tcg/ima-log.bin");
  SpanSource ima(list);
  EXPECT_TRUE(LearnImaList(ima, {}, p, notes).has_value());
  return p;
}

// Verifies a boot (firmware log and IMA list) against `p` with its PCRs.
Evaluation Judge(const Policy& p, const fs::path& dir) {
  Boot b = LoadBoot(dir);
  BootEvidence ev{&b.log, &b.replay, &b.pcrs, "pcrs-host.txt"};
  Evaluation e = EvaluateBoot(p, ev);
  const Bytes list = ReadBytes(dir / "ima-log.bin");
  SpanSource src(list);
  const ima::Allowlist allow = BuildAllowlist(p);
  ima::VerifyOptions options;
  pcr::PcrValues pcr10;
  pcr10.banks[crypto::HashAlg::kSha256][10] = *b.pcrs.Find(crypto::HashAlg::kSha256, 10);
  options.quoted = pcr10;
  options.firmware = b.pcrs;
  options.allowlist = &allow;
  auto r = ima::Verify(src, options);
  EXPECT_TRUE(r.has_value());
  AddImaResult(p, std::move(*r), e);
  Decide(p, e);
  return e;
}

const ComponentResult* Find(const Evaluation& e, std::string_view name) {
  for (const ComponentResult& c : e.components) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

TEST(VmCorpusTest, BaselineVerifiesAsTrusted) {
  REQUIRE_VM_CORPUS(vm);
  const Policy p = LearnBaseline(*vm);
  const Evaluation e = Judge(p, *vm / "baseline-tcg");
  EXPECT_EQ(e.verdict, Verdict::kTrusted) << ::testing::PrintToString(NotTrusted(e))
                                          << ::testing::PrintToString(e.problems);
  EXPECT_TRUE(e.attested);
  // Every PCR the log extends was compared with the reported value.
  std::size_t matched = 0;
  for (const PcrResult& r : e.pcrs) matched += r.status == "match";
  EXPECT_GE(matched, 9u);
  ASSERT_TRUE(e.ima.has_value());
  EXPECT_EQ(e.ima->allowed, 3u);  // /init, busybox, workload.conf
  EXPECT_TRUE(e.ima->boot_aggregate && e.ima->boot_aggregate->match);
}

TEST(VmCorpusTest, TamperedCommandLineIsNamedWithTheDiff) {
  REQUIRE_VM_CORPUS(vm);
  const Policy p = LearnBaseline(*vm);
  const Evaluation e = Judge(p, *vm / "tamper-cmdline");
  EXPECT_EQ(e.verdict, Verdict::kUntrusted);
  EXPECT_EQ(NotTrusted(e),
            (std::vector<std::string>{"kernel-cmdline:tampered", "kernel-cmdline-stub:tampered"}));
  const ComponentResult* c = Find(e, "kernel-cmdline");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->stage, Stage::kCmdline);
  EXPECT_EQ(c->diff, "mbtest.variant=A -> mbtest.variant=B");
  EXPECT_NE(c->reason.find("kernel command line changed"), std::string::npos) << c->reason;
  ASSERT_EQ(c->events.size(), 1u);
  EXPECT_EQ(c->events[0].index, 25u);
  EXPECT_EQ(c->events[0].pcr, 12u);
  EXPECT_EQ(c->events[0].expected.front().substr(0, 23), "sha256:acac24950db112d2");
  EXPECT_EQ(c->events[0].measured.substr(0, 23), "sha256:cef58db4b38c7a7e");
  // The EFI stub's measurement (PCR 9) of the same load options.
  const ComponentResult* stub = Find(e, "kernel-cmdline-stub");
  ASSERT_NE(stub, nullptr);
  EXPECT_EQ(stub->events.at(0).pcr, 9u);
  EXPECT_EQ(stub->diff, "mbtest.variant=A -> mbtest.variant=B");
}

TEST(VmCorpusTest, TamperedInitrdIsNamed) {
  REQUIRE_VM_CORPUS(vm);
  const Policy p = LearnBaseline(*vm);
  const Evaluation e = Judge(p, *vm / "tamper-initrd");
  EXPECT_EQ(e.verdict, Verdict::kUntrusted);
  const ComponentResult* c = Find(e, "initrd");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->state, ComponentState::kTampered);
  EXPECT_EQ(c->stage, Stage::kInitrd);
  EXPECT_NE(c->reason.find("initrd changed"), std::string::npos);
  ASSERT_EQ(c->events.size(), 1u);
  EXPECT_EQ(c->events[0].pcr, 9u);
  EXPECT_EQ(c->events[0].index, 27u);
  // The changed byte is in /etc/mbtest/workload.conf, which IMA measured.
  const ComponentResult* f = Find(e, "/etc/mbtest/workload.conf");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->state, ComponentState::kTampered);
  EXPECT_EQ(f->stage, Stage::kOsFile);
  // Nothing else: the kernel, boot loader and command line are trusted.
  EXPECT_EQ(NotTrusted(e).size(), 2u) << ::testing::PrintToString(NotTrusted(e));
}

TEST(VmCorpusTest, ShimGrubBootPathIsUnknownNotACrash) {
  REQUIRE_VM_CORPUS(vm);
  const Policy p = LearnBaseline(*vm);
  const Evaluation e = Judge(p, *vm / "shim-grub-sb");
  EXPECT_EQ(e.verdict, Verdict::kUntrusted);
  EXPECT_TRUE(e.attested);  // the log itself replays to its PCRs
  // shim (at \EFI\BOOT\BOOTX64.EFI) and GRUB are unknown boot loaders.
  const ComponentResult* shim = Find(e, "efi-BOOTX64.EFI-new");
  ASSERT_NE(shim, nullptr);
  EXPECT_EQ(shim->state, ComponentState::kUnknown);
  EXPECT_EQ(shim->events.at(0).measured.substr(7, 16), "80a66d53a945d228");
  const ComponentResult* grub = Find(e, "efi-grubx64.efi");
  ASSERT_NE(grub, nullptr);
  EXPECT_EQ(grub->state, ComponentState::kUnknown);
  EXPECT_EQ(grub->events.at(0).measured.substr(7, 16), "a68f6d71ebddaa19");
  // systemd-boot did not run: missing.
  const ComponentResult* sdboot = Find(e, "efi-BOOTX64.EFI");
  ASSERT_NE(sdboot, nullptr);
  EXPECT_EQ(sdboot->state, ComponentState::kMissing);
  // The same kernel, loaded by GRUB from memory, is recognised by digest.
  const ComponentResult* kernel = Find(e, "kernel-vmlinuz");
  ASSERT_NE(kernel, nullptr);
  EXPECT_EQ(kernel->state, ComponentState::kTrusted);
  EXPECT_EQ(kernel->events.size(), 2u);  // shim's and the firmware's measurements
  // Secure Boot switched on: the state and the key databases changed.
  const ComponentResult* sb = Find(e, "secureboot-SecureBoot");
  ASSERT_NE(sb, nullptr);
  EXPECT_EQ(sb->state, ComponentState::kTampered);
  EXPECT_EQ(sb->diff, "SecureBoot = 0 -> SecureBoot = 1");
  // No generic failure: every PCR replays to its reported value.
  for (const PcrResult& r : e.pcrs) EXPECT_NE(r.status, "mismatch") << r.pcr;
}

TEST(VmCorpusTest, EnforcementQuarantinesAndApprovalReadmits) {
  REQUIRE_VM_CORPUS(vm);
  Policy p = LearnBaseline(*vm);
  const Evaluation first = Judge(p, *vm / "tamper-cmdline");
  const auto records = Quarantine(first, "tamper-cmdline", "2026-11-26T01:00:00Z", p);
  EXPECT_EQ(records.size(), 4u);  // two components: old and new digest each
  EXPECT_EQ(p.version, 2u);
  // The same evidence again: the component is quarantined, not tampered.
  const Evaluation again = Judge(p, *vm / "tamper-cmdline");
  EXPECT_EQ(again.verdict, Verdict::kUntrusted);
  EXPECT_EQ(NotTrusted(again), (std::vector<std::string>{"kernel-cmdline:quarantined",
                                                         "kernel-cmdline-stub:quarantined"}));
  // The baseline too: its command line is out of trust until approved.
  EXPECT_EQ(Judge(p, *vm / "baseline-tcg").verdict, Verdict::kUntrusted);
  const std::string baseline =
      "sha256:acac24950db112d21a23e1113333f9a6cc82d9842bb9770074f060a8fb7bc3f9";
  ASSERT_TRUE(Approve("kernel-cmdline", baseline, "reviewed", "t", p).has_value());
  ASSERT_TRUE(Approve("kernel-cmdline-stub", baseline, "reviewed", "t", p).has_value());
  EXPECT_EQ(Judge(p, *vm / "baseline-tcg").verdict, Verdict::kTrusted);
  // The tampered command line stays quarantined.
  EXPECT_EQ(Judge(p, *vm / "tamper-cmdline").verdict, Verdict::kUntrusted);
}

TEST(VmCorpusTest, WithoutReportedPcrsNothingIsTrusted) {
  REQUIRE_VM_CORPUS(vm);
  const Policy p = LearnBaseline(*vm);
  Boot b = LoadBoot(*vm / "baseline-tcg");
  BootEvidence ev{&b.log, &b.replay, nullptr, ""};
  Evaluation e = EvaluateBoot(p, ev);
  Decide(p, e);
  EXPECT_EQ(e.verdict, Verdict::kUndecided);
  EXPECT_FALSE(e.attested);
  // Unattested evidence that shows tampering is still untrusted.
  Boot t = LoadBoot(*vm / "tamper-initrd");
  BootEvidence tev{&t.log, &t.replay, nullptr, ""};
  Evaluation te = EvaluateBoot(p, tev);
  Decide(p, te);
  EXPECT_EQ(te.verdict, Verdict::kUntrusted);
}

TEST(VmCorpusTest, PcrsOfAnotherBootAreAMismatch) {
  REQUIRE_VM_CORPUS(vm);
  const Policy p = LearnBaseline(*vm);
  Boot b = LoadBoot(*vm / "baseline-tcg");
  Boot other = LoadBoot(*vm / "tamper-cmdline");
  // The baseline's log presented with the tampered boot's PCRs: a log that
  // is not what was measured.
  BootEvidence ev{&b.log, &b.replay, &other.pcrs, ""};
  Evaluation e = EvaluateBoot(p, ev);
  Decide(p, e);
  EXPECT_EQ(e.verdict, Verdict::kUntrusted);
  bool pcr12 = false;
  for (const PcrResult& r : e.pcrs) pcr12 |= r.pcr == 12 && r.status == "mismatch";
  EXPECT_TRUE(pcr12);
}

}  // namespace
}  // namespace tc::policy
