// LinuxMounter's logic over FakeSys: errno mapping and table parsing.
// The real mount(2) path is covered by tests/integration/propagator.

#include "propagator/linux_mounter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

#include "tests/support/fake_sys.h"

namespace ferry::propagator {
namespace {

TEST(LinuxMounterTest, ListParsesTheMountinfoFile) {
  testing::FakeSys sys;
  sys.AddFile("/proc/self/mountinfo", "1 0 8:1 / / rw shared:1 - ext4 /dev/a rw\n");
  LinuxMounter m(sys);
  StatusOr<std::vector<MountInfo>> t = m.List();
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 1u);
  EXPECT_TRUE((*t)[0].IsShared());
}

TEST(LinuxMounterTest, ListErrors) {
  testing::FakeSys sys;
  LinuxMounter m(sys);
  EXPECT_TRUE(m.List().status().Is(StatusCode::kNotFound));
  sys.AddFile("/proc/self/mountinfo", "garbage\n");
  EXPECT_TRUE(m.List().status().Is(StatusCode::kInvalidArgument));
}

TEST(LinuxMounterTest, MountAndUnmountMapErrno) {
  testing::FakeSys sys;
  LinuxMounter m(sys);
  EXPECT_TRUE(m.Mount("s", "/t", "fuse.ferry", MS_RDONLY, "fd=3").ok());
  EXPECT_TRUE(m.Unmount("/t", true).ok());
  sys.SetError("mount", "/t", EPERM);
  Status s = m.Mount("s", "/t", "fuse.ferry", 0, "");
  EXPECT_TRUE(s.Is(StatusCode::kPermissionDenied));
  EXPECT_EQ(s.sys_errno(), EPERM);
  sys.SetError("umount2", "/t", EINVAL);
  EXPECT_TRUE(IsAlreadyUnmounted(m.Unmount("/t", true)));
  EXPECT_THAT(sys.Log(), ::testing::ElementsAre("mount:/t", "umount2:/t", "mount:/t", "umount2:/t"));
}

}  // namespace
}  // namespace ferry::propagator
