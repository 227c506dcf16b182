#include "tc/base/error.h"

#include <cstdio>
#include <cstdlib>

namespace tc {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid-argument";
    case ErrorCode::kNotFound: return "not-found";
    case ErrorCode::kMalformed: return "malformed";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kVerificationFailed: return "verification-failed";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kTpm: return "tpm";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

Error Error::Wrap(std::string_view context) && {
  std::string m;
  m.reserve(context.size() + 2 + message_.size());
  m.append(context).append(": ").append(message_);
  return Error(code_, std::move(m));
}

namespace internal {
void CheckFailed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "trustchain: internal check failed: %s at %s:%d\n",
               expr, file, line);
  std::abort();
}
}  // namespace internal

}  // namespace tc
