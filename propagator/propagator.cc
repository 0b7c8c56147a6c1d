#include "propagator/propagator.h"

#include <cerrno>

#include "common/control_wire.h"
#include "common/logging.h"
#include "propagator/preflight.h"
#include "propagator/sweeper.h"

namespace ferry::propagator {
namespace {

std::shared_ptr<spdlog::logger> Log() { return GetLogger("propagator"); }

}  // namespace

Propagator::Propagator(Sys& sys, Mounter& mounter, Clock& clock, PropagatorOptions options)
    : sys_(sys), mounter_(mounter), clock_(clock), options_(std::move(options)) {}

Status Propagator::Fail(Status s) {
  if (s.ok()) return s;
  Log()->critical("{}", s.message());
  if (WriteTerminationMessage(sys_, options_.termination_log, std::string(s.message()) + "\n")) {
    Log()->info("wrote the error to {}", options_.termination_log);
  }
  return s;
}

Status Propagator::Prepare() {
  SysResult<std::string> dir = sys_.RealPath(options_.mnt_dir);
  if (dir.err != 0) {
    return Fail(StatusFromErrno(dir.err, "--mnt-dir=" + options_.mnt_dir +
                                             " (mount the ferry-mnt volume there)"));
  }
  options_.mnt_dir = dir.value;
  // The emptyDir outlives a restarted sidecar container: the previous data
  // plane's status.json still says "ready", and `ferryctl probe` would pass
  // before this instance mounted anything. Mark it not ready (only if it
  // exists; the new data plane rewrites it atomically), first thing: a probe
  // may run as soon as the container does.
  (void)sys_.WriteFile(options_.mnt_dir + "/.ferry/status.json",
                       R"({"version":")" FERRY_VERSION R"(","ready":false,"generation":0,)"
                       R"("specError":"","datasets":{}})"
                       "\n");
  MountManagerOptions mo;
  mo.mnt_dir = options_.mnt_dir;
  mo.fuse_device = options_.fuse_device;
  mounts_ = std::make_unique<MountManager>(sys_, mounter_, mo);

  StaleMountSweeper sweeper(sys_, mounter_, options_.mnt_dir);
  StatusOr<std::vector<std::string>> swept = sweeper.Sweep();
  if (!swept.ok()) return Fail(swept.status().WithContext("stale-mount sweep"));
  FERRY_RETURN_IF_ERROR(Fail(CheckPropagation(mounter_, options_.mnt_dir)));
  FERRY_RETURN_IF_ERROR(Fail(CheckFuseDevice(sys_, options_.fuse_device)));
  Log()->info("{} is on a shared mount and {} opens: ready", options_.mnt_dir,
              options_.fuse_device);

  SupervisorOptions so;
  so.command = options_.command;
  so.grace = options_.grace;
  so.keep_mounts_on_crash = options_.keep_mounts_on_crash;
  supervisor_ = std::make_unique<Supervisor>(sys_, clock_, *mounts_, so);
  handler_ = std::make_unique<ControlHandler>(*mounts_, sys_.GetPid(),
                                              [this] { return PropagationState(); });
  return Status::Ok();
}

std::string Propagator::PropagationState() {
  Status s = CheckPropagation(mounter_, options_.mnt_dir);
  return s.ok() ? "ok" : std::string(s.message());
}

void Propagator::ServeControl() {
  int fd = supervisor_->control_fd();
  StatusOr<WireMessage> msg = RecvWireMessage(fd);
  if (!msg.ok()) {
    if (msg.status().Is(StatusCode::kUnavailable)) {
      Log()->info("data plane closed the control socket");
      supervisor_->OnControlClosed();
    } else {
      Log()->warn("bad control message: {}", msg.status().ToString());
      // A request we could not read still gets an answer, so the pairing holds.
      Status s = SendWireMessage(
          fd, ErrorReply(msg.status()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      if (!s.ok()) supervisor_->OnControlClosed();
    }
    return;
  }
  ControlReply reply = handler_->Handle(msg->text, std::move(msg->fds));
  std::vector<int> fds;
  for (const UniqueFd& f : reply.fds) fds.push_back(f.get());
  Status s = SendWireMessage(fd, reply.text, fds);
  if (!s.ok()) {
    Log()->warn("cannot answer the data plane: {}", s.ToString());
    supervisor_->OnControlClosed();
  }
}

bool Propagator::DrainSignals(int signal_fd) {
  bool child_exited = false;
  for (;;) {
    SysResult<int> sig = sys_.ReadSignal(signal_fd);
    if (sig.err != 0) break;
    if (sig.value == SIGCHLD) {
      child_exited = true;
    } else {
      Log()->info("received signal {}; shutting down", sig.value);
      supervisor_->BeginShutdown();
    }
  }
  return child_exited;
}

void Propagator::Shutdown() {
  size_t n = mounts_->DetachAll();
  StaleMountSweeper sweeper(sys_, mounter_, options_.mnt_dir);
  StatusOr<std::vector<std::string>> rest = sweeper.DetachFerryMounts();
  size_t extra = rest.ok() ? rest->size() : 0;
  Log()->info("shut down: detached {} mount(s) under {}", n + extra, options_.mnt_dir);
}

Status Propagator::Run() {
  if (!supervisor_) return FailedPrecondition("Run() before a successful Prepare()");
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGCHLD);
  SysResult<int> sfd = sys_.SignalFd(mask);
  if (sfd.err != 0) return StatusFromErrno(sfd.err, "signalfd");
  UniqueFd signal_fd(sfd.value);

  supervisor_->Start();
  while (!supervisor_->Done()) {
    std::vector<pollfd> fds = {{signal_fd.get(), POLLIN, 0}};
    if (supervisor_->control_fd() >= 0) fds.push_back({supervisor_->control_fd(), POLLIN, 0});
    auto timeout = supervisor_->TimeUntilNextAction().value_or(std::chrono::milliseconds(-1));
    SysResult<int> r = sys_.Poll(fds, timeout);
    if (r.err != 0 && r.err != EINTR) return StatusFromErrno(r.err, "poll");
    if (r.err == 0 && fds.size() > 1 && fds[1].revents != 0) ServeControl();
    if (r.err == 0 && fds[0].revents != 0 && DrainSignals(signal_fd.get())) {
      supervisor_->ReapChildren();
    }
    supervisor_->OnTick();
  }
  supervisor_->ReapChildren();
  Shutdown();
  return Status::Ok();
}

}  // namespace ferry::propagator
