#include "common/mountinfo.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace ferry {
namespace {

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(FERRY_SOURCE_DIR) + "/tests/testdata/mountinfo/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<MountInfo> ParseFixture(const std::string& name) {
  StatusOr<std::vector<MountInfo>> r = ParseMountInfo(Fixture(name));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<MountInfo>{};
}

TEST(MountInfoTest, ParsesSidecarViewWithSharedAndMasterFields) {
  std::vector<MountInfo> m = ParseFixture("container_sidecar.txt");
  ASSERT_EQ(m.size(), 9u);
  EXPECT_EQ(m[0].mount_id, 1063u);
  EXPECT_EQ(m[0].parent_id, 980u);
  EXPECT_EQ(m[0].MasterPeerGroup(), 410u);
  EXPECT_FALSE(m[0].IsShared());
  const MountInfo& mnt = m[3];
  EXPECT_EQ(mnt.mount_point, "/run/ferry/mnt");
  EXPECT_EQ(mnt.root, "/var/lib/kubelet/pods/3f1c/volumes/kubernetes.io~empty-dir/ferry-mnt");
  EXPECT_EQ(mnt.SharedPeerGroup(), 1u);
  EXPECT_EQ(mnt.MasterPeerGroup(), 1u);
  EXPECT_EQ(mnt.major, 254u);
  EXPECT_EQ(mnt.minor, 1u);
  const MountInfo& fuse = m[7];
  EXPECT_EQ(fuse.fstype, "fuse.ferry");
  EXPECT_EQ(fuse.source, "ferry:imagenet");
  EXPECT_EQ(fuse.major, 0u);
  EXPECT_EQ(fuse.minor, 101u);
  EXPECT_TRUE(fuse.HasMountOption("ro"));
  EXPECT_TRUE(fuse.HasMountOption("nosuid"));
  EXPECT_TRUE(fuse.HasMountOption("nodev"));
  EXPECT_FALSE(fuse.HasMountOption("no"));
  EXPECT_TRUE(fuse.HasSuperOption("allow_other"));
  EXPECT_TRUE(fuse.HasSuperOption("max_read=1048576"));
}

TEST(MountInfoTest, DecodesOctalEscapesInPathsAndSource) {
  std::vector<MountInfo> m = ParseFixture("escaped_and_optional.txt");
  ASSERT_EQ(m.size(), 6u);
  EXPECT_EQ(m[2].mount_point, "/run/ferry/mnt/my data");
  EXPECT_EQ(m[2].source, "ferry:my data");
  EXPECT_EQ(m[3].mount_point, "/run/ferry/mnt/tab\tnew\nline\\back");
  EXPECT_EQ(m[3].source, "a\\b");
  EXPECT_EQ(m[4].root, "/sub dir");
  EXPECT_EQ(m[4].MasterPeerGroup(), 7u);
  EXPECT_EQ(m[4].optional_fields, (std::vector<std::string>{"master:7", "propagate_from:1"}));
  EXPECT_EQ(m[5].optional_fields, std::vector<std::string>{"unbindable"});
  EXPECT_FALSE(m[5].IsShared());
}

TEST(MountInfoTest, AppViewIsSlaveOfTheSidecarsPeerGroup) {
  std::vector<MountInfo> m = ParseFixture("app_host_to_container.txt");
  std::optional<MountInfo> ds = FindContainingMount(m, "/datasets/imagenet/train/x.jpg");
  ASSERT_TRUE(ds.has_value());
  EXPECT_EQ(ds->mount_point, "/datasets/imagenet");
  EXPECT_EQ(ds->MasterPeerGroup(), 530u);
}

TEST(MountInfoTest, EmptyAndBlankLinesGiveNoEntries) {
  StatusOr<std::vector<MountInfo>> r = ParseMountInfo("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  r = ParseMountInfo("\n  \n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(MountInfoTest, MalformedLinesNameTheLine) {
  for (const char* bad : {"1 2 3:4 / / rw x y z\n",         // no separator
                          "1 2 3:4 / / rw -\n",             // nothing after it
                          "x 2 3:4 / / rw - ext4 /dev/a rw\n",  // bad id
                          "1 2 34 / / rw - ext4 /dev/a rw\n",   // bad dev
                          "1 2 3:4\n"}) {
    std::string text = std::string("1 0 0:1 / / rw - ext4 a rw\n") + bad;
    StatusOr<std::vector<MountInfo>> r = ParseMountInfo(text);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.status().Is(StatusCode::kInvalidArgument));
    EXPECT_NE(r.status().message().find("line 2"), std::string_view::npos) << r.status().ToString();
  }
}

TEST(MountInfoTest, AcceptsMissingSuperOptions) {
  StatusOr<std::vector<MountInfo>> r = ParseMountInfo("1 0 0:1 / / rw - ext4 /dev/a\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].super_options, "");
}

TEST(MountInfoTest, UnescapeKeepsMalformedEscapes) {
  EXPECT_EQ(UnescapeMountPath("a\\040b"), "a b");
  EXPECT_EQ(UnescapeMountPath("a\\04"), "a\\04");
  EXPECT_EQ(UnescapeMountPath("a\\9xyz"), "a\\9xyz");
  EXPECT_EQ(UnescapeMountPath("\\"), "\\");
  EXPECT_EQ(UnescapeMountPath("end\\134"), "end\\");
}

TEST(MountInfoTest, PathIsWithinComparesWholeComponents) {
  EXPECT_TRUE(PathIsWithin("/a/b", "/a/b"));
  EXPECT_TRUE(PathIsWithin("/a/b/c", "/a/b"));
  EXPECT_TRUE(PathIsWithin("/a/b/c", "/a/b/"));
  EXPECT_FALSE(PathIsWithin("/a/bc", "/a/b"));
  EXPECT_FALSE(PathIsWithin("/a", "/a/b"));
  EXPECT_TRUE(PathIsWithin("/anything", "/"));
}

TEST(MountInfoTest, FindContainingMountPicksLongestPrefixAndTopOfStack) {
  std::vector<MountInfo> m = ParseFixture("stale_enotconn.txt");
  EXPECT_EQ(FindContainingMount(m, "/run/ferry/mnt")->mount_id, 80u);
  EXPECT_EQ(FindContainingMount(m, "/run/ferry/mntx")->mount_id, 27u);
  EXPECT_EQ(FindContainingMount(m, "/run/ferry/mnt/old/nested/f")->mount_id, 93u);
  MountInfo top = m[1];
  top.mount_id = 99;
  m.push_back(top);
  EXPECT_EQ(FindContainingMount(m, "/run/ferry/mnt/new")->mount_id, 99u);
  EXPECT_FALSE(FindContainingMount({}, "/x").has_value());
}

}  // namespace
}  // namespace ferry
