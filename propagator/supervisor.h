#pragma once
// Supervisor: runs the data plane as a confined child and keeps it running.
//
// Each start makes a fresh SOCK_SEQPACKET socketpair; the child gets its end
// as env FERRY_CONTROL_FD, every capability dropped, PR_SET_NO_NEW_PRIVS,
// PR_SET_PDEATHSIG(SIGKILL) and its own process group. When the data plane
// dies, the supervisor SIGKILLs what is left of its process group, and
// (unless keep_mounts_on_crash) detaches all its mounts and closes the kept
// fds *before* restarting it, so a restarted data plane never leaves a dead
// mount behind; then it restarts it after RestartBackoff's delay.
// On shutdown: SIGTERM to the group, SIGKILL after `grace`.
//
// Driven by the event loop: it calls ReapChildren() on SIGCHLD, OnTick() on
// every wake-up, and sleeps at most TimeUntilNextAction(). All effects go
// through Sys and Clock. Not thread-safe.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/sys.h"
#include "common/unique_fd.h"
#include "propagator/backoff.h"
#include "propagator/mount_manager.h"

namespace ferry::propagator {

struct SupervisorOptions {
  std::vector<std::string> command;  // the data plane: argv
  std::chrono::milliseconds grace{20'000};
  bool keep_mounts_on_crash = false;
  BackoffOptions backoff;
  // After SIGKILL, how long to wait for the kernel to let the child go
  // before giving up on it (a process stuck in D state).
  std::chrono::milliseconds kill_wait{5'000};
};

class Supervisor {
 public:
  Supervisor(Sys& sys, Clock& clock, MountManager& mounts, SupervisorOptions options);
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts the first data plane. A failed spawn is logged and retried with backoff.
  void Start();
  // The propagator's end of the current control socket; -1 when there is none.
  int control_fd() const { return control_.get(); }
  // The data plane closed its end: drop ours (the child's exit follows).
  void OnControlClosed() { control_.Reset(); }
  // Reaps every child that exited (waitpid(-1) until none): the data plane and
  // any orphan re-parented to this process (PID 1, or child subreaper).
  void ReapChildren();
  // Does what is due now: a restart, the SIGKILL after the grace period.
  void OnTick();
  // How long the event loop may sleep; nullopt: until the next event.
  std::optional<std::chrono::milliseconds> TimeUntilNextAction();
  // SIGTERM/SIGINT arrived: stop restarting, SIGTERM the data plane.
  void BeginShutdown();
  // Shutting down and no data plane left.
  bool Done() const { return shutting_down_ && child_pid_ == 0; }

  pid_t child_pid() const { return child_pid_; }
  int starts() const { return starts_; }

 private:
  void Spawn();
  void OnDataPlaneExit(int wait_status);
  void SignalGroup(int sig);
  void ScheduleRestart(std::chrono::steady_clock::duration uptime);

  Sys& sys_;
  Clock& clock_;
  MountManager& mounts_;
  SupervisorOptions options_;
  RestartBackoff backoff_;

  UniqueFd control_;
  pid_t child_pid_ = 0;
  int starts_ = 0;
  std::chrono::steady_clock::time_point started_at_{};
  std::optional<std::chrono::steady_clock::time_point> restart_at_;
  bool shutting_down_ = false;
  std::optional<std::chrono::steady_clock::time_point> kill_at_;
  std::optional<std::chrono::steady_clock::time_point> give_up_at_;
};

// "exit code 3" / "signal 9 (Killed)" for a waitpid status.
std::string DescribeWaitStatus(int wait_status);

}  // namespace ferry::propagator
