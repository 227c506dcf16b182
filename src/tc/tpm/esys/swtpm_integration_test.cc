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

extern char** environ;

namespace tc::tpm {
namespace {

using crypto::Digest;
using crypto::HashAlg;
using namespace std::chrono_literals;

std::optional<std::string> FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

bool PortFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

int PickPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool Accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// A swtpm process on 127.0.0.1:PORT (control channel PORT+1, as the swtpm
// TCTI expects) with its state in a temporary directory. Killed with
// SIGKILL and reaped when destroyed.
class Swtpm {
 public:
  static std::unique_ptr<Swtpm> Start(std::string* error) {
    const auto exe = FindInPath("swtpm");
    if (!exe) {
      *error = "swtpm not installed";
      return nullptr;
    }
    for (int attempt = 0; attempt < 10; ++attempt) {
      auto s = std::unique_ptr<Swtpm>(new Swtpm());
      const int port = PickPort();
      if (port == 0 || port >= 65535 || !PortFree(port + 1)) continue;
      if (s->Spawn(*exe, port, error) && s->WaitUntilAccepting()) return s;
    }
    if (error->empty()) *error = "swtpm did not start";
    return nullptr;
  }

  ~Swtpm() { Kill(); }

  std::string spec() const { return "swtpm:host=127.0.0.1,port=" + std::to_string(port_); }
  int port() const { return port_; }

  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  void Stop() const { ::kill(pid_, SIGSTOP); }

 private:
  Swtpm() = default;

  bool Spawn(const std::string& exe, int port, std::string* error) {
    port_ = port;
    const std::string server = "type=tcp,port=" + std::to_string(port) + ",bindaddr=127.0.0.1";
    const std::string ctrl = "type=tcp,port=" + std::to_string(port + 1) + ",bindaddr=127.0.0.1";
    const std::string state = "dir=" + dir_.path();
    const std::string log = dir_.path() + "/swtpm.log";
    std::vector<std::string> args = {exe,     "socket",     "--tpm2",  "--server", server,
                                     "--ctrl", ctrl,        "--tpmstate", state,   "--flags",
                                     "not-need-init,startup-clear"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      *error = "posix_spawn swtpm failed";
      return false;
    }
    pid_ = pid;
    return true;
  }

  bool WaitUntilAccepting() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: port taken?
        pid_ = -1;
        return false;
      }
      if (Accepts(port_)) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  testing::TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

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
