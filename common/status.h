#pragma once
// Status and StatusOr<T>: ferry's error values (STYLE R1). A Status is a code, a
// message written for the operator (what is wrong and how to fix it) and, for
// system errors, the errno that caused it. OK statuses allocate nothing.
// Thread-compatible value types.

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ferry {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,   // bad input: spec, flag, request body
  kNotFound,          // object, file or dataset missing
  kAlreadyExists,
  kPermissionDenied,  // credentials refused, EACCES/EPERM
  kUnavailable,       // transient: network, server 5xx; caller may retry
  kFailedPrecondition,// the system is not in the state the call needs
  kDeadlineExceeded,
  kResourceExhausted, // quota, disk full, too large
  kUnimplemented,
  kInternal,          // broken invariant or unexpected system error
  kCancelled,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, int sys_errno = 0);

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The message alone; empty when OK.
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }
  // errno captured at the failing syscall, or 0.
  int sys_errno() const { return rep_ ? rep_->sys_errno : 0; }
  // "CODE: message" for logs; "OK" when OK.
  std::string ToString() const;
  // A copy whose message is "prefix: message"; OK stays OK.
  Status WithContext(std::string_view prefix) const;

  bool Is(StatusCode c) const { return code() == c; }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
    int sys_errno;
  };
  std::shared_ptr<const Rep> rep_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }

// Maps an errno to a code (ENOENT->kNotFound, EACCES/EPERM->kPermissionDenied,
// EAGAIN/EINTR/ETIMEDOUT/ECONNRESET->kUnavailable, ...) and keeps the errno.
// The message is "what: strerror(err)".
Status StatusFromErrno(int err, std::string_view what);

// The errno a FUSE reply should carry for `s` (EIO when nothing fits).
int ErrnoFromStatus(const Status& s);

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status s) : v_(std::move(s)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) std::abort();  // an OK Status carries no value
  }
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  template <typename U>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
             !std::is_same_v<std::decay_t<U>, Status> && !std::is_same_v<std::decay_t<U>, StatusOr>)
  StatusOr(U&& value) : v_(T(std::forward<U>(value))) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & { Check(); return std::get<T>(v_); }
  const T& value() const& { Check(); return std::get<T>(v_); }
  T&& value() && { Check(); return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void Check() const {
    if (!ok()) std::abort();
  }
  std::variant<Status, T> v_;
};

}  // namespace ferry

#define FERRY_CONCAT_INNER_(a, b) a##b
#define FERRY_CONCAT_(a, b) FERRY_CONCAT_INNER_(a, b)

#define FERRY_RETURN_IF_ERROR(expr)            \
  do {                                         \
    ::ferry::Status ferry_status_ = (expr);    \
    if (!ferry_status_.ok()) return ferry_status_; \
  } while (0)

#define FERRY_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

// FERRY_ASSIGN_OR_RETURN(T x, StatusOrExpr): declares/assigns x or returns the error.
#define FERRY_ASSIGN_OR_RETURN(lhs, expr) \
  FERRY_ASSIGN_OR_RETURN_IMPL_(FERRY_CONCAT_(ferry_statusor_, __LINE__), lhs, expr)

// Broken invariants: log and abort. Never for bad input.
#define FERRY_CHECK(cond)                                                       \
  do {                                                                          \
    if (!(cond)) ::ferry::internal::CheckFailed(__FILE__, __LINE__, #cond);     \
  } while (0)

namespace ferry::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* cond);
}  // namespace ferry::internal
