#include "tc/measure/file_measure.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <numeric>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

#include "tc/pe/authenticode.h"

namespace tc::measure {
namespace {

// Large reads: fewer system calls per byte; 1 MiB is where read(2) from the
// page cache stops getting faster.
constexpr std::size_t kChunk = std::size_t{1} << 20;
// A thread's PE image buffer above this size is freed after use, so that one
// large image does not pin its memory for the rest of the tree.
constexpr std::size_t kKeepImageBuffer = std::size_t{64} << 20;

std::string Errno(const std::string& path, int err) {
  return fmt::format("{}: {}", path, std::strerror(err));
}

const char* FileKind(mode_t mode) {
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISCHR(mode)) return "character device";
  if (S_ISBLK(mode)) return "block device";
  if (S_ISDIR(mode)) return "directory";
  if (S_ISLNK(mode)) return "symlink";
  return "unknown file type";
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// One hashing thread's reusable state.
struct Scratch {
  explicit Scratch(crypto::Hasher h) : hasher(std::move(h)) {}
  std::unique_ptr<std::uint8_t[]> buf = std::make_unique_for_overwrite<std::uint8_t[]>(kChunk);
  Bytes image;  // a whole PE candidate; its size() is capacity, not length
  crypto::Hasher hasher;
};

[[nodiscard]] Result<Scratch> NewScratch() {
  TC_ASSIGN_OR_RETURN(crypto::Hasher h, crypto::Hasher::Create(crypto::HashAlg::kSha256));
  return Scratch(std::move(h));
}

// Reads until `out` is full or the end of the file; returns the bytes read.
[[nodiscard]] Result<std::size_t> ReadFull(int fd, std::uint8_t* out, std::size_t n,
                                           const std::string& path) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = ::read(fd, out + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0)
      return Fail(ErrorCode::kIo, fmt::format("{}: read error: {}", path, std::strerror(errno)));
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  return done;
}

// MeasureOne without resetting the hasher on failure.
[[nodiscard]] Result<FileMeasurement> MeasureOneUnguarded(const std::string& path,
                                                          bool authenticode, bool follow,
                                                          Scratch& s,
                                                          std::atomic<std::uint64_t>* bytes_done) {
  // O_NONBLOCK: a regular file swapped for a fifo after the walk must not
  // block the open; fstat below then rejects it.
  const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW);
  Fd fd(::open(path.c_str(), flags));
  if (fd.get() < 0) {
    const int err = errno;
    if (err == ELOOP && !follow) {
      return Fail(ErrorCode::kInvalidArgument, path + ": symlink not followed");
    }
    return Fail(err == ENOENT || err == ENOTDIR ? ErrorCode::kNotFound : ErrorCode::kIo,
                Errno(path, err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Fail(ErrorCode::kIo, Errno(path, errno));
  if (!S_ISREG(st.st_mode)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: not a regular file ({})", path, FileKind(st.st_mode)));
  }
  if (static_cast<std::uint64_t>(st.st_size) > kChunk) {
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  auto add_progress = [&](std::size_t n) {
    if (bytes_done != nullptr) bytes_done->fetch_add(n, std::memory_order_relaxed);
  };

  FileMeasurement m;
  m.path = path;
  TC_ASSIGN_OR_RETURN(std::size_t n, ReadFull(fd.get(), s.buf.get(), kChunk, path));
  add_progress(n);
  std::uint64_t total = n;
  const bool mz = n >= 2 && s.buf[0] == 'M' && s.buf[1] == 'Z';
  const std::string too_large =
      fmt::format("larger than pe::kMaxImageSize ({} bytes): not parsed as PE", pe::kMaxImageSize);

  // A PE candidate is read whole (Authenticode needs random access), from
  // this same descriptor, so both digests describe the same bytes. Reading
  // rather than mmap: a file truncated by someone else while mapped would
  // kill us with SIGBUS.
  bool collect = authenticode && mz;
  if (collect && static_cast<std::uint64_t>(st.st_size) > pe::kMaxImageSize) {
    collect = false;
    m.note = too_large;
  }
  if (collect) {
    std::size_t len = n;
    // One allocation for the size fstat gave (at most kMaxImageSize + kChunk).
    const std::size_t want = static_cast<std::size_t>(st.st_size) + kChunk;
    if (s.image.size() < want) s.image.resize(want);
    std::copy(s.buf.get(), s.buf.get() + n, s.image.begin());
    bool more = n == kChunk;
    while (more && len <= pe::kMaxImageSize) {
      if (s.image.size() < len + kChunk) {  // it grew after fstat
        s.image.resize(
            std::min(std::max(s.image.size() * 2, len + kChunk), pe::kMaxImageSize + 1 + kChunk));
      }
      TC_ASSIGN_OR_RETURN(n, ReadFull(fd.get(), s.image.data() + len, kChunk, path));
      add_progress(n);
      len += n;
      more = n == kChunk;
    }
    const std::span<const std::uint8_t> image(s.image.data(), len);
    s.hasher.Update(image);
    total = len;
    if (len > pe::kMaxImageSize) {
      // It grew past the cap after fstat: hash the rest plainly.
      m.note = too_large;
    } else {
      auto ac = pe::AuthenticodeHash(image, crypto::HashAlg::kSha256);
      if (ac.has_value()) {
        m.authenticode = *ac;
      } else {
        m.note = "not a valid PE image: " + ac.error().message();
      }
    }
    if (s.image.size() > kKeepImageBuffer) Bytes().swap(s.image);
    // Here n < kChunk (the end of the file) unless the image outgrew the cap.
  } else {
    s.hasher.Update({s.buf.get(), n});
  }
  // Plain streaming for the rest (n == kChunk means there may be more).
  while (n == kChunk) {
    TC_ASSIGN_OR_RETURN(n, ReadFull(fd.get(), s.buf.get(), kChunk, path));
    add_progress(n);
    s.hasher.Update({s.buf.get(), n});
    total += n;
  }
  m.size = total;
  m.sha256 = s.hasher.Final();
  return m;
}

// Measures the file at `path`. bytes_done, when not null, grows as chunks
// are read (for progress).
[[nodiscard]] Result<FileMeasurement> MeasureOne(const std::string& path, bool authenticode,
                                                 bool follow, Scratch& s,
                                                 std::atomic<std::uint64_t>* bytes_done) {
  auto m = MeasureOneUnguarded(path, authenticode, follow, s, bytes_done);
  // A read error can strike after some bytes were hashed: start the next
  // file from a clean state.
  if (!m.has_value()) s.hasher.Final();
  return m;
}

struct Entry {
  std::string path;
  std::uint64_t size = 0;
  bool follow = false;  // open through a symlink (a root, or follow_symlinks)
};

// Lists regular files under the roots, one directory open at a time (deep
// trees cannot exhaust descriptors).
class Walker {
 public:
  explicit Walker(const MeasureOptions& options) : options_(options) {}

  [[nodiscard]] Result<void> Root(std::string root) {
    // "dir/" and "dir" name the same files: no "dir//x" paths.
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0) {
      const int err = errno;
      return Fail(err == ENOENT || err == ENOTDIR ? ErrorCode::kNotFound : ErrorCode::kIo,
                  Errno(root, err));
    }
    if (S_ISREG(st.st_mode)) {
      return AddFile(root, st, /*follow=*/true);
    }
    if (!S_ISDIR(st.st_mode)) {
      return AddSkipped(fmt::format("{}: not a regular file ({})", root, FileKind(st.st_mode)));
    }
    if (!visited_.insert({st.st_dev, st.st_ino}).second) return {};  // overlapping roots
    stack_.push_back(root);
    bool is_root = true;
    while (!stack_.empty()) {
      std::string dir = std::move(stack_.back());
      stack_.pop_back();
      TC_RETURN_IF_ERROR(Directory(dir, is_root));
      is_root = false;
    }
    return {};
  }

  std::vector<Entry>& files() { return files_; }
  std::vector<std::string>& skipped() { return skipped_; }

 private:
  [[nodiscard]] Result<void> CheckCap() const {
    if (files_.size() + skipped_.size() > options_.max_files) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("more than {} entries under the roots (MeasureOptions::max_files)",
                              options_.max_files));
    }
    return {};
  }
  [[nodiscard]] Result<void> AddFile(const std::string& path, const struct stat& st, bool follow) {
    files_.push_back({path, static_cast<std::uint64_t>(st.st_size), follow});
    return CheckCap();
  }
  [[nodiscard]] Result<void> AddSkipped(std::string why) {
    skipped_.push_back(std::move(why));
    return CheckCap();
  }

  // Lists `dir`, queueing its subdirectories. Failing to open a root is an
  // error; failing to open a subdirectory is a skipped entry.
  [[nodiscard]] Result<void> Directory(const std::string& dir, bool is_root) {
    const bool nofollow = !is_root && !options_.follow_symlinks;
    const int fd = ::open(
        dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) {
      const int err = errno;
      if (is_root) return Fail(ErrorCode::kIo, Errno(dir, err));
      return AddSkipped(Errno(dir, err));
    }
    DIR* d = ::fdopendir(fd);
    if (d == nullptr) {
      const int err = errno;
      ::close(fd);
      if (is_root) return Fail(ErrorCode::kIo, Errno(dir, err));
      return AddSkipped(Errno(dir, err));
    }
    std::unique_ptr<DIR, int (*)(DIR*)> closer(d, ::closedir);
    const std::string prefix = dir == "/" ? dir : dir + "/";
    const int stat_flags = options_.follow_symlinks ? 0 : AT_SYMLINK_NOFOLLOW;
    while (true) {
      errno = 0;
      const dirent* e = ::readdir(d);
      if (e == nullptr) {
        if (errno != 0) TC_RETURN_IF_ERROR(AddSkipped(Errno(dir, errno)));
        break;
      }
      const std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string path = prefix + e->d_name;
      struct stat st {};
      if (::fstatat(fd, e->d_name, &st, stat_flags) != 0) {
        TC_RETURN_IF_ERROR(AddSkipped(Errno(path, errno)));
        continue;
      }
      if (S_ISREG(st.st_mode)) {
        TC_RETURN_IF_ERROR(AddFile(path, st, options_.follow_symlinks));
      } else if (S_ISDIR(st.st_mode)) {
        // Bind mounts and (when following) symlinks can reach a directory
        // twice, or loop.
        if (visited_.insert({st.st_dev, st.st_ino}).second) {
          stack_.push_back(std::move(path));
        } else {
          TC_RETURN_IF_ERROR(AddSkipped(path + ": directory already visited"));
        }
      } else if (S_ISLNK(st.st_mode)) {
        TC_RETURN_IF_ERROR(AddSkipped(path + ": symlink not followed"));
      } else {
        TC_RETURN_IF_ERROR(
            AddSkipped(fmt::format("{}: not a regular file ({})", path, FileKind(st.st_mode))));
      }
    }
    return {};
  }

  const MeasureOptions& options_;
  std::vector<Entry> files_;
  std::vector<std::string> skipped_;
  std::vector<std::string> stack_;
  std::set<std::pair<dev_t, ino_t>> visited_;
};

unsigned ThreadCount(unsigned requested, std::size_t files) {
  unsigned n = requested != 0 ? requested : std::thread::hardware_concurrency();
  n = std::max(n, 1u);
  n = std::min<unsigned>(n, 256);
  return static_cast<unsigned>(std::min<std::size_t>(n, std::max<std::size_t>(files, 1)));
}

}  // namespace

