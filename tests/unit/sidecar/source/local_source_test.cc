#include "sidecar/source/local_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace ferry::sidecar {
namespace {

namespace fs = std::filesystem;

class LocalSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-local-source-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ + "/root";
    fs::create_directories(root_ + "/a/b");
    Write(root_ + "/a/file.txt", "hello world");
    Write(root_ + "/a/b/deep", "deep");
    Write(base_ + "/secret", "outside");
    ::chmod((root_ + "/a/file.txt").c_str(), 0640);
    fs::create_symlink("file.txt", root_ + "/a/link");
    fs::create_symlink("../../secret", root_ + "/a/escape");
    fs::create_directory_symlink(base_, root_ + "/outdir");
    ASSERT_EQ(::mkfifo((root_ + "/fifo").c_str(), 0644), 0);
  }
  void TearDown() override { fs::remove_all(base_); }
  static void Write(const std::string& p, const std::string& s) { std::ofstream(p) << s; }

  std::string base_, root_;
};

TEST_F(LocalSourceTest, StatReportsTypesModesAndEtag) {
  LocalSource src(root_);
  ASSERT_TRUE(src.CheckRoot().ok());
  auto root = src.Stat("");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->type, EntryType::kDirectory);
  auto f = src.Stat("a/file.txt");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->name, "file.txt");
  EXPECT_EQ(f->type, EntryType::kFile);
  EXPECT_EQ(f->size, 11u);
  EXPECT_EQ(f->mode, 0640u);
  struct stat st;
  ASSERT_EQ(::stat((root_ + "/a/file.txt").c_str(), &st), 0);
  int64_t mtime = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  EXPECT_EQ(f->mtime_ns, mtime);
  EXPECT_EQ(f->etag, std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
                         std::to_string(mtime) + ":11");
  auto l = src.Stat("a/link");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->type, EntryType::kSymlink);
  EXPECT_EQ(l->symlink_target, "file.txt");
  EXPECT_EQ(src.Stat("a/escape")->symlink_target, "../../secret");  // verbatim
  EXPECT_EQ(src.Stat("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(src.Stat("fifo").status().code(), StatusCode::kNotFound);  // special files hidden
}

TEST_F(LocalSourceTest, ListGivesEveryChildWithMetadata) {
  LocalSource src(root_);
  auto l = src.List("a");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  std::map<std::string, Entry> by_name;
  for (const Entry& e : *l) by_name[e.name] = e;
  ASSERT_EQ(by_name.size(), 4u);
  EXPECT_EQ(by_name["b"].type, EntryType::kDirectory);
  EXPECT_EQ(by_name["file.txt"].size, 11u);
  EXPECT_EQ(by_name["file.txt"].etag, src.Stat("a/file.txt")->etag);
  EXPECT_EQ(by_name["link"].symlink_target, "file.txt");
  auto top = src.List("");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->size(), 2u);  // a, outdir (the fifo is skipped)
  EXPECT_EQ(src.List("a/file.txt").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(src.List("missing").status().code(), StatusCode::kNotFound);
}

TEST_F(LocalSourceTest, ReadAndOpenLocal) {
  LocalSource src(root_);
  auto e = src.Stat("a/file.txt");
  std::string buf(5, '\0');
  auto n = src.Read("a/file.txt", *e, 6, std::as_writable_bytes(std::span<char>(buf)));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 5u);
  EXPECT_EQ(buf, "world");
  auto at_end = src.Read("a/file.txt", *e, 11, std::as_writable_bytes(std::span<char>(buf)));
  EXPECT_EQ(*at_end, 0u);
  auto fd = src.OpenLocal("a/b/deep");
  ASSERT_TRUE(fd.ok());
  char c[4];
  EXPECT_EQ(::pread(fd->get(), c, 4, 0), 4);
  EXPECT_EQ(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_FALSE(src.OpenLocal("a").ok());
  EXPECT_FALSE(src.OpenLocal("fifo").ok());  // refused, and never blocks
  EXPECT_GT(src.Stats().requests, 0u);
}

TEST_F(LocalSourceTest, ChangedFileIsFailedPrecondition) {
  LocalSource src(root_);
  auto e = src.Stat("a/file.txt");
  Write(root_ + "/a/file.txt", "a different, longer text");
  std::string buf(5, '\0');
  auto n = src.Read("a/file.txt", *e, 0, std::as_writable_bytes(std::span<char>(buf)));
  EXPECT_EQ(n.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(LocalSourceTest, NothingEscapesTheRoot) {
  LocalSource src(root_);
  EXPECT_FALSE(src.OpenLocal("../secret").ok());
  EXPECT_FALSE(src.OpenLocal("a/../../secret").ok());
  EXPECT_FALSE(src.OpenLocal("a/escape").ok());      // symlink: never followed
  EXPECT_FALSE(src.OpenLocal("outdir/secret").ok());  // symlinked directory component
  EXPECT_FALSE(src.Stat("outdir/secret").ok());
  EXPECT_FALSE(src.List("outdir").ok());
  EXPECT_FALSE(src.OpenLocal("/etc/passwd").ok());
  EXPECT_FALSE(src.Stat("a//file.txt").ok());
}

TEST_F(LocalSourceTest, MissingRootFailsEveryCall) {
  LocalSource src(base_ + "/does-not-exist");
  EXPECT_EQ(src.CheckRoot().code(), StatusCode::kNotFound);
  EXPECT_FALSE(src.Stat("").ok());
  EXPECT_FALSE(src.List("").ok());
  EXPECT_EQ(src.Describe(), "local://" + base_ + "/does-not-exist");
}

}  // namespace
}  // namespace ferry::sidecar
