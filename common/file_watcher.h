#pragma once
// FileWatcher: the seam for "tell me when entries of a directory change"
// (STYLE R3). The config watcher uses it to see the kubelet's `..data` symlink
// swap; ferryctl uses it to wait for status.json. Implementations watch the
// directory itself, never the inodes of files in it: an atomic swap replaces
// those inodes, so a file watch would go silent after the first update.
//
// Events are hints, not a journal: a consumer re-reads what it cares about by
// path after an event. kOverflow means events were lost (re-read everything);
// kWatchGone means the directory itself was deleted or moved away (watch again
// later). InotifyFileWatcher is the real implementation; tests use
// testing::FakeFileWatcher.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry {

enum class WatchEventKind : uint8_t {
  kCreated,    // an entry appeared (file, dir or symlink; IN_CREATE)
  kDeleted,    // an entry was removed (IN_DELETE)
  kMovedTo,    // an entry was renamed into the dir or over another (IN_MOVED_TO)
  kMovedFrom,  // an entry was renamed away (IN_MOVED_FROM)
  kModified,   // a file in the dir was written and closed, or its attributes changed
  kOverflow,   // the event queue overflowed: events were lost
  kWatchGone,  // the watched directory was deleted, moved or unmounted
};

std::string_view WatchEventKindName(WatchEventKind kind);

struct WatchEvent {
  WatchEventKind kind = WatchEventKind::kModified;
  std::string dir;   // the watched directory, as given to Watch()
  std::string name;  // entry name inside `dir`; empty for kOverflow and kWatchGone
  bool operator==(const WatchEvent&) const = default;
};

class FileWatcher {
 public:
  FileWatcher() = default;
  virtual ~FileWatcher() = default;
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  // Starts watching the entries of directory `dir` (not recursive). Watching a
  // directory twice is a no-op. kNotFound: no such directory (callers retry
  // later); kFailedPrecondition: not a directory; kResourceExhausted: watch
  // limit reached. Thread-safe.
  virtual Status Watch(std::string_view dir) = 0;

  // Stops watching `dir`; unknown dirs are ignored. Thread-safe.
  virtual void Unwatch(std::string_view dir) = 0;

  // Blocks until at least one event is available, `timeout` passes or
  // Interrupt() is called, and returns every event queued by then (empty on
  // timeout or interrupt). Errors only for a broken watcher (kInternal). Call
  // from one thread at a time.
  virtual StatusOr<std::vector<WatchEvent>> Wait(std::chrono::milliseconds timeout) = 0;

  // Makes the current (or next) Wait() return at once. Thread-safe.
  virtual void Interrupt() = 0;
};

}  // namespace ferry
