// The node and sandbox modes of ferry-kubelet-run (see launcher.h).
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/unique_fd.h"
#include "tests/support/kubelet/launcher.h"

namespace ferry::kubelet {
namespace {

int Fail(const Status& s) {
  std::fprintf(stderr, "ferry-kubelet-run: %s\n", s.ToString().c_str());
  return 125;
}

Status Report(int fd) {
  std::string line = std::to_string(::getpid()) + "\n";
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    return StatusFromErrno(errno, "write report fd");
  }
  ::close(fd);
  return Status::Ok();
}

// Lives until SIGTERM/SIGINT or EOF on stdin (the driver went away).
int WaitForEnd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  ferry::UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC));
  pollfd fds[2] = {{sfd.get(), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
  for (;;) {
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[0].revents != 0) return 0;
    if (fds[1].revents != 0) {
      char buf[256];
      if (::read(STDIN_FILENO, buf, sizeof(buf)) <= 0) return 0;
    }
  }
}

Status MkdirAll(const std::string& path) {
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = path.find('/', pos + 1);
    std::string cur = path.substr(0, pos);
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) return StatusFromErrno(errno, cur);
  }
  return Status::Ok();
}

Status LoopbackUp() {
  ferry::UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return StatusFromErrno(errno, "socket");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0)
    return StatusFromErrno(errno, "SIOCGIFFLAGS lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0)
    return StatusFromErrno(errno, "SIOCSIFFLAGS lo");
  return Status::Ok();
}

}  // namespace

int RunNode(const std::string& dir, int report_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::unshare(CLONE_NEWNS) != 0) return Fail(StatusFromErrno(errno, "unshare(CLONE_NEWNS)"));
  // The real host may be a systemd host with a shared `/`: cut the node off it.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Fail(StatusFromErrno(errno, "make / rprivate"));
  }
  std::string kubelet = dir + "/kubelet";
  if (Status s = MkdirAll(kubelet); !s.ok()) return Fail(s);
  if (::mount(kubelet.c_str(), kubelet.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
      ::mount(nullptr, kubelet.c_str(), nullptr, MS_SHARED, nullptr) != 0) {
    return Fail(StatusFromErrno(errno, "make " + kubelet + " a shared mount"));
  }
  if (Status s = Report(report_fd); !s.ok()) return Fail(s);
  return WaitForEnd();
}

int RunSandbox(const std::string& hostname, int report_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::unshare(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC) != 0) {
    return Fail(StatusFromErrno(errno, "unshare(net, uts, ipc)"));
  }
  if (Status s = LoopbackUp(); !s.ok()) return Fail(s);
  if (!hostname.empty() && ::sethostname(hostname.data(), hostname.size()) != 0) {
    return Fail(StatusFromErrno(errno, "sethostname"));
  }
  if (Status s = Report(report_fd); !s.ok()) return Fail(s);
  return WaitForEnd();
}

}  // namespace ferry::kubelet
