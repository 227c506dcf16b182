// Integration test: credentials made by our software MakeCredential are
// opened by TPM2_ActivateCredential on a real swtpm, driven by tpm2-tools.
// Needs swtpm, tpm2-tools 5.x and the swtpm TCTI; skipped when missing.
// Label: integration.

#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tc/io/file.h"
#include "tc/tpm/credential.h"
#include "tc/tpm/marshal.h"
#include "tc/tpm/testing/swtpm.h"



namespace tc::tpm {
namespace {

namespace fs = std::filesystem;

bool HaveCommand(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

bool HaveTools() {
  for (const char* tool :
       {"swtpm", "tpm2_createek", "tpm2_createak", "tpm2_startauthsession",
        "tpm2_policysecret", "tpm2_activatecredential", "tpm2_flushcontext",
        "tpm2_makecredential"}) {
    if (!HaveCommand(tool)) return false;
  }
  return true;
}

// True when a TCP socket can bind 127.0.0.1:port now.
Bytes ReadAll(const fs::path& p) {
  auto r = io::ReadFile(p.string(), 1 << 20);
  EXPECT_TRUE(r.has_value()) << p << ": " << (r ? "" : r.error().message());
  return r ? *r : Bytes{};
}

void WriteAll(const fs::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// One swtpm process on free ports with its state in a fresh directory;
// killed and cleaned up by the destructor.
class CredentialSwtpmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveTools()) GTEST_SKIP() << "swtpm or tpm2-tools missing";
    char tmpl[] = "/tmp/tc_cred_swtpm_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::string error;
    swtpm_ = testing::Swtpm::Start(&error);
    ASSERT_NE(swtpm_, nullptr) << error;
    port_ = swtpm_->port();
  }

  void TearDown() override {
    swtpm_.reset();  // killed and reaped
    // Kept after a failure, for tools.log.
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }

  // Runs a tpm2-tools command line (the TCTI is added) in the test
  // directory; true on exit status 0. Output goes to tools.log. With no
  // resource manager in front of swtpm, the objects each tool loads stay
  // loaded: all transient objects are flushed first, or the third command
  // fails with TPM_RC_OBJECT_MEMORY.
  bool Tool(const std::string& cmd) { return RawTool("tpm2_flushcontext -t") && RawTool(cmd); }

  bool RawTool(const std::string& cmd) {
    const std::string tcti = "swtpm:host=127.0.0.1,port=" + std::to_string(port_);
    std::istringstream words(cmd);
    std::string tool;
    words >> tool;
    const std::string rest = cmd.substr(tool.size());
    const std::string line = "cd '" + dir_.string() + "' && echo '+ " + cmd +
                             "' >>tools.log && " + tool + " -T " + tcti + rest +
                             " >>tools.log 2>&1";
    return std::system(line.c_str()) == 0;
  }

