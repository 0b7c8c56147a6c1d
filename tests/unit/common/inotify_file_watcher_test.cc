#include "common/inotify_file_watcher.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/atomic_writer.h"

namespace ferry {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

class InotifyFileWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-watch-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto w = InotifyFileWatcher::Create();
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    watcher_ = std::move(w).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Collects events until `pred` holds for one of them or 10 s pass.
  template <typename Pred>
  bool WaitFor(Pred pred, std::vector<WatchEvent>* all = nullptr) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto events = watcher_->Wait(milliseconds(100));
      if (!events.ok()) return false;
      for (const WatchEvent& e : *events) {
        if (all != nullptr) all->push_back(e);
        if (pred(e)) return true;
      }
    }
    return false;
  }

  std::string dir_;
  std::unique_ptr<InotifyFileWatcher> watcher_;
};

TEST_F(InotifyFileWatcherTest, SeesAtomicWriterDataSwap) {
  testing::AtomicWriter writer(dir_);
  ASSERT_TRUE(writer.WriteOne("datasets.yaml", "mounts: []\n").ok());
  ASSERT_TRUE(watcher_->Watch(dir_).ok());
  auto wrote = writer.WriteOne("datasets.yaml", "mounts: [] # v2\n");
  ASSERT_TRUE(wrote.ok() && *wrote);
  EXPECT_TRUE(WaitFor([&](const WatchEvent& e) {
    return e.kind == WatchEventKind::kMovedTo && e.name == "..data" && e.dir == dir_;
  }));
}

TEST_F(InotifyFileWatcherTest, SeesFirstAppearanceInEmptyDir) {
  ASSERT_TRUE(watcher_->Watch(dir_).ok());
  testing::AtomicWriter writer(dir_);
  ASSERT_TRUE(writer.WriteOne("datasets.yaml", "mounts: []\n").ok());
  std::vector<WatchEvent> all;
  EXPECT_TRUE(WaitFor(
      [](const WatchEvent& e) {
        return e.name == "datasets.yaml" && e.kind == WatchEventKind::kCreated;
      },
      &all));
  bool saw_data = false;
  for (const auto& e : all) saw_data |= e.name == "..data" && e.kind == WatchEventKind::kMovedTo;
  EXPECT_TRUE(saw_data);
}

TEST_F(InotifyFileWatcherTest, SeesInPlaceWrite) {
  ASSERT_TRUE(watcher_->Watch(dir_).ok());
  std::ofstream(dir_ + "/datasets.yaml") << "mounts: []\n";
  EXPECT_TRUE(WaitFor([](const WatchEvent& e) {
    return e.name == "datasets.yaml" && e.kind == WatchEventKind::kModified;
  }));
}

TEST_F(InotifyFileWatcherTest, ReportsWatchGoneOnceWhenDirRemoved) {
  std::string sub = dir_ + "/sub";
  ASSERT_TRUE(fs::create_directory(sub));
  ASSERT_TRUE(watcher_->Watch(sub).ok());
  fs::remove(sub);
  std::vector<WatchEvent> all;
  EXPECT_TRUE(
      WaitFor([](const WatchEvent& e) { return e.kind == WatchEventKind::kWatchGone; }, &all));
  auto more = watcher_->Wait(milliseconds(50));
  ASSERT_TRUE(more.ok());
  for (const auto& e : *more) EXPECT_NE(e.kind, WatchEventKind::kWatchGone);
  // It can be watched again once it is back.
  ASSERT_TRUE(fs::create_directory(sub));
  EXPECT_TRUE(watcher_->Watch(sub).ok());
}

TEST_F(InotifyFileWatcherTest, MissingDirIsNotFound) {
  Status s = watcher_->Watch(dir_ + "/nope");
  EXPECT_TRUE(s.Is(StatusCode::kNotFound)) << s.ToString();
}

TEST_F(InotifyFileWatcherTest, FileIsNotADirectory) {
  std::ofstream(dir_ + "/f") << "x";
  Status s = watcher_->Watch(dir_ + "/f");
  EXPECT_TRUE(s.Is(StatusCode::kFailedPrecondition)) << s.ToString();
}

TEST_F(InotifyFileWatcherTest, InterruptEndsWait) {
  ASSERT_TRUE(watcher_->Watch(dir_).ok());
  std::thread t([&] { watcher_->Interrupt(); });
  t.join();
  auto events = watcher_->Wait(std::chrono::hours(1));  // would hang without the interrupt
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

TEST_F(InotifyFileWatcherTest, UnwatchStopsEvents) {
  ASSERT_TRUE(watcher_->Watch(dir_).ok());
  watcher_->Unwatch(dir_);
  std::ofstream(dir_ + "/x") << "1";
  auto events = watcher_->Wait(milliseconds(50));
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

}  // namespace
}  // namespace ferry
