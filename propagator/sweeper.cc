#include "propagator/sweeper.h"

#include <algorithm>
#include <cerrno>
#include <set>

#include "common/logging.h"
#include "propagator/mount_manager.h"

namespace ferry::propagator {
namespace {

// A mount stack deeper than this under one path is not something a previous
// instance left; stop instead of looping.
constexpr int kMaxPasses = 32;

bool StrictlyBelow(const std::string& path, const std::string& dir) {
  return path != dir && PathIsWithin(path, dir);
}

}  // namespace

Status StaleMountSweeper::DetachAndRemove(const std::string& path, const std::string& why,
                                          std::vector<std::string>& swept) {
  Status s = mounter_.Unmount(path, /*detach=*/true);
  if (!s.ok() && !IsAlreadyUnmounted(s)) {
    GetLogger("propagator")->error("sweep: cannot detach stale mount {} ({}): {}", path, why,
                                   s.ToString());
    return s;
  }
  swept.push_back(path);
  SysResult<int> r = sys_.Rmdir(path);
  // A stacked mount may still sit on the path (EBUSY); a later pass removes it.
  bool removed = r.err == 0;
  GetLogger("propagator")
      ->warn("sweep: detached stale mount {} ({}){}", path, why,
             removed ? ", removed its directory" : "");
  return Status::Ok();
}

Status StaleMountSweeper::SweepFerryMounts(std::vector<std::string>& swept) {
  std::set<std::string> failed;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    FERRY_ASSIGN_OR_RETURN(std::vector<MountInfo> table, mounter_.List());
    std::vector<std::string> targets;
    for (const MountInfo& m : table) {
      if (m.fstype == kFuseFsType && StrictlyBelow(m.mount_point, mnt_dir_) &&
          failed.count(m.mount_point) == 0) {
        targets.push_back(m.mount_point);
      }
    }
    if (targets.empty()) return Status::Ok();
    // Deepest first, so a parent's detach never hides a child we still list.
    std::sort(targets.begin(), targets.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    for (const std::string& t : targets) {
      if (!DetachAndRemove(t, "fuse.ferry mount of a previous instance", swept).ok()) {
        failed.insert(t);
      }
    }
  }
  return Status::Ok();
}

Status StaleMountSweeper::SweepDeadEntries(std::vector<std::string>& swept) {
  std::set<std::string> failed;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    std::set<std::string> candidates;
    FERRY_ASSIGN_OR_RETURN(std::vector<MountInfo> table, mounter_.List());
    for (const MountInfo& m : table) {
      if (StrictlyBelow(m.mount_point, mnt_dir_)) candidates.insert(m.mount_point);
    }
    SysResult<std::vector<std::string>> entries = sys_.ListDir(mnt_dir_);
    if (entries.err != 0) return StatusFromErrno(entries.err, "list " + mnt_dir_);
    for (const std::string& e : entries.value) candidates.insert(mnt_dir_ + "/" + e);
    bool acted = false;
    // Longest paths first: a dead child mount is detached before its parent.
    std::vector<std::string> ordered(candidates.begin(), candidates.end());
    std::sort(ordered.begin(), ordered.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    for (const std::string& path : ordered) {
      if (failed.count(path) != 0) continue;
      SysResult<struct stat> st = sys_.Stat(path);
      if (st.err != ENOTCONN) continue;
      if (DetachAndRemove(path, "transport endpoint is not connected", swept).ok()) {
        acted = true;
      } else {
        failed.insert(path);
      }
    }
    if (!acted) return Status::Ok();
  }
  return Status::Ok();
}

StatusOr<std::vector<std::string>> StaleMountSweeper::DetachFerryMounts() {
  std::vector<std::string> swept;
  FERRY_RETURN_IF_ERROR(SweepFerryMounts(swept));
  return swept;
}

StatusOr<std::vector<std::string>> StaleMountSweeper::Sweep() {
  std::vector<std::string> swept;
  FERRY_RETURN_IF_ERROR(SweepFerryMounts(swept));
  FERRY_RETURN_IF_ERROR(SweepDeadEntries(swept));
  GetLogger("propagator")
      ->info("sweep of {}: {} stale mount(s) detached", mnt_dir_, swept.size());
  return swept;
}

}  // namespace ferry::propagator
