#include "propagator/preflight.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/fake_mounter.h"
#include "tests/support/fake_sys.h"

namespace ferry::propagator {
namespace {

using ::testing::HasSubstr;

TEST(PreflightTest, SharedMntDirPasses) {
  testing::FakeMounter m;
  m.AddRootAndTmpfs("/run/ferry/mnt", true);
  EXPECT_TRUE(CheckPropagation(m, "/run/ferry/mnt").ok());
}

TEST(PreflightTest, PrivateMntDirFailsNamingTheFix) {
  testing::FakeMounter m;
  m.AddRootAndTmpfs("/run/ferry/mnt", false);
  Status s = CheckPropagation(m, "/run/ferry/mnt");
  EXPECT_TRUE(s.Is(StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(s.message()), HasSubstr("mountPropagation: Bidirectional"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("privileged: true"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("private"));
}

TEST(PreflightTest, SlaveOnlyMntDirFails) {
  testing::FakeMounter m;
  StatusOr<std::vector<MountInfo>> t = ParseMountInfo(
      "1 0 8:1 / / rw - ext4 /dev/a rw\n2 1 8:1 /x /run/ferry/mnt rw master:4 - ext4 /dev/a rw\n");
  ASSERT_TRUE(t.ok());
  for (MountInfo& e : *t) m.AddMount(e);
  Status s = CheckPropagation(m, "/run/ferry/mnt");
  EXPECT_THAT(std::string(s.message()), HasSubstr("slave (HostToContainer)"));
}

TEST(PreflightTest, MntDirInheritsFromTheContainingMount) {
  testing::FakeMounter m;
  m.AddRootAndTmpfs("/run", true);
  EXPECT_TRUE(CheckPropagation(m, "/run/ferry/mnt").ok());
  testing::FakeMounter p;
  p.AddRootAndTmpfs("/run", false);
  EXPECT_FALSE(CheckPropagation(p, "/run/ferry/mnt").ok());
}

TEST(PreflightTest, FuseDeviceMissingNamesPrivileged) {
  testing::FakeSys sys;
  Status s = CheckFuseDevice(sys, "/dev/fuse");
  EXPECT_TRUE(s.Is(StatusCode::kFailedPrecondition));
  EXPECT_EQ(s.sys_errno(), ENOENT);
  EXPECT_THAT(std::string(s.message()), HasSubstr("privileged: true"));
  sys.AddFile("/dev/fuse");
  EXPECT_TRUE(CheckFuseDevice(sys, "/dev/fuse").ok());
}

TEST(PreflightTest, TerminationMessageOnlyToAnExistingFile) {
  testing::FakeSys sys;
  EXPECT_FALSE(WriteTerminationMessage(sys, "/dev/termination-log", "boom"));
  EXPECT_FALSE(sys.Exists("/dev/termination-log"));
  sys.AddFile("/dev/termination-log");
  EXPECT_TRUE(WriteTerminationMessage(sys, "/dev/termination-log", "boom"));
  EXPECT_EQ(sys.FileContent("/dev/termination-log"), "boom");
  EXPECT_FALSE(WriteTerminationMessage(sys, "", "boom"));
}

}  // namespace
}  // namespace ferry::propagator
