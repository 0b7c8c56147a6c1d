#include "sidecar/config_watcher.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/inotify_file_watcher.h"
#include "common/mutex.h"
#include "tests/support/atomic_writer.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_file_watcher.h"

namespace ferry::sidecar {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

class ConfigWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-cw-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    options_.dir = dir_;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<ConfigWatcher> MakeFake() {
    return std::make_unique<ConfigWatcher>(
        fake_watcher_, clock_, options_, [this](const ConfigSnapshot& s) { seen_.push_back(s); },
        [this] { ++ticks_; });
  }
  void Event(const std::string& name, WatchEventKind kind = WatchEventKind::kMovedTo) {
    fake_watcher_.Push({kind, dir_, name});
  }

  std::string dir_;
  ConfigWatcherOptions options_;
  testing::FakeClock clock_;
  testing::FakeFileWatcher fake_watcher_;
  std::vector<ConfigSnapshot> seen_;
  int ticks_ = 0;
};

TEST_F(ConfigWatcherTest, FirstIterationReportsMissingFileAsAbsent) {
  auto w = MakeFake();
  w->Iterate(milliseconds(0));
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_FALSE(seen_[0].present);
  EXPECT_TRUE(seen_[0].error.ok());
  EXPECT_TRUE(fake_watcher_.IsWatching(dir_));
}

TEST_F(ConfigWatcherTest, ReadsThroughDataLinkBeforeKeySymlinkExists) {
  fs::create_directory(dir_ + "/..2026_01_01_00_00_00.1");
  std::ofstream(dir_ + "/..2026_01_01_00_00_00.1/datasets.yaml") << "mounts: []\n";
  fs::create_symlink("..2026_01_01_00_00_00.1", dir_ + "/..data");
  ConfigSnapshot s = ReadConfigSnapshot(dir_, "datasets.yaml");
  EXPECT_TRUE(s.present);
  EXPECT_EQ(s.text, "mounts: []\n");
}

TEST_F(ConfigWatcherTest, DataSwapIsReadAtOnceAndTheRestOfABurstAsTheWindowEnds) {
  auto w = MakeFake();
  w->Iterate(milliseconds(0));
  clock_.Advance(milliseconds(100));
  uint64_t reads = w->reads();
  testing::AtomicWriter writer(dir_);
  for (int i = 0; i < 4; ++i) {  // 4 x 10 ms: within one 50 ms window
    std::string text = "# v";
    text += std::to_string(i);
    ASSERT_TRUE(writer.WriteOne("datasets.yaml", text).ok());
    Event("..data");
    w->Iterate(milliseconds(0));
    clock_.Advance(milliseconds(10));  // less than the 50 ms debounce
  }
  EXPECT_EQ(w->reads(), reads + 1);  // the leading swap only
  EXPECT_EQ(w->reads(ReadCause::kSwap), 1u);
  clock_.Advance(milliseconds(9));  // 49 ms after the leading read
  w->Iterate(milliseconds(0));
  EXPECT_EQ(w->reads(), reads + 1);
  clock_.Advance(milliseconds(1));  // the window ends 50 ms after the leading read,
  w->Iterate(milliseconds(0));      // not 50 ms after the last swap
  EXPECT_EQ(w->reads(), reads + 2);  // one trailing read for the rest
  EXPECT_EQ(w->reads(ReadCause::kWindow), 1u);
  ASSERT_EQ(seen_.size(), 3u);
  EXPECT_EQ(seen_[1].text, "# v0");
  EXPECT_EQ(seen_.back().text, "# v3");
}

TEST_F(ConfigWatcherTest, InPlaceWritesWaitForTheDebounce) {
  auto w = MakeFake();
  w->Iterate(milliseconds(0));
  clock_.Advance(milliseconds(100));
  uint64_t reads = w->reads();
  std::ofstream(dir_ + "/datasets.yaml") << "mounts: []\n";
  Event("datasets.yaml", WatchEventKind::kCreated);  // content may still be on its way
  w->Iterate(milliseconds(0));
  EXPECT_EQ(w->reads(), reads);
  clock_.Advance(milliseconds(50));
  w->Iterate(milliseconds(0));
  EXPECT_EQ(w->reads(), reads + 1);
}

