#include "common/status.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ferry {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case StatusCode::kInternal: return "INTERNAL";
    case StatusCode::kCancelled: return "CANCELLED";
  }
  return "UNKNOWN";
}

Status::Status(StatusCode code, std::string message, int sys_errno) {
  if (code == StatusCode::kOk) return;
  rep_ = std::make_shared<const Rep>(Rep{code, std::move(message), sys_errno});
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code()));
  out += ": ";
  out += message();
  return out;
}

Status Status::WithContext(std::string_view prefix) const {
  if (ok()) return *this;
  std::string m(prefix);
  m += ": ";
  m += message();
  return Status(code(), std::move(m), sys_errno());
}

Status StatusFromErrno(int err, std::string_view what) {
  StatusCode code = StatusCode::kInternal;
  switch (err) {
    case ENOENT: case ENOTDIR: code = StatusCode::kNotFound; break;
    case EACCES: case EPERM: case EROFS: code = StatusCode::kPermissionDenied; break;
    case EEXIST: code = StatusCode::kAlreadyExists; break;
    case EINVAL: case ENAMETOOLONG: case ELOOP: code = StatusCode::kInvalidArgument; break;
    case EAGAIN: case EINTR: case ETIMEDOUT: case ECONNRESET: case ECONNREFUSED:
    case ENOTCONN: case EHOSTUNREACH: case ENETUNREACH: case EPIPE:
      code = StatusCode::kUnavailable; break;
    case ENOSPC: case EDQUOT: case ENOMEM: case EMFILE: case ENFILE: case EFBIG:
      code = StatusCode::kResourceExhausted; break;
    case EBUSY: case ENOTEMPTY: case EISDIR: code = StatusCode::kFailedPrecondition; break;
    case ENOSYS: case EOPNOTSUPP: code = StatusCode::kUnimplemented; break;
    case ECANCELED: code = StatusCode::kCancelled; break;
    default: break;
  }
  std::string m(what);
  m += ": ";
  m += std::strerror(err);
  return Status(code, std::move(m), err);
}

int ErrnoFromStatus(const Status& s) {
  if (s.ok()) return 0;
  if (s.sys_errno() != 0) return s.sys_errno();
  switch (s.code()) {
    case StatusCode::kInvalidArgument: return EINVAL;
    case StatusCode::kNotFound: return ENOENT;
    case StatusCode::kAlreadyExists: return EEXIST;
    case StatusCode::kPermissionDenied: return EACCES;
    case StatusCode::kResourceExhausted: return ENOSPC;
    case StatusCode::kUnimplemented: return ENOSYS;
    case StatusCode::kDeadlineExceeded: return ETIMEDOUT;
    case StatusCode::kCancelled: return EINTR;
    default: return EIO;
  }
}

namespace internal {
void CheckFailed(const char* file, int line, const char* cond) {
  std::fprintf(stderr, "FERRY_CHECK failed at %s:%d: %s\n", file, line, cond);
  std::fflush(stderr);
  std::abort();
}
}  // namespace internal

}  // namespace ferry
