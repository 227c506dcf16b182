#include "tc/tpm/testing/swtpm.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

extern char** environ;

namespace tc::tpm::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

bool PortFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = Loopback(port);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

bool Accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a = Loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::optional<std::string> FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

std::unique_ptr<Swtpm> Swtpm::Start(std::string* error) {
  const auto exe = FindInPath("swtpm");
  if (!exe) {
    *error = "swtpm not installed";
    return nullptr;
  }
  // Random even ports: ports the kernel hands out for bind(0) often have
  // their neighbour taken on this kind of machine.
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(10000, 29999);
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int port = pick(rng) * 2;
    if (!PortFree(port) || !PortFree(port + 1)) continue;
    auto s = std::unique_ptr<Swtpm>(new Swtpm());
    char tmpl[] = "/tmp/tc-swtpm-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      *error = "mkdtemp failed";
      return nullptr;
    }
    s->dir_ = tmpl;
    if (s->Spawn(*exe, port, error) && s->WaitUntilAccepting()) return s;
  }
  if (error->empty()) *error = "swtpm did not start";
  return nullptr;
}

Swtpm::~Swtpm() {
  Kill();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string Swtpm::spec() const {
  return "swtpm:host=127.0.0.1,port=" + std::to_string(port_);
}

void Swtpm::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void Swtpm::Stop() const {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

bool Swtpm::Spawn(const std::string& exe, int port, std::string* error) {
  port_ = port;
  const std::string server = "type=tcp,port=" + std::to_string(port) + ",bindaddr=127.0.0.1";
  const std::string ctrl = "type=tcp,port=" + std::to_string(port + 1) + ",bindaddr=127.0.0.1";
  const std::string state = "dir=" + dir_;
  const std::string log = dir_ + "/swtpm.log";
  std::vector<std::string> args = {exe,    "socket", "--tpm2",     "--server", server,
                                   "--ctrl", ctrl,   "--tpmstate", state,      "--flags",
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

bool Swtpm::WaitUntilAccepting() {
  using namespace std::chrono_literals;
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

}  // namespace tc::tpm::testing
