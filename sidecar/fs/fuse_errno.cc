#include "sidecar/fs/fuse_errno.h"

#include <cerrno>

namespace ferry::sidecar {
namespace {

bool PassThrough(int err) {
  switch (err) {
    case ENOENT: case ENOTDIR: case EISDIR: case ESTALE: case EROFS: case EACCES: case EPERM:
    case EBADF: case EINVAL: case ENAMETOOLONG: case ELOOP: case ENODATA: case EOPNOTSUPP:
    case ENOSYS: case ERANGE: case EFBIG: case EIO: case ENOMEM: case ENOSPC: case EXDEV:
    case ENOTEMPTY: case EEXIST: case EOVERFLOW:
      return true;
    default:
      return false;
  }
}

}  // namespace

int ToErrno(const Status& s) {
  if (s.ok()) return 0;
  if (s.sys_errno() != 0 && PassThrough(s.sys_errno())) return s.sys_errno();
  switch (s.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kNotFound: return ENOENT;
    case StatusCode::kPermissionDenied: return EACCES;
    case StatusCode::kInvalidArgument: return EINVAL;
    case StatusCode::kAlreadyExists: return EEXIST;
    case StatusCode::kResourceExhausted: return ENOMEM;
    case StatusCode::kUnimplemented: return ENOSYS;
    case StatusCode::kDeadlineExceeded: return ETIMEDOUT;
    case StatusCode::kCancelled: return EINTR;
    case StatusCode::kUnavailable:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kInternal:
      return EIO;
  }
  return EIO;
}

}  // namespace ferry::sidecar
