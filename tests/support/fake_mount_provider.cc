#include "tests/support/fake_mount_provider.h"

#include <fcntl.h>

#include <cerrno>

namespace ferry::testing {

void FakeMountProvider::FailMount(const std::string& name, Status s) {
  MutexLock lock(mu_);
  if (s.ok()) {
    failures_.erase(name);
  } else {
    failures_[name] = std::move(s);
  }
}

void FakeMountProvider::SetKept(std::vector<std::string> names) {
  MutexLock lock(mu_);
  kept_ = std::move(names);
  for (const std::string& n : kept_) mounted_[n] = true;
}

std::map<std::string, bool> FakeMountProvider::Mounted() const {
  MutexLock lock(mu_);
  return mounted_;
}

std::vector<std::string> FakeMountProvider::Log() const {
  MutexLock lock(mu_);
  return log_;
}

void FakeMountProvider::ClearLog() {
  MutexLock lock(mu_);
  log_.clear();
}

int FakeMountProvider::CountActions(const std::string& prefix) const {
  MutexLock lock(mu_);
  int n = 0;
  for (const std::string& a : log_) n += a.rfind(prefix, 0) == 0 ? 1 : 0;
  return n;
}

StatusOr<UniqueFd> FakeMountProvider::Mount(const FuseMountRequest& request) {
  MutexLock lock(mu_);
  log_.push_back("mount:" + request.name + (request.read_only ? ":ro" : ":rw"));
  if (auto it = failures_.find(request.name); it != failures_.end()) return it->second;
  if (mounted_.count(request.name) > 0) {
    return AlreadyExists("fake: " + request.name + " is still mounted");
  }
  UniqueFd fd(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!fd) return StatusFromErrno(errno, "open /dev/null");
  mounted_[request.name] = request.read_only;
  return fd;
}

Status FakeMountProvider::Unmount(std::string_view name) {
  MutexLock lock(mu_);
  log_.push_back("unmount:" + std::string(name));
  mounted_.erase(std::string(name));
  return Status::Ok();
}

StatusOr<std::vector<KeptMount>> FakeMountProvider::Adopt() {
  MutexLock lock(mu_);
  log_.push_back("adopt");
  std::vector<KeptMount> out;
  for (const std::string& n : kept_) {
    KeptMount k;
    k.name = n;
    k.fuse_fd = UniqueFd(open("/dev/null", O_RDWR | O_CLOEXEC));
    out.push_back(std::move(k));
  }
  kept_.clear();
  return out;
}

}  // namespace ferry::testing
