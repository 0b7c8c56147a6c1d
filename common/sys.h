#pragma once
// Sys: the syscall seam (STYLE R2, R3). Every side effect the propagator has on
// the live system (files, mounts, processes, sockets, signals) goes through
// this interface, so its logic is unit-tested with FakeSys (tests/support)
// and the real thing is LinuxSys. Each call returns a SysResult holding the
// value and the errno captured right after the syscall (0 on success).
//
// File descriptors returned by Sys are real descriptors owned by the caller
// (wrap them in UniqueFd); FakeSys hands out real descriptors too, so closing
// them is always safe. Implementations are thread-compatible unless noted.

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

template <typename T>
struct SysResult {
  T value{};
  int err = 0;  // errno of the failed call; 0 on success
  bool ok() const { return err == 0; }
};

// What to start and how to confine it.
struct SpawnOptions {
  std::vector<std::string> argv;     // argv[0] is looked up in PATH
  std::vector<std::string> env_add;  // "KEY=VALUE", added to (or replacing in) the parent's environ
  std::vector<int> inherit_fds;      // fds kept open across exec (CLOEXEC cleared in the child)
  bool drop_privileges = false;      // empty every capability set + PR_SET_NO_NEW_PRIVS, keep uids
  bool parent_death_kill = false;    // PR_SET_PDEATHSIG(SIGKILL)
  bool new_process_group = false;    // setpgid(0, 0): signal the whole tree with kill(-pid)
};

struct WaitResult {
  pid_t pid = 0;    // 0: no child has changed state (WNOHANG)
  int status = 0;   // as from waitpid(2)
};

class Sys {
 public:
  virtual ~Sys() = default;
  Sys() = default;
  Sys(const Sys&) = delete;
  Sys& operator=(const Sys&) = delete;

  // Files and directories.
  virtual SysResult<int> Open(const std::string& path, int flags, mode_t mode = 0) = 0;
  // fcntl(F_DUPFD_CLOEXEC).
  virtual SysResult<int> Dup(int fd) = 0;
  virtual SysResult<struct stat> Stat(const std::string& path) = 0;
  virtual SysResult<struct stat> Lstat(const std::string& path) = 0;
  virtual SysResult<int> Mkdir(const std::string& path, mode_t mode) = 0;
  virtual SysResult<int> Rmdir(const std::string& path) = 0;
  // Entry names of a directory, without "." and "..", in no particular order.
  virtual SysResult<std::vector<std::string>> ListDir(const std::string& path) = 0;
  // Whole file (sysfs, procfs and regular files alike).
  virtual SysResult<std::string> ReadFile(const std::string& path) = 0;
  // Opens an existing file O_WRONLY|O_TRUNC (never creates it) and writes `data`.
  virtual SysResult<int> WriteFile(const std::string& path, std::string_view data) = 0;
  virtual SysResult<std::string> RealPath(const std::string& path) = 0;

  // Mounts.
  virtual SysResult<int> Mount(const std::string& source, const std::string& target,
                               const std::string& fstype, unsigned long flags,
                               const std::string& data) = 0;
  virtual SysResult<int> Umount2(const std::string& target, int flags) = 0;

  // Processes and signals.
  // Forks and execs; the result is the child's pid. Fails with the child's
  // errno when the exec itself fails (e.g. ENOENT: command not found).
  virtual SysResult<pid_t> Spawn(const SpawnOptions& options) = 0;
  virtual SysResult<int> Kill(pid_t pid, int sig) = 0;
  // waitpid(-1, &status, WNOHANG): reaps any child. ECHILD: none left.
  virtual SysResult<WaitResult> WaitAnyNoHang() = 0;
  virtual pid_t GetPid() = 0;
  // A signalfd (SFD_CLOEXEC|SFD_NONBLOCK) for `mask`; blocks `mask` in the calling thread first.
  virtual SysResult<int> SignalFd(const sigset_t& mask) = 0;
  // Reads one signalfd_siginfo; the value is its ssi_signo. EAGAIN: none pending.
  virtual SysResult<int> ReadSignal(int signal_fd) = 0;

  // Sockets and polling.
  // socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC); the value holds both ends.
  virtual SysResult<std::pair<int, int>> SeqPacketPair() = 0;
  // poll(2); EINTR is returned, not retried. timeout < 0 waits forever.
  virtual SysResult<int> Poll(std::vector<pollfd>& fds, std::chrono::milliseconds timeout) = 0;
};

// The real system. Stateless; thread-safe.
class LinuxSys final : public Sys {
 public:
  SysResult<int> Open(const std::string& path, int flags, mode_t mode = 0) override;
  SysResult<int> Dup(int fd) override;
  SysResult<struct stat> Stat(const std::string& path) override;
  SysResult<struct stat> Lstat(const std::string& path) override;
  SysResult<int> Mkdir(const std::string& path, mode_t mode) override;
  SysResult<int> Rmdir(const std::string& path) override;
  SysResult<std::vector<std::string>> ListDir(const std::string& path) override;
  SysResult<std::string> ReadFile(const std::string& path) override;
  SysResult<int> WriteFile(const std::string& path, std::string_view data) override;
  SysResult<std::string> RealPath(const std::string& path) override;
  SysResult<int> Mount(const std::string& source, const std::string& target,
                       const std::string& fstype, unsigned long flags,
                       const std::string& data) override;
  SysResult<int> Umount2(const std::string& target, int flags) override;
  SysResult<pid_t> Spawn(const SpawnOptions& options) override;
  SysResult<int> Kill(pid_t pid, int sig) override;
  SysResult<WaitResult> WaitAnyNoHang() override;
  pid_t GetPid() override;
  SysResult<int> SignalFd(const sigset_t& mask) override;
  SysResult<int> ReadSignal(int signal_fd) override;
  SysResult<std::pair<int, int>> SeqPacketPair() override;
  SysResult<int> Poll(std::vector<pollfd>& fds, std::chrono::milliseconds timeout) override;
};

}  // namespace ferry
