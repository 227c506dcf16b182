// Learning and verifying on logs built by hand: each rule of evaluate.h.

#include "tc/policy/evaluate.h"
#include "tc/policy/test_util.h"

#include <gtest/gtest.h>

#include "tc/eventlog/event.h"
#include "tc/eventlog/test_util.h"
#include "tc/policy/identify.h"
#include "tc/policy/learn.h"

namespace tc::policy {
namespace {

namespace ev = eventlog::ev;
using eventlog::testing::LogBuilder;
using policy::testing::NotTrusted;
using eventlog::testing::PutU32;
using eventlog::testing::Utf16;

Bytes Tag(std::uint32_t id, std::string_view data) {
  Bytes b;
  PutU32(b, id);
  PutU32(b, static_cast<std::uint32_t>(data.size()));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

struct Spec {
  std::string cmdline = "console=ttyS0 quiet mode=A";
  std::string loader = "loader-v1";  // stands for the image's bytes
  std::string initrd = "initrd-v1";
  bool with_initrd = true;
  bool extra_grub = false;
};

LogBuilder Build(const Spec& s, std::vector<crypto::HashAlg> banks = {crypto::HashAlg::kSha256}) {
  LogBuilder b = banks.size() == 1 && banks[0] == crypto::HashAlg::kSha1 ? LogBuilder::Legacy()
                                                                          : LogBuilder::Agile(banks);
  b.Event(0, ev::kSCrtmVersion, Utf16("1.0"));
  for (std::uint32_t pcr = 0; pcr < 8; ++pcr) b.Event(pcr, ev::kSeparator, Bytes(4, 0));
  b.Event(4, ev::kEfiBootServicesApplication, s.loader);
  b.Event(12, ev::kIpl, Utf16(s.cmdline));
  if (s.with_initrd) b.Event(9, ev::kEventTag, Tag(0x8f3b22ec, s.initrd));
  if (s.extra_grub) b.Event(8, ev::kIpl, std::string_view("grub_cmd: insmod evil"));
  b.Event(5, ev::kEfiAction, std::string_view("Exit Boot Services Invocation"));
  return b;
}

struct Parsed {
  eventlog::EventLog log;
  eventlog::ReplayResult replay;
};

Parsed Parse(const LogBuilder& b) {
  auto log = eventlog::EventLog::Parse(b.bytes());
  EXPECT_TRUE(log.has_value()) << log.error().message();
  auto replay = eventlog::Replay(*log);
  return {std::move(*log), std::move(*replay)};
}

Policy Learned(const Spec& s = {}) {
  Parsed p = Parse(Build(s));
  Policy policy;
  policy.required_banks = {crypto::HashAlg::kSha256};
  LearnNotes notes;
  EXPECT_TRUE(LearnEventLog(p.log, "golden", "t0", policy, notes).has_value());
  return policy;
}

// Verifies with the log's own replay as the reported PCRs (an honest TPM).
Evaluation Verify(const Policy& policy, const Spec& s,
                  std::vector<crypto::HashAlg> banks = {crypto::HashAlg::kSha256}) {
  Parsed p = Parse(Build(s, banks));
  BootEvidence e{&p.log, &p.replay, &p.replay.pcrs, "test"};
  Evaluation out = EvaluateBoot(policy, e);
  Decide(policy, out);
  return out;
}

std::map<std::string, ComponentState> States(const Evaluation& e) {
  std::map<std::string, ComponentState> out;
  for (const ComponentResult& c : e.components) out[c.name] = c.state;
  return out;
}

TEST(LearnTest, OneComponentPerEventIdentity) {
  const Policy p = Learned();
  // crtm, 8 separators, the loader, the command line, the initrd, the action.
  EXPECT_EQ(p.components.size(), 13u);
  const Component* cmdline = p.FindComponent("kernel-cmdline");
  ASSERT_NE(cmdline, nullptr);
  EXPECT_EQ(cmdline->stage, Stage::kCmdline);
  EXPECT_EQ(cmdline->match.pcr, 12u);
  ASSERT_EQ(cmdline->digests.size(), 1u);
  EXPECT_EQ(cmdline->digests[0].content, "console=ttyS0 quiet mode=A");
  EXPECT_EQ(cmdline->digests[0].source, "golden event 11");
  const Component* initrd = p.FindComponent("initrd");
  ASSERT_NE(initrd, nullptr);
  EXPECT_EQ(initrd->stage, Stage::kInitrd);
  auto sep = p.FindComponent("separator-pcr3");
  ASSERT_NE(sep, nullptr);
  EXPECT_EQ(sep->stage, Stage::kFirmware);
}

TEST(LearnTest, ALogWithoutMeasurementsTeachesNothing) {
  Parsed p = Parse(LogBuilder::Agile({crypto::HashAlg::kSha256}));
  Policy policy;
  LearnNotes notes;
  auto r = LearnEventLog(p.log, "empty", "t", policy, notes);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(EvaluateTest, TheGoldenBootIsTrusted) {
  const Evaluation e = Verify(Learned(), {});
  EXPECT_EQ(e.verdict, Verdict::kTrusted) << ::testing::PrintToString(NotTrusted(e));
  EXPECT_TRUE(NotTrusted(e).empty());
  EXPECT_TRUE(e.attested);
  EXPECT_TRUE(e.problems.empty());
}

TEST(EvaluateTest, AChangedCommandLineIsTamperedWithItsDiff) {
  Spec s;
  s.cmdline = "console=ttyS0 quiet mode=B init=/bin/sh";
  const Evaluation e = Verify(Learned(), s);
  EXPECT_EQ(e.verdict, Verdict::kUntrusted);
  EXPECT_EQ(NotTrusted(e), std::vector<std::string>{"kernel-cmdline:tampered"});
  const ComponentResult& c = *std::find_if(e.components.begin(), e.components.end(),
                                           [](const auto& x) { return x.name == "kernel-cmdline"; });
  EXPECT_EQ(c.diff, "mode=A -> mode=B; added init=/bin/sh");
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].expected_content, "console=ttyS0 quiet mode=A");
  EXPECT_EQ(c.events[0].measured_content, s.cmdline);
  EXPECT_EQ(c.events[0].expected.size(), 1u);
}

TEST(EvaluateTest, AnAddedEventIsUnknownAndARemovedOneMissing) {
  Spec s;
  s.extra_grub = true;
  s.with_initrd = false;
  const Evaluation e = Verify(Learned(), s);
  EXPECT_EQ(e.verdict, Verdict::kUntrusted);
  const auto states = States(e);
  EXPECT_EQ(states.at("grub-commands"), ComponentState::kUnknown);
  EXPECT_EQ(states.at("initrd"), ComponentState::kMissing);
  EXPECT_EQ(NotTrusted(e).size(), 2u);
}

TEST(EvaluateTest, AnotherImageIsUnknownAndTheLearnedOneMissing) {
  Spec s;
  s.loader = "loader-evil";
  const Evaluation e = Verify(Learned(), s);
  EXPECT_EQ(e.verdict, Verdict::kUntrusted);
  // The image's data here decodes to no device path: both are named the
  // same, so the new one gets "-new".
  EXPECT_EQ(NotTrusted(e),
            (std::vector<std::string>{"efi-application:missing", "efi-application-new:unknown"}));
}

TEST(EvaluateTest, AnImageIsRecognisedByDigestWhereverItIsLogged) {
  Policy p = Learned();
  // Two allowed versions of the loader: the second staged ahead of an update.
  Component* loader = p.FindComponent("efi-application");
  ASSERT_NE(loader, nullptr);
  auto v2 = crypto::Hash(crypto::HashAlg::kSha256, AsBytes(std::string_view("loader-v2")));
  loader->digests.push_back(AllowedDigest{*v2, DigestState::kTrusted, "staged", "t1", "", ""});
  Spec s;
  s.loader = "loader-v2";
  EXPECT_EQ(Verify(p, s).verdict, Verdict::kTrusted);
}

TEST(EvaluateTest, AQuarantinedDigestIsReportedAsSuch) {
  Policy p = Learned();
  Component* cmdline = p.FindComponent("kernel-cmdline");
  cmdline->digests[0].state = DigestState::kQuarantined;
  cmdline->digests[0].reason = "under review";
  const Evaluation e = Verify(p, {});
  EXPECT_EQ(e.verdict, Verdict::kUntrusted);
  EXPECT_EQ(NotTrusted(e), std::vector<std::string>{"kernel-cmdline:quarantined"});
  for (const auto& c : e.components) {
    if (c.name == "kernel-cmdline") {
      EXPECT_NE(c.reason.find("under review"), std::string::npos);
    }
  }
}

TEST(EvaluateTest, WithoutReportedPcrsTheVerdictIsUndecided) {
  const Policy p = Learned();
  Parsed g = Parse(Build({}));
  BootEvidence e{&g.log, &g.replay, nullptr, ""};
  Evaluation out = EvaluateBoot(p, e);
  Decide(p, out);
  EXPECT_EQ(out.verdict, Verdict::kUndecided);
  EXPECT_FALSE(out.attested);
}

TEST(EvaluateTest, AReportedPcrThatDoesNotReplayIsUntrusted) {
  const Policy p = Learned();
  Parsed g = Parse(Build({}));
  pcr::PcrValues reported = g.replay.pcrs;
  reported.banks[crypto::HashAlg::kSha256][12] = crypto::Digest(crypto::HashAlg::kSha256);
  BootEvidence e{&g.log, &g.replay, &reported, ""};
  Evaluation out = EvaluateBoot(p, e);
  Decide(p, out);
  EXPECT_EQ(out.verdict, Verdict::kUntrusted);
  bool found = false;
  for (const PcrResult& r : out.pcrs) found |= r.pcr == 12 && r.status == "mismatch";
  EXPECT_TRUE(found);
}

TEST(EvaluateTest, WeakEvidenceIsUndecided) {
  Policy p = Learned();
  // A SHA-1-only log, refused by policy.
  p.refuse_sha1_only = true;
  p.required_banks.clear();
  Evaluation sha1 = Verify(p, {}, {crypto::HashAlg::kSha1});
  // Its digests are not the policy's sha256 ones: tampered components make
  // it untrusted; the weak evidence is named either way.
  bool named = false;
  for (const auto& pr : sha1.problems) named |= pr.find("SHA-1") != std::string::npos;
  EXPECT_TRUE(named);
  EXPECT_NE(sha1.verdict, Verdict::kTrusted);
  // A required bank the log lacks.
  p = Learned();
  p.required_banks = {crypto::HashAlg::kSha384};
  const Evaluation e = Verify(p, {});
  EXPECT_EQ(e.verdict, Verdict::kUndecided);
}

TEST(EvaluateTest, GoldenPcrsMustBeReproduced) {
  Policy p = Learned();
  Parsed g = Parse(Build({}));
  p.golden_pcrs = g.replay.pcrs;
  EXPECT_EQ(Verify(p, {}).verdict, Verdict::kTrusted);
  p.golden_pcrs.banks[crypto::HashAlg::kSha256][0] = crypto::Digest(crypto::HashAlg::kSha256);
  const Evaluation e = Verify(p, {});
  EXPECT_EQ(e.verdict, Verdict::kUntrusted);
}

TEST(TextDiffTest, NamesWhatChanged) {
  EXPECT_EQ(TextDiff("a=1 b", "a=1 b"), "");
  EXPECT_EQ(TextDiff("a=1 b", "a=2 b"), "a=1 -> a=2");
  EXPECT_EQ(TextDiff("a b", "a"), "removed b");
  EXPECT_EQ(TextDiff("a", "a  c"), "added c");
  EXPECT_EQ(TextDiff("a b", "b a"), "whitespace or order changed");
}

}  // namespace
}  // namespace tc::policy

