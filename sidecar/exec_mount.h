#pragma once
// ExecMount: serves an `exec://` dataset by running a vendor FUSE binary
// (s3fs, ossfs, ... built on libfuse >= 3.3) on the mountpoint "/dev/fd/3":
// the /dev/fuse fd of a mount the propagator made, so the binary needs no
// privilege and never calls mount(2). libfuse2 binaries cannot take /dev/fd/N
// and are refused before start (ELF DT_NEEDED check, see
// source/exec_spec.h).
//
// Supervision: one thread runs the child and waits for it; when it exits it is
// restarted after an exponential backoff (reset after a minute of uptime).
// The kernel sends FUSE INIT once per mount, so each (re)start asks
// `fuse_fd_provider` for the fd of a fresh mount (the reconciler remounts
// through PropagatorClient::Mount). The child's stdout/stderr go line by line
// to GetLogger("exec"). The child gets SIGTERM if ferry-sidecar dies
// (PR_SET_PDEATHSIG) and on Stop()/destruction (SIGKILL after a grace period).
// Thread-safe.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/mutex.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "sidecar/source/exec_spec.h"

namespace ferry::sidecar {

class ExecMount {
 public:
  using FuseFdProvider = std::function<StatusOr<UniqueFd>()>;
  struct Options {
    std::chrono::milliseconds initial_backoff{500};
    std::chrono::milliseconds max_backoff{30'000};
    std::chrono::milliseconds stop_grace{5'000};
    std::string path_env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  };

  // Resolves the program (PATH lookup for bare names), refuses libfuse2
  // binaries (kFailedPrecondition, message says why and what to use), then
  // starts the first child. kNotFound: no such program.
  static StatusOr<std::unique_ptr<ExecMount>> Start(const ExecSpec& spec, FuseFdProvider provider,
                                                    Options options);
  // Resolves a program name like execvp would; kNotFound when missing.
  static StatusOr<std::string> ResolveProgram(const std::string& program, const std::string& path_env);
  // kFailedPrecondition for a libfuse2 binary; OK otherwise (unknown ABI is logged).
  static Status CheckFuseAbi(const std::string& path);

  ~ExecMount();  // Stop()
  ExecMount(const ExecMount&) = delete;
  ExecMount& operator=(const ExecMount&) = delete;

  // Stops supervising, terminates the child. Idempotent.
  void Stop();
  // PID of the running child, or 0.
  pid_t pid() const { return pid_.load(); }
  // How many times the child has been started.
  int starts() const { return starts_.load(); }

 private:
  ExecMount(ExecSpec spec, std::string program, FuseFdProvider provider, Options options);
  void Supervise();
  // Spawns one child on `fuse_fd`; returns its pid and the read end of its output pipe.
  StatusOr<std::pair<pid_t, UniqueFd>> Spawn(const UniqueFd& fuse_fd);
  void PumpOutput(UniqueFd pipe);

  const ExecSpec spec_;
  const std::string program_;
  const FuseFdProvider provider_;
  const Options options_;
  std::atomic<pid_t> pid_{0};
  std::atomic<int> starts_{0};
  Mutex mu_;  // guards stopping_; leaf lock
  CondVar wake_;
  bool stopping_ FERRY_GUARDED_BY(mu_) = false;
  std::thread supervisor_;
};

}  // namespace ferry::sidecar
