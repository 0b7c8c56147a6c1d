// When the config watcher reads (sidecar/config_watcher.h, "When to read"),
// driven by a discrete-event simulation: SimWatcher is a FileWatcher whose
// Wait() advances the FakeClock exactly as a blocking wait would (to the next
// scheduled event, or by the whole timeout), and runs each event's file change
// (the kubelet's AtomicWriter) at its time. So the read times below come from
// the watcher's own deadlines, millisecond-exact, with no real time spent.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>

#include "sidecar/config_watcher.h"
#include "tests/support/atomic_writer.h"
#include "tests/support/fake_clock.h"

namespace ferry::sidecar {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

class SimWatcher final : public FileWatcher {
 public:
  explicit SimWatcher(testing::FakeClock& clock) : clock_(clock), start_(clock.Now()) {}

  // At `at` after the start, run `change` and deliver `event`.
  void At(milliseconds at, std::function<void()> change, WatchEvent event) {
    events_.emplace(start_ + at, Scheduled{std::move(change), std::move(event)});
  }
  milliseconds Elapsed() const {
    return std::chrono::duration_cast<milliseconds>(clock_.Now() - start_);
  }
  bool Done() const { return events_.empty(); }

  Status Watch(std::string_view) override { return Status::Ok(); }
  void Unwatch(std::string_view) override {}
  void Interrupt() override {}
  StatusOr<std::vector<WatchEvent>> Wait(milliseconds timeout) override {
    auto now = clock_.Now();
    if (events_.empty() || events_.begin()->first > now + timeout) {
      clock_.Advance(timeout);
      return std::vector<WatchEvent>{};
    }
    auto when = events_.begin()->first;
    if (when > now) clock_.Advance(when - now);
    std::vector<WatchEvent> out;
    while (!events_.empty() && events_.begin()->first == when) {
      auto node = events_.extract(events_.begin());
      if (node.mapped().change) node.mapped().change();
      out.push_back(std::move(node.mapped().event));
    }
    return out;
  }

 private:
  struct Scheduled {
    std::function<void()> change;
    WatchEvent event;
  };
  testing::FakeClock& clock_;
  const std::chrono::steady_clock::time_point start_;
  std::multimap<std::chrono::steady_clock::time_point, Scheduled> events_;
};

class ConfigWatcherTimingTest : public ::testing::Test {
 protected:
  struct Report {
    milliseconds at;
    std::string text;
  };

