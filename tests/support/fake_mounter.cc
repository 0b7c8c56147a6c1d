#include "tests/support/fake_mounter.h"

#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace ferry::testing {

FakeMounter::FakeMounter(FakeSys* sys) : sys_(sys) {}

void FakeMounter::AddMount(MountInfo m) {
  MutexLock lock(mu_);
  if (m.mount_id == 0) m.mount_id = next_id_++;
  table_.push_back(std::move(m));
}

void FakeMounter::AddRootAndTmpfs(const std::string& dir, bool shared) {
  std::string text = "1 0 254:0 / / rw,relatime - ext4 /dev/vda rw\n2 1 0:50 / " + dir +
                     " rw,relatime " + (shared ? "shared:1 " : "") + "- tmpfs tmpfs rw\n";
  StatusOr<std::vector<MountInfo>> parsed = ParseMountInfo(text);
  FERRY_CHECK(parsed.ok());
  for (MountInfo& m : *parsed) AddMount(std::move(m));
}

void FakeMounter::FailNext(const std::string& op, Status s, bool sticky) {
  MutexLock lock(mu_);
  failures_.push_back({op, std::move(s), sticky});
}

std::vector<std::string> FakeMounter::Log() const {
  MutexLock lock(mu_);
  return log_;
}

void FakeMounter::ClearLog() {
  MutexLock lock(mu_);
  log_.clear();
}

std::vector<MountInfo> FakeMounter::Table() const {
  MutexLock lock(mu_);
  return table_;
}

std::vector<MountInfo> FakeMounter::MountsAt(const std::string& path) const {
  MutexLock lock(mu_);
  std::vector<MountInfo> out;
  for (const MountInfo& m : table_) {
    if (m.mount_point == path) out.push_back(m);
  }
  return out;
}

Status FakeMounter::TakeError(const std::string& op) {
  for (auto it = failures_.begin(); it != failures_.end(); ++it) {
    if (it->op != op) continue;
    Status s = it->status;
    if (!it->sticky) failures_.erase(it);
    return s;
  }
  return Status::Ok();
}

Status FakeMounter::Mount(const std::string& source, const std::string& target,
                          const std::string& fstype, unsigned long flags,
                          const std::string& data) {
  MutexLock lock(mu_);
  char hex[32];
  std::snprintf(hex, sizeof(hex), "%lx", flags);
  log_.push_back("mount:" + target + ":" + fstype + ":" + hex + ":" + data);
  FERRY_RETURN_IF_ERROR(TakeError("mount"));
  if (sys_ != nullptr) {
    SysResult<struct stat> st = sys_->Stat(target);
    if (st.err != 0) return StatusFromErrno(st.err, "mount " + target);
    if (!S_ISDIR(st.value.st_mode)) return StatusFromErrno(ENOTDIR, "mount " + target);
  }
  MountInfo m;
  m.mount_id = next_id_++;
  std::optional<MountInfo> parent = FindContainingMount(table_, target);
  if (parent) {
    m.parent_id = parent->mount_id;
    // A mount under a shared mount joins a new peer group of its own.
    if (parent->IsShared()) m.optional_fields = {"shared:" + std::to_string(m.mount_id)};
  }
  m.minor = next_minor_++;
  m.root = "/";
  m.mount_point = target;
  m.mount_options = (flags & MS_RDONLY) != 0 ? "ro" : "rw";
  if ((flags & MS_NOSUID) != 0) m.mount_options += ",nosuid";
  if ((flags & MS_NODEV) != 0) m.mount_options += ",nodev";
  m.mount_options += ",relatime";
  m.fstype = fstype;
  m.source = source;
  m.super_options = ((flags & MS_RDONLY) != 0 ? "ro," : "rw,") + data;
  table_.push_back(std::move(m));
  return Status::Ok();
}

Status FakeMounter::Unmount(const std::string& target, bool detach) {
  MutexLock lock(mu_);
  log_.push_back("unmount:" + target + (detach ? ":detach" : ":sync"));
  FERRY_RETURN_IF_ERROR(TakeError("unmount"));
  int top = -1;
  for (size_t i = 0; i < table_.size(); ++i) {
    if (table_[i].mount_point == target) top = static_cast<int>(i);
  }
  if (top < 0) return StatusFromErrno(EINVAL, "umount2 " + target);
  uint64_t id = table_[static_cast<size_t>(top)].mount_id;
  bool has_children = false;
  for (const MountInfo& m : table_) {
    if (m.parent_id == id) has_children = true;
  }
  if (has_children && !detach) return StatusFromErrno(EBUSY, "umount2 " + target);
  // Remove the mount and, recursively, everything mounted on top of it.
  std::vector<uint64_t> doomed = {id};
  for (size_t k = 0; k < doomed.size(); ++k) {
    for (const MountInfo& m : table_) {
      if (m.parent_id == doomed[k]) doomed.push_back(m.mount_id);
    }
  }
  std::erase_if(table_, [&](const MountInfo& m) {
    return std::find(doomed.begin(), doomed.end(), m.mount_id) != doomed.end();
  });
  if (sys_ != nullptr) {
    bool still_mounted = false;
    for (const MountInfo& m : table_) still_mounted |= m.mount_point == target;
    if (!still_mounted) {
      sys_->SetError("stat", target, 0);
      sys_->SetError("lstat", target, 0);
    }
  }
  return Status::Ok();
}

StatusOr<std::vector<MountInfo>> FakeMounter::List() {
  MutexLock lock(mu_);
  FERRY_RETURN_IF_ERROR(TakeError("list"));
  return table_;
}

}  // namespace ferry::testing
