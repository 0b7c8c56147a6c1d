#include "sidecar/fs/fuse_errno.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace ferry::sidecar {
namespace {

TEST(FuseErrnoTest, CodesMapToErrno) {
  EXPECT_EQ(ToErrno(Status()), 0);
  EXPECT_EQ(ToErrno(NotFound("x")), ENOENT);
  EXPECT_EQ(ToErrno(PermissionDenied("x")), EACCES);
  EXPECT_EQ(ToErrno(Unavailable("x")), EIO);
  EXPECT_EQ(ToErrno(Internal("x")), EIO);
  EXPECT_EQ(ToErrno(FailedPrecondition("x")), EIO);
  EXPECT_EQ(ToErrno(InvalidArgument("x")), EINVAL);
}

TEST(FuseErrnoTest, FilesystemErrnosAreKept) {
  EXPECT_EQ(ToErrno(Status(StatusCode::kNotFound, "x", ESTALE)), ESTALE);
  EXPECT_EQ(ToErrno(Status(StatusCode::kPermissionDenied, "x", EROFS)), EROFS);
  EXPECT_EQ(ToErrno(Status(StatusCode::kFailedPrecondition, "x", ENOTDIR)), ENOTDIR);
}

TEST(FuseErrnoTest, TransportErrnosBecomeEio) {
  EXPECT_EQ(ToErrno(StatusFromErrno(ECONNRESET, "recv")), EIO);
  EXPECT_EQ(ToErrno(StatusFromErrno(EAGAIN, "recv")), EIO);
  EXPECT_EQ(ToErrno(StatusFromErrno(EINTR, "read")), EIO);
}

}  // namespace
}  // namespace ferry::sidecar
