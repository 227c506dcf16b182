#include "tc/vm/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace tc::vm {
namespace {

using std::chrono::milliseconds;

std::string LogPath() { return "/tmp/tc-process-test-" + std::to_string(::getpid()) + ".log"; }

TEST(ProcessTest, RunsToCompletionWithItsExitStatusAndOutput) {
  const std::string log = LogPath();
  auto rc = RunToCompletion({"sh", "-c", "echo hello; exit 3"}, log, milliseconds(10000));
  ASSERT_TRUE(rc.has_value()) << rc.error().message();
  EXPECT_EQ(*rc, 3);
  std::ifstream in(log);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_EQ(s.str(), "hello\n");
  ::unlink(log.c_str());
}

TEST(ProcessTest, AChildIsKilledWithItsProcessGroupWhenDestroyed) {
  const std::string log = LogPath();
  pid_t pid = -1;
  {
    // A shell that starts a grandchild and waits: both must go.
    auto c = Child::Start({"sh", "-c", "sleep 300 & wait"}, log);
    ASSERT_TRUE(c.has_value()) << c.error().message();
    pid = c->pid();
    EXPECT_TRUE(c->Running());
    EXPECT_FALSE(c->Wait(milliseconds(50)).has_value());
  }
  EXPECT_NE(::kill(pid, 0), 0);        // the child is gone (reaped)
  // And its whole process group: the killed grandchild lingers as a zombie
  // until init reaps it.
  bool group_gone = false;
  for (int i = 0; i < 200 && !group_gone; ++i) {
    group_gone = ::kill(-pid, 0) != 0;
    if (!group_gone) ::usleep(10000);
  }
  EXPECT_TRUE(group_gone);
  ::unlink(log.c_str());
}

TEST(ProcessTest, TimeoutKillsAndSaysSo) {
  const std::string log = LogPath();
  auto rc = RunToCompletion({"sleep", "30"}, log, milliseconds(200));
  ASSERT_FALSE(rc.has_value());
  EXPECT_NE(rc.error().message().find("did not finish"), std::string::npos);
  ::unlink(log.c_str());
}

TEST(ProcessTest, MissingProgramIsNotFound) {
  auto c = Child::Start({"no-such-program-tc"}, LogPath());
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), ErrorCode::kNotFound);
}

TEST(ProcessTest, SignalsBecomeAFlag) {
  InstallInterruptHandlers();
  EXPECT_EQ(Interrupted(), 0);
  ::raise(SIGTERM);
  EXPECT_EQ(Interrupted(), SIGTERM);
}

}  // namespace
}  // namespace tc::vm
