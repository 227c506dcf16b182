#include "tc/tpm/esys/internal/libtpms_tcti.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <system_error>

#include <libtpms/tpm_error.h>
#include <libtpms/tpm_library.h>
#include <libtpms/tpm_nvfilename.h>
#include <tss2/tss2_tpm2_types.h>

#include "tc/base/byte_reader.h"

namespace tc::tpm::internal {
namespace {

// "tc-lbtpm": tells our contexts from other TCTIs'.
constexpr std::uint64_t kMagic = 0x74632d6c6274706dULL;
// libtpms' permall is ~100 KiB; anything far beyond is not ours.
constexpr std::size_t kMaxStateFileSize = 16u << 20;
constexpr std::size_t kHeaderSize = 10;  // tag, size, code (Part 1, 18.3)
constexpr std::uint8_t kMaxLocality = 4;

// The open embedded TPM. libtpms keeps its TPM in globals and calls back
// through plain function pointers, so this is a global too, guarded by
// g_mutex for open and close; while open, only the TCTI's single caller
// touches it.
struct Embedded {
  std::string dir;
  int lock_fd = -1;
  std::uint8_t locality = 0;
  unsigned char* response = nullptr;  // realloc'ed by libtpms, reused
  std::uint32_t response_capacity = 0;
};

std::mutex g_mutex;
Embedded* g_embedded = nullptr;  // non-null while open

// ---- NVRAM callbacks: one file per libtpms state name in the directory.

std::string StatePath(const char* name) {
  return g_embedded->dir + "/" + name;
}

bool WriteAll(int fd, const unsigned char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

TPM_RESULT NvramInit() { return TPM_SUCCESS; }

// TPM_RETRY tells libtpms the state does not exist (yet): it manufactures.
TPM_RESULT NvramLoad(unsigned char** data, std::uint32_t* length,
                     std::uint32_t /*tpm_number*/, const char* name) {
  *data = nullptr;
  *length = 0;
  if (g_embedded == nullptr) return TPM_FAIL;
  const std::string path = StatePath(name);
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? TPM_RETRY : TPM_FAIL;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < 0 ||
      static_cast<std::uint64_t>(st.st_size) > kMaxStateFileSize) {
    ::close(fd);
    return TPM_FAIL;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  // libtpms releases this buffer with free().
  auto* buf = static_cast<unsigned char*>(std::malloc(size == 0 ? 1 : size));
  if (buf == nullptr) {
    ::close(fd);
    return TPM_FAIL;
  }
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, buf + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got != size) {
    std::free(buf);
    return TPM_FAIL;
  }
  *data = buf;
  *length = static_cast<std::uint32_t>(size);
  return TPM_SUCCESS;
}

// Write to NAME.tmp, fsync, rename over NAME, fsync the directory: the
// state file is always either the old or the new state.
TPM_RESULT NvramStore(const unsigned char* data, std::uint32_t length,
                      std::uint32_t /*tpm_number*/, const char* name) {
  if (g_embedded == nullptr) return TPM_FAIL;
  const std::string path = StatePath(name);
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());  // a stale one, or something planted: never followed
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return TPM_FAIL;
  const bool ok = WriteAll(fd, data, length) && ::fsync(fd) == 0;
  if (::close(fd) != 0 || !ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return TPM_FAIL;
  }
  const int dir_fd =
      ::open(g_embedded->dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return TPM_SUCCESS;
}

TPM_RESULT NvramDelete(std::uint32_t /*tpm_number*/, const char* name,
                       TPM_BOOL must_exist) {
  if (g_embedded == nullptr) return TPM_FAIL;
  const std::string path = StatePath(name);
  if (::unlink(path.c_str()) != 0 && (errno != ENOENT || must_exist)) {
    return TPM_FAIL;
  }
  return TPM_SUCCESS;
}

TPM_RESULT IoInit() { return TPM_SUCCESS; }

TPM_RESULT IoGetLocality(TPM_MODIFIER_INDICATOR* locality,
                         std::uint32_t /*tpm_number*/) {
  *locality = g_embedded != nullptr ? g_embedded->locality : 0;
  return TPM_SUCCESS;
}

TPM_RESULT IoGetPhysicalPresence(TPM_BOOL* physical_presence,
                                 std::uint32_t /*tpm_number*/) {
  *physical_presence = FALSE;
  return TPM_SUCCESS;
}

libtpms_callbacks g_callbacks = {
    sizeof(libtpms_callbacks), &NvramInit,     &NvramLoad,
    &NvramStore,               &NvramDelete,   &IoInit,
    &IoGetLocality,            &IoGetPhysicalPresence,
};

// Runs one command; the response is in g_embedded->response.
Result<std::span<const std::uint8_t>> Process(
    std::span<const std::uint8_t> command) {
  // TPMLIB_Process takes a non-const buffer; hand it a copy.
  std::array<unsigned char, kLibtpmsBufferMax> copy{};
  std::copy(command.begin(), command.end(), copy.begin());
  std::uint32_t size = 0;
  const TPM_RESULT rc = TPMLIB_Process(
      &g_embedded->response, &size, &g_embedded->response_capacity,
      copy.data(), static_cast<std::uint32_t>(command.size()));
  if (rc != TPM_SUCCESS || g_embedded->response == nullptr ||
      size < kHeaderSize || size > kLibtpmsBufferMax ||
      size > g_embedded->response_capacity) {
    return Fail(ErrorCode::kTpm,
                "libtpms: TPMLIB_Process failed (rc " + std::to_string(rc) + ")");
  }
  return std::span<const std::uint8_t>(g_embedded->response, size);
}

Result<std::uint32_t> ResponseCode(std::span<const std::uint8_t> response) {
  ByteReader in(response);
  TC_RETURN_IF_ERROR(in.Skip(6));  // tag, size
  return in.U32Be();
}

// Ends the open TPM. Requires g_mutex held and g_embedded set.
void CloseLocked(bool orderly) {
  if (orderly) (void)Process(kShutdownClearCommand);
  TPMLIB_Terminate();
  std::free(g_embedded->response);
  if (g_embedded->lock_fd >= 0) ::close(g_embedded->lock_fd);  // drops flock
  delete g_embedded;
  g_embedded = nullptr;
}

// ---- The TCTI.

struct LibtpmsTcti {
  TSS2_TCTI_CONTEXT_COMMON_V2 common;
  bool response_pending;
  std::uint32_t response_size;
};

LibtpmsTcti* Cast(TSS2_TCTI_CONTEXT* ctx) {
  auto* t = reinterpret_cast<LibtpmsTcti*>(ctx);
  if (t == nullptr || t->common.v1.magic != kMagic) return nullptr;
  return t;
}

TSS2_RC CheckContext(TSS2_TCTI_CONTEXT* ctx) {
  if (ctx == nullptr) return TSS2_TCTI_RC_BAD_REFERENCE;
  if (Cast(ctx) == nullptr || g_embedded == nullptr) {
    return TSS2_TCTI_RC_BAD_CONTEXT;
  }
  return TSS2_RC_SUCCESS;
}

TSS2_RC Transmit(TSS2_TCTI_CONTEXT* ctx, size_t size,
                 const std::uint8_t* command) {
  if (const TSS2_RC rc = CheckContext(ctx); rc != TSS2_RC_SUCCESS) return rc;
  LibtpmsTcti* t = Cast(ctx);
  if (command == nullptr) return TSS2_TCTI_RC_BAD_REFERENCE;
  if (t->response_pending) return TSS2_TCTI_RC_BAD_SEQUENCE;
  if (size < kHeaderSize || size > kLibtpmsBufferMax) {
    return TSS2_TCTI_RC_BAD_VALUE;
  }
  const std::span<const std::uint8_t> cmd(command, size);
  ByteReader in(cmd);
  auto header_size = in.Skip(2).and_then([&] { return in.U32Be(); });
  if (!header_size.has_value() || *header_size != size) {
    return TSS2_TCTI_RC_BAD_VALUE;
  }
  auto response = Process(cmd);
  if (!response.has_value()) return TSS2_TCTI_RC_IO_ERROR;
  t->response_size = static_cast<std::uint32_t>(response->size());
  t->response_pending = true;
  return TSS2_RC_SUCCESS;
}

TSS2_RC Receive(TSS2_TCTI_CONTEXT* ctx, size_t* size, std::uint8_t* response,
                std::int32_t timeout) {
  if (const TSS2_RC rc = CheckContext(ctx); rc != TSS2_RC_SUCCESS) return rc;
  LibtpmsTcti* t = Cast(ctx);
  if (size == nullptr) return TSS2_TCTI_RC_BAD_REFERENCE;
  if (timeout < TSS2_TCTI_TIMEOUT_BLOCK) return TSS2_TCTI_RC_BAD_VALUE;
  if (!t->response_pending) return TSS2_TCTI_RC_BAD_SEQUENCE;
  // The command ran in Transmit: the response is ready for any timeout.
  if (response == nullptr) {
    *size = t->response_size;
    return TSS2_RC_SUCCESS;
  }
  if (*size < t->response_size) {
    *size = t->response_size;
    return TSS2_TCTI_RC_INSUFFICIENT_BUFFER;
  }
  std::copy_n(g_embedded->response, t->response_size, response);
  *size = t->response_size;
  t->response_pending = false;
  return TSS2_RC_SUCCESS;
}

void Finalize(TSS2_TCTI_CONTEXT* ctx) {
  LibtpmsTcti* t = Cast(ctx);
  if (t == nullptr) return;
  t->common.v1.magic = 0;
  const std::lock_guard<std::mutex> lock(g_mutex);
  if (g_embedded != nullptr) CloseLocked(/*orderly=*/true);
}

TSS2_RC Cancel(TSS2_TCTI_CONTEXT* ctx) {
  if (const TSS2_RC rc = CheckContext(ctx); rc != TSS2_RC_SUCCESS) return rc;
  return TSS2_TCTI_RC_NOT_IMPLEMENTED;
}

TSS2_RC GetPollHandles(TSS2_TCTI_CONTEXT* ctx, TSS2_TCTI_POLL_HANDLE*,
                       size_t*) {
  if (const TSS2_RC rc = CheckContext(ctx); rc != TSS2_RC_SUCCESS) return rc;
  return TSS2_TCTI_RC_NOT_IMPLEMENTED;
}

TSS2_RC SetLocality(TSS2_TCTI_CONTEXT* ctx, std::uint8_t locality) {
  if (const TSS2_RC rc = CheckContext(ctx); rc != TSS2_RC_SUCCESS) return rc;
  if (Cast(ctx)->response_pending) return TSS2_TCTI_RC_BAD_SEQUENCE;
  if (locality > kMaxLocality) return TSS2_TCTI_RC_BAD_VALUE;
  g_embedded->locality = locality;
  return TSS2_RC_SUCCESS;
}

TSS2_RC MakeSticky(TSS2_TCTI_CONTEXT* ctx, TPM2_HANDLE*, std::uint8_t) {
  if (const TSS2_RC rc = CheckContext(ctx); rc != TSS2_RC_SUCCESS) return rc;
  return TSS2_TCTI_RC_NOT_IMPLEMENTED;
}

// Creates dir (and parents) if missing; the last component gets mode 0700.
Result<std::string> PrepareDirectory(const std::string& dir) {
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(dir, ec);
  if (ec) return Fail(ErrorCode::kIo, dir + ": " + ec.message());
  if (!std::filesystem::exists(abs, ec)) {
    if (abs.has_parent_path()) {
      std::filesystem::create_directories(abs.parent_path(), ec);
      if (ec) return Fail(ErrorCode::kIo, abs.parent_path().string() + ": " + ec.message());
    }
    if (::mkdir(abs.c_str(), 0700) != 0 && errno != EEXIST) {
      return Fail(ErrorCode::kIo, abs.string() + ": " + std::strerror(errno));
    }
  }
  if (!std::filesystem::is_directory(abs, ec)) {
    return Fail(ErrorCode::kIo, abs.string() + ": not a directory");
  }
  // The state holds the TPM's seeds (and so its EK, SRK and every sealed
  // secret): a directory someone else owns or may write is refused.
  struct stat st {};
  if (::lstat(abs.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() ||
      (st.st_mode & 022) != 0) {
    return Fail(ErrorCode::kInvalidArgument,
                abs.string() +
                    ": the embedded TPM's state directory must be a directory owned by this "
                    "user and writable by no one else (chmod 700)");
  }
  return abs.lexically_normal().string();
}

}  // namespace

Result<TctiPtr> OpenLibtpmsTcti(const std::string& state_dir) {
  TC_RETURN_IF_ERROR(LoadTss());
  if (state_dir.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "embedded TPM: empty state directory");
  }
  const std::lock_guard<std::mutex> lock(g_mutex);
  if (g_embedded != nullptr) {
    return Fail(ErrorCode::kTpm,
                "embedded TPM: one is already open in this process (" +
                    g_embedded->dir +
                    "); libtpms allows one at a time, close it first");
  }
  TC_ASSIGN_OR_RETURN(const std::string dir, PrepareDirectory(state_dir));