namespace tc::policy {
namespace {

// ---- Hostile evidence (review findings, kept as regression tests) ---------

// A TCG_PCR_EVENT2 with the given digests (not computed from the data).
Bytes RawEvent2(std::uint32_t pcr, std::uint32_t type,
                const std::vector<crypto::Digest>& digests, std::string_view data) {
  Bytes b;
  PutU32(b, pcr);
  PutU32(b, type);
  PutU32(b, static_cast<std::uint32_t>(digests.size()));
  for (const crypto::Digest& d : digests) {
    b.push_back(static_cast<std::uint8_t>(static_cast<std::uint16_t>(d.alg()) & 0xff));
    b.push_back(static_cast<std::uint8_t>(static_cast<std::uint16_t>(d.alg()) >> 8));
    b.insert(b.end(), d.bytes().begin(), d.bytes().end());
  }
  PutU32(b, static_cast<std::uint32_t>(data.size()));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

crypto::Digest H(crypto::HashAlg alg, std::string_view s) {
  return *crypto::Hash(alg, AsBytes(s));
}

TEST(HostileEvidenceTest, UnreportedPcrsLeaveTheirEventsUnproven) {
  const Policy p = Learned();
  Spec s;
  s.cmdline = "console=ttyS0 init=/bin/sh";  // tampered, in PCR 12
  Parsed g = Parse(Build(s));
  pcr::PcrValues reported = g.replay.pcrs;
  reported.banks[crypto::HashAlg::kSha256].erase(12);  // the attacker leaves it out
  BootEvidence e{&g.log, &g.replay, &reported, ""};
  Evaluation out = EvaluateBoot(p, e);
  Decide(p, out);
  EXPECT_FALSE(out.attested);
  EXPECT_NE(out.verdict, Verdict::kTrusted);
  // Only the golden log itself with PCR 12 left out: undecided, not trusted.
  Parsed golden = Parse(Build({}));
  pcr::PcrValues partial = golden.replay.pcrs;
  partial.banks[crypto::HashAlg::kSha256].erase(12);
  BootEvidence ge{&golden.log, &golden.replay, &partial, ""};
  Evaluation gout = EvaluateBoot(p, ge);
  Decide(p, gout);
  EXPECT_EQ(gout.verdict, Verdict::kUndecided);
  EXPECT_FALSE(gout.EvidenceProven());
}

TEST(HostileEvidenceTest, ADigestInAnUnreportedBankDoesNotVouchForTheEvent) {
  const std::string good = "console=ttyS0 quiet";
  const std::string bad = "console=ttyS0 init=/bin/sh";
  const std::vector<crypto::HashAlg> banks = {crypto::HashAlg::kSha1, crypto::HashAlg::kSha256};
  auto log_with = [&](const std::vector<crypto::Digest>& cmdline) {
    LogBuilder b = LogBuilder::Agile(banks);
    for (std::uint32_t pcr = 0; pcr < 8; ++pcr) b.Event(pcr, ev::kSeparator, Bytes(4, 0));
    b.Raw(RawEvent2(8, ev::kIpl, cmdline, "kernel_cmdline: x"));
    return Parse(b);
  };
  Parsed golden = log_with({H(crypto::HashAlg::kSha1, good), H(crypto::HashAlg::kSha256, good)});
  Policy p;
  LearnNotes notes;
  ASSERT_TRUE(LearnEventLog(golden.log, "golden", "t", p, notes).has_value());
  // The real (sha256) digest is the tampered line; the sha1 one is forged
  // to the golden value; only the sha256 PCRs are reported.
  Parsed forged = log_with({H(crypto::HashAlg::kSha1, good), H(crypto::HashAlg::kSha256, bad)});
  pcr::PcrValues reported;
  reported.banks[crypto::HashAlg::kSha256] = forged.replay.pcrs.banks.at(crypto::HashAlg::kSha256);
  BootEvidence e{&forged.log, &forged.replay, &reported, ""};
  Evaluation out = EvaluateBoot(p, e);
  Decide(p, out);
  EXPECT_EQ(out.verdict, Verdict::kUntrusted);
  EXPECT_EQ(NotTrusted(out), std::vector<std::string>{"kernel-cmdline-grub:tampered"});
}

TEST(HostileEvidenceTest, AReportedPcrWhoseEventsWereRemovedIsUntrusted) {
  const Policy p = Learned();
  Parsed g = Parse(Build({}));
  pcr::PcrValues reported = g.replay.pcrs;
  reported.banks[crypto::HashAlg::kSha256][14] = H(crypto::HashAlg::kSha256, "MokList");
  BootEvidence e{&g.log, &g.replay, &reported, ""};
  Evaluation out = EvaluateBoot(p, e);
  Decide(p, out);
  EXPECT_EQ(out.verdict, Verdict::kUntrusted);
  bool found = false;
  for (const PcrResult& r : out.pcrs) found |= r.pcr == 14 && r.status == "events-missing";
  EXPECT_TRUE(found);
}

TEST(HostileEvidenceTest, AGoldenPcrThatWasNotReportedIsNotADifference) {
  Policy p = Learned();
  Parsed g = Parse(Build({}));
  p.golden_pcrs = g.replay.pcrs;
  p.golden_pcrs.banks[crypto::HashAlg::kSha256][16] = crypto::Digest(crypto::HashAlg::kSha256);
  const Evaluation e = Verify(p, {});
  EXPECT_EQ(e.verdict, Verdict::kUndecided);
  bool said = false;
  for (const auto& pr : e.problems) said |= pr.find("PCR 16 (sha256) has a golden value but was not reported") != std::string::npos;
  EXPECT_TRUE(said) << ::testing::PrintToString(e.problems);
}

TEST(HostileEvidenceTest, ReportsStayBoundedWhateverTheLogHolds) {
  Policy p = Learned();
  LogBuilder b = Build({});
  // A command line far longer than any real one, then many GRUB commands
  // and many distinct unknown actions.
  b.Event(12, ev::kIpl, Utf16(std::string(100000, 'x')));
  for (int i = 0; i < 200; ++i) b.Event(8, ev::kIpl, "grub_cmd: set x=" + std::to_string(i));
  for (int i = 0; i < 1500; ++i) b.Event(3, ev::kEfiAction, "action " + std::to_string(i));
  Parsed g = Parse(b);
  BootEvidence e{&g.log, &g.replay, &g.replay.pcrs, ""};
  Evaluation out = EvaluateBoot(p, e);
  std::size_t unknown = 0;
  for (const ComponentResult& c : out.components) {
    EXPECT_LE(c.events.size(), kMaxEventsPerComponent) << c.name;
    for (const EventResult& er : c.events) {
      EXPECT_LE(er.measured_content.size(), kMaxContentSize);
    }
    if (c.name == "grub-commands") {
      EXPECT_EQ(c.events.size() + c.events_omitted, 200u);
    }
    unknown += c.state == ComponentState::kUnknown;
  }
  EXPECT_EQ(unknown, kMaxUnknownComponents);
  EXPECT_EQ(out.unknown_omitted, 1500u + 1u - kMaxUnknownComponents);  // + grub-commands' group
}

}  // namespace
}  // namespace tc::policy
