#pragma once
// FakeSys: an in-memory Sys for unit tests (STYLE §4: state + action log +
// error hooks). Holds a tree of directories and files; hands out real file
// descriptors (to /dev/null, or real socketpairs) so callers may close them;
// records spawns, kills and writes; children "exit" when a test says so.
// Thread-safe.

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/sys.h"

namespace ferry::testing {

class FakeSys final : public Sys {
 public:
  FakeSys();

  // --- set-up ---
  void AddDir(const std::string& path);           // parents are created too
  void AddFile(const std::string& path, std::string content = "");
  std::string FileContent(const std::string& path) const;
  bool Exists(const std::string& path) const;
  // Every `op` ("open", "stat", "lstat", "mkdir", "rmdir", "listdir", "read",
  // "write", "realpath", "mount", "umount2", "spawn", "kill", "dup") on `path`
  // fails with `err` until cleared with err = 0. For spawn/kill/dup the path is "".
  void SetError(const std::string& op, const std::string& path, int err);
  // A spawned child exits with `wait_status` (as from waitpid): the next
  // WaitAnyNoHang() reports it.
  void ExitChild(pid_t pid, int wait_status);

  // --- inspection ---
  // "mkdir:/p", "rmdir:/p", "write:/p=data", "open:/p", "mount:/target",
  // "umount2:/target", "spawn:argv0", "kill:PID:SIG", in call order.
  std::vector<std::string> Log() const;
  void ClearLog();
  std::vector<SpawnOptions> Spawns() const;
  std::vector<pid_t> LiveChildren() const;

  // --- Sys ---
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
  pid_t GetPid() override { return 1; }
  SysResult<int> SignalFd(const sigset_t& mask) override;
  SysResult<int> ReadSignal(int signal_fd) override;
  SysResult<std::pair<int, int>> SeqPacketPair() override;
  SysResult<int> Poll(std::vector<pollfd>& fds, std::chrono::milliseconds timeout) override;

 private:
  struct Node {
    bool dir = false;
    std::string content;
  };
  int ErrorFor(const std::string& op, const std::string& path) const FERRY_REQUIRES(mu_);
  void Record(std::string entry) FERRY_REQUIRES(mu_);
  bool HasChildren(const std::string& path) const FERRY_REQUIRES(mu_);

  // Guards everything below. Leaf lock.
  mutable Mutex mu_;
  std::map<std::string, Node> nodes_ FERRY_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, int> errors_ FERRY_GUARDED_BY(mu_);
  std::vector<std::string> log_ FERRY_GUARDED_BY(mu_);
  std::vector<SpawnOptions> spawns_ FERRY_GUARDED_BY(mu_);
  std::set<pid_t> live_ FERRY_GUARDED_BY(mu_);
  std::deque<WaitResult> exited_ FERRY_GUARDED_BY(mu_);
  pid_t next_pid_ FERRY_GUARDED_BY(mu_) = 1000;
};

}  // namespace ferry::testing
