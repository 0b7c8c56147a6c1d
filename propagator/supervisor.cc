#include "propagator/supervisor.h"

#include <sys/wait.h>

#include <cstring>

#include "common/control_protocol.h"
#include "common/logging.h"

namespace ferry::propagator {
namespace {

std::shared_ptr<spdlog::logger> SupervisorLog() { return GetLogger("propagator"); }

std::chrono::milliseconds Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

}  // namespace

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return "exit code " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    return "signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "wait status " + std::to_string(wait_status);
}

Supervisor::Supervisor(Sys& sys, Clock& clock, MountManager& mounts, SupervisorOptions options)
    : sys_(sys),
      clock_(clock),
      mounts_(mounts),
      options_(std::move(options)),
      backoff_(options_.backoff) {}

void Supervisor::Start() { Spawn(); }

void Supervisor::Spawn() {
  restart_at_.reset();
  SysResult<std::pair<int, int>> pair = sys_.SeqPacketPair();
  if (pair.err != 0) {
    SupervisorLog()->error("cannot make the control socketpair: {}",
                           StatusFromErrno(pair.err, "socketpair").ToString());
    ScheduleRestart(std::chrono::steady_clock::duration::zero());
    return;
  }
  UniqueFd ours(pair.value.first);
  UniqueFd theirs(pair.value.second);
  SpawnOptions o;
  o.argv = options_.command;
  o.env_add = {std::string(kControlFdEnv) + "=" + std::to_string(theirs.get())};
  o.inherit_fds = {theirs.get()};
  o.drop_privileges = true;
  o.parent_death_kill = true;
  o.new_process_group = true;
  ++starts_;
  SysResult<pid_t> pid = sys_.Spawn(o);
  if (pid.err != 0) {
    SupervisorLog()->error("cannot start the data plane {}: {}", options_.command.front(),
                           StatusFromErrno(pid.err, "exec").ToString());
    ScheduleRestart(std::chrono::steady_clock::duration::zero());
    return;
  }
  child_pid_ = pid.value;
  started_at_ = clock_.Now();
  control_ = std::move(ours);
  SupervisorLog()->info(
      "started data plane {} as pid {} (start #{}), no capabilities, control fd {}",
      options_.command.front(), child_pid_, starts_, theirs.get());
}

void Supervisor::ScheduleRestart(std::chrono::steady_clock::duration uptime) {
  if (shutting_down_) return;
  std::chrono::milliseconds delay = backoff_.NextDelay(uptime);
  restart_at_ = clock_.Now() + delay;
  SupervisorLog()->info("restarting the data plane in {} ms", delay.count());
}

void Supervisor::SignalGroup(int sig) {
  if (child_pid_ == 0) return;
  if (sys_.Kill(-child_pid_, sig).err != 0) (void)sys_.Kill(child_pid_, sig);
}

void Supervisor::OnDataPlaneExit(int wait_status) {
  auto uptime = clock_.Now() - started_at_;
  pid_t pid = child_pid_;
  // Whatever the data plane started (exec:// servers) must not outlive it.
  (void)sys_.Kill(-pid, SIGKILL);
  child_pid_ = 0;
  control_.Reset();
  kill_at_.reset();
  give_up_at_.reset();
  if (shutting_down_) {
    SupervisorLog()->info("data plane pid {} exited ({})", pid, DescribeWaitStatus(wait_status));
    return;
  }
  SupervisorLog()->error("data plane pid {} died ({}) after {} ms", pid,
                         DescribeWaitStatus(wait_status), Ms(uptime).count());
  if (!options_.keep_mounts_on_crash) {
    size_t n = mounts_.DetachAll();
    SupervisorLog()->warn("detached {} mount(s) of the dead data plane before restarting it", n);
  } else {
    SupervisorLog()->info("keeping {} mount(s) for the next data plane to adopt", mounts_.size());
  }
  ScheduleRestart(uptime);
}

void Supervisor::ReapChildren() {
  for (;;) {
    SysResult<WaitResult> w = sys_.WaitAnyNoHang();
    if (w.err != 0 || w.value.pid <= 0) return;  // ECHILD: none left; 0: none exited
    if (w.value.pid == child_pid_) {
      OnDataPlaneExit(w.value.status);
    } else {
      SupervisorLog()->debug("reaped orphan pid {} ({})", w.value.pid,
                             DescribeWaitStatus(w.value.status));
    }
  }
}

void Supervisor::OnTick() {
  auto now = clock_.Now();
  if (!shutting_down_ && child_pid_ == 0 && restart_at_ && now >= *restart_at_) Spawn();
  if (shutting_down_ && child_pid_ != 0) {
    if (kill_at_ && now >= *kill_at_) {
      SupervisorLog()->warn("data plane pid {} still running {} ms after SIGTERM; sending SIGKILL",
                            child_pid_, options_.grace.count());
      SignalGroup(SIGKILL);
      kill_at_.reset();
      give_up_at_ = now + options_.kill_wait;
    } else if (give_up_at_ && now >= *give_up_at_) {
      SupervisorLog()->error("data plane pid {} did not die after SIGKILL; giving up on it",
                             child_pid_);
      child_pid_ = 0;
      control_.Reset();
    }
  }
}

std::optional<std::chrono::milliseconds> Supervisor::TimeUntilNextAction() {
  std::optional<std::chrono::steady_clock::time_point> next;
  for (const auto& t : {restart_at_, kill_at_, give_up_at_}) {
    if (t && (!next || *t < *next)) next = t;
  }
  if (!next) return std::nullopt;
  auto left = Ms(*next - clock_.Now());
  // Round up so the loop wakes at or after the deadline, never just before it.
  if (*next - clock_.Now() > left) left += std::chrono::milliseconds(1);
  return std::max(left, std::chrono::milliseconds(0));
}

void Supervisor::BeginShutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  restart_at_.reset();
  if (child_pid_ == 0) return;
  SupervisorLog()->info("shutting down: SIGTERM to data plane pid {}, SIGKILL in {} ms", child_pid_,
                        options_.grace.count());
  SignalGroup(SIGTERM);
  kill_at_ = clock_.Now() + options_.grace;
}

}  // namespace ferry::propagator
