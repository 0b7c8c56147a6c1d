#pragma once
// InotifyFileWatcher: FileWatcher on Linux inotify. One inotify instance,
// one directory watch per Watch() (IN_CREATE | IN_DELETE | IN_MOVED_TO |
// IN_MOVED_FROM | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF |
// IN_ONLYDIR; IN_Q_OVERFLOW, IN_UNMOUNT and IN_IGNORED arrive unasked), plus
// an eventfd for Interrupt(). No thread of its own: Wait() polls both fds.
// Bind mounts share inodes, so writes made outside a container's mount
// namespace still raise events inside it.

#include <map>
#include <string>

#include "common/file_watcher.h"
#include "common/mutex.h"
#include "common/unique_fd.h"

namespace ferry {

class InotifyFileWatcher final : public FileWatcher {
 public:
  // kResourceExhausted: inotify instance limit; kInternal otherwise.
  static StatusOr<std::unique_ptr<InotifyFileWatcher>> Create();

  Status Watch(std::string_view dir) override;
  void Unwatch(std::string_view dir) override;
  StatusOr<std::vector<WatchEvent>> Wait(std::chrono::milliseconds timeout) override;
  void Interrupt() override;

 private:
  InotifyFileWatcher(UniqueFd inotify, UniqueFd wake);
  // Decodes one read() worth of records into `out`.
  void Decode(const char* buf, size_t len, std::vector<WatchEvent>& out) FERRY_EXCLUDES(mu_);

  const UniqueFd inotify_;
  const UniqueFd wake_;  // eventfd written by Interrupt()
  // Guards the watch tables. Leaf lock: never held across a blocking call.
  Mutex mu_;
  std::map<int, std::string> dirs_by_wd_ FERRY_GUARDED_BY(mu_);
  std::map<std::string, int, std::less<>> wds_by_dir_ FERRY_GUARDED_BY(mu_);
};

}  // namespace ferry
