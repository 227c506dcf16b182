#include "tc/launch/host_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tc/cel/cel.h"
#include "tc/io/file.h"
#include "tc/tpm/esys/open.h"

namespace tc::launch {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/tc-hostlog-test-XXXXXX";
  return ::mkdtemp(tmpl) != nullptr ? tmpl : "";
}

std::vector<MeasuredInput> Inputs(std::string_view cmdline) {
  MeasuredInput k;
  k.input = LaunchInput{InputKind::kKernel, "/vm/vmlinuz", 1, true};
  k.slot = "kernel";
  k.sha256 = *crypto::Hash(crypto::HashAlg::kSha256, AsBytes(std::string_view("kernel")));
  MeasuredInput c;
  c.input = LaunchInput{InputKind::kCmdline, std::string(cmdline), 3, true};
  c.slot = "cmdline";
  c.sha256 = *crypto::Hash(crypto::HashAlg::kSha256, AsBytes(cmdline));
  return {k, c};
}

class HostLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    log_ = dir_ + "/log/launch.log";
    Open();
  }
  void TearDown() override {
    tpm_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    tpm_.reset();  // a power cycle: PCRs back at zero
    auto t = tpm::OpenTpm("embedded:" + dir_ + "/tpm");
    ASSERT_TRUE(t.has_value()) << t.error().message();
    tpm_ = std::move(*t);
  }
  std::string dir_, log_;
  std::unique_ptr<tpm::Tpm> tpm_;
};

TEST_F(HostLogTest, AppendedRecordsReplayToThePcrInEveryBank) {
  auto a = AppendLaunch(*tpm_, log_, 15, "web1", Inputs("a=1"));
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->first_recnum, 0u);
  EXPECT_EQ(a->records, 2u);
  EXPECT_TRUE(a->after.matches());
  EXPECT_FALSE(a->rotated_to.has_value());
  auto b = AppendLaunch(*tpm_, log_, 15, "db1", Inputs("b=1"));
  ASSERT_TRUE(b.has_value()) << b.error().message();
  EXPECT_EQ(b->first_recnum, 2u);
  auto state = ReadLaunchLog(*tpm_, log_, 15);
  ASSERT_TRUE(state.has_value()) << state.error().message();
  EXPECT_EQ(state->records, 4u);
  EXPECT_TRUE(state->matches());
  ASSERT_FALSE(state->banks.empty());
  for (const LogState::Bank& bank : state->banks) {
    EXPECT_NE(bank.tpm, crypto::Digest(bank.alg));  // really extended
  }
  // Each record's digest is the hash of the canonical string it carries.
  auto text = io::ReadFile(log_, 1 << 20);
  ASSERT_TRUE(text.has_value());
  auto records = cel::Parse(*text);
  ASSERT_TRUE(records.has_value());
  ASSERT_EQ(records->size(), 4u);
  EXPECT_EQ((*records)[3].content.Find("cmdline")->str(), "b=1");
  for (const cel::Record& r : *records) {
    const std::string s = r.content.Find("string")->str();
    for (const crypto::Digest& d : r.digests) {
      EXPECT_EQ(d, *crypto::Hash(d.alg(), AsBytes(s)));
    }
  }
}

TEST_F(HostLogTest, AChangedLogIsRefusedAndNothingIsExtended) {
  ASSERT_TRUE(AppendLaunch(*tpm_, log_, 15, "web1", Inputs("a=1")).has_value());
  auto before = ReadLaunchLog(*tpm_, log_, 15);
  ASSERT_TRUE(before.has_value());
  // Someone removes the last record (the command line) from the log.
  auto text = io::ReadTextFile(log_, 1 << 20);
  ASSERT_TRUE(text.has_value());
  std::string edited = *text;
  const auto last = edited.rfind('\x1e');
  edited.resize(last);
  ASSERT_TRUE(io::WriteFile(log_, AsBytes(edited)).has_value());
  auto refused = AppendLaunch(*tpm_, log_, 15, "web1", Inputs("a=1"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kVerificationFailed);
  EXPECT_NE(refused.error().message().find("does not replay to the TPM's PCR 15"), std::string::npos)
      << refused.error().message();
  auto after = ReadLaunchLog(*tpm_, log_, 15);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->banks[0].tpm, before->banks[0].tpm);  // not extended
}

TEST_F(HostLogTest, ARewrittenRecordIsCaughtThoughThePcrStillReplays) {
  ASSERT_TRUE(AppendLaunch(*tpm_, log_, 15, "web1", Inputs("a=1")).has_value());
  // Rewrite what the first record says, keeping its digests: the replay
  // still equals the PCR, but the digest no longer hashes the string.
  auto text = io::ReadTextFile(log_, 1 << 20);
  ASSERT_TRUE(text.has_value());
  std::string edited = *text;
  std::size_t at = 0;
  int n = 0;
  while ((at = edited.find("path=/vm/vmlinuz", at)) != std::string::npos) {
    edited.replace(at, 16, "path=/vm/vmlinuX");
    ++n;
  }
  ASSERT_EQ(n, 1);
  ASSERT_TRUE(io::WriteFile(log_, AsBytes(edited)).has_value());
  auto state = ReadLaunchLog(*tpm_, log_, 15);
  ASSERT_TRUE(state.has_value());
  for (const LogState::Bank& b : state->banks) EXPECT_EQ(b.replayed, b.tpm);
  EXPECT_FALSE(state->matches());
  ASSERT_EQ(state->problems.size(), 1u);
  EXPECT_NE(state->problems[0].find("record 0:"), std::string::npos) << state->problems[0];
  auto refused = AppendLaunch(*tpm_, log_, 15, "web1", Inputs("a=1"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kVerificationFailed);
}

TEST_F(HostLogTest, ATpmResetStartsANewLog) {
  ASSERT_TRUE(AppendLaunch(*tpm_, log_, 15, "web1", Inputs("a=1")).has_value());
  Open();
  auto a = AppendLaunch(*tpm_, log_, 15, "web1", Inputs("a=1"));
  ASSERT_TRUE(a.has_value()) << a.error().message();
  ASSERT_TRUE(a->rotated_to.has_value());
  EXPECT_EQ(*a->rotated_to, log_ + ".1");
  EXPECT_TRUE(std::filesystem::exists(log_ + ".1"));
  EXPECT_EQ(a->first_recnum, 0u);
  EXPECT_TRUE(a->after.matches());
}

TEST_F(HostLogTest, OnlyStaticPcrsTheFirmwareDoesNotOwn) {
  EXPECT_FALSE(CheckLaunchPcr(7).has_value());
  EXPECT_FALSE(CheckLaunchPcr(16).has_value());
  EXPECT_FALSE(CheckLaunchPcr(23).has_value());
  EXPECT_TRUE(CheckLaunchPcr(8).has_value());
  EXPECT_TRUE(CheckLaunchPcr(15).has_value());
  EXPECT_FALSE(AppendLaunch(*tpm_, log_, 23, "web1", Inputs("a=1")).has_value());
}

}  // namespace
}  // namespace tc::launch
