// EsysTpm through a real swtpm process that each test starts (and always
// kills), over the swtpm TCTI. Skipped when swtpm is not installed.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tc/crypto/hash.h"
#include "tc/pcr/pcr_values.h"
#include "tc/tpm/esys/open.h"
#include "tc/tpm/esys/test_util.h"
#include "tc/tpm/testing/swtpm.h"

extern char** environ;

namespace tc::tpm {
namespace {

using crypto::Digest;
using crypto::HashAlg;
using namespace std::chrono_literals;

using testing::FindInPath;
using testing::Swtpm;

#define START_SWTPM_OR_SKIP(var)                         \
  std::string start_error_;                              \
  auto var = Swtpm::Start(&start_error_);                \
  if (var == nullptr) {                                  \
    if (start_error_ == "swtpm not installed") GTEST_SKIP() << start_error_; \
    FAIL() << start_error_;                              \
  }

// Runs f on another thread; a hang ends the test binary (the thread still
// uses the TPM object, so the test cannot simply continue).
template <class T>
T WithinDeadline(std::function<T()> f, std::chrono::seconds limit) {
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> result = promise->get_future();
  std::thread([promise, f = std::move(f)] { promise->set_value(f()); }).detach();
  if (result.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "FATAL: TPM command still blocked after %llds\n",
                 static_cast<long long>(limit.count()));
    std::fflush(stderr);
    std::_Exit(1);
  }
  return result.get();
}

std::vector<Digest> DigestsOf(std::string_view data, const std::vector<HashAlg>& banks) {
  std::vector<Digest> out;
  for (HashAlg alg : banks) {
    auto d = crypto::Hash(alg, AsBytes(data));
    if (d.has_value()) out.push_back(*d);
  }
  return out;
}

TEST(SwtpmTest, InfoExtendReadRandom) {
  START_SWTPM_OR_SKIP(swtpm);
  auto tpm = OpenTpm(swtpm->spec());
  ASSERT_TRUE(tpm.has_value()) << tpm.error().message();
  auto info = (*tpm)->Info();
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_THAT(info->active_banks, ::testing::Contains(HashAlg::kSha256));
  EXPECT_EQ(info->manufacturer, "IBM");
  EXPECT_EQ(info->transport, swtpm->spec());

  const auto digests = DigestsOf("swtpm", info->active_banks);
  std::vector<PcrSelection> sel;
  for (HashAlg alg : info->active_banks) sel.push_back({alg, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16}});
  auto before = (*tpm)->ReadPcrs(sel);
  ASSERT_TRUE(before.has_value()) << before.error().message();
  ASSERT_TRUE((*tpm)->Extend(16, digests).has_value());
  auto after = (*tpm)->ReadPcrs(sel);
  ASSERT_TRUE(after.has_value());
  for (const Digest& d : digests) {
    Digest expected = before->banks.at(d.alg()).at(16);
    ASSERT_TRUE(crypto::ExtendDigest(expected, d.bytes()).has_value());
    EXPECT_EQ(after->banks.at(d.alg()).at(16), expected);
  }
  auto random = (*tpm)->GetRandom(200);
  ASSERT_TRUE(random.has_value());
  EXPECT_EQ(random->size(), 200u);
}

TEST(SwtpmTest, ReadPcrsMatchesTpm2Pcrread) {
  const auto pcrread = FindInPath("tpm2_pcrread");
  if (!pcrread) GTEST_SKIP() << "tpm2-tools not installed";
  START_SWTPM_OR_SKIP(swtpm);
  auto tpm = OpenTpm(swtpm->spec());
  ASSERT_TRUE(tpm.has_value()) << tpm.error().message();
  ASSERT_TRUE((*tpm)->Extend(16, DigestsOf("a", {HashAlg::kSha1, HashAlg::kSha256})).has_value());
  ASSERT_TRUE((*tpm)->Extend(23, DigestsOf("b", {HashAlg::kSha256})).has_value());

  const std::string cmd = *pcrread + " -T 'swtpm:host=127.0.0.1,port=" +
                          std::to_string(swtpm->port()) +
                          "' sha1:0,16,23+sha256:0,16,17,23 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  ASSERT_EQ(::pclose(p), 0) << out;
  auto theirs = pcr::ParsePcrValues(out);
  ASSERT_TRUE(theirs.has_value()) << theirs.error().message() << "\n" << out;

  const std::vector<PcrSelection> sel = {{HashAlg::kSha1, {0, 16, 23}},
                                         {HashAlg::kSha256, {0, 16, 17, 23}}};
  auto ours = (*tpm)->ReadPcrs(sel);
  ASSERT_TRUE(ours.has_value()) << ours.error().message();
  EXPECT_EQ(ours->banks, theirs->banks) << out;
  EXPECT_EQ(ours->banks.at(HashAlg::kSha256).size(), 4u);
}

TEST(SwtpmTest, KilledSwtpmFailsWithinBoundedTime) {
  START_SWTPM_OR_SKIP(swtpm);
  auto tpm = OpenTpm(swtpm->spec());
  ASSERT_TRUE(tpm.has_value()) << tpm.error().message();
  ASSERT_TRUE((*tpm)->GetRandom(8).has_value());
  swtpm->Kill();
  Tpm* raw = tpm->get();
  const auto start = std::chrono::steady_clock::now();
  Result<Bytes> r = WithinDeadline<Result<Bytes>>([raw] { return raw->GetRandom(8); }, 20s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kTpm);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  // Later commands keep failing cleanly too.
  auto info = WithinDeadline<Result<TpmInfo>>([raw] { return raw->Info(); }, 20s);
  EXPECT_FALSE(info.has_value());
}

// The process dies while a command is in flight: swtpm is stopped, a
// command is sent (the kernel accepts the connection), then swtpm is
// killed, which closes the socket under the blocked read.
TEST(SwtpmTest, KilledMidCommandFailsWithinBoundedTime) {
  START_SWTPM_OR_SKIP(swtpm);
  auto tpm = OpenTpm(swtpm->spec());
  ASSERT_TRUE(tpm.has_value()) << tpm.error().message();
  ASSERT_TRUE((*tpm)->GetRandom(8).has_value());
  swtpm->Stop();
  Tpm* raw = tpm->get();
  auto promise = std::make_shared<std::promise<Result<Bytes>>>();
  std::future<Result<Bytes>> result = promise->get_future();
  std::thread([promise, raw] { promise->set_value(raw->GetRandom(32)); }).detach();
  EXPECT_EQ(result.wait_for(500ms), std::future_status::timeout) << "answered while stopped";
  swtpm->Kill();
  if (result.wait_for(10s) != std::future_status::ready) {
    std::fprintf(stderr, "FATAL: command still blocked 10s after swtpm was killed\n");
    std::_Exit(1);
  }
  Result<Bytes> r = result.get();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kTpm) << r.error().message();
}

}  // namespace
}  // namespace tc::tpm
