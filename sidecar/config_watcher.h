#pragma once
// ConfigWatcher: follows the dataset spec file in the projected config volume
// (default /etc/ferry/datasets.yaml) and reports each new content.
//
// The kubelet updates the volume with its AtomicWriter: a new timestamped dir,
// then a symlink rename over `..data`, then the key symlinks. So the watcher
// watches the directory (FileWatcher), reacts to events naming `..data` or the
// file itself (plain dirs edited in place work too), overflow and a vanished
// watch, and re-reads the file by path: `<dir>/..data/<file>` when `..data`
// exists (right after a first swap the key symlink may not exist yet), else
// `<dir>/<file>`.
//
// When to read (a leading + trailing edge throttle): a rename into place (the
// `..data` swap, or `mv` of the file itself) brings complete content, so it is
// read at once, unless an event-driven read was taken less than `debounce`
// ago; then it is read when that window ends, one read for however many swaps
// came within it. So an isolated edit is never delayed, a swap `gap` after the
// previous read waits `debounce - gap` (no cliff: the wait shrinks as the gap
// grows), a storm costs at most one read per `debounce`, and the last state is
// always read. Other events (in-place writes, creates, deletes, an overflow, a
// re-established watch) may arrive mid-write: they wait for `debounce` of
// quiet, at most `max_delay` after the first, unless a swap's read is due
// sooner. A full re-read every `rescan` is the backstop for lost events; a
// missing dir is retried every `retry_watch`.
// Content is compared with the last report, so an event storm or a rescan
// without change reports nothing.
//
// Threading: Run() (or Iterate() in tests) on one thread, the "reconcile
// thread"; the callbacks run on it. Stop() from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/file_watcher.h"
#include "common/status.h"

namespace ferry::sidecar {

// Why a read was taken (counters, and the debug log line of every read).
enum class ReadCause : uint8_t {
  kStart,   // the first read, after the watch is set up
  kSwap,    // a rename into place, read at once (leading edge)
  kWindow,  // renames within `debounce` of the previous read, read as the window ends
  kQuiet,   // other events, read after `debounce` of quiet (at most `max_delay`)
  kRescan,  // the periodic backstop
};
inline constexpr int kReadCauses = 5;
std::string_view ReadCauseName(ReadCause cause);

// One observation of the spec file.
struct ConfigSnapshot {
  bool present = false;  // the file exists (a missing optional ConfigMap means "no datasets")
  std::string text;      // its content when present
  Status error;          // a read error other than "missing" (text is then empty)
  uint64_t hash = 0;     // FNV-1a of text, for logs
  bool SameAs(const ConfigSnapshot& o) const {
    return present == o.present && text == o.text && error.ToString() == o.error.ToString();
  }
};

struct ConfigWatcherOptions {
  std::string dir = "/etc/ferry";
  std::string file_name = "datasets.yaml";
  std::chrono::milliseconds debounce{50};
  std::chrono::milliseconds max_delay{300};
  std::chrono::milliseconds rescan{60'000};
  std::chrono::milliseconds retry_watch{1'000};
  std::chrono::milliseconds tick{1'000};  // on_tick period (housekeeping)
};

// FNV-1a 64-bit of the spec text, for logs.
uint64_t ConfigTextHash(std::string_view data);

// Reads the spec file of `dir` as described above. Never fails: errors land in
// ConfigSnapshot::error.
ConfigSnapshot ReadConfigSnapshot(const std::string& dir, const std::string& file_name);

class ConfigWatcher {
 public:
  using ChangeFn = std::function<void(const ConfigSnapshot&)>;
  using TickFn = std::function<void()>;

  // `on_change` gets the first read unconditionally, then every change.
  // `on_tick` (may be empty) runs about every options.tick.
  ConfigWatcher(FileWatcher& watcher, Clock& clock, ConfigWatcherOptions options,
                ChangeFn on_change, TickFn on_tick = {});
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  // Loops Iterate() until Stop(). Call from the reconcile thread.
  void Run();
  // Makes Run() return soon. Thread-safe.
  void Stop();

  // One step: (re)establishes the watch if due, waits for events at most until
  // the next deadline (never longer than `max_wait`), handles them, reads and
  // reports if a read is due. Exposed for deterministic tests.
  void Iterate(std::chrono::milliseconds max_wait);

  // Counters, readable from any thread.
  uint64_t reads() const { return reads_.load(); }      // file reads done
  uint64_t reads(ReadCause cause) const { return reads_by_[static_cast<int>(cause)].load(); }
  uint64_t reports() const { return reports_.load(); }  // on_change calls
  bool watching() const { return watching_.load(); }

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  void EnsureWatch(TimePoint now);
  void HandleEvents(const std::vector<WatchEvent>& events, TimePoint now);
  // A rename into place: read now, or as the current window ends.
  void OnSwap(TimePoint now);
  // An event that may come mid-write: read after `debounce` of quiet.
  void OnUnsettled(TimePoint now);
  std::optional<TimePoint> ReadDue() const;  // when the pending read is taken, if any
  void ReadAndReport(TimePoint now);
  TimePoint NextDeadline() const;

  FileWatcher& watcher_;
  Clock& clock_;
  const ConfigWatcherOptions options_;
  const ChangeFn on_change_;
  const TickFn on_tick_;

  std::atomic<bool> stop_{false};
  // Reconcile-thread state.
  std::atomic<bool> watching_{false};
  TimePoint next_watch_try_{};
  std::optional<TimePoint> pending_since_;  // first event not yet covered by a read
  std::optional<TimePoint> swap_due_;       // a swap's (or the first) read: never postponed
  ReadCause swap_cause_ = ReadCause::kStart;
  std::optional<TimePoint> quiet_due_;  // other events: each postpones it, up to max_delay
  std::optional<TimePoint> last_read_;      // any read (for logs)
  std::optional<TimePoint> window_start_;   // last event-driven read: the throttle window
  TimePoint next_rescan_{};
  TimePoint next_tick_{};
  std::optional<ConfigSnapshot> last_;
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> reports_{0};
  std::atomic<uint64_t> reads_by_[kReadCauses] = {};
};

}  // namespace ferry::sidecar
