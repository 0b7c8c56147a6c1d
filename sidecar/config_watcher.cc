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

}  // namespace

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
  read_due_ = now;
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
    if (!pending_since_) ScheduleRead(now);  // the dir may have changed while unwatched
    return;
  }
  next_watch_try_ = now + options_.retry_watch;
  GetLogger("sidecar.config")
      ->warn("cannot watch {} (retrying every {} ms): {}", options_.dir,
             options_.retry_watch.count(), s.ToString());
}

void ConfigWatcher::ScheduleRead(TimePoint now) {
  if (!pending_since_) pending_since_ = now;
  read_due_ = std::min(now + options_.debounce, *pending_since_ + options_.max_delay);
}

void ConfigWatcher::HandleEvents(const std::vector<WatchEvent>& events, TimePoint now) {
  for (const WatchEvent& ev : events) {
    switch (ev.kind) {
      case WatchEventKind::kOverflow:
        ScheduleRead(now);
        break;
      case WatchEventKind::kWatchGone: {
        // Braced: clang 14's ASan reports the logger temporary as used after
        // scope when a later case label jumps past it.
        GetLogger("sidecar.config")
            ->warn("{} went away; watching it again when it is back", options_.dir);
        watching_ = false;
        next_watch_try_ = now;
        ScheduleRead(now);
        break;
      }
      default:
        if (ev.name != kDataLink && ev.name != options_.file_name) break;
        ScheduleRead(now);
        // The `..data` rename is atomic: the new content is complete, so the
        // first swap after a quiet period is read at once (leading edge); any
        // further events of the burst wait for the trailing debounced read.
        if (ev.kind == WatchEventKind::kMovedTo && ev.name == kDataLink &&
            (!last_read_ || now - *last_read_ >= options_.debounce)) {
          read_due_ = now;
        }
        break;
    }
  }
}

void ConfigWatcher::ReadAndReport(TimePoint now) {
  pending_since_.reset();
  last_read_ = now;
  next_rescan_ = now + options_.rescan;
  ConfigSnapshot snap = ReadConfigSnapshot(options_.dir, options_.file_name);
  ++reads_;
  if (last_ && last_->SameAs(snap)) return;
  last_ = snap;
  ++reports_;
  on_change_(snap);
}

ConfigWatcher::TimePoint ConfigWatcher::NextDeadline() const {
  TimePoint t = std::min(next_rescan_, next_tick_);
  if (pending_since_) t = std::min(t, read_due_);
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
    read_due_ = now;
  }
  if (pending_since_ && now >= read_due_) ReadAndReport(now);
  if (now >= next_tick_) {
    next_tick_ = now + options_.tick;
    if (on_tick_) on_tick_();
  }
}

}  // namespace ferry::sidecar
