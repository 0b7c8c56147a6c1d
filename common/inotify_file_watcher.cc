#include "common/inotify_file_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>

#include <cerrno>
#include <cstdint>
#include <memory>

namespace ferry {
namespace {

constexpr uint32_t kDirMask = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE |
                              IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

}  // namespace

StatusOr<std::unique_ptr<InotifyFileWatcher>> InotifyFileWatcher::Create() {
  UniqueFd in(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!in) return StatusFromErrno(errno, "inotify_init1");
  UniqueFd wake(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake) return StatusFromErrno(errno, "eventfd");
  return std::unique_ptr<InotifyFileWatcher>(
      new InotifyFileWatcher(std::move(in), std::move(wake)));
}

InotifyFileWatcher::InotifyFileWatcher(UniqueFd inotify, UniqueFd wake)
    : inotify_(std::move(inotify)), wake_(std::move(wake)) {}

Status InotifyFileWatcher::Watch(std::string_view dir) {
  std::string path(dir);
  int wd = inotify_add_watch(inotify_.get(), path.c_str(), kDirMask);
  if (wd < 0) {
    int err = errno;
    if (err == ENOSPC) {
      return Status(
          StatusCode::kResourceExhausted,
          "inotify watch on " + path + ": watch limit reached; raise fs.inotify.max_user_watches",
          err);
    }
    if (err == ENOTDIR) {
      return Status(StatusCode::kFailedPrecondition,
                    "inotify watch on " + path + ": not a directory", err);
    }
    return StatusFromErrno(err, "inotify watch on " + path);
  }
  MutexLock lock(mu_);
  // The same inode watched under a new name: keep the newest name.
  if (auto it = dirs_by_wd_.find(wd); it != dirs_by_wd_.end()) wds_by_dir_.erase(it->second);
  dirs_by_wd_[wd] = path;
  wds_by_dir_[path] = wd;
  return Status::Ok();
}

void InotifyFileWatcher::Unwatch(std::string_view dir) {
  MutexLock lock(mu_);
  auto it = wds_by_dir_.find(dir);
  if (it == wds_by_dir_.end()) return;
  (void)inotify_rm_watch(inotify_.get(), it->second);
  dirs_by_wd_.erase(it->second);
  wds_by_dir_.erase(it);
}

void InotifyFileWatcher::Interrupt() {
  uint64_t one = 1;
  // A full counter (EAGAIN) already means "wake up".
  (void)!write(wake_.get(), &one, sizeof(one));
}

void InotifyFileWatcher::Decode(const char* buf, size_t len, std::vector<WatchEvent>& out) {
  MutexLock lock(mu_);
  size_t off = 0;
  while (off + sizeof(inotify_event) <= len) {
    const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
    off += sizeof(inotify_event) + ev->len;
    if (ev->mask & IN_Q_OVERFLOW) {
      out.push_back({WatchEventKind::kOverflow, "", ""});
      continue;
    }
    auto it = dirs_by_wd_.find(ev->wd);
    if (it == dirs_by_wd_.end()) continue;  // a watch removed by Unwatch()
    const std::string& dir = it->second;
    std::string name = ev->len > 0 ? std::string(ev->name) : std::string();
    if (ev->mask & (IN_DELETE_SELF | IN_UNMOUNT)) continue;  // IN_IGNORED follows: report that one
    if (ev->mask & (IN_IGNORED | IN_MOVE_SELF)) {
      // A moved directory keeps its watch under a stale name: drop it; the
      // IN_IGNORED this causes finds no entry and is skipped.
      if (ev->mask & IN_MOVE_SELF) (void)inotify_rm_watch(inotify_.get(), ev->wd);
      out.push_back({WatchEventKind::kWatchGone, dir, ""});
      wds_by_dir_.erase(dir);
      dirs_by_wd_.erase(it);
      continue;
    }
    WatchEventKind kind = WatchEventKind::kModified;
    if (ev->mask & IN_CREATE) {
      kind = WatchEventKind::kCreated;
    } else if (ev->mask & IN_DELETE) {
      kind = WatchEventKind::kDeleted;
    } else if (ev->mask & IN_MOVED_TO) {
      kind = WatchEventKind::kMovedTo;
    } else if (ev->mask & IN_MOVED_FROM) {
      kind = WatchEventKind::kMovedFrom;
    }
    out.push_back({kind, dir, std::move(name)});
  }
}

StatusOr<std::vector<WatchEvent>> InotifyFileWatcher::Wait(std::chrono::milliseconds timeout) {
  std::vector<WatchEvent> events;
  pollfd fds[2] = {{inotify_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  int timeout_ms =
      timeout.count() < 0 ? 0 : static_cast<int>(std::min<int64_t>(timeout.count(), INT32_MAX));
  int n = poll(fds, 2, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return events;
    return StatusFromErrno(errno, "poll inotify");
  }
  if (fds[1].revents & POLLIN) {
    uint64_t count = 0;
    (void)!read(wake_.get(), &count, sizeof(count));
  }
  // 4 KiB holds at least 16 records of maximal name length; loop until drained.
  alignas(inotify_event) char buf[4096];
  while (true) {
    ssize_t r = read(inotify_.get(), buf, sizeof(buf));
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return StatusFromErrno(errno, "read inotify");
    }
    if (r == 0) break;
    Decode(buf, static_cast<size_t>(r), events);
  }
  return events;
}

}  // namespace ferry