Result<FileMeasurement> MeasureFile(const std::string& path, bool authenticode) {
  TC_ASSIGN_OR_RETURN(Scratch s, NewScratch());
  return MeasureOne(path, authenticode, /*follow=*/true, s, nullptr);
}

Result<TreeMeasurement> MeasureTree(std::span<const std::string> roots,
                                    const MeasureOptions& options) {
  if (roots.empty()) return Fail(ErrorCode::kInvalidArgument, "no files or directories to measure");

  // 1. The list, so that progress knows the totals.
  Walker walker(options);
  for (const std::string& root : roots) TC_RETURN_IF_ERROR(walker.Root(root));
  std::vector<Entry>& entries = walker.files();
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.path < b.path; });
  entries.erase(std::unique(entries.begin(), entries.end(),
                            [](const Entry& a, const Entry& b) { return a.path == b.path; }),
                entries.end());
  const std::size_t n = entries.size();
  std::uint64_t bytes_total = 0;
  for (const Entry& e : entries) bytes_total += e.size;

  // 2. Hash, largest first: a big file started last would leave the other
  // threads idle while it finishes.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return entries[a].size > entries[b].size; });
  const unsigned thread_count = ThreadCount(options.threads, n);
  std::vector<Scratch> scratch;
  scratch.reserve(thread_count);
  for (unsigned i = 0; i < thread_count; ++i) {
    TC_ASSIGN_OR_RETURN(Scratch s, NewScratch());
    scratch.push_back(std::move(s));
  }

  // Slot k (of both) is written by the one worker that took k, and read
  // after join(). Measurements are built in place and compacted at the end:
  // no second copy of a list that can hold millions of files.
  std::vector<FileMeasurement> files(n);
  std::vector<std::string> errors(n);  // non-empty: file k is skipped
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> files_done{0};
  std::atomic<std::uint64_t> bytes_done{0};
  std::mutex mu;
  std::condition_variable cv;
  unsigned finished = 0;  // guarded by mu

  auto work = [&](Scratch& s) {
    for (std::size_t i = next.fetch_add(1, std::memory_order_relaxed); i < n;
         i = next.fetch_add(1, std::memory_order_relaxed)) {
      const std::size_t k = order[i];
      auto m = MeasureOne(entries[k].path, options.authenticode, entries[k].follow, s, &bytes_done);
      if (m.has_value()) {
        files[k] = std::move(m).value();
      } else {
        errors[k] = m.error().message();
      }
      files_done.fetch_add(1, std::memory_order_relaxed);
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      ++finished;
    }
    cv.notify_one();
  };

  std::vector<std::thread> threads;
  threads.reserve(thread_count);
  for (unsigned i = 0; i < thread_count; ++i) {
    try {
      threads.emplace_back(work, std::ref(scratch[i]));
    } catch (const std::system_error& e) {
      if (threads.empty()) {
        return Fail(ErrorCode::kIo, fmt::format("cannot start a hashing thread: {}", e.what()));
      }
      break;  // the ones running take the whole list
    }
  }
  const auto started = static_cast<unsigned>(threads.size());
  auto snapshot = [&] {
    return MeasureProgress{files_done.load(std::memory_order_relaxed), n,
                           bytes_done.load(std::memory_order_relaxed), bytes_total};
  };
  {
    std::unique_lock<std::mutex> lock(mu);
    while (
        !cv.wait_for(lock, std::chrono::milliseconds(250), [&] { return finished == started; })) {
      if (options.progress) {
        lock.unlock();
        options.progress(snapshot());
        lock.lock();
      }
    }
  }
  for (std::thread& t : threads) t.join();
  if (options.progress) options.progress(snapshot());

  // 3. Results in path order; what could not be read joins the skipped.
  entries = {};
  TreeMeasurement out;
  out.skipped = std::move(walker.skipped());
  std::size_t kept = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (!errors[k].empty()) {
      out.skipped.push_back(std::move(errors[k]));
      continue;
    }
    out.bytes += files[k].size;
    if (kept != k) files[kept] = std::move(files[k]);
    ++kept;
  }
  files.resize(kept);
  out.files = std::move(files);
  std::sort(out.skipped.begin(), out.skipped.end());
  out.skipped.erase(std::unique(out.skipped.begin(), out.skipped.end()), out.skipped.end());
  return out;
}

}  // namespace tc::measure
