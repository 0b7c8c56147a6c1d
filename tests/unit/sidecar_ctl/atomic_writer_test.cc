// Tests of tests/support/atomic_writer (the kubelet layout the config watcher relies on).
#include "tests/support/atomic_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class AtomicWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-aw-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> TimestampDirs() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      std::string n = e.path().filename();
      if (n.rfind("..20", 0) == 0 && e.is_directory() && !e.is_symlink()) out.push_back(n);
    }
    return out;
  }
  std::string dir_;
};

TEST_F(AtomicWriterTest, LaysOutLikeTheKubelet) {
  AtomicWriter w(dir_);
  auto r = w.Write({{"datasets.yaml", {"a", 0440}}, {"x.accessKeyId", {"k", 0400}}});
  ASSERT_TRUE(r.ok() && *r);
  auto ts = TimestampDirs();
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(fs::read_symlink(dir_ + "/..data").string(), ts[0]);
  EXPECT_EQ(fs::read_symlink(dir_ + "/datasets.yaml").string(), "..data/datasets.yaml");
  EXPECT_EQ(Slurp(dir_ + "/datasets.yaml"), "a");
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/x.accessKeyId").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0400u);
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir_ + "/..data_tmp")));
}

TEST_F(AtomicWriterTest, UpdateSwapsDataAndRemovesOldDirAndKeys) {
  AtomicWriter w(dir_);
  ASSERT_TRUE(w.Write({{"datasets.yaml", {"a", 0644}}, {"old", {"o", 0644}}}).ok());
  std::string first = fs::read_symlink(dir_ + "/..data");
  auto r = w.Write({{"datasets.yaml", {"b", 0644}}});
  ASSERT_TRUE(r.ok() && *r);
  std::string second = fs::read_symlink(dir_ + "/..data");
  EXPECT_NE(first, second);
  EXPECT_FALSE(fs::exists(dir_ + "/" + first));
  EXPECT_EQ(TimestampDirs().size(), 1u);
  EXPECT_EQ(Slurp(dir_ + "/datasets.yaml"), "b");
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir_ + "/old")));
}

TEST_F(AtomicWriterTest, UnchangedPayloadWritesNothing) {
  AtomicWriter w(dir_);
  ASSERT_TRUE(w.WriteOne("datasets.yaml", "a").ok());
  std::string first = fs::read_symlink(dir_ + "/..data");
  auto r = w.WriteOne("datasets.yaml", "a");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(fs::read_symlink(dir_ + "/..data").string(), first);
}

}  // namespace
}  // namespace ferry::testing
