// FuseServer's thread economy on a real mount (StartOnPath; root and
// /dev/fuse): an idle mount runs exactly one thread (the reader), parallel
// load grows the workers up to max_threads, and they retire after
// idle_thread_timeout; the kernel-cache invalidation thread only starts when
// something is invalidated.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "sidecar/fs/filesystem.h"
#include "sidecar/fs/fuse_server.h"
#include "sidecar/source/local_source.h"
#include "tests/support/fuse_fixture.h"
#include "tests/support/server_fixtures.h"

namespace ferry::sidecar {
namespace {

namespace stdfs = std::filesystem;
using testing::FuseMountGuard;
using testing::ScopedTempDir;
using testing::ReadFileOrEmpty;
using testing::WaitUntil;

class FuseServerThreadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = testing::FuseUnavailableReason();
    if (!why.empty()) GTEST_SKIP() << why;
    src_ = work_.path() + "/src";
    mnt_ = work_.path() + "/mnt";
    stdfs::create_directories(src_);
    stdfs::create_directories(mnt_);
    std::ofstream(src_ + "/big", std::ios::binary) << std::string(8 << 20, 'x');
    std::ofstream(src_ + "/small") << "hello\n";
  }
  void TearDown() override {
    server_.reset();
    if (!mnt_.empty()) FuseMountGuard unmount(mnt_);
  }

  void Start(int max_threads, std::chrono::milliseconds idle) {
    source_ = std::make_unique<LocalSource>(src_);
    auto fs =
        std::make_unique<Filesystem>(*source_, nullptr, FilesystemOptions::ForLocal(), clock_);
    FuseServerOptions o;
    o.max_threads = max_threads;
    o.idle_thread_timeout = idle;
    auto server = FuseServer::StartOnPath(mnt_, std::move(fs), std::move(o));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    ASSERT_TRUE(server_->WaitInitialized(std::chrono::seconds(10)));
  }

  ScopedTempDir work_{"ferry-fs-threads"};
  std::string src_, mnt_;
  RealClock clock_;
  std::unique_ptr<LocalSource> source_;
  std::unique_ptr<FuseServer> server_;
};

TEST_F(FuseServerThreadsTest, IdleMountRunsOneThreadAndBusyWorkersRetire) {
  int threads_before = testing::CountThreads();
  Start(/*max_threads=*/4, std::chrono::milliseconds(200));
  // INIT made a second worker (the reading turn is handed on per request);
  // once idle, only the reader is left, and no other thread of the server.
  ASSERT_TRUE(WaitUntil([&] { return server_->ThreadCountForTest() == 1; }));
  EXPECT_TRUE(WaitUntil([&] { return testing::CountThreads() == threads_before + 1; }));

  std::atomic<int> running{6};
  std::vector<std::thread> readers;
  for (int i = 0; i < 6; ++i) {
    readers.emplace_back([&] {
      for (int k = 0; k < 3; ++k) EXPECT_EQ(ReadFileOrEmpty(mnt_ + "/big").size(), 8u << 20);
      running--;
    });
  }
  size_t peak = 0;  // parallel requests need more than one worker
  while (running.load() > 0) peak = std::max(peak, server_->ThreadCountForTest());
  for (auto& r : readers) r.join();
  EXPECT_GE(peak, 2u);
  EXPECT_LE(server_->ThreadCountForTest(), 4u);
  // Idle again: the extra workers retire after idle_thread_timeout.
  EXPECT_TRUE(WaitUntil([&] { return server_->ThreadCountForTest() == 1; }));
  EXPECT_TRUE(WaitUntil([&] { return testing::CountThreads() == threads_before + 1; }));
  EXPECT_EQ(ReadFileOrEmpty(mnt_ + "/small"), "hello\n");  // the remaining worker still serves

  server_->Stop();
  EXPECT_FALSE(server_->Running());
  EXPECT_TRUE(WaitUntil([&] { return testing::CountThreads() == threads_before; }));
}

TEST_F(FuseServerThreadsTest, StopEndsAReaderBlockedInRead) {
  Start(/*max_threads=*/1, std::chrono::milliseconds(1000));
  ASSERT_TRUE(WaitUntil([&] { return server_->ThreadCountForTest() == 1; }));
  EXPECT_EQ(ReadFileOrEmpty(mnt_ + "/small"), "hello\n");  // one worker serves alone
  auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_EQ(server_->ThreadCountForTest(), 0u);
}

}  // namespace
}  // namespace ferry::sidecar
