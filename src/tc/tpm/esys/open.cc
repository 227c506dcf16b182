#include "tc/tpm/esys/open.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <tss2/tss2_tcti_device.h>
#include <tss2/tss2_tcti_mssim.h>
#include <tss2/tss2_tcti_swtpm.h>

#include "tc/base/byte_reader.h"
#include "tc/tpm/esys/esys_tpm.h"
#include "tc/tpm/esys/internal/esys.h"
#include "tc/tpm/esys/internal/libtpms_tcti.h"

namespace tc::tpm {
namespace {

using internal::TctiPtr;
using internal::TssError;

constexpr std::string_view kAcceptedForms =
    "expected device:PATH, swtpm:host=HOST,port=PORT, mssim:host=HOST,port=PORT "
    "or embedded:DIR";
constexpr std::string_view kDefaultDevice = "/dev/tpmrm0";
constexpr std::string_view kDefaultHost = "127.0.0.1";
constexpr std::uint16_t kDefaultPort = 2321;
constexpr std::size_t kMaxHostLength = 255;
constexpr std::size_t kMaxPollHandles = 8;
constexpr std::size_t kMaxResponseSize = 4096;

tl::unexpected<Error> BadSpec(std::string_view spec, std::string_view why) {
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("TPM spec '{}': {}; {}", spec, why, kAcceptedForms));
}

struct NetConf {
  std::string host{kDefaultHost};
  std::uint16_t port = kDefaultPort;
  std::string TctiConf() const { return fmt::format("host={},port={}", host, port); }
};

// "host=H,port=P" in any order, either optional. The control (swtpm) or
// platform (mssim) channel is on PORT+1, so PORT stops at 65534.
Result<NetConf> ParseNetConf(std::string_view spec, std::string_view rest) {
  NetConf conf;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) return BadSpec(spec, fmt::format("'{}' is not key=value", item));
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (key == "host") {
      const bool ok = !value.empty() && value.size() <= kMaxHostLength &&
                      value.find_first_not_of(
                          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:_") ==
                          std::string_view::npos;
      if (!ok) return BadSpec(spec, fmt::format("bad host '{}'", value));
      conf.host = std::string(value);
    } else if (key == "port") {
      unsigned port = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
      if (ec != std::errc() || end != value.data() + value.size() || port == 0 || port > 65534) {
        return BadSpec(spec, fmt::format("bad port '{}' (1..65534)", value));
      }
      conf.port = static_cast<std::uint16_t>(port);
    } else {
      return BadSpec(spec, fmt::format("unknown key '{}' (host, port)", key));
    }
  }
  return conf;
}

// The two-call TCTI initialization (TCTI spec: first call gets the size).
Result<TctiPtr> InitTcti(TSS2_TCTI_INIT_FUNC init, std::string_view name,
                         const std::string& conf) {
  std::size_t size = 0;
  TSS2_RC rc = init(nullptr, &size, conf.c_str());
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, name));
  void* mem = std::calloc(1, size);
  if (mem == nullptr) return Fail(ErrorCode::kInternal, "out of memory");
  auto* tcti = static_cast<TSS2_TCTI_CONTEXT*>(mem);
  rc = init(tcti, &size, conf.c_str());
  if (rc != TSS2_RC_SUCCESS) {
    // A failed init cleans up after itself; do not finalize.
    std::free(mem);
    return Fail(TssError(rc, name));
  }
  return TctiPtr(tcti);
}

// Bounds blocking socket reads and writes of TCTIs that expose their
// sockets (mssim). The swtpm TCTI does not (it connects per command); a
// dead swtpm closes or refuses the connection, which fails at once.
void SetSocketTimeouts(TSS2_TCTI_CONTEXT* tcti) {
  std::size_t n = 0;
  if (Tss2_Tcti_GetPollHandles(tcti, nullptr, &n) != TSS2_RC_SUCCESS || n == 0 ||
      n > kMaxPollHandles) {
    return;
  }
  std::array<TSS2_TCTI_POLL_HANDLE, kMaxPollHandles> handles{};
  if (Tss2_Tcti_GetPollHandles(tcti, handles.data(), &n) != TSS2_RC_SUCCESS) return;
  const timeval tv{kNetworkTpmTimeoutSeconds, 0};
  for (std::size_t i = 0; i < n && i < kMaxPollHandles; ++i) {
    int type = 0;
    socklen_t len = sizeof(type);
    if (::getsockopt(handles[i].fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) continue;
    ::setsockopt(handles[i].fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(handles[i].fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
}

// TPM2_Startup(CLEAR) straight through the TCTI, so that a simulator that
// was started without it works, and an already started one (which answers
// TPM_RC_INITIALIZE) is not an error; ESYS would log that as an error.
Result<void> StartupClear(TSS2_TCTI_CONTEXT* tcti) {
  const auto& cmd = internal::kStartupClearCommand;
  TSS2_RC rc = Tss2_Tcti_Transmit(tcti, cmd.size(), cmd.data());
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "TPM2_Startup"));
  std::array<std::uint8_t, kMaxResponseSize> response{};
  std::size_t size = response.size();
  rc = Tss2_Tcti_Receive(tcti, &size, response.data(), TSS2_TCTI_TIMEOUT_BLOCK);
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "TPM2_Startup"));
  ByteReader in(std::span<const std::uint8_t>(response.data(), std::min(size, response.size())));
  TC_RETURN_IF_ERROR(in.Skip(6));  // tag, size (Part 1, 18.3)
  TC_ASSIGN_OR_RETURN(const std::uint32_t code, in.U32Be());
  if (code != TPM2_RC_SUCCESS && code != TPM2_RC_INITIALIZE) {
    return Fail(TssError(code, "TPM2_Startup"));
  }
  return {};
}

