#include "propagator/sweeper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/support/fake_mounter.h"
#include "tests/support/fake_sys.h"

namespace ferry::propagator {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

class SweeperTest : public ::testing::Test {
 protected:
  SweeperTest() : mounter_(&sys_) { sys_.AddDir("/run/ferry/mnt"); }

  void LoadFixture(const std::string& name) {
    std::ifstream in(std::string(FERRY_SOURCE_DIR) + "/tests/testdata/mountinfo/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    StatusOr<std::vector<MountInfo>> table = ParseMountInfo(ss.str());
    ASSERT_TRUE(table.ok());
    for (MountInfo& m : *table) {
      if (PathIsWithin(m.mount_point, "/run/ferry/mnt")) sys_.AddDir(m.mount_point);
      mounter_.AddMount(std::move(m));
    }
  }

  StatusOr<std::vector<std::string>> Sweep() {
    return StaleMountSweeper(sys_, mounter_, "/run/ferry/mnt").Sweep();
  }

  testing::FakeSys sys_;
  testing::FakeMounter mounter_;
};

TEST_F(SweeperTest, NothingToDoOnACleanDir) {
  mounter_.AddRootAndTmpfs("/run/ferry/mnt", true);
  sys_.AddDir("/run/ferry/mnt/.ferry");
  StatusOr<std::vector<std::string>> swept = Sweep();
  ASSERT_TRUE(swept.ok());
  EXPECT_THAT(*swept, IsEmpty());
  EXPECT_THAT(mounter_.Log(), IsEmpty());
  EXPECT_TRUE(sys_.Exists("/run/ferry/mnt/.ferry"));
}

TEST_F(SweeperTest, DetachesEveryFerryMountDeepestFirstWithoutStat) {
  LoadFixture("stale_enotconn.txt");
  // A stat of a ferry mount would hang on a wedged server; make it fail loudly instead.
  sys_.SetError("stat", "/run/ferry/mnt/old", EDEADLK);
  StatusOr<std::vector<std::string>> swept = Sweep();
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  EXPECT_THAT(*swept, ElementsAre("/run/ferry/mnt/old/nested", "/run/ferry/mnt/old"));
  EXPECT_FALSE(sys_.Exists("/run/ferry/mnt/old"));
  // The live s3fs mount is not ferry's and does not give ENOTCONN: left alone.
  EXPECT_EQ(mounter_.MountsAt("/run/ferry/mnt/s3").size(), 1u);
  EXPECT_TRUE(sys_.Exists("/run/ferry/mnt/s3"));
}

TEST_F(SweeperTest, DetachesForeignMountsThatGiveEnotconn) {
  LoadFixture("stale_enotconn.txt");
  sys_.SetError("stat", "/run/ferry/mnt/s3", ENOTCONN);
  StatusOr<std::vector<std::string>> swept = Sweep();
  ASSERT_TRUE(swept.ok());
  EXPECT_THAT(*swept, UnorderedElementsAre("/run/ferry/mnt/old/nested", "/run/ferry/mnt/old",
                                           "/run/ferry/mnt/s3"));
  EXPECT_TRUE(mounter_.MountsAt("/run/ferry/mnt/s3").empty());
  EXPECT_FALSE(sys_.Exists("/run/ferry/mnt/s3"));
}

TEST_F(SweeperTest, DeadEntryMissingFromTheTableIsStillDetached) {
  // A propagated copy whose namespace view we lack: only stat shows it.
  mounter_.AddRootAndTmpfs("/run/ferry/mnt", true);
  sys_.AddDir("/run/ferry/mnt/ghost");
  sys_.SetError("stat", "/run/ferry/mnt/ghost", ENOTCONN);
  StatusOr<std::vector<std::string>> swept = Sweep();
  ASSERT_TRUE(swept.ok());
  EXPECT_THAT(*swept, ElementsAre("/run/ferry/mnt/ghost"));
  EXPECT_THAT(mounter_.Log(), ElementsAre("unmount:/run/ferry/mnt/ghost:detach"));
  EXPECT_FALSE(sys_.Exists("/run/ferry/mnt/ghost"));
}

TEST_F(SweeperTest, PeelsStackedFerryMounts) {
  mounter_.AddRootAndTmpfs("/run/ferry/mnt", true);
  sys_.AddDir("/run/ferry/mnt/a");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(mounter_.Mount("ferry:a", "/run/ferry/mnt/a", "fuse.ferry", 0, "").ok());
  }
  StatusOr<std::vector<std::string>> swept = Sweep();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->size(), 3u);
  EXPECT_TRUE(mounter_.MountsAt("/run/ferry/mnt/a").empty());
  EXPECT_FALSE(sys_.Exists("/run/ferry/mnt/a"));
}

TEST_F(SweeperTest, MountOutsideMntDirIsNeverTouched) {
  mounter_.AddRootAndTmpfs("/run/ferry/mnt", true);
  sys_.AddDir("/run/ferry/mntx");
  ASSERT_TRUE(mounter_.Mount("ferry:x", "/run/ferry/mntx", "fuse.ferry", 0, "").ok());
  ASSERT_TRUE(mounter_.Mount("ferry:x", "/run/ferry/mnt", "fuse.ferry", 0, "").ok());
  mounter_.ClearLog();
  StatusOr<std::vector<std::string>> swept = Sweep();
  ASSERT_TRUE(swept.ok());
  EXPECT_THAT(*swept, IsEmpty());  // neither mnt-dir itself nor its sibling
}

TEST_F(SweeperTest, AMountThatWillNotDetachIsReportedAndSkipped) {
  LoadFixture("stale_enotconn.txt");
  mounter_.FailNext("unmount", StatusFromErrno(EPERM, "umount2"), /*sticky=*/true);
  StatusOr<std::vector<std::string>> swept = Sweep();
  ASSERT_TRUE(swept.ok());  // logged, not fatal, and no endless loop
  EXPECT_THAT(*swept, IsEmpty());
}

TEST_F(SweeperTest, UnreadableTableIsAnError) {
  mounter_.FailNext("list", Internal("no /proc"));
  EXPECT_FALSE(Sweep().ok());
}

TEST_F(SweeperTest, DetachFerryMountsNeverStats) {
  LoadFixture("stale_enotconn.txt");
  sys_.SetError("stat", "/run/ferry/mnt/s3", ENOTCONN);
  StatusOr<std::vector<std::string>> swept =
      StaleMountSweeper(sys_, mounter_, "/run/ferry/mnt").DetachFerryMounts();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->size(), 2u);
  EXPECT_EQ(mounter_.MountsAt("/run/ferry/mnt/s3").size(), 1u);
}

}  // namespace
}  // namespace ferry::propagator