  const std::string lock_path = dir + "/.lock";
  const int lock_fd =
      ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock_fd < 0) {
    return Fail(ErrorCode::kIo, lock_path + ": " + std::strerror(errno));
  }
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(lock_fd);
    if (err == EWOULDBLOCK) {
      return Fail(ErrorCode::kTpm, "embedded TPM: state directory " + dir +
                                       " is in use by another process");
    }
    return Fail(ErrorCode::kIo, lock_path + ": " + std::strerror(err));
  }

  g_embedded = new Embedded{dir, lock_fd, 0, nullptr, 0};
  if (TPMLIB_ChooseTPMVersion(TPMLIB_TPM_VERSION_2) != TPM_SUCCESS ||
      TPMLIB_RegisterCallbacks(&g_callbacks) != TPM_SUCCESS) {
    // Nothing of libtpms is running yet: undo by hand.
    ::close(lock_fd);
    delete g_embedded;
    g_embedded = nullptr;
    return Fail(ErrorCode::kTpm, "libtpms: cannot select TPM 2.0 or register callbacks");
  }
  if (const TPM_RESULT rc = TPMLIB_MainInit(); rc != TPM_SUCCESS) {
    CloseLocked(/*orderly=*/false);
    return Fail(ErrorCode::kTpm, "libtpms: TPMLIB_MainInit failed (rc " +
                                     std::to_string(rc) + ") for state in " + dir);
  }
  // A restored volatile state is used once: the next open is a power cycle.
  (void)NvramDelete(0, TPM_VOLATILESTATE_NAME, FALSE);

  auto response = Process(kStartupClearCommand);
  if (!response.has_value()) {
    CloseLocked(/*orderly=*/false);
    return Fail(std::move(response).error());
  }
  auto rc = ResponseCode(*response);
  if (!rc.has_value() ||
      (*rc != TPM2_RC_SUCCESS && *rc != TPM2_RC_INITIALIZE)) {
    CloseLocked(/*orderly=*/false);
    return Fail(ErrorCode::kTpm,
                "embedded TPM: TPM2_Startup failed: " +
                    (rc.has_value() ? std::string(internal::Tss().Tss2_RC_Decode(*rc))
                                    : rc.error().message()));
  }

  auto* t = static_cast<LibtpmsTcti*>(std::calloc(1, sizeof(LibtpmsTcti)));
  if (t == nullptr) {
    CloseLocked(/*orderly=*/true);
    return Fail(ErrorCode::kInternal, "out of memory");
  }
  t->common.v1.magic = kMagic;
  t->common.v1.version = 2;
  t->common.v1.transmit = &Transmit;
  t->common.v1.receive = &Receive;
  t->common.v1.finalize = &Finalize;
  t->common.v1.cancel = &Cancel;
  t->common.v1.getPollHandles = &GetPollHandles;
  t->common.v1.setLocality = &SetLocality;
  t->common.makeSticky = &MakeSticky;
  t->response_pending = false;
  t->response_size = 0;
  return TctiPtr(reinterpret_cast<TSS2_TCTI_CONTEXT*>(t));
}

}  // namespace tc::tpm::internal
