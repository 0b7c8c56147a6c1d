#include "tests/support/ns_fixture.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace ferry::testing {

Status EnterPrivateMountNamespace() {
  if (::unshare(CLONE_NEWNS) != 0) return StatusFromErrno(errno, "unshare(CLONE_NEWNS)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return StatusFromErrno(errno, "make / rprivate");
  }
  return Status::Ok();
}

std::string FuseTestSkipReason() {
  if (::geteuid() != 0) return "needs root";
  int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) return "cannot open /dev/fuse";
  ::close(fd);
  pid_t pid = ::fork();
  if (pid == 0) _exit(::unshare(CLONE_NEWNS) == 0 ? 0 : 1);
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    return "unshare(CLONE_NEWNS) is not permitted";
  }
  return "";
}

StatusOr<std::unique_ptr<ScopedTmpfs>> ScopedTmpfs::Create(bool shared) {
  char tmpl[] = "/tmp/ferry-ns-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return StatusFromErrno(errno, "mkdtemp");
  std::unique_ptr<ScopedTmpfs> t(new ScopedTmpfs(tmpl));
  if (::mount("ferry-test", tmpl, "tmpfs", 0, "mode=0755") != 0) {
    Status s = StatusFromErrno(errno, std::string("mount tmpfs at ") + tmpl);
    ::rmdir(tmpl);
    t->path_.clear();
    return s;
  }
  unsigned long prop = shared ? MS_SHARED : MS_PRIVATE;
  if (::mount(nullptr, tmpl, nullptr, prop, nullptr) != 0) {
    return StatusFromErrno(errno, "set propagation of the test tmpfs");
  }
  return t;
}

ScopedTmpfs::~ScopedTmpfs() {
  if (path_.empty()) return;
  ::umount2(path_.c_str(), MNT_DETACH);
  ::rmdir(path_.c_str());
}

StatusOr<std::unique_ptr<SlaveNamespace>> SlaveNamespace::Create(const std::string& path) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return StatusFromErrno(errno, "pipe");
  pid_t pid = ::fork();
  if (pid < 0) return StatusFromErrno(errno, "fork");
  if (pid == 0) {
    ::close(ready[0]);
    char ok = 0;
    if (::unshare(CLONE_NEWNS) == 0 &&
        ::mount(nullptr, path.c_str(), nullptr, MS_REC | MS_SLAVE, nullptr) == 0) {
      ok = 1;
    }
    ssize_t n = ::write(ready[1], &ok, 1);
    (void)n;
    ::close(ready[1]);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char ok = 0;
  ssize_t n;
  do {
    n = ::read(ready[0], &ok, 1);
  } while (n < 0 && errno == EINTR);
  ::close(ready[0]);
  std::unique_ptr<SlaveNamespace> ns(new SlaveNamespace(pid));
  if (n != 1 || ok != 1) return Internal("the slave namespace child could not set itself up");
  return ns;
}

SlaveNamespace::~SlaveNamespace() {
  ::kill(pid_, SIGKILL);
  int status;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

std::string SlaveNamespace::MountInfoText() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/mountinfo");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string SlaveNamespace::Outside(const std::string& path) const {
  return "/proc/" + std::to_string(pid_) + "/root" + path;
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace ferry::testing
