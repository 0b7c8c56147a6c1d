#include "ferryctl/probe.h"

#include <sys/stat.h>

#include <algorithm>

#include "ferryctl/status_file.h"

namespace ferry::ferryctl {
namespace {

bool IsDir(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

ProbeResult ProbeOnce(std::string_view mnt_dir) {
  auto status = ReadSidecarStatus(mnt_dir);
  if (!status.ok()) return {1, "not ready: " + std::string(status.status().message())};
  if (status->ready) {
    size_t failed = 0;
    for (const DatasetRow& d : status->datasets) failed += d.phase == "Failed" ? 1 : 0;
    std::string msg = "ready: " + std::to_string(status->datasets.size()) + " datasets";
    if (failed > 0) msg += ", " + std::to_string(failed) + " failed (see ferryctl status)";
    return {0, msg};
  }
  return {1, "not ready: " + NotReadyReason(*status)};
}

ProbeResult ProbeWait(std::string_view mnt_dir, std::chrono::milliseconds timeout,
                      FileWatcher& watcher, Clock& clock) {
  const auto deadline = clock.Now() + timeout;
  const std::string mnt(mnt_dir);
  const std::string ferry_dir = mnt + "/.ferry";
  std::string watched;
  while (true) {
    ProbeResult r = ProbeOnce(mnt_dir);
    if (r.exit_code == 0) return r;
    auto now = clock.Now();
    if (now >= deadline) {
      r.message += " (gave up after " + std::to_string(timeout.count() / 1000) + " s)";
      return r;
    }
    // Watch the status dir; the mount dir only until the status dir exists.
    std::string want = IsDir(ferry_dir) ? ferry_dir : mnt;
    if (want != watched) {
      if (!watched.empty()) watcher.Unwatch(watched);
      watched = watcher.Watch(want).ok() ? want : "";
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    (void)watcher.Wait(
        std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(250)));
  }
}

}  // namespace ferry::ferryctl
