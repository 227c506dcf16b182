#include "tc/vm/vtpm.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "tc/io/file.h"

namespace tc::vm {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

Result<void> WriteIfAbsent(const std::string& path, std::string_view text) {
  std::error_code ec;
  if (fs::exists(path, ec)) return {};
  return io::WriteFile(path, AsBytes(text), 0600);
}

// Binds (bind = true) or connects to 127.0.0.1:port; true when that works.
// Binding: nothing listens there. Connecting: something does.
bool Loopback(int port, bool bind) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const auto* addr = reinterpret_cast<sockaddr*>(&a);
  const bool ok = (bind ? ::bind(fd, addr, sizeof a) : ::connect(fd, addr, sizeof a)) == 0;
  ::close(fd);
  return ok;
}
bool PortFree(int port) { return Loopback(port, true); }
bool Accepting(int port) { return Loopback(port, false); }

}  // namespace

Result<void> EnsureVtpmCa(const std::string& ca_dir) {
  std::error_code ec;
  fs::create_directories(ca_dir, ec);
  if (ec) {
    return Fail(ErrorCode::kIo, fmt::format("cannot create the vTPM CA directory {}: {}", ca_dir,
                                            ec.message()));
  }
  fs::permissions(ca_dir, fs::perms::owner_all, ec);
  TC_RETURN_IF_ERROR(WriteIfAbsent(
      ca_dir + "/swtpm_setup.conf",
      fmt::format("# trustchain's vTPM CA (docs/launch.md)\n"
                  "create_certs_tool = /usr/bin/swtpm_localca\n"
                  "create_certs_tool_config = {0}/swtpm-localca.conf\n"
                  "create_certs_tool_options = {0}/swtpm-localca.options\n"
                  "active_pcr_banks = sha256\n",
                  ca_dir)));
  TC_RETURN_IF_ERROR(WriteIfAbsent(
      ca_dir + "/swtpm-localca.conf",
      fmt::format("statedir = {0}\nsigningkey = {0}/signkey.pem\nissuercert = {0}/issuercert.pem\n"
                  "certserial = {0}/certserial\n",
                  ca_dir)));
  return WriteIfAbsent(ca_dir + "/swtpm-localca.options",
                       "--platform-manufacturer trustchain\n--platform-version 1\n"
                       "--platform-model QEMU\n");
}

Result<bool> EnsureVtpm(const std::string& ca_dir, const std::string& state_dir,
                        const std::string& log_path) {
  std::error_code ec;
  if (fs::exists(state_dir + "/tpm2-00.permall", ec)) return false;
  TC_RETURN_IF_ERROR(EnsureVtpmCa(ca_dir));
  fs::create_directories(state_dir, ec);
  fs::permissions(state_dir, fs::perms::owner_all, ec);
  TC_ASSIGN_OR_RETURN(
      int rc, RunToCompletion({"swtpm_setup", "--tpm2", "--tpmstate", state_dir, "--config",
                               ca_dir + "/swtpm_setup.conf", "--createek", "--create-ek-cert",
                               "--create-platform-cert", "--lock-nvram", "--pcr-banks", "sha256",
                               "--overwrite"},
                              log_path, std::chrono::seconds(120)));
  if (rc != 0) {
    return Fail(ErrorCode::kIo, fmt::format("swtpm_setup failed (exit {}) manufacturing the vTPM "
                                            "in {}; see {}",
                                            rc, state_dir, log_path));
  }
  return true;
}

Result<VtpmCaCertificates> ReadVtpmCa(const std::string& ca_dir) {
  VtpmCaCertificates out;
  auto root = io::ReadTextFile(ca_dir + "/swtpm-localca-rootca-cert.pem", 1 << 20);
  if (!root) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("the vTPM CA in {} has no root certificate yet (it is made with the "
                            "first vTPM)",
                            ca_dir));
  }
  out.root_pem = std::move(*root);
  TC_ASSIGN_OR_RETURN(out.intermediates_pem, io::ReadTextFile(ca_dir + "/issuercert.pem", 1 << 20));
  return out;
}

Result<Child> StartVtpmForQemu(const std::string& state_dir, const std::string& ctrl_path,
                               const std::string& log_path) {
  std::error_code ec;
  fs::remove(ctrl_path, ec);
  fs::remove(state_dir + "/tpm2-00.volatilestate", ec);  // a fresh power-on
  TC_ASSIGN_OR_RETURN(Child c, Child::Start({"swtpm", "socket", "--tpm2", "--tpmstate",
                                             "dir=" + state_dir, "--ctrl",
                                             "type=unixio,path=" + ctrl_path, "--log",
                                             "level=1"},
                                            log_path));
  for (int i = 0; i < 250; ++i) {
    if (fs::exists(ctrl_path, ec)) return c;
    if (!c.Running()) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return Fail(ErrorCode::kIo, fmt::format("swtpm did not open its control socket {}; see {}",
                                          ctrl_path, log_path));
}

Result<HostVtpm> StartVtpmForHost(const std::string& state_dir, const std::string& log_path,
                                  bool resume) {
  std::error_code ec;
  if (!resume) fs::remove(state_dir + "/tpm2-00.volatilestate", ec);
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^
                   static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int port = 20000 + static_cast<int>(rng() % 20000) * 2;
    if (!PortFree(port) || !PortFree(port + 1)) continue;
    TC_ASSIGN_OR_RETURN(
        Child c, Child::Start({"swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + state_dir,
                               "--server", fmt::format("type=tcp,port={},bindaddr=127.0.0.1", port),
                               "--ctrl", fmt::format("type=tcp,port={},bindaddr=127.0.0.1", port + 1),
                               "--flags", "not-need-init", "--log", "level=1"},
                              log_path));
    for (int i = 0; i < 250 && c.Running(); ++i) {
      if (Accepting(port)) {
        HostVtpm h{std::move(c), fmt::format("swtpm:host=127.0.0.1,port={}", port)};
        return h;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    // Lost a race for the ports, or failed: try others.
  }
  return Fail(ErrorCode::kIo, fmt::format("swtpm did not start on a local TCP port; see {}",
                                          log_path));
}

Result<void> StopKeepingPcrs(const std::string& ctrl_path, const std::string& log_path) {
  TC_ASSIGN_OR_RETURN(int rc, RunToCompletion({"swtpm_ioctl", "-v", "--unix", ctrl_path}, log_path,
                                              std::chrono::seconds(30)));
  if (rc != 0) {
    return Fail(ErrorCode::kIo, fmt::format("swtpm_ioctl -v (store the volatile state) failed "
                                            "(exit {}); see {}",
                                            rc, log_path));
  }
  TC_ASSIGN_OR_RETURN(rc, RunToCompletion({"swtpm_ioctl", "-s", "--unix", ctrl_path}, log_path,
                                          std::chrono::seconds(30)));
  if (rc != 0) {
    return Fail(ErrorCode::kIo,
                fmt::format("swtpm_ioctl -s (stop) failed (exit {}); see {}", rc, log_path));
  }
  return {};
}

}  // namespace tc::vm
