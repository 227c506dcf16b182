#pragma once

// Measuring files before they run: the SHA-256 of each file's bytes and, for
// PE/COFF images (EFI applications, kernels with an EFI stub), the SHA-256
// Authenticode image hash that UEFI firmware extends into PCR 4 (see
// tc/pe/authenticode.h). MeasureFile measures one file; MeasureTree walks
// files and directories and hashes what it finds on several threads.
//
// Trust: a measurement says what the bytes were when they were read, not
// what they are now nor what they will be when something runs them.
//   - TOCTOU: the tree is listed first and read afterwards. A file changed
//     between the two (or while it is read) is measured as read: `size` is
//     the number of bytes read, not the size the walk saw. A file that is
//     gone, or is no longer a regular file, when it is opened is skipped.
//   - Symlinks: only a root given by the caller is followed (as `find -H`
//     does) unless MeasureOptions::follow_symlinks. The last component of
//     each path is opened with O_NOFOLLOW, but a directory higher up that
//     is swapped for a symlink between the walk and the read can still lead
//     elsewhere: measure trees that untrusted users cannot modify.
//   - File contents are hostile: PE headers are parsed only by tc::pe, with
//     its bounds checks and caps; a file that starts with "MZ" but is not a
//     valid image gets a `note`, never an error.
//   - Paths are bytes from the file system, not necessarily UTF-8.
//
// Thread safety: both functions are thread-safe (no shared state). Memory:
// each hashing thread holds a 1 MiB read buffer plus, while it measures a
// PE image, the whole image (at most pe::kMaxImageSize).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tc/base/error.h"
#include "tc/crypto/hash.h"

namespace tc::measure {

struct FileMeasurement {
  std::string path;        // as walked: root + "/" + relative names
  std::uint64_t size = 0;  // bytes read (and hashed)
  crypto::Digest sha256;   // of the `size` bytes
  // The sha256 Authenticode image hash, when asked for and the file starts
  // with "MZ" and parses as PE/COFF (pe::AuthenticodeHash).
  std::optional<crypto::Digest> authenticode;
  // Why there is no `authenticode` although the file starts with "MZ" (the
  // pe error, or that it exceeds pe::kMaxImageSize); empty otherwise.
  std::string note;
};

// Measures the regular file at `path`, following symlinks. Computes the
// Authenticode hash when `authenticode` and the file starts with "MZ" and is
// at most pe::kMaxImageSize bytes (larger ones are hashed plainly and get a
// note). Errors: kNotFound when it does not exist; kInvalidArgument when it
// is not a regular file; kIo when it cannot be opened or read. Messages
// start with the path.
[[nodiscard]] Result<FileMeasurement> MeasureFile(const std::string& path, bool authenticode);

struct MeasureProgress {
  std::size_t files_done = 0;     // measured or skipped while reading
  std::size_t files_total = 0;    // regular files found by the walk
  std::uint64_t bytes_done = 0;   // bytes read so far
  std::uint64_t bytes_total = 0;  // sum of sizes seen by the walk (a file
                                  // changed since may make bytes_done differ)
};

struct MeasureOptions {
  bool authenticode = true;
  // Hashing threads; 0 = std::thread::hardware_concurrency(). Never more
  // than the number of files.
  unsigned threads = 0;
  // Follow symlinks inside the roots (each directory is still entered once:
  // loops are skipped with a note). Roots are always followed.
  bool follow_symlinks = false;
  // Cap on entries (files plus skipped entries) the walk may collect; more
  // is kInvalidArgument rather than a partial measurement.
  std::size_t max_files = 10'000'000;
  // Called from the calling thread only, at most about 4 times a second
  // while hashing, and once at the end (then files_done == files_total).
  // May be empty.
  std::function<void(const MeasureProgress&)> progress;
};

struct TreeMeasurement {
  std::vector<FileMeasurement> files;  // sorted by path (bytewise), unique
  // "path: why", sorted: unreadable files and directories, symlinks not
  // followed, devices, fifos and sockets, directories already visited.
  std::vector<std::string> skipped;
  std::uint64_t bytes = 0;  // sum of files[i].size
};

// Measures every regular file under `roots`. Each root is a file or a
// directory (walked recursively, crossing file systems); a root that is a
// symlink is followed. Special files are skipped with a note, as are
// symlinks inside the roots unless options.follow_symlinks. The same path
// reached twice (overlapping roots) is measured once. The whole tree is
// listed first, then hashed by options.threads threads, largest files first.
// Errors: kNotFound naming a root that does not exist; kIo naming a root
// that cannot be examined or a root directory that cannot be opened;
// kInvalidArgument when `roots` is empty or the walk exceeds
// options.max_files. A file or subdirectory that cannot be read is listed
// in `skipped`, not an error.
[[nodiscard]] Result<TreeMeasurement> MeasureTree(std::span<const std::string> roots,
                                                  const MeasureOptions& options);

}  // namespace tc::measure