Result<std::unique_ptr<Tpm>> MakeEsysTpm(TctiPtr tcti, std::string transport) {
  ESYS_CONTEXT* raw = nullptr;
  const TSS2_RC rc = internal::Tss().Esys_Initialize(&raw, tcti.get(), nullptr);
  if (rc != TSS2_RC_SUCCESS) return Fail(TssError(rc, "Esys_Initialize"));
  auto connection = std::make_unique<internal::EsysConnection>();
  connection->ctx.reset(raw);
  (void)tcti.release();  // now owned through connection->ctx
  return std::unique_ptr<Tpm>(std::make_unique<EsysTpm>(std::move(connection), std::move(transport)));
}

Result<std::unique_ptr<Tpm>> OpenNetwork(std::string_view spec, std::string_view kind,
                                         std::string_view rest) {
  TC_ASSIGN_OR_RETURN(const NetConf conf, ParseNetConf(spec, rest));
  const std::string transport = fmt::format("{}:{}", kind, conf.TctiConf());
  const bool swtpm = kind == "swtpm";
  const internal::TssApi& tss = internal::Tss();
  auto tcti = InitTcti(swtpm ? tss.Tss2_Tcti_Swtpm_Init : tss.Tss2_Tcti_Mssim_Init,
                       swtpm ? "Tss2_Tcti_Swtpm_Init" : "Tss2_Tcti_Mssim_Init", conf.TctiConf());
  if (!tcti) return Fail(std::move(tcti).error().Wrap(transport));
  SetSocketTimeouts(tcti->get());
  if (auto started = StartupClear(tcti->get()); !started) {
    return Fail(std::move(started).error().Wrap(transport));
  }
  return MakeEsysTpm(std::move(*tcti), transport);
}

}  // namespace

Result<std::unique_ptr<Tpm>> OpenTpm(std::string_view spec) {
  TC_RETURN_IF_ERROR(internal::LoadTss());
  const std::size_t colon = spec.find(':');
  if (colon == std::string_view::npos) return BadSpec(spec, "no kind");
  const std::string_view kind = spec.substr(0, colon);
  const std::string_view rest = spec.substr(colon + 1);

  if (kind == "device") {
    const std::string path(rest.empty() ? kDefaultDevice : rest);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      const int err = errno;
      return Fail(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                  fmt::format("TPM device {}: {}", path, std::strerror(err)));
    }
    const std::string transport = "device:" + path;
    auto tcti = InitTcti(internal::Tss().Tss2_Tcti_Device_Init, "Tss2_Tcti_Device_Init", path);
    if (!tcti) return Fail(std::move(tcti).error().Wrap(transport));
    return MakeEsysTpm(std::move(*tcti), transport);
  }
  if (kind == "swtpm" || kind == "mssim") return OpenNetwork(spec, kind, rest);
  if (kind == "embedded") {
    if (rest.empty()) return BadSpec(spec, "no state directory");
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::absolute(std::string(rest), ec);
    if (ec) return Fail(ErrorCode::kIo, fmt::format("{}: {}", rest, ec.message()));
    dir = dir.lexically_normal();
    TC_ASSIGN_OR_RETURN(TctiPtr tcti, internal::OpenLibtpmsTcti(dir.string()));
    return MakeEsysTpm(std::move(tcti), "embedded:" + dir.string());
  }
  return BadSpec(spec, fmt::format("unknown kind '{}'", kind));
}

std::string DefaultTpmSpec() {
  if (const char* env = std::getenv("TRUSTCHAIN_TPM"); env != nullptr && *env != '\0') {
    return env;
  }
  const std::string device(kDefaultDevice);
  if (::access(device.c_str(), F_OK) == 0) return "device:" + device;
  // XDG Base Directory spec: relative values are ignored.
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return fmt::format("embedded:{}/trustchain/tpm", xdg);
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return fmt::format("embedded:{}/.local/state/trustchain/tpm", home);
  }
  return "embedded:.trustchain-tpm";
}

}  // namespace tc::tpm
