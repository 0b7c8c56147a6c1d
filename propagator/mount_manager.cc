#include "propagator/mount_manager.h"

#include <fcntl.h>
#include <sys/mount.h>

#include "common/logging.h"

namespace ferry::propagator {
namespace {

std::shared_ptr<spdlog::logger> Log() { return GetLogger("propagator"); }

// Removes a directory the manager made, on every early return (STYLE R4).
class DirGuard {
 public:
  DirGuard(Sys& sys, std::string path, bool active)
      : sys_(sys), path_(std::move(path)), active_(active) {}
  ~DirGuard() {
    if (active_) (void)sys_.Rmdir(path_);
  }
  DirGuard(const DirGuard&) = delete;
  DirGuard& operator=(const DirGuard&) = delete;
  void Release() { active_ = false; }

 private:
  Sys& sys_;
  std::string path_;
  bool active_;
};

}  // namespace

Status ValidateDatasetName(std::string_view name) {
  if (name.empty()) return InvalidArgument("dataset name is empty");
  if (name.size() > 63) {
    return InvalidArgument("dataset name \"" + std::string(name.substr(0, 63)) +
                           "...\" is longer than 63 characters");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) {
      return InvalidArgument("dataset name \"" + std::string(name) +
                             "\" may only hold lower-case letters, digits and '-'");
    }
  }
  if (name.front() == '-') {
    return InvalidArgument("dataset name \"" + std::string(name) + "\" must not start with '-'");
  }
  return Status::Ok();
}

MountManager::MountManager(Sys& sys, Mounter& mounter, MountManagerOptions options)
    : sys_(sys), mounter_(mounter), options_(std::move(options)) {}

MountManager::~MountManager() = default;

std::string MountManager::PathFor(std::string_view name) const {
  return options_.mnt_dir + "/" + std::string(name);
}

Status MountManager::PrepareMountPoint(const std::string& path, bool& created_dir) {
  created_dir = false;
  // Ask the mount table before touching the path: stat() on a foreign, hung
  // FUSE mount would block the event loop.
  FERRY_ASSIGN_OR_RETURN(std::vector<MountInfo> table, mounter_.List());
  for (const MountInfo& m : table) {
    if (m.mount_point == path) {
      return AlreadyExists("something is already mounted at " + path + " (" + m.fstype +
                           "); unmount it first");
    }
  }
  SysResult<struct stat> st = sys_.Lstat(path);
  if (st.err == ENOENT) {
    SysResult<int> r = sys_.Mkdir(path, 0755);
    if (r.err != 0) return StatusFromErrno(r.err, "mkdir " + path);
    created_dir = true;
    return Status::Ok();
  }
  if (st.err != 0) return StatusFromErrno(st.err, "stat " + path);
  if (!S_ISDIR(st.value.st_mode)) {
    return FailedPrecondition(path + " exists and is not a directory; remove it");
  }
  SysResult<std::vector<std::string>> entries = sys_.ListDir(path);
  if (entries.err != 0) return StatusFromErrno(entries.err, "list " + path);
  if (!entries.value.empty()) {
    return FailedPrecondition(path + " is a non-empty directory; refusing to mount over it");
  }
  return Status::Ok();
}

StatusOr<UniqueFd> MountManager::Mount(const FuseMountRequest& request) {
  FERRY_RETURN_IF_ERROR(ValidateDatasetName(request.name));
  if (Contains(request.name)) {
    return AlreadyExists("dataset \"" + request.name + "\" is already mounted; unmount it first");
  }
  std::string path = PathFor(request.name);
  bool created_dir = false;
  FERRY_RETURN_IF_ERROR(PrepareMountPoint(path, created_dir));
  DirGuard dir_guard(sys_, path, created_dir);

  SysResult<int> fd = sys_.Open(options_.fuse_device, O_RDWR | O_CLOEXEC);
  if (fd.err != 0) return StatusFromErrno(fd.err, "open " + options_.fuse_device);
  UniqueFd fuse_fd(fd.value);

  unsigned long flags = MS_NOSUID | MS_NODEV | (request.read_only ? MS_RDONLY : 0);
  std::string fsname = request.fsname.empty() ? "ferry:" + request.name : request.fsname;
  FERRY_RETURN_IF_ERROR(mounter_.Mount(fsname, path, kFuseFsType, flags,
                                       FuseMountData(fuse_fd.get(), options_.max_read_bytes)));
  MountGuard mount_guard(mounter_, path);

  SysResult<int> dup = sys_.Dup(fuse_fd.get());
  if (dup.err != 0) return StatusFromErrno(dup.err, "dup the /dev/fuse fd");
  TuneConnection(path, request.name);

  Entry entry;
  entry.read_only = request.read_only;
  entry.fsname = fsname;
  entry.created_dir = created_dir;
  entry.fuse_fd = UniqueFd(dup.value);
  mounts_.emplace(request.name, std::move(entry));
  mount_guard.Release();
  dir_guard.Release();
  Log()->info("mounted {} at {} ({}, fd {})", fsname, path,
              request.read_only ? "read-only" : "read-write", fuse_fd.get());
  return fuse_fd;
}