  std::string Log() {
    std::ifstream in(dir_ / "tools.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Creates the EK and an AK under it; returns the EK public area and the
  // AK name that tpm2-tools wrote.
  void CreateKeys(const std::string& ek_alg, const std::string& ak_args, PublicArea& ek,
                  Bytes& ak_name) {
    ASSERT_TRUE(Tool("tpm2_createek -c ek.ctx -G " + ek_alg + " -u ek.pub")) << Log();
    ASSERT_TRUE(Tool("tpm2_createak -C ek.ctx -c ak.ctx " + ak_args +
                     " -u ak.pub -n ak.name"))
        << Log();
    auto parsed = ParsePublic2b(ReadAll(dir_ / "ek.pub"));
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
    ek = *parsed;
    ak_name = ReadAll(dir_ / "ak.name");
    // Our Name of the AK agrees with the TPM's.
    auto ak = ParsePublic2b(ReadAll(dir_ / "ak.pub"));
    ASSERT_TRUE(ak.has_value()) << ak.error().message();
    auto name = ObjectName(*ak);
    ASSERT_TRUE(name.has_value());
    EXPECT_EQ(*name, ak_name);
  }

  // TPM2_ActivateCredential with the EK's policy session (PolicySecret on
  // the endorsement hierarchy), as tpm2_activatecredential(1) documents.
  bool Activate(const Credential& c) {
    auto file = Tpm2ToolsCredentialFile(c);
    EXPECT_TRUE(file.has_value());
    if (!file) return false;
    WriteAll(dir_ / "cred.blob", *file);
    fs::remove(dir_ / "secret.out");
    const bool ok =
        Tool("tpm2_startauthsession --policy-session -S session.ctx") &&
        Tool("tpm2_policysecret -S session.ctx -c e") &&
        Tool("tpm2_activatecredential -c ak.ctx -C ek.ctx -i cred.blob -o secret.out "
             "-P session:session.ctx");
    RawTool("tpm2_flushcontext session.ctx");
    return ok;
  }

  void RoundTrip(const std::string& ek_alg, const std::string& ak_args) {
    PublicArea ek;
    Bytes ak_name;
    ASSERT_NO_FATAL_FAILURE(CreateKeys(ek_alg, ak_args, ek, ak_name));
    Bytes secret(32);
    for (std::size_t i = 0; i < secret.size(); ++i) {
      secret[i] = static_cast<std::uint8_t>(0xA0 ^ (i * 7));
    }
    auto cred = MakeCredential(ek, ak_name, secret);
    ASSERT_TRUE(cred.has_value()) << cred.error().message();
    ASSERT_TRUE(Activate(*cred)) << Log();
    EXPECT_EQ(ReadAll(dir_ / "secret.out"), secret);

    // A shorter secret too (its TPM2B size is inside encIdentity).
    const Bytes short_secret = {'h', 'i'};
    cred = MakeCredential(ek, ak_name, short_secret);
    ASSERT_TRUE(cred.has_value()) << cred.error().message();
    ASSERT_TRUE(Activate(*cred)) << Log();
    EXPECT_EQ(ReadAll(dir_ / "secret.out"), short_secret);

    // Made for another Name: the TPM's integrity check refuses it.
    Bytes other = ak_name;
    other.back() ^= 1;
    cred = MakeCredential(ek, other, secret);
    ASSERT_TRUE(cred.has_value());
    EXPECT_FALSE(Activate(*cred)) << "activated a credential for another name";
    EXPECT_FALSE(fs::exists(dir_ / "secret.out"));
    // ... for the outer HMAC (TPM_RC_INTEGRITY), not some other reason.
    const std::string log = Log();
    const std::string last = log.substr(log.rfind("+ tpm2_activatecredential"));
    EXPECT_NE(last.find("integrity"), std::string::npos) << last;
  }

  fs::path dir_;  // tpm2-tools' files; swtpm keeps its state in its own
  std::unique_ptr<testing::Swtpm> swtpm_;
  int port_ = 0;
};

TEST_F(CredentialSwtpmTest, RsaEkActivatesOurCredential) {
  RoundTrip("rsa", "-G rsa -g sha256 -s rsassa");
}

TEST_F(CredentialSwtpmTest, EccEkActivatesOurCredential) {
  RoundTrip("ecc", "-G ecc -g sha256 -s ecdsa");
}

// tpm2_makecredential's own file parses with our reader, and its blobs
// have the sizes ours have.
TEST_F(CredentialSwtpmTest, ParsesTpm2MakecredentialOutput) {
  PublicArea ek;
  Bytes ak_name;
  ASSERT_NO_FATAL_FAILURE(CreateKeys("rsa", "-G rsa -g sha256 -s rsassa", ek, ak_name));
  WriteAll(dir_ / "secret.in", Bytes(32, 0x5A));
  const std::string cmd = "cd '" + dir_.string() +
                          "' && tpm2_makecredential -T none -u ek.pub -s secret.in -n $(xxd -p -c 256 "
                          "ak.name) -o tools.cred >>tools.log 2>&1";
  if (!HaveCommand("xxd")) GTEST_SKIP() << "xxd missing";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << Log();
  auto theirs = ParseTpm2ToolsCredentialFile(ReadAll(dir_ / "tools.cred"));
  ASSERT_TRUE(theirs.has_value()) << theirs.error().message();
  auto ours = MakeCredential(ek, ak_name, Bytes(32, 0x5A));
  ASSERT_TRUE(ours.has_value());
  EXPECT_EQ(theirs->credential_blob.size(), ours->credential_blob.size());
  EXPECT_EQ(theirs->encrypted_secret.size(), ours->encrypted_secret.size());
  // And the TPM opens theirs through the same path as ours.
  ASSERT_TRUE(Activate(*theirs)) << Log();
  EXPECT_EQ(ReadAll(dir_ / "secret.out"), Bytes(32, 0x5A));
}

}  // namespace
}  // namespace tc::tpm