  void SetUp() override {
    char tmpl[] = "/tmp/ferry-cwt-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    options_.dir = dir_;
    writer_ = std::make_unique<testing::AtomicWriter>(dir_);
    ASSERT_TRUE(writer_->WriteOne("datasets.yaml", "v-start").ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Start() {
    watcher_ = std::make_unique<ConfigWatcher>(sim_, clock_, options_,
                                               [this](const ConfigSnapshot& s) {
                                                 reports_.push_back({sim_.Elapsed(), s.text});
                                               });
    watcher_->Iterate(milliseconds(0));  // the start read
    ASSERT_EQ(reports_.size(), 1u);
  }
  // The kubelet's update: a new payload, then the `..data` swap event.
  void SwapAt(milliseconds at, const std::string& text) {
    sim_.At(
        at, [this, text] { ASSERT_TRUE(writer_->WriteOne("datasets.yaml", text).ok()); },
        {WatchEventKind::kMovedTo, dir_, "..data"});
  }
  void EventAt(milliseconds at, WatchEventKind kind, const std::string& name,
               std::function<void()> change = {}) {
    sim_.At(at, std::move(change), {kind, dir_, name});
  }
  // Runs the watcher until every event is delivered and `tail` more has passed.
  void RunFor(milliseconds tail = milliseconds(1'000)) {
    while (!sim_.Done()) watcher_->Iterate(milliseconds(1'000));
    milliseconds end = sim_.Elapsed() + tail;
    while (sim_.Elapsed() < end) watcher_->Iterate(milliseconds(1'000));
  }
  // When `text` was first reported, relative to the start.
  std::optional<milliseconds> SeenAt(const std::string& text) const {
    for (const Report& r : reports_) {
      if (r.text == text) return r.at;
    }
    return std::nullopt;
  }

  std::string dir_;
  ConfigWatcherOptions options_;  // debounce 50 ms, max_delay 300 ms
  testing::FakeClock clock_;
  SimWatcher sim_{clock_};
  std::unique_ptr<testing::AtomicWriter> writer_;
  std::unique_ptr<ConfigWatcher> watcher_;
  std::vector<Report> reports_;
};

// The bimodal p50 of bench/sidecar_e2e: a swap shortly after the previous read
// waited a whole debounce after the swap (50 ms for a gap of 49 ms, 0 ms for
// 50 ms). Now it waits only for the rest of the window: max(0, 50 - gap).
TEST_F(ConfigWatcherTimingTest, SwapAfterAnotherWaitsOnlyForTheRestOfTheWindow) {
  Start();
  std::vector<int> gaps;
  for (int gap = 0; gap <= 120; ++gap) gaps.push_back(gap);
  milliseconds t(1'000);
  for (int gap : gaps) {  // a primer after 300 ms of quiet, then the measured swap
    SwapAt(t, "primer " + std::to_string(gap));
    SwapAt(t + milliseconds(gap), "measured " + std::to_string(gap));
    t += milliseconds(gap + 300);
  }
  RunFor();
  t = milliseconds(1'000);
  for (int gap : gaps) {
    SCOPED_TRACE("gap " + std::to_string(gap) + " ms");
    if (gap > 0) {
      EXPECT_EQ(SeenAt("primer " + std::to_string(gap)), t);  // read at once
    }
    milliseconds swap = t + milliseconds(gap);
    milliseconds expected = gap == 0 ? t : std::max(swap, t + milliseconds(50));
    EXPECT_EQ(SeenAt("measured " + std::to_string(gap)), expected);
    t += milliseconds(gap + 300);
  }
  // Gap 0: both swaps in one batch, one read. Otherwise a primer read at once,
  // and the measured swap at once from 50 ms on, else at the window's end.
  EXPECT_EQ(watcher_->reads(ReadCause::kSwap), gaps.size() + (120 - 50 + 1));
  EXPECT_EQ(watcher_->reads(ReadCause::kWindow), 49u);
  EXPECT_EQ(watcher_->reads(ReadCause::kQuiet), 0u);
}

// An isolated edit is read at once whatever the pacing, as long as the edits
// are at least one debounce apart; the bench's old pacing (~50 ms) included.
TEST_F(ConfigWatcherTimingTest, IsolatedEditsAreReadAtOnceAtAnyPace) {
  Start();
  const std::vector<int> paces = {50, 51, 55, 60, 100, 250, 1'000, 60'001};
  milliseconds t(500);
  int n = 0;
  for (int pace : paces) {
    for (int i = 0; i < 10; ++i, ++n) {
      SwapAt(t, "edit " + std::to_string(n));
      t += milliseconds(pace);
    }
  }
  RunFor();
  t = milliseconds(500);
  n = 0;
  for (int pace : paces) {
    for (int i = 0; i < 10; ++i, ++n) {
      SCOPED_TRACE("pace " + std::to_string(pace) + " ms, edit " + std::to_string(n));
      EXPECT_EQ(SeenAt("edit " + std::to_string(n)), t);
      t += milliseconds(pace);
    }
  }
  EXPECT_EQ(watcher_->reads(ReadCause::kSwap), static_cast<uint64_t>(n));
  EXPECT_EQ(watcher_->reads(ReadCause::kWindow), 0u);
}

// Scenario 4 of issue 4 at the watcher: a burst is coalesced (one read per
// window), the last state is read, within one debounce of the last swap.
TEST_F(ConfigWatcherTimingTest, BurstCostsOneReadPerWindowAndEndsOnTheLastState) {
  Start();
  for (int i = 0; i < 200; ++i) SwapAt(milliseconds(100 + i), "burst " + std::to_string(i));
  RunFor();
  // At once at 100 ms, then as each window ends, at 150, 200, 250 and 300 (the
  // window of the swap at 299 ms), each reading the newest payload.
  EXPECT_EQ(watcher_->reads(ReadCause::kSwap), 1u);
  EXPECT_EQ(watcher_->reads(ReadCause::kWindow), 4u);
  ASSERT_EQ(reports_.size(), 6u);
  EXPECT_EQ(reports_[1].text, "burst 0");
  EXPECT_EQ(reports_[1].at, milliseconds(100));
  EXPECT_EQ(reports_[2].text, "burst 50");  // the swap at 150 ms comes with the window's end
  EXPECT_EQ(reports_[2].at, milliseconds(150));
  EXPECT_EQ(reports_.back().text, "burst 199");
  EXPECT_EQ(reports_.back().at, milliseconds(300));
}

// Whatever the pacing: every swap's content (or a newer one) is read within
// one debounce of the swap, event-driven reads are at least one debounce
// apart, and the last state is read. Random schedules, fixed seeds.
TEST_F(ConfigWatcherTimingTest, RandomSchedulesNeverWaitMoreThanADebounceNorDropTheLastState) {
  Start();
  std::mt19937 rng(4);
  std::vector<milliseconds> swaps;
  milliseconds t(100);
  for (int i = 0; i < 500; ++i) {
    int kind = static_cast<int>(rng() % 4);  // bursts, near the window, isolated
    int gap = kind == 0 ? static_cast<int>(rng() % 5)
                        : kind == 1 ? 30 + static_cast<int>(rng() % 40)
                                    : static_cast<int>(rng() % 400);
    t += milliseconds(gap);
    SwapAt(t, "edit " + std::to_string(i));
    swaps.push_back(t);
  }
  RunFor();
  std::vector<milliseconds> read_at;  // when each edit's content (or a newer one) was read
  std::map<int, milliseconds> by_edit;
  for (size_t r = 1; r < reports_.size(); ++r) {
    by_edit[std::stoi(reports_[r].text.substr(5))] = reports_[r].at;
    if (r > 1) {
      EXPECT_GE(reports_[r].at - reports_[r - 1].at, milliseconds(50));
    }
  }
  ASSERT_FALSE(by_edit.empty());
  EXPECT_EQ(by_edit.rbegin()->first, 499);
  for (int i = 0; i < 500; ++i) {
    auto covered = by_edit.lower_bound(i);  // the first read of this edit or a newer one
    ASSERT_NE(covered, by_edit.end()) << "edit " << i;
    EXPECT_LE(covered->second - swaps[i], milliseconds(50)) << "edit " << i;
    EXPECT_GE(covered->second, swaps[covered->first]) << "edit " << i;
  }
  EXPECT_LT(watcher_->reads(), 500u);
}

// A read is never postponed by in-place events once a swap's read is due, and
// a swap pulls a pending quiet read (an in-place write) in.
TEST_F(ConfigWatcherTimingTest, InPlaceEventsNeverPostponeASwap) {
  Start();
  SwapAt(milliseconds(100), "first");
  SwapAt(milliseconds(120), "second");  // in the window: due at 150
  for (int i = 0; i < 20; ++i) {        // a storm of other events on the key symlink
    EventAt(milliseconds(121 + 5 * i), WatchEventKind::kModified, "datasets.yaml");
  }
  RunFor();
  EXPECT_EQ(SeenAt("second"), milliseconds(150));

  reports_.clear();
  milliseconds t = sim_.Elapsed();
  EventAt(t + milliseconds(10), WatchEventKind::kModified, "datasets.yaml");  // quiet: due +60
  SwapAt(t + milliseconds(20), "third");  // window closed: at once
  RunFor();
  EXPECT_EQ(SeenAt("third"), t + milliseconds(20));
}

// A rename of the file itself into a plain dir (`mv new datasets.yaml`) is
// complete content too; an in-place write still waits for quiet.
TEST_F(ConfigWatcherTimingTest, RenameOfThePlainFileIsReadAtOnceInPlaceWritesAfterQuiet) {
  fs::remove_all(dir_);
  fs::create_directory(dir_);
  Start();
  std::string file = dir_ + "/datasets.yaml";
  EventAt(
      milliseconds(100), WatchEventKind::kMovedTo, "datasets.yaml",
      [file] { std::ofstream(file) << "renamed"; });
  EventAt(
      milliseconds(500), WatchEventKind::kModified, "datasets.yaml",
      [file] { std::ofstream(file) << "in place"; });
  EventAt(milliseconds(520), WatchEventKind::kModified, "datasets.yaml");
  RunFor();
  EXPECT_EQ(SeenAt("renamed"), milliseconds(100));
  EXPECT_EQ(SeenAt("in place"), milliseconds(570));  // 50 ms after the last write
}

// The periodic rescan is not an edit: it does not open a window.
TEST_F(ConfigWatcherTimingTest, RescanDoesNotDelayTheNextEdit) {
  options_.rescan = milliseconds(1'000);
  Start();
  SwapAt(milliseconds(1'010), "after the rescan");
  RunFor(milliseconds(100));
  EXPECT_EQ(watcher_->reads(ReadCause::kRescan), 1u);
  EXPECT_EQ(SeenAt("after the rescan"), milliseconds(1'010));
}

}  // namespace
}  // namespace ferry::sidecar
