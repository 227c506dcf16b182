#include "tc/tpm/esys/internal/tss_api.h"

#include <dlfcn.h>

#include <mutex>
#include <string>
#include <vector>

namespace tc::tpm::internal {
namespace {

// Debian 12's sonames (libtss2-dev 3.2).
constexpr const char* kLibraries[] = {
    "libtss2-esys.so.0",       "libtss2-rc.so.0",         "libtss2-mu.so.0",
    "libtss2-tcti-device.so.0", "libtss2-tcti-swtpm.so.0", "libtss2-tcti-mssim.so.0",
};

TssApi g_api;
bool g_loaded = false;

Result<void> LoadOnce() {
  std::vector<void*> handles;
  for (const char* lib : kLibraries) {
    void* h = ::dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      const char* why = ::dlerror();
      return Fail(ErrorCode::kUnsupported,
                  std::string("cannot load tpm2-tss: ") + (why ? why : lib) +
                      " (install libtss2-esys-3.0.2-0 and the libtss2-tcti-* packages; "
                      "scripts/setup.sh does)");
    }
    handles.push_back(h);  // kept open for the life of the process
  }
  auto find = [&](const char* name) -> void* {
    for (void* h : handles) {
      if (void* p = ::dlsym(h, name)) return p;
    }
    return nullptr;
  };
#define TC_TSS_RESOLVE(name)                                                          \
  g_api.name = reinterpret_cast<decltype(&::name)>(find(#name));                      \
  if (g_api.name == nullptr) {                                                        \
    return Fail(ErrorCode::kUnsupported, "tpm2-tss lacks " #name ": too old a version"); \
  }
  TC_TSS_FUNCTIONS(TC_TSS_RESOLVE)
#undef TC_TSS_RESOLVE
  return {};
}

}  // namespace

Result<void> LoadTss() {
  static std::once_flag once;
  static Result<void> result;
  std::call_once(once, [] {
    result = LoadOnce();
    g_loaded = result.has_value();
  });
  return result;
}

const TssApi& Tss() {
  TC_CHECK(g_loaded);
  return g_api;
}

}  // namespace tc::tpm::internal