TEST_F(ConfigWatcherTest, MaxDelayBoundsAnEndlessBurst) {
  auto w = MakeFake();
  w->Iterate(milliseconds(0));
  uint64_t reads = w->reads();
  for (int i = 0; i < 40; ++i) {  // 40 x 10 ms > max_delay 300 ms
    Event("..data");
    w->Iterate(milliseconds(0));
    clock_.Advance(milliseconds(10));
  }
  EXPECT_GE(w->reads(), reads + 1);
}

TEST_F(ConfigWatcherTest, IgnoresOtherNames) {
  auto w = MakeFake();
  w->Iterate(milliseconds(0));
  uint64_t reads = w->reads();
  Event("..data_tmp", WatchEventKind::kCreated);
  Event("..2026_01_01_00_00_00.5", WatchEventKind::kCreated);
  Event("x.accessKeyId", WatchEventKind::kCreated);
  w->Iterate(milliseconds(0));
  clock_.Advance(milliseconds(100));
  w->Iterate(milliseconds(0));
  EXPECT_EQ(w->reads(), reads);
}

TEST_F(ConfigWatcherTest, UnchangedContentIsNotReported) {
  std::ofstream(dir_ + "/datasets.yaml") << "mounts: []\n";
  auto w = MakeFake();
  w->Iterate(milliseconds(0));
  Event("datasets.yaml", WatchEventKind::kModified);
  w->Iterate(milliseconds(0));
  clock_.Advance(milliseconds(60));
  w->Iterate(milliseconds(0));
  EXPECT_EQ(w->reads(), 2u);
  EXPECT_EQ(seen_.size(), 1u);
}

