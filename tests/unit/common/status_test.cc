#include "common/status.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace ferry {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd");
  return x / 2;
}

Status Quarter(int x, int* out) {
  FERRY_ASSIGN_OR_RETURN(int h, Half(x));
  FERRY_ASSIGN_OR_RETURN(*out, Half(h));
  return Status::Ok();
}

TEST(StatusTest, OkHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(s.message(), "");
}

TEST(StatusTest, ErrnoMapsToCodeAndKeepsErrno) {
  Status s = StatusFromErrno(ENOENT, "open /x");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.sys_errno(), ENOENT);
  EXPECT_EQ(ErrnoFromStatus(s), ENOENT);
  EXPECT_NE(s.ToString().find("open /x"), std::string::npos);
  EXPECT_EQ(ErrnoFromStatus(PermissionDenied("403")), EACCES);
  EXPECT_EQ(ErrnoFromStatus(Unavailable("503")), EIO);
}

TEST(StatusTest, WithContextPrefixesAndKeepsCode) {
  Status s = NotFound("no key").WithContext("mount imagenet");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "mount imagenet: no key");
  EXPECT_TRUE(Status().WithContext("x").ok());
}

TEST(StatusOrTest, AssignOrReturnPropagates) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = Quarter(6, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(StatusOrTest, HoldsMoveOnlyValues) {
  StatusOr<std::unique_ptr<int>> v = std::make_unique<int>(3);
  ASSERT_TRUE(v.ok());
  std::unique_ptr<int> p = std::move(v).value();
  EXPECT_EQ(*p, 3);
}

}  // namespace
}  // namespace ferry
