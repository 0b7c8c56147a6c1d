#include "tests/support/fake_sys.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace ferry::testing {
namespace {

std::string ParentPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Normalize(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

template <typename T>
SysResult<T> Err(int err) {
  SysResult<T> r;
  r.err = err;
  return r;
}

}  // namespace

FakeSys::FakeSys() {
  MutexLock lock(mu_);
  nodes_["/"] = Node{true, ""};
}

void FakeSys::AddDir(const std::string& raw) {
  std::string path = Normalize(raw);
  MutexLock lock(mu_);
  for (std::string p = path; p != "/"; p = ParentPath(p)) nodes_[p].dir = true;
}

void FakeSys::AddFile(const std::string& raw, std::string content) {
  std::string path = Normalize(raw);
  AddDir(ParentPath(path));
  MutexLock lock(mu_);
  nodes_[path] = Node{false, std::move(content)};
}

std::string FakeSys::FileContent(const std::string& path) const {
  MutexLock lock(mu_);
  auto it = nodes_.find(Normalize(path));
  return it == nodes_.end() ? std::string() : it->second.content;
}

bool FakeSys::Exists(const std::string& path) const {
  MutexLock lock(mu_);
  return nodes_.count(Normalize(path)) != 0;
}

void FakeSys::SetError(const std::string& op, const std::string& path, int err) {
  MutexLock lock(mu_);
  auto key = std::make_pair(op, path.empty() ? path : Normalize(path));
  if (err == 0) {
    errors_.erase(key);
  } else {
    errors_[key] = err;
  }
}

void FakeSys::ExitChild(pid_t pid, int wait_status) {
  MutexLock lock(mu_);
  live_.erase(pid);
  exited_.push_back({pid, wait_status});
}

std::vector<std::string> FakeSys::Log() const {
  MutexLock lock(mu_);
  return log_;
}

void FakeSys::ClearLog() {
  MutexLock lock(mu_);
  log_.clear();
}

std::vector<SpawnOptions> FakeSys::Spawns() const {
  MutexLock lock(mu_);
  return spawns_;
}

std::vector<pid_t> FakeSys::LiveChildren() const {
  MutexLock lock(mu_);
  return {live_.begin(), live_.end()};
}

int FakeSys::ErrorFor(const std::string& op, const std::string& path) const {
  auto it = errors_.find({op, path});
  return it == errors_.end() ? 0 : it->second;
}

void FakeSys::Record(std::string entry) { log_.push_back(std::move(entry)); }

bool FakeSys::HasChildren(const std::string& path) const {
  std::string prefix = path == "/" ? "/" : path + "/";
  auto it = nodes_.lower_bound(prefix);
  if (it != nodes_.end() && it->first == path) ++it;  // "/" is its own prefix
  return it != nodes_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
}

SysResult<int> FakeSys::Open(const std::string& raw, int flags, mode_t) {
  std::string path = Normalize(raw);
  MutexLock lock(mu_);
  Record("open:" + path);
  if (int e = ErrorFor("open", path)) return Err<int>(e);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Err<int>(ENOENT);
  if (it->second.dir && (flags & O_ACCMODE) != O_RDONLY) return Err<int>(EISDIR);
  int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0) return Err<int>(errno);
  return {fd, 0};
}

SysResult<int> FakeSys::Dup(int fd) {
  {
    MutexLock lock(mu_);
    if (int e = ErrorFor("dup", "")) return Err<int>(e);
  }
  int r = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (r < 0) return Err<int>(errno);
  return {r, 0};
}

SysResult<struct stat> FakeSys::Stat(const std::string& raw) {
  std::string path = Normalize(raw);
  MutexLock lock(mu_);
  if (int e = ErrorFor("stat", path)) return Err<struct stat>(e);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Err<struct stat>(ENOENT);
  SysResult<struct stat> r;
  r.value.st_mode = it->second.dir ? (S_IFDIR | 0755) : (S_IFREG | 0644);
  r.value.st_size = static_cast<off_t>(it->second.content.size());
  return r;
}

SysResult<struct stat> FakeSys::Lstat(const std::string& raw) {
  {
    MutexLock lock(mu_);
    if (int e = ErrorFor("lstat", Normalize(raw))) return Err<struct stat>(e);
  }
  return Stat(raw);
}

SysResult<int> FakeSys::Mkdir(const std::string& raw, mode_t) {
  std::string path = Normalize(raw);
  MutexLock lock(mu_);
  Record("mkdir:" + path);
  if (int e = ErrorFor("mkdir", path)) return Err<int>(e);
  if (nodes_.count(path) != 0) return Err<int>(EEXIST);
  auto parent = nodes_.find(ParentPath(path));
  if (parent == nodes_.end()) return Err<int>(ENOENT);
  if (!parent->second.dir) return Err<int>(ENOTDIR);
  nodes_[path] = Node{true, ""};
  return {0, 0};
}

