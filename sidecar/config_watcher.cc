#include "sidecar/config_watcher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/logging.h"
#include "common/unique_fd.h"

namespace ferry::sidecar {
namespace {

constexpr char kDataLink[] = "..data";
constexpr size_t kMaxSpecBytes = 4 << 20;  // ConfigMaps hold at most 1 MiB

// Reads a whole file; kNotFound when missing.
StatusOr<std::string> ReadWholeFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return StatusFromErrno(errno, "open " + path);
  std::string out;
  char buf[16 * 1024];
  while (true) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return StatusFromErrno(errno, "read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxSpecBytes) {
      return ResourceExhausted(path + " is larger than 4 MiB; a ConfigMap holds at most 1 MiB");
    }
  }
  return out;
}

using Millis = std::chrono::duration<double, std::milli>;

}  // namespace

std::string_view ReadCauseName(ReadCause cause) {
  switch (cause) {
    case ReadCause::kStart:
      return "start";
    case ReadCause::kSwap:
      return "at once";
    case ReadCause::kWindow:
      return "end of window";
    case ReadCause::kQuiet:
      return "after quiet";
    case ReadCause::kRescan:
      return "rescan";
  }
  return "?";
}

uint64_t ConfigTextHash(std::string_view data) {
  uint64_t h = 14695981039346656037ULL;
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

ConfigSnapshot ReadConfigSnapshot(const std::string& dir, const std::string& file_name) {
  ConfigSnapshot snap;
  struct stat st {};
  std::string data_link = dir + "/" + kDataLink;
  std::string path =
      lstat(data_link.c_str(), &st) == 0 ? data_link + "/" + file_name : dir + "/" + file_name;
  StatusOr<std::string> text = ReadWholeFile(path);
  if (text.ok()) {
    snap.present = true;
    snap.text = std::move(text).value();
  } else if (!text.status().Is(StatusCode::kNotFound)) {
    snap.error = text.status();
  }
  snap.hash = ConfigTextHash(snap.text);
  return snap;
}

ConfigWatcher::ConfigWatcher(FileWatcher& watcher, Clock& clock, ConfigWatcherOptions options,
                             ChangeFn on_change, TickFn on_tick)
    : watcher_(watcher),
      clock_(clock),
      options_(std::move(options)),
      on_change_(std::move(on_change)),
      on_tick_(std::move(on_tick)) {
  TimePoint now = clock_.Now();
  next_watch_try_ = now;
  next_rescan_ = now + options_.rescan;
  next_tick_ = now + options_.tick;
  // The initial read happens on the first Iterate(), right after the watch is
  // set up, so no change between the two can be missed.
  pending_since_ = now;
  swap_due_ = now;
  swap_cause_ = ReadCause::kStart;
}

void ConfigWatcher::Run() {
  while (!stop_.load()) Iterate(options_.tick);
}

void ConfigWatcher::Stop() {
  stop_.store(true);
  watcher_.Interrupt();
}

void ConfigWatcher::EnsureWatch(TimePoint now) {
  if (watching_ || now < next_watch_try_) return;
  Status s = watcher_.Watch(options_.dir);
  if (s.ok()) {
    watching_ = true;
    GetLogger("sidecar.config")
        ->info("watching {} for changes of {}", options_.dir, options_.file_name);
    if (!pending_since_) OnUnsettled(now);  // the dir may have changed while unwatched
    return;
  }
  next_watch_try_ = now + options_.retry_watch;
  GetLogger("sidecar.config")
      ->warn("cannot watch {} (retrying every {} ms): {}", options_.dir,
             options_.retry_watch.count(), s.ToString());
}

void ConfigWatcher::OnSwap(TimePoint now) {
  // The rename is atomic: the content is complete now. Read it at once, but at
  // most one event-driven read per `debounce`: within the window of the last
  // one, read as the window ends (trailing edge), whatever else comes by then.
  TimePoint due = now;
  ReadCause cause = ReadCause::kSwap;
  if (window_start_ && now < *window_start_ + options_.debounce) {
    due = *window_start_ + options_.debounce;
    cause = ReadCause::kWindow;
  }
  if (!pending_since_) pending_since_ = now;
  if (!swap_due_ || due < *swap_due_) {
    swap_due_ = due;
    swap_cause_ = cause;
  }
}

void ConfigWatcher::OnUnsettled(TimePoint now) {
  // A pending swap (or first) read covers this event: it reads through
  // `..data`, which an in-place write does not touch, and is never postponed.
  if (swap_due_) return;
  // Otherwise the content may be mid-write: wait for `debounce` of quiet, at
  // most `max_delay` after the first event.
  if (!pending_since_) pending_since_ = now;
  quiet_due_ = std::min(now + options_.debounce, *pending_since_ + options_.max_delay);
}

std::optional<ConfigWatcher::TimePoint> ConfigWatcher::ReadDue() const {
  if (swap_due_ && quiet_due_) return std::min(*swap_due_, *quiet_due_);
  return swap_due_ ? swap_due_ : quiet_due_;
}

void ConfigWatcher::HandleEvents(const std::vector<WatchEvent>& events, TimePoint now) {
  for (const WatchEvent& ev : events) {
    switch (ev.kind) {
      case WatchEventKind::kOverflow:
        OnUnsettled(now);
        break;
      case WatchEventKind::kWatchGone: {
        // Braced: clang 14's ASan reports the logger temporary as used after
        // scope when a later case label jumps past it.
        GetLogger("sidecar.config")
            ->warn("{} went away; watching it again when it is back", options_.dir);
        watching_ = false;
        next_watch_try_ = now;
        OnUnsettled(now);
        break;
      }
      default:
        if (ev.name != kDataLink && ev.name != options_.file_name) break;
        if (ev.kind == WatchEventKind::kMovedTo) {
          OnSwap(now);
        } else {
          OnUnsettled(now);
        }
        break;
    }
  }
}

void ConfigWatcher::ReadAndReport(TimePoint now) {
  ReadCause cause = swap_due_ && (!quiet_due_ || *swap_due_ <= *quiet_due_) ? swap_cause_
                                                                            : ReadCause::kQuiet;
  double waited = Millis(now - pending_since_.value_or(now)).count();
  double since = last_read_ ? Millis(now - *last_read_).count() : -1;
  pending_since_.reset();
  swap_due_.reset();
  quiet_due_.reset();
  last_read_ = now;
  if (cause != ReadCause::kStart && cause != ReadCause::kRescan) window_start_ = now;
  next_rescan_ = now + options_.rescan;
  ConfigSnapshot snap = ReadConfigSnapshot(options_.dir, options_.file_name);
  ++reads_;
  ++reads_by_[static_cast<int>(cause)];
  bool changed = !last_ || !last_->SameAs(snap);
  // bench/sidecar_e2e/run.py parses this line (FERRY_LOG_LEVEL=debug).
  GetLogger("sidecar.config")
      ->debug("read {} ({}): {:.1f} ms after its first event, {:.1f} ms after the previous read, "
              "{}, hash {:016x}",
              reads_.load(), ReadCauseName(cause), waited, since,
              changed ? "changed" : "unchanged", snap.hash);
  if (!changed) return;
  last_ = snap;
  ++reports_;
  on_change_(snap);
}

ConfigWatcher::TimePoint ConfigWatcher::NextDeadline() const {
  TimePoint t = std::min(next_rescan_, next_tick_);
  if (std::optional<TimePoint> due = ReadDue()) t = std::min(t, *due);
  if (!watching_) t = std::min(t, next_watch_try_);
  return t;
}

void ConfigWatcher::Iterate(std::chrono::milliseconds max_wait) {
  EnsureWatch(clock_.Now());
  TimePoint now = clock_.Now();
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(NextDeadline() - now);
  wait = std::clamp(wait, std::chrono::milliseconds(0), max_wait);
  if (watching_) {
    StatusOr<std::vector<WatchEvent>> events = watcher_.Wait(wait);
    now = clock_.Now();
    if (events.ok()) {
      HandleEvents(*events, now);
    } else {
      GetLogger("sidecar.config")
          ->error("file watcher failed, re-creating the watch: {}", events.status().ToString());
      watching_ = false;
      next_watch_try_ = now + options_.retry_watch;
    }
  } else if (wait.count() > 0) {
    // No watch to wait on: sleep through the watcher so Stop() still wakes us.
    (void)watcher_.Wait(wait);
    now = clock_.Now();
  }
  if (stop_.load()) return;
  if (now >= next_rescan_ && !pending_since_) {
    pending_since_ = now;  // backstop re-read, no debounce needed
    swap_due_ = now;
    swap_cause_ = ReadCause::kRescan;
  }
  if (std::optional<TimePoint> due = ReadDue(); due && now >= *due) ReadAndReport(now);
  if (now >= next_tick_) {
    next_tick_ = now + options_.tick;
    if (on_tick_) on_tick_();
  }
}

}  // namespace ferry::sidecar