TEST_F(ConfigWatcherTest, RescanFindsAChangeWithoutEvents) {
  auto w = MakeFake();
  w->Iterate(milliseconds(0));
  std::ofstream(dir_ + "/datasets.yaml") << "mounts: []\n";
  clock_.Advance(milliseconds(59'000));
  w->Iterate(milliseconds(0));
  EXPECT_EQ(seen_.size(), 1u);
  clock_.Advance(milliseconds(1'000));
  w->Iterate(milliseconds(0));
  ASSERT_EQ(seen_.size(), 2u);
  EXPECT_TRUE(seen_.back().present);
}

TEST_F(ConfigWatcherTest, OverflowTriggersARead) {
  auto w = MakeFake();
  w->Iterate(milliseconds(0));
  std::ofstream(dir_ + "/datasets.yaml") << "mounts: []\n";
  fake_watcher_.Push({WatchEventKind::kOverflow, "", ""});
  w->Iterate(milliseconds(0));
  clock_.Advance(milliseconds(50));
  w->Iterate(milliseconds(0));
  EXPECT_EQ(seen_.size(), 2u);
}

TEST_F(ConfigWatcherTest, RetriesAMissingDirAndReadsWhenItAppears) {
  options_.dir = dir_ + "/later";
  fake_watcher_.FailWatch(options_.dir, NotFound("no such dir"));
  auto w = MakeFake();
  w->Iterate(milliseconds(0));
  EXPECT_FALSE(w->watching());
  ASSERT_EQ(seen_.size(), 1u);
  fs::create_directory(options_.dir);
  std::ofstream(options_.dir + "/datasets.yaml") << "mounts: []\n";
  fake_watcher_.FailWatch(options_.dir, Status::Ok());
  clock_.Advance(milliseconds(1'000));
  w->Iterate(milliseconds(0));
  EXPECT_TRUE(w->watching());
  clock_.Advance(milliseconds(50));
  w->Iterate(milliseconds(0));
  ASSERT_EQ(seen_.size(), 2u);
  EXPECT_TRUE(seen_.back().present);
}

TEST_F(ConfigWatcherTest, WatchGoneRewatches) {
  auto w = MakeFake();
  w->Iterate(milliseconds(0));
  fake_watcher_.Push({WatchEventKind::kWatchGone, dir_, ""});
  w->Iterate(milliseconds(0));
  w->Iterate(milliseconds(0));
  EXPECT_TRUE(w->watching());
}

TEST_F(ConfigWatcherTest, ReadErrorIsReported) {
  fs::create_directory(dir_ + "/datasets.yaml");  // a directory: read fails with EISDIR
  auto w = MakeFake();
  w->Iterate(milliseconds(0));
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_FALSE(seen_[0].error.ok());
}

TEST_F(ConfigWatcherTest, TicksPeriodically) {
  auto w = MakeFake();
  w->Iterate(milliseconds(0));
  clock_.Advance(milliseconds(1'000));
  w->Iterate(milliseconds(0));
  EXPECT_EQ(ticks_, 1);
}

// The real inotify watcher, driven by the kubelet's AtomicWriter.
class ConfigWatcherInotifyTest : public ConfigWatcherTest {
 protected:
  void Start() {
    auto iw = InotifyFileWatcher::Create();
    ASSERT_TRUE(iw.ok());
    inotify_ = std::move(iw).value();
    watcher_ = std::make_unique<ConfigWatcher>(*inotify_, real_clock_, options_,
                                               [this](const ConfigSnapshot& s) {
                                                 MutexLock lock(mu_);
                                                 texts_.push_back(s.present ? s.text : "<absent>");
                                               });
    thread_ = std::thread([this] { watcher_->Run(); });
  }
  void TearDown() override {
    if (watcher_) watcher_->Stop();
    if (thread_.joinable()) thread_.join();
    ConfigWatcherTest::TearDown();
  }
  bool WaitForText(const std::string& text) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        MutexLock lock(mu_);
        if (!texts_.empty() && texts_.back() == text) return true;
      }
      std::this_thread::sleep_for(milliseconds(5));
    }
    return false;
  }
  size_t Reports() {
    MutexLock lock(mu_);
    return texts_.size();
  }

  RealClock real_clock_;
  std::unique_ptr<InotifyFileWatcher> inotify_;
  std::unique_ptr<ConfigWatcher> watcher_;
  std::thread thread_;
  Mutex mu_;
  std::vector<std::string> texts_ FERRY_GUARDED_BY(mu_);
};

TEST_F(ConfigWatcherInotifyTest, SeesFirstAppearanceAndSwaps) {
  Start();
  ASSERT_TRUE(WaitForText("<absent>"));
  testing::AtomicWriter writer(dir_);
  ASSERT_TRUE(writer.WriteOne("datasets.yaml", "v1").ok());
  EXPECT_TRUE(WaitForText("v1"));
  ASSERT_TRUE(writer.WriteOne("datasets.yaml", "v2").ok());
  EXPECT_TRUE(WaitForText("v2"));
  ASSERT_TRUE(writer.Write({}).ok());  // the ConfigMap lost its key
  EXPECT_TRUE(WaitForText("<absent>"));
}

// The first swap after a quiet period is read at once: with a 30 s debounce,
// any debounce on this path would miss the 10 s deadline of WaitForText.
TEST_F(ConfigWatcherInotifyTest, IsolatedSwapIsReadAtOnceEvenWithALongDebounce) {
  options_.debounce = milliseconds(30'000);
  options_.max_delay = milliseconds(60'000);
  testing::AtomicWriter writer(dir_);
  ASSERT_TRUE(writer.WriteOne("datasets.yaml", "v0").ok());
  Start();
  ASSERT_TRUE(WaitForText("v0"));
  ASSERT_TRUE(writer.WriteOne("datasets.yaml", "v1").ok());
  EXPECT_TRUE(WaitForText("v1"));
  EXPECT_EQ(watcher_->reads(ReadCause::kSwap), 1u);
}

TEST_F(ConfigWatcherInotifyTest, BurstOfSwapsConvergesWithoutStorm) {
  testing::AtomicWriter writer(dir_);
  ASSERT_TRUE(writer.WriteOne("datasets.yaml", "v0").ok());
  Start();
  ASSERT_TRUE(WaitForText("v0"));
  for (int i = 1; i <= 50; ++i) {
    ASSERT_TRUE(writer.WriteOne("datasets.yaml", "v" + std::to_string(i)).ok());
  }
  EXPECT_TRUE(WaitForText("v50"));
  // 50 swaps, each a handful of inotify events: far fewer reads than events.
  EXPECT_LT(watcher_->reads(), 50u);
  EXPECT_LT(Reports(), 50u);
}

}  // namespace
}  // namespace ferry::sidecar
