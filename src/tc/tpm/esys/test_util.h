#pragma once

// Test-only helpers of tc/tpm/esys: temporary directories and live-heap
// measurement. Included only by *_test.cc files.

#include <stdlib.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <system_error>

#if defined(__SANITIZE_ADDRESS__)
#define TC_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TC_TEST_ASAN 1
#endif
#endif

#ifdef TC_TEST_ASAN
#include <sanitizer/allocator_interface.h>
#else
#include <malloc.h>
#endif

namespace tc::tpm::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/tc-tpm-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Bytes currently allocated on the heap (not RSS, which allocators and
// ASan's quarantine keep high).
inline std::size_t HeapInUse() {
#ifdef TC_TEST_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
#endif
}

}  // namespace tc::tpm::testing
