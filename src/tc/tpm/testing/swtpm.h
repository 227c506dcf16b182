#pragma once

// A swtpm process for tests (tests and benchmarks only): listening on
// 127.0.0.1:port() with its control channel on port()+1, as the swtpm TCTI
// expects, its state in a temporary directory. Killed (SIGKILL) and reaped,
// and the directory removed, when destroyed.

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

namespace tc::tpm::testing {

// The full path of `name` on $PATH, if any.
std::optional<std::string> FindInPath(const std::string& name);

class Swtpm {
 public:
  // Starts swtpm on a free pair of ports and waits (up to 10 s) until it
  // accepts connections. nullptr with *error set when it cannot: "swtpm not
  // installed" (callers skip) or why it did not start (callers fail).
  static std::unique_ptr<Swtpm> Start(std::string* error);
  ~Swtpm();
  Swtpm(const Swtpm&) = delete;
  Swtpm& operator=(const Swtpm&) = delete;

  // "swtpm:host=127.0.0.1,port=N", for OpenTpm and tpm2-tools' -T.
  std::string spec() const;
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

  void Kill();        // SIGKILL and reap
  void Stop() const;  // SIGSTOP: the process hangs, its sockets stay open

 private:
  Swtpm() = default;
  bool Spawn(const std::string& exe, int port, std::string* error);
  bool WaitUntilAccepting();

  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace tc::tpm::testing
