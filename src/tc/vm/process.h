#pragma once

// Child processes of a launcher (swtpm, QEMU) that never outlive it: each
// runs in its own process group, dies with the launcher (PR_SET_PDEATHSIG
// SIGKILL, so even a SIGKILLed launcher leaves nothing behind), and is
// killed and reaped when its Child is destroyed, on every exit path.
// Termination signals (SIGINT, SIGTERM, SIGHUP) are turned into a flag the
// launcher polls, so that destructors run and state is cleaned up.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tc/base/error.h"

namespace tc::vm {

class Child {
 public:
  // Starts argv (argv[0] looked up on PATH), stdin from /dev/null, stdout
  // and stderr appended to `log_path`. kNotFound when the program is not
  // installed, kIo when it cannot be started.
  [[nodiscard]] static Result<Child> Start(const std::vector<std::string>& argv,
                                           const std::string& log_path);
  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();  // Kill()

  pid_t pid() const { return pid_; }
  // Reaps without blocking; true while the process runs.
  bool Running();
  // The exit status once ended (the signal number + 128 for a signal).
  std::optional<int> status() const { return status_; }
  // Waits up to `timeout`; the status, or nullopt when it still runs.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // SIGKILL to the process group, then reap. No-op once ended.
  void Kill();
  // Sends `sig` to the process only.
  void Signal(int sig) const;

 private:
  Child() = default;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Runs argv to completion (at most `timeout`; killed after), output
// appended to `log_path`. Returns the exit status; kNotFound when not
// installed, kTimeout... as kIo naming the program when it overran.
[[nodiscard]] Result<int> RunToCompletion(const std::vector<std::string>& argv,
                                          const std::string& log_path,
                                          std::chrono::milliseconds timeout);

// The full path of `program` on PATH (and /usr/sbin, /sbin), if any.
std::optional<std::string> FindProgram(const std::string& program);

// Installs handlers for SIGINT, SIGTERM and SIGHUP that record the signal
// (and ignore SIGPIPE). Interrupted() returns the signal number, 0 if none.
void InstallInterruptHandlers();
int Interrupted();

}  // namespace tc::vm
