#include "sidecar/status_file_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ferry::sidecar {
namespace {

namespace fs = std::filesystem;

class StatusFileWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-sw-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  nlohmann::json Read() {
    std::ifstream in(dir_ + "/.ferry/status.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return nlohmann::json::parse(ss.str());
  }
  std::string dir_;
};

TEST_F(StatusFileWriterTest, WritesReadableFileAndNoTemp) {
  StatusFileWriter w(dir_);
  StatusSnapshot s;
  s.version = 1;
  s.generation = 7;
  ASSERT_TRUE(w.Write(s).ok());
  EXPECT_EQ(Read()["generation"], 7);
  struct stat st {};
  ASSERT_EQ(stat(w.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  ASSERT_EQ(stat((dir_ + "/.ferry").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_FALSE(fs::exists(dir_ + "/.ferry/.status.json.tmp"));
}

TEST_F(StatusFileWriterTest, OlderVersionNeverOverwritesNewer) {
  StatusFileWriter w(dir_);
  StatusSnapshot s;
  s.version = 5;
  s.generation = 5;
  ASSERT_TRUE(w.Write(s).ok());
  s.version = 4;
  s.generation = 4;
  ASSERT_TRUE(w.Write(s).ok());
  EXPECT_EQ(Read()["generation"], 5);
}

TEST_F(StatusFileWriterTest, ReplacesTheInodeAtomically) {
  StatusFileWriter w(dir_);
  StatusSnapshot s;
  s.version = 1;
  ASSERT_TRUE(w.Write(s).ok());
  struct stat before {};
  ASSERT_EQ(stat(w.path().c_str(), &before), 0);
  s.version = 2;
  ASSERT_TRUE(w.Write(s).ok());
  struct stat after {};
  ASSERT_EQ(stat(w.path().c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);  // renamed over, never rewritten in place
}

TEST_F(StatusFileWriterTest, UnwritableDirIsAnError) {
  StatusFileWriter w(dir_ + "/missing/deeper");
  StatusSnapshot s;
  EXPECT_FALSE(w.Write(s).ok());
}

}  // namespace
}  // namespace ferry::sidecar
