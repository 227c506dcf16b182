#pragma once

// Errors and results for all of trustchain (../shared/STYLE.md §2).
//
// Anything that can fail returns Result<T>. An Error is a code, for callers
// to branch on, plus a message for people. Our code throws nothing; a broken
// invariant (a bug, never bad input) hits TC_CHECK, which aborts.

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace tc {

enum class ErrorCode {
  kInvalidArgument,     // the caller passed something unusable
  kNotFound,            // a file, PCR, bank or key that is not there
  kMalformed,           // untrusted input that does not parse
  kUnsupported,         // well-formed input we do not handle (yet)
  kVerificationFailed,  // a digest, replay or signature check failed
  kIo,                  // the operating system refused
  kTpm,                 // the TPM or its stack refused
  kInternal,            // a bug
};

// The lowercase name of a code, e.g. "malformed".
std::string_view ErrorCodeName(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes context: Error(kMalformed, "truncated").Wrap("event 12")
  // reads "event 12: truncated". The code is kept.
  Error Wrap(std::string_view context) &&;

 private:
  ErrorCode code_;
  std::string message_;
};

// std::expected once we move to C++23; call only members it also has.
template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return tl::make_unexpected(Error(code, std::move(message)));
}
inline tl::unexpected<Error> Fail(Error error) {
  return tl::make_unexpected(std::move(error));
}

namespace internal {
[[noreturn]] void CheckFailed(const char* expr, const char* file, int line);
}  // namespace internal

}  // namespace tc

#define TC_CHECK(expr)                                             \
  do {                                                             \
    if (!(expr)) ::tc::internal::CheckFailed(#expr, __FILE__, __LINE__); \
  } while (0)

#define TC_CONCAT_INNER_(a, b) a##b
#define TC_CONCAT_(a, b) TC_CONCAT_INNER_(a, b)

// Returns the error of a Result<void> (or any Result) from the caller.
#define TC_RETURN_IF_ERROR(expr)                        \
  do {                                                  \
    auto tc_status_ = (expr);                           \
    if (!tc_status_.has_value()) {                      \
      return ::tl::make_unexpected(std::move(tc_status_).error()); \
    }                                                   \
  } while (0)

// TC_ASSIGN_OR_RETURN(lhs, expr): evaluates expr (a Result<T>); on error
// returns it from the caller, else assigns the value to lhs, which may be a
// declaration ("const auto x").
#define TC_ASSIGN_OR_RETURN(lhs, expr) \
  TC_ASSIGN_OR_RETURN_IMPL_(TC_CONCAT_(tc_result_, __LINE__), lhs, expr)
#define TC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)            \
  auto tmp = (expr);                                         \
  if (!tmp.has_value()) {                                    \
    return ::tl::make_unexpected(std::move(tmp).error());    \
  }                                                          \
  lhs = std::move(tmp).value()
