#include "common/fuse_mount.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/fake_sys.h"

namespace ferry {
namespace {

bool Logged(const testing::FakeSys& sys, const std::string& entry) {
  std::vector<std::string> log = sys.Log();
  return std::find(log.begin(), log.end(), entry) != log.end();
}

class MountFuseFdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sys_.AddFile("/dev/fuse");
    sys_.AddDir("/mnt/data");
    sys_.AddFile("/sys/class/bdi/0:77/read_ahead_kb", "128");
  }
  void MountTable(const std::string& fstype, const std::string& fsname) {
    sys_.AddFile("/proc/self/mountinfo",
                 "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                 "40 22 0:77 / /mnt/data ro,nosuid,nodev shared:2 - " + fstype + " " + fsname +
                     " ro,user_id=0,group_id=0\n");
  }
  testing::FakeSys sys_;
};

TEST_F(MountFuseFdTest, MountsAndSetsTheReadAheadOfTheNewDevice) {
  MountTable("fuse.ferry", "ferry");
  StatusOr<UniqueFd> fd = MountFuseFd(sys_, "/mnt/data", {});
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  EXPECT_TRUE(fd->get() >= 0);
  EXPECT_TRUE(Logged(sys_, "open:/dev/fuse"));
  EXPECT_TRUE(Logged(sys_, "mount:/mnt/data"));
  EXPECT_EQ(sys_.FileContent("/sys/class/bdi/0:77/read_ahead_kb"), "16384");
}

TEST_F(MountFuseFdTest, ReadAheadZeroLeavesTheDeviceAlone) {
  MountTable("fuse.ferry", "ferry");
  FuseFdMountOptions o;
  o.read_ahead_kb = 0;
  ASSERT_TRUE(MountFuseFd(sys_, "/mnt/data", o).ok());
  EXPECT_EQ(sys_.FileContent("/sys/class/bdi/0:77/read_ahead_kb"), "128");
}

TEST_F(MountFuseFdTest, AForeignTopMountIsNotTuned) {
  MountTable("fuse.sshfs", "someone");  // e.g. our mount vanished, another is on top
  ASSERT_TRUE(MountFuseFd(sys_, "/mnt/data", {}).ok());  // logged, not an error
  EXPECT_EQ(sys_.FileContent("/sys/class/bdi/0:77/read_ahead_kb"), "128");
}

TEST_F(MountFuseFdTest, ErrorsCarryTheErrnoAndThePath) {
  sys_.SetError("mount", "/mnt/data", EPERM);
  StatusOr<UniqueFd> fd = MountFuseFd(sys_, "/mnt/data", {});
  EXPECT_EQ(fd.status().code(), StatusCode::kPermissionDenied) << fd.status().ToString();
  EXPECT_NE(fd.status().message().find("/mnt/data"), std::string_view::npos);
  EXPECT_FALSE(MountFuseFd(sys_, "/mnt/missing", {}).ok());
  sys_.SetError("mount", "/mnt/data", 0);
  sys_.SetError("open", "/dev/fuse", ENOENT);
  EXPECT_EQ(MountFuseFd(sys_, "/mnt/data", {}).status().code(), StatusCode::kNotFound);
}

TEST_F(MountFuseFdTest, BadFsnameIsRefusedBeforeAnything) {
  FuseFdMountOptions o;
  o.fsname = "a,b";
  EXPECT_EQ(MountFuseFd(sys_, "/mnt/data", o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(Logged(sys_, "open:/dev/fuse"));
}

}  // namespace
}  // namespace ferry
