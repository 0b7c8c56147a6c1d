#pragma once
// Propagator: ferry-propagator's whole job, minus process set-up (main.cc).
// Prepare() sweeps stale mounts and checks that mounts under --mnt-dir will
// propagate and that /dev/fuse opens; Run() is the single-threaded event loop
// over a signalfd (SIGTERM, SIGINT, SIGCHLD) and the data plane's control
// socket, with the supervisor's timers as poll timeouts. On SIGTERM/SIGINT it
// stops the data plane, lazily detaches every ferry mount under --mnt-dir,
// closes every kept fd and returns OK. Not thread-safe.

#include <chrono>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/sys.h"
#include "propagator/control_handler.h"
#include "propagator/mount_manager.h"
#include "propagator/mounter.h"
#include "propagator/supervisor.h"

namespace ferry::propagator {

struct PropagatorOptions {
  std::string mnt_dir = "/run/ferry/mnt";
  std::chrono::milliseconds grace{20'000};
  bool keep_mounts_on_crash = false;
  std::string termination_log = "/dev/termination-log";  // the kubelet's default path
  std::string fuse_device = "/dev/fuse";
  std::vector<std::string> command;  // the data plane
};

class Propagator {
 public:
  Propagator(Sys& sys, Mounter& mounter, Clock& clock, PropagatorOptions options);
  Propagator(const Propagator&) = delete;
  Propagator& operator=(const Propagator&) = delete;

  // Resolves mnt-dir, sweeps stale mounts, checks propagation and /dev/fuse.
  // kFailedPrecondition naming the fix (also written to the termination log
  // when it is writable); kNotFound when mnt-dir does not exist.
  Status Prepare();

  // Starts the data plane and serves it until SIGTERM/SIGINT; then cleans up.
  // Returns OK after a clean shutdown; an error only if the loop itself broke.
  Status Run();

  // ping's "propagation" field: "ok" or the current check's error.
  std::string PropagationState();

 private:
  Status Fail(Status s);
  void ServeControl();
  bool DrainSignals(int signal_fd);
  void Shutdown();

  Sys& sys_;
  Mounter& mounter_;
  Clock& clock_;
  PropagatorOptions options_;
  std::unique_ptr<MountManager> mounts_;  // made in Prepare(), once mnt-dir is resolved
  std::unique_ptr<Supervisor> supervisor_;
  std::unique_ptr<ControlHandler> handler_;
};

}  // namespace ferry::propagator