SysResult<int> FakeSys::Rmdir(const std::string& raw) {
  std::string path = Normalize(raw);
  MutexLock lock(mu_);
  Record("rmdir:" + path);
  if (int e = ErrorFor("rmdir", path)) return Err<int>(e);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Err<int>(ENOENT);
  if (!it->second.dir) return Err<int>(ENOTDIR);
  if (HasChildren(path)) return Err<int>(ENOTEMPTY);
  nodes_.erase(it);
  return {0, 0};
}

SysResult<std::vector<std::string>> FakeSys::ListDir(const std::string& raw) {
  std::string path = Normalize(raw);
  MutexLock lock(mu_);
  if (int e = ErrorFor("listdir", path)) return Err<std::vector<std::string>>(e);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Err<std::vector<std::string>>(ENOENT);
  if (!it->second.dir) return Err<std::vector<std::string>>(ENOTDIR);
  SysResult<std::vector<std::string>> r;
  std::string prefix = path == "/" ? "/" : path + "/";
  for (auto c = nodes_.lower_bound(prefix); c != nodes_.end(); ++c) {
    if (c->first.compare(0, prefix.size(), prefix) != 0) break;
    if (c->first == path) continue;
    std::string rest = c->first.substr(prefix.size());
    if (!rest.empty() && rest.find('/') == std::string::npos) r.value.push_back(rest);
  }
  return r;
}

SysResult<std::string> FakeSys::ReadFile(const std::string& raw) {
  std::string path = Normalize(raw);
  MutexLock lock(mu_);
  if (int e = ErrorFor("read", path)) return Err<std::string>(e);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Err<std::string>(ENOENT);
  if (it->second.dir) return Err<std::string>(EISDIR);
  return {it->second.content, 0};
}

SysResult<int> FakeSys::WriteFile(const std::string& raw, std::string_view data) {
  std::string path = Normalize(raw);
  MutexLock lock(mu_);
  Record("write:" + path + "=" + std::string(data));
  if (int e = ErrorFor("write", path)) return Err<int>(e);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Err<int>(ENOENT);
  if (it->second.dir) return Err<int>(EISDIR);
  it->second.content = std::string(data);
  return {static_cast<int>(data.size()), 0};
}

SysResult<std::string> FakeSys::RealPath(const std::string& raw) {
  std::string path = Normalize(raw);
  MutexLock lock(mu_);
  if (int e = ErrorFor("realpath", path)) return Err<std::string>(e);
  if (nodes_.count(path) == 0) return Err<std::string>(ENOENT);
  return {path, 0};
}

SysResult<int> FakeSys::Mount(const std::string&, const std::string& target, const std::string&,
                              unsigned long, const std::string&) {
  MutexLock lock(mu_);
  Record("mount:" + Normalize(target));
  if (int e = ErrorFor("mount", Normalize(target))) return Err<int>(e);
  return {0, 0};
}

SysResult<int> FakeSys::Umount2(const std::string& target, int) {
  MutexLock lock(mu_);
  Record("umount2:" + Normalize(target));
  if (int e = ErrorFor("umount2", Normalize(target))) return Err<int>(e);
  return {0, 0};
}

SysResult<pid_t> FakeSys::Spawn(const SpawnOptions& options) {
  MutexLock lock(mu_);
  Record("spawn:" + (options.argv.empty() ? std::string() : options.argv[0]));
  spawns_.push_back(options);
  if (int e = ErrorFor("spawn", "")) return Err<pid_t>(e);
  pid_t pid = next_pid_++;
  live_.insert(pid);
  return {pid, 0};
}

SysResult<int> FakeSys::Kill(pid_t pid, int sig) {
  MutexLock lock(mu_);
  Record("kill:" + std::to_string(pid) + ":" + std::to_string(sig));
  if (int e = ErrorFor("kill", "")) return Err<int>(e);
  pid_t target = pid < 0 ? -pid : pid;
  if (live_.count(target) == 0) return Err<int>(ESRCH);
  return {0, 0};
}

SysResult<WaitResult> FakeSys::WaitAnyNoHang() {
  MutexLock lock(mu_);
  if (!exited_.empty()) {
    WaitResult w = exited_.front();
    exited_.pop_front();
    return {w, 0};
  }
  if (live_.empty()) return Err<WaitResult>(ECHILD);
  return {WaitResult{}, 0};
}

SysResult<int> FakeSys::SignalFd(const sigset_t&) { return Err<int>(ENOSYS); }

SysResult<int> FakeSys::ReadSignal(int) { return Err<int>(EAGAIN); }

SysResult<std::pair<int, int>> FakeSys::SeqPacketPair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return Err<std::pair<int, int>>(errno);
  }
  return {{sv[0], sv[1]}, 0};
}

SysResult<int> FakeSys::Poll(std::vector<pollfd>& fds, std::chrono::milliseconds timeout) {
  int r = ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
  if (r < 0) return Err<int>(errno);
  return {r, 0};
}

}  // namespace ferry::testing