void MountManager::TuneConnection(const std::string& path, std::string_view name) {
  StatusOr<std::vector<MountInfo>> table = mounter_.List();
  if (!table.ok()) {
    Log()->warn("{}: cannot read the mount table to tune read-ahead: {}", name,
                table.status().ToString());
    return;
  }
  const MountInfo* mine = nullptr;
  for (const MountInfo& m : *table) {
    if (m.mount_point == path && m.fstype == kFuseFsType) mine = &m;
  }
  if (mine == nullptr) {
    Log()->warn("{}: new mount at {} missing from the mount table; read-ahead not tuned", name,
                path);
    return;
  }
  std::string bdi = options_.bdi_dir + "/" + std::to_string(mine->major) + ":" +
                    std::to_string(mine->minor) + "/read_ahead_kb";
  SysResult<int> r = sys_.WriteFile(bdi, std::to_string(options_.read_ahead_kb));
  if (r.err != 0) {
    Log()->warn("{}: cannot set {}: {}", name, bdi, StatusFromErrno(r.err, "write").ToString());
  }
  // The fusectl directory is named after the kernel's internal dev_t encoding.
  uint64_t dev = (static_cast<uint64_t>(mine->major) << 20) | mine->minor;
  std::string conn = options_.fuse_connections_dir + "/" + std::to_string(dev);
  if (sys_.Lstat(conn).err != 0) return;  // fusectl not mounted: nothing to raise
  std::string bg = conn + "/max_background";
  r = sys_.WriteFile(bg, std::to_string(options_.max_background));
  if (r.err != 0) {
    Log()->warn("{}: cannot set {}: {}", name, bg, StatusFromErrno(r.err, "write").ToString());
  }
}

void MountManager::DetachEntry(const std::string& name, Entry& entry) {
  std::string path = PathFor(name);
  Status s = mounter_.Unmount(path, /*detach=*/true);
  if (!s.ok() && !IsAlreadyUnmounted(s)) {
    Log()->error("unmount {}: {}", path, s.ToString());
  }
  SysResult<int> r = sys_.Rmdir(path);
  if (r.err != 0 && r.err != ENOENT) {
    Log()->warn("rmdir {}: {}", path, StatusFromErrno(r.err, "rmdir").ToString());
  }
  entry.fuse_fd.Reset();
  Log()->info("unmounted {} from {} (lazy detach)", entry.fsname, path);
}

Status MountManager::Unmount(std::string_view name) {
  FERRY_RETURN_IF_ERROR(ValidateDatasetName(name));
  auto it = mounts_.find(name);
  if (it == mounts_.end()) {
    Log()->info("unmount {}: not mounted, nothing to do", name);
    return Status::Ok();
  }
  DetachEntry(it->first, it->second);
  mounts_.erase(it);
  return Status::Ok();
}

StatusOr<int> MountManager::FuseFd(std::string_view name) const {
  auto it = mounts_.find(name);
  if (it == mounts_.end()) return NotFound("no mount named \"" + std::string(name) + "\"");
  return it->second.fuse_fd.get();
}

Status MountManager::SaveState(std::string_view name, std::string_view state) {
  auto it = mounts_.find(name);
  if (it == mounts_.end()) {
    return NotFound("cannot save state for \"" + std::string(name) + "\": it is not mounted");
  }
  it->second.state = std::string(state);
  return Status::Ok();
}

StatusOr<std::vector<KeptMount>> MountManager::Adopt() {
  std::vector<KeptMount> out;
  for (const auto& [name, entry] : mounts_) {
    SysResult<int> dup = sys_.Dup(entry.fuse_fd.get());
    if (dup.err != 0) return StatusFromErrno(dup.err, "dup the kept fd of " + name);
    KeptMount k;
    k.name = name;
    k.read_only = entry.read_only;
    k.state = entry.state;
    k.fuse_fd = UniqueFd(dup.value);
    out.push_back(std::move(k));
  }
  return out;
}

size_t MountManager::DetachAll() {
  size_t n = 0;
  for (auto& [name, entry] : mounts_) {
    DetachEntry(name, entry);
    ++n;
  }
  mounts_.clear();
  return n;
}

}  // namespace ferry::propagator
