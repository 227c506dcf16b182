#include "tc/tpm/esys/open.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tc/tpm/esys/test_util.h"

namespace tc::tpm {
namespace {

using ::testing::HasSubstr;

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
int UnusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

TEST(OpenTpmTest, RejectsMalformedSpecsNamingTheAcceptedForms) {
  for (const char* spec :
       {"", "tpm0", "foo:bar", "embedded:", "swtpm:port=0", "swtpm:port=65535",
        "swtpm:port=12ab", "swtpm:host=", "swtpm:host=a b", "swtpm:hostname=x",
        "mssim:port", "swtpm:port=-1", "swtpm:port=99999999999"}) {
    auto tpm = OpenTpm(spec);
    ASSERT_FALSE(tpm.has_value()) << spec;
    EXPECT_EQ(tpm.error().code(), ErrorCode::kInvalidArgument) << spec;
    EXPECT_THAT(tpm.error().message(), HasSubstr("embedded:DIR")) << spec;
  }
}

TEST(OpenTpmTest, MissingDeviceIsNotFound) {
  auto tpm = OpenTpm("device:/nonexistent/tpmrm9");
  ASSERT_FALSE(tpm.has_value());
  EXPECT_EQ(tpm.error().code(), ErrorCode::kNotFound);
}

TEST(OpenTpmTest, NothingListeningIsTpmErrorAtOnce) {
  const int port = UnusedPort();
  ASSERT_NE(port, 0);
  for (const char* kind : {"swtpm", "mssim"}) {
    const auto start = std::chrono::steady_clock::now();
    auto tpm = OpenTpm(std::string(kind) + ":host=127.0.0.1,port=" + std::to_string(port));
    ASSERT_FALSE(tpm.has_value()) << kind;
    EXPECT_EQ(tpm.error().code(), ErrorCode::kTpm) << tpm.error().message();
    EXPECT_THAT(tpm.error().message(), HasSubstr(kind));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  }
}

TEST(OpenTpmTest, EmbeddedTransportIsAbsolute) {
  testing::TempDir dir;
  const std::string cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto tpm = OpenTpm("embedded:./state/../state");
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(tpm.has_value()) << tpm.error().message();
  auto info = (*tpm)->Info();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->transport, "embedded:" + dir.path() + "/state");
}

TEST(DefaultTpmSpecTest, EnvironmentWins) {
  ScopedEnv env("TRUSTCHAIN_TPM", "swtpm:host=127.0.0.1,port=2321");
  EXPECT_EQ(DefaultTpmSpec(), "swtpm:host=127.0.0.1,port=2321");
}

TEST(DefaultTpmSpecTest, EmbeddedInUserStateDirectoryWithoutDevice) {
  if (::access("/dev/tpmrm0", F_OK) == 0) GTEST_SKIP() << "this host has /dev/tpmrm0";
  ScopedEnv env("TRUSTCHAIN_TPM", "");
  {
    ScopedEnv xdg("XDG_STATE_HOME", "/var/xdg");
    EXPECT_EQ(DefaultTpmSpec(), "embedded:/var/xdg/trustchain/tpm");
  }
  ScopedEnv xdg("XDG_STATE_HOME", nullptr);
  ScopedEnv home("HOME", "/home/u");
  EXPECT_EQ(DefaultTpmSpec(), "embedded:/home/u/.local/state/trustchain/tpm");
}

}  // namespace
}  // namespace tc::tpm
