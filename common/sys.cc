#include "common/sys.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "common/caps.h"

extern char** environ;  // NOLINT(readability-identifier-naming): libc's name

namespace ferry {
namespace {

template <typename T>
SysResult<T> Fail(int err) {
  SysResult<T> r;
  r.err = err;
  return r;
}

SysResult<int> FromRet(int ret) {
  if (ret < 0) return Fail<int>(errno);
  return {ret, 0};
}

// Builds the child's environment before fork(): the parent's environ with
// `add` entries replacing or appending.
std::vector<std::string> BuildEnv(const std::vector<std::string>& add) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view key = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const std::string& a : add) {
      if (std::string_view(a).substr(0, a.find('=')) == key) replaced = true;
    }
    if (!replaced) env.emplace_back(entry);
  }
  env.insert(env.end(), add.begin(), add.end());
  return env;
}

// Runs in the forked child: only async-signal-safe calls. Reports the failing
// errno on `report_fd` and exits.
[[noreturn]] void ChildExec(const SpawnOptions& o, pid_t parent, char* const* argv,
                            char* const* envp, int report_fd) {
  int err = 0;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // the parent blocks signals for its signalfd
  if (o.parent_death_kill) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) err = errno;
    if (err == 0 && getppid() != parent) err = ESRCH;  // parent died before prctl
  }
  if (err == 0 && o.new_process_group && setpgid(0, 0) != 0) err = errno;
  for (int fd : o.inherit_fds) {
    if (err == 0 && fcntl(fd, F_SETFD, 0) != 0) err = errno;
  }
  if (err == 0 && o.drop_privileges) err = DropAllCapabilitiesRaw();
  if (err == 0) {
    execvpe(argv[0], argv, envp);
    err = errno;
  }
  ssize_t ignored = write(report_fd, &err, sizeof(err));
  (void)ignored;
  _exit(127);
}

}  // namespace

SysResult<int> LinuxSys::Open(const std::string& path, int flags, mode_t mode) {
  return FromRet(::open(path.c_str(), flags, mode));
}

SysResult<int> LinuxSys::Dup(int fd) { return FromRet(::fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

SysResult<struct stat> LinuxSys::Stat(const std::string& path) {
  SysResult<struct stat> r;
  if (::stat(path.c_str(), &r.value) != 0) r.err = errno;
  return r;
}

SysResult<struct stat> LinuxSys::Lstat(const std::string& path) {
  SysResult<struct stat> r;
  if (::lstat(path.c_str(), &r.value) != 0) r.err = errno;
  return r;
}

SysResult<int> LinuxSys::Mkdir(const std::string& path, mode_t mode) {
  return FromRet(::mkdir(path.c_str(), mode));
}

SysResult<int> LinuxSys::Rmdir(const std::string& path) { return FromRet(::rmdir(path.c_str())); }

SysResult<std::vector<std::string>> LinuxSys::ListDir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return Fail<std::vector<std::string>>(errno);
  SysResult<std::vector<std::string>> r;
  errno = 0;
  while (dirent* e = ::readdir(dir)) {
    std::string_view name(e->d_name);
    if (name != "." && name != "..") r.value.emplace_back(name);
  }
  r.err = errno;
  ::closedir(dir);
  return r;
}

SysResult<std::string> LinuxSys::ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail<std::string>(errno);
  SysResult<std::string> r;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r.err = errno;
      break;
    }
    if (n == 0) break;
    r.value.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return r;
}

SysResult<int> LinuxSys::WriteFile(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return Fail<int>(errno);
  SysResult<int> r;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r.err = errno;
      break;
    }
    done += static_cast<size_t>(n);
  }
  r.value = static_cast<int>(done);
  ::close(fd);
  return r;
}

SysResult<std::string> LinuxSys::RealPath(const std::string& path) {
  char* p = ::realpath(path.c_str(), nullptr);
  if (p == nullptr) return Fail<std::string>(errno);
  SysResult<std::string> r{std::string(p), 0};
  std::free(p);  // NOLINT(cppcoreguidelines-no-malloc): realpath allocates with malloc
  return r;
}

SysResult<int> LinuxSys::Mount(const std::string& source, const std::string& target,
                               const std::string& fstype, unsigned long flags,
                               const std::string& data) {
  return FromRet(::mount(source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(),
                         flags, data.empty() ? nullptr : data.c_str()));
}

SysResult<int> LinuxSys::Umount2(const std::string& target, int flags) {
  return FromRet(::umount2(target.c_str(), flags));
}

SysResult<pid_t> LinuxSys::Spawn(const SpawnOptions& o) {
  if (o.argv.empty()) return Fail<pid_t>(EINVAL);
  std::vector<std::string> env = BuildEnv(o.env_add);
  std::vector<char*> argv;
  for (const std::string& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return Fail<pid_t>(errno);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(report[0]);
    ::close(report[1]);
    return Fail<pid_t>(err);
  }
  if (pid == 0) {
    ::close(report[0]);
    ChildExec(o, parent, argv.data(), envp.data(), report[1]);
  }
  ::close(report[1]);
  int child_err = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_err, sizeof(child_err));
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof(child_err))) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return Fail<pid_t>(child_err != 0 ? child_err : EIO);
  }
  return {pid, 0};
}

SysResult<int> LinuxSys::Kill(pid_t pid, int sig) { return FromRet(::kill(pid, sig)); }

SysResult<WaitResult> LinuxSys::WaitAnyNoHang() {
  SysResult<WaitResult> r;
  pid_t pid = ::waitpid(-1, &r.value.status, WNOHANG);
  if (pid < 0) return Fail<WaitResult>(errno);
  r.value.pid = pid;
  return r;
}

pid_t LinuxSys::GetPid() { return ::getpid(); }

SysResult<int> LinuxSys::SignalFd(const sigset_t& mask) {
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return Fail<int>(errno);
  return FromRet(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
}

SysResult<int> LinuxSys::ReadSignal(int signal_fd) {
  signalfd_siginfo info{};
  ssize_t n = ::read(signal_fd, &info, sizeof(info));
  if (n < 0) return Fail<int>(errno);
  if (n != static_cast<ssize_t>(sizeof(info))) return Fail<int>(EIO);
  return {static_cast<int>(info.ssi_signo), 0};
}

SysResult<std::pair<int, int>> LinuxSys::SeqPacketPair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return Fail<std::pair<int, int>>(errno);
  }
  return {{sv[0], sv[1]}, 0};
}

SysResult<int> LinuxSys::Poll(std::vector<pollfd>& fds, std::chrono::milliseconds timeout) {
  int ms = timeout.count() < 0 ? -1
                               : static_cast<int>(std::min<int64_t>(timeout.count(), INT_MAX));
  return FromRet(::poll(fds.data(), fds.size(), ms));
}

}  // namespace ferry
