#include "propagator/mount_manager.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

#include "tests/support/fake_mounter.h"
#include "tests/support/fake_sys.h"

namespace ferry::propagator {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kMnt[] = "/run/ferry/mnt";

class MountManagerTest : public ::testing::Test {
 protected:
  MountManagerTest() : mounter_(&sys_) {
    sys_.AddDir(kMnt);
    sys_.AddFile("/dev/fuse");
    mounter_.AddRootAndTmpfs(kMnt, /*shared=*/true);
    MountManagerOptions o;
    o.mnt_dir = kMnt;
    manager_ = std::make_unique<MountManager>(sys_, mounter_, o);
  }

  // The bdi and fusectl files the kernel would have for the next fake mount.
  void AddSysfsFor(uint32_t minor) {
    sys_.AddFile("/sys/class/bdi/0:" + std::to_string(minor) + "/read_ahead_kb", "128");
    sys_.AddFile("/sys/fs/fuse/connections/" + std::to_string(minor) + "/max_background", "12");
  }

  testing::FakeSys sys_;
  testing::FakeMounter mounter_;
  std::unique_ptr<MountManager> manager_;
};

TEST(DatasetNameTest, AcceptsOnlyOneSafeComponent) {
  EXPECT_TRUE(ValidateDatasetName("imagenet-2012").ok());
  EXPECT_TRUE(ValidateDatasetName("a").ok());
  for (const char* bad : {"", "..", ".", "a/b", "A", "a_b", "a b", "-a", "x\n", "../etc"}) {
    EXPECT_TRUE(ValidateDatasetName(bad).Is(StatusCode::kInvalidArgument)) << bad;
  }
  EXPECT_FALSE(ValidateDatasetName(std::string(64, 'a')).ok());
  EXPECT_TRUE(ValidateDatasetName(std::string(63, 'a')).ok());
}

TEST(FuseMountDataTest, MatchesTheContract) {
  EXPECT_EQ(FuseMountData(7, 1 << 20),
            "fd=7,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions,"
            "max_read=1048576");
}

TEST_F(MountManagerTest, MountsReadOnlyWithNosuidNodevAndTunesReadAhead) {
  AddSysfsFor(60);  // FakeMounter's first minor
  StatusOr<UniqueFd> fd = manager_->Mount({"imagenet", true, "ferry:imagenet"});
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  EXPECT_TRUE(fd->valid());
  std::vector<MountInfo> at = mounter_.MountsAt("/run/ferry/mnt/imagenet");
  ASSERT_EQ(at.size(), 1u);
  EXPECT_EQ(at[0].fstype, "fuse.ferry");
  EXPECT_EQ(at[0].source, "ferry:imagenet");
  EXPECT_TRUE(at[0].HasMountOption("ro"));
  EXPECT_TRUE(at[0].HasMountOption("nosuid"));
  EXPECT_TRUE(at[0].HasMountOption("nodev"));
  EXPECT_TRUE(at[0].HasSuperOption("allow_other"));
  EXPECT_TRUE(at[0].HasSuperOption("fd=" + std::to_string(fd->get())));
  EXPECT_THAT(sys_.Log(), Contains("mkdir:/run/ferry/mnt/imagenet"));
  EXPECT_EQ(sys_.FileContent("/sys/class/bdi/0:60/read_ahead_kb"), "16384");
  EXPECT_EQ(sys_.FileContent("/sys/fs/fuse/connections/60/max_background"), "64");
  EXPECT_TRUE(manager_->Contains("imagenet"));
  EXPECT_EQ(manager_->size(), 1u);
}

TEST_F(MountManagerTest, ReadWriteMountHasNoRdonlyFlag) {
  ASSERT_TRUE(manager_->Mount({"scratch", false, "ferry:scratch"}).ok());
  std::string entry = mounter_.Log().back();
  unsigned long flags = MS_NOSUID | MS_NODEV;
  char hex[32];
  std::snprintf(hex, sizeof(hex), "%lx", flags);
  EXPECT_THAT(entry, HasSubstr(std::string(":fuse.ferry:") + hex + ":"));
  EXPECT_TRUE(mounter_.MountsAt("/run/ferry/mnt/scratch")[0].HasMountOption("rw"));
}

TEST_F(MountManagerTest, TuningFailuresAreOnlyWarnings) {
  // No sysfs files at all: the write fails, the mount still succeeds.
  StatusOr<UniqueFd> fd = manager_->Mount({"a", true, ""});
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  EXPECT_EQ(mounter_.MountsAt("/run/ferry/mnt/a")[0].source, "ferry:a");  // default fsname
  EXPECT_THAT(sys_.Log(), Contains("write:/sys/class/bdi/0:60/read_ahead_kb=16384"));
}

TEST_F(MountManagerTest, RefusesBadNamesBeforeTouchingAnything) {
  StatusOr<UniqueFd> fd = manager_->Mount({"../etc", true, "x"});
  EXPECT_TRUE(fd.status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(sys_.Log().empty());
  EXPECT_TRUE(mounter_.Log().empty());
}

TEST_F(MountManagerTest, ReusesAnEmptyDirectory) {
  sys_.AddDir("/run/ferry/mnt/a");
  ASSERT_TRUE(manager_->Mount({"a", true, "x"}).ok());
  EXPECT_THAT(sys_.Log(), Not(Contains("mkdir:/run/ferry/mnt/a")));
}

TEST_F(MountManagerTest, RefusesANonEmptyDirectoryOrAFile) {
  sys_.AddFile("/run/ferry/mnt/a/keep.txt", "data");
  StatusOr<UniqueFd> fd = manager_->Mount({"a", true, "x"});
  EXPECT_TRUE(fd.status().Is(StatusCode::kFailedPrecondition)) << fd.status().ToString();
  EXPECT_THAT(std::string(fd.status().message()), HasSubstr("non-empty"));
  sys_.AddFile("/run/ferry/mnt/b", "");
  EXPECT_TRUE(manager_->Mount({"b", true, "x"}).status().Is(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(mounter_.Log().empty());
  EXPECT_TRUE(sys_.Exists("/run/ferry/mnt/a/keep.txt"));
}

TEST_F(MountManagerTest, RefusesAPathThatIsAlreadyAMountWithoutStatingIt) {
  MountInfo foreign;
  foreign.parent_id = 2;
  foreign.mount_point = "/run/ferry/mnt/a";
  foreign.fstype = "fuse.sshfs";
  mounter_.AddMount(foreign);
  sys_.AddDir("/run/ferry/mnt/a");
  sys_.SetError("lstat", "/run/ferry/mnt/a", ENOTCONN);  // would fail if stat'ed
  StatusOr<UniqueFd> fd = manager_->Mount({"a", true, "x"});
  EXPECT_TRUE(fd.status().Is(StatusCode::kAlreadyExists)) << fd.status().ToString();
}

TEST_F(MountManagerTest, SecondMountOfTheSameNameIsAlreadyExists) {
  ASSERT_TRUE(manager_->Mount({"a", true, "x"}).ok());
  EXPECT_TRUE(manager_->Mount({"a", true, "x"}).status().Is(StatusCode::kAlreadyExists));
  EXPECT_EQ(mounter_.MountsAt("/run/ferry/mnt/a").size(), 1u);
}

TEST_F(MountManagerTest, FailedMountRemovesTheDirectoryItMade) {
  mounter_.FailNext("mount", StatusFromErrno(EPERM, "mount"));
  StatusOr<UniqueFd> fd = manager_->Mount({"a", true, "x"});
  EXPECT_TRUE(fd.status().Is(StatusCode::kPermissionDenied));
  EXPECT_FALSE(sys_.Exists("/run/ferry/mnt/a"));
  EXPECT_EQ(manager_->size(), 0u);
}

TEST_F(MountManagerTest, FailedOpenOfDevFuseLeavesNothing) {
  sys_.SetError("open", "/dev/fuse", ENODEV);
  StatusOr<UniqueFd> fd = manager_->Mount({"a", true, "x"});
  EXPECT_EQ(fd.status().sys_errno(), ENODEV);
  EXPECT_FALSE(sys_.Exists("/run/ferry/mnt/a"));
  EXPECT_TRUE(mounter_.Log().empty());
}

TEST_F(MountManagerTest, FailureAfterMountDetachesIt) {
  sys_.SetError("dup", "", EMFILE);  // fails after mount(2) succeeded
  StatusOr<UniqueFd> fd = manager_->Mount({"a", true, "x"});
  EXPECT_TRUE(fd.status().Is(StatusCode::kResourceExhausted)) << fd.status().ToString();
  EXPECT_THAT(mounter_.Log(), Contains("unmount:/run/ferry/mnt/a:detach"));
  EXPECT_TRUE(mounter_.MountsAt("/run/ferry/mnt/a").empty());
  EXPECT_FALSE(sys_.Exists("/run/ferry/mnt/a"));
  EXPECT_EQ(manager_->size(), 0u);
}

TEST_F(MountManagerTest, UnreadableMountTableRefusesTheMount) {
  mounter_.FailNext("list", Internal("table unreadable"));
  EXPECT_FALSE(manager_->Mount({"a", true, "x"}).ok());
  EXPECT_TRUE(mounter_.MountsAt("/run/ferry/mnt/a").empty());
  EXPECT_FALSE(sys_.Exists("/run/ferry/mnt/a"));
}

TEST_F(MountManagerTest, UnmountDetachesRemovesDirAndIsIdempotent) {
  ASSERT_TRUE(manager_->Mount({"a", true, "x"}).ok());
  ASSERT_TRUE(manager_->Unmount("a").ok());
  EXPECT_THAT(mounter_.Log(), Contains("unmount:/run/ferry/mnt/a:detach"));
  EXPECT_TRUE(mounter_.MountsAt("/run/ferry/mnt/a").empty());
  EXPECT_FALSE(sys_.Exists("/run/ferry/mnt/a"));
  EXPECT_FALSE(manager_->Contains("a"));
  EXPECT_TRUE(manager_->Unmount("a").ok());
  EXPECT_TRUE(manager_->Unmount("never-mounted").ok());
  EXPECT_TRUE(manager_->Unmount("../x").Is(StatusCode::kInvalidArgument));
}

TEST_F(MountManagerTest, UnmountOfAMountThatVanishedStillCleansUp) {
  ASSERT_TRUE(manager_->Mount({"a", true, "x"}).ok());
  ASSERT_TRUE(mounter_.Unmount("/run/ferry/mnt/a", true).ok());  // someone else detached it
  EXPECT_TRUE(manager_->Unmount("a").ok());
  EXPECT_FALSE(sys_.Exists("/run/ferry/mnt/a"));
}

TEST_F(MountManagerTest, SaveStateAndAdoptReturnDupsInNameOrder) {
  ASSERT_TRUE(manager_->Mount({"b", false, "x"}).ok());
  ASSERT_TRUE(manager_->Mount({"a", true, "y"}).ok());
  ASSERT_TRUE(manager_->SaveState("b", "c3RhdGU=").ok());
  EXPECT_TRUE(manager_->SaveState("zzz", "x").Is(StatusCode::kNotFound));
  StatusOr<std::vector<KeptMount>> kept = manager_->Adopt();
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 2u);
  EXPECT_EQ((*kept)[0].name, "a");
  EXPECT_TRUE((*kept)[0].read_only);
  EXPECT_EQ((*kept)[1].name, "b");
  EXPECT_FALSE((*kept)[1].read_only);
  EXPECT_EQ((*kept)[1].state, "c3RhdGU=");
  EXPECT_TRUE((*kept)[0].fuse_fd.valid());
  // Adopt hands out copies: the store still has its own.
  EXPECT_EQ(manager_->size(), 2u);
}

TEST_F(MountManagerTest, DetachAllRemovesEverything) {
  ASSERT_TRUE(manager_->Mount({"a", true, "x"}).ok());
  ASSERT_TRUE(manager_->Mount({"b", true, "x"}).ok());
  EXPECT_EQ(manager_->DetachAll(), 2u);
  EXPECT_EQ(manager_->size(), 0u);
  EXPECT_TRUE(mounter_.MountsAt("/run/ferry/mnt/a").empty());
  EXPECT_TRUE(mounter_.MountsAt("/run/ferry/mnt/b").empty());
  EXPECT_FALSE(sys_.Exists("/run/ferry/mnt/b"));
  StatusOr<std::vector<KeptMount>> kept = manager_->Adopt();
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->empty());
}

TEST_F(MountManagerTest, KeptFdsAreClosedOnUnmount) {
  int before = 0;
  ASSERT_TRUE(manager_->Mount({"a", true, "x"}).ok());  // returned fd closed right away
  for (int fd = 0; fd < 1024; ++fd) before += ::fcntl(fd, F_GETFD) != -1;
  ASSERT_TRUE(manager_->Unmount("a").ok());
  int after = 0;
  for (int fd = 0; fd < 1024; ++fd) after += ::fcntl(fd, F_GETFD) != -1;
  EXPECT_EQ(after, before - 1);
}

}  // namespace
}  // namespace ferry::propagator
