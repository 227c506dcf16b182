#include "tc/launch/launch_record.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tc::launch {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/tc-launch-test-XXXXXX";
  return ::mkdtemp(tmpl) != nullptr ? tmpl : "";
}

TEST(LaunchRecordTest, MeasuresFilesAndTheCommandLine) {
  const std::string dir = TempDir();
  std::ofstream(dir + "/initrd.img") << "abc";
  const std::vector<std::string> argv = {"qemu", "-initrd", dir + "/initrd.img", "-append",
                                         "console=ttyS0 quiet"};
  auto cmd = ParseQemuCommand(argv);
  ASSERT_TRUE(cmd.has_value());
  auto measured = MeasureInputs(*cmd);
  ASSERT_TRUE(measured.has_value()) << measured.error().message();
  ASSERT_EQ(measured->size(), 2u);
  // sha256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ((*measured)[0].sha256.Hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ((*measured)[0].size, 3u);
  EXPECT_EQ((*measured)[0].slot, "initrd");
  EXPECT_FALSE((*measured)[0].authenticode.has_value());
  EXPECT_EQ((*measured)[1].sha256, *crypto::Hash(crypto::HashAlg::kSha256,
                                                 AsBytes(std::string_view("console=ttyS0 quiet"))));
  EXPECT_EQ(CanonicalEvent("vm 1", (*measured)[1]),
            "trustchain-launch 1 vm=vm%201 slot=cmdline kind=cmdline path= sha256=" + (*measured)[1].sha256.Hex());
  std::filesystem::remove_all(dir);
}

TEST(LaunchRecordTest, ARecordsDigestIsTheHashOfItsString) {
  MeasuredInput m;
  m.input = LaunchInput{InputKind::kKernel, "/boot/vmlinuz", 3, true};
  m.slot = "kernel";
  m.sha256 = *crypto::Hash(crypto::HashAlg::kSha256, AsBytes(std::string_view("kernel")));
  const std::vector<crypto::HashAlg> banks = {crypto::HashAlg::kSha256, crypto::HashAlg::kSha384};
  auto r = LaunchRecord(7, 15, "web1", m, banks);
  ASSERT_TRUE(r.has_value());
  const std::string s = r->content.Find("string")->str();
  EXPECT_EQ(s, "trustchain-launch 1 vm=web1 slot=kernel kind=kernel path=/boot/vmlinuz sha256=" + m.sha256.Hex());
  ASSERT_EQ(r->digests.size(), 2u);
  EXPECT_EQ(r->digests[0], *crypto::Hash(crypto::HashAlg::kSha256, AsBytes(s)));
  EXPECT_EQ(r->digests[1], *crypto::Hash(crypto::HashAlg::kSha384, AsBytes(s)));
  // The record reads back from the launch log.
  auto parsed = cel::Parse(AsBytes(cel::SequenceElement(*r)));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(parsed->at(0).recnum, 7u);
  EXPECT_EQ(parsed->at(0).content.Find("kind")->str(), "kernel");
}

TEST(LaunchRecordTest, AMissingFileNamesTheQemuArgument) {
  const std::vector<std::string> argv = {"qemu", "-m", "512", "-kernel", "/no/such/vmlinuz"};
  auto cmd = ParseQemuCommand(argv);
  ASSERT_TRUE(cmd.has_value());
  auto measured = MeasureInputs(*cmd);
  ASSERT_FALSE(measured.has_value());
  EXPECT_EQ(measured.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(measured.error().message().find("QEMU argument 3 (kernel)"), std::string::npos)
      << measured.error().message();
}

}  // namespace
}  // namespace tc::launch
