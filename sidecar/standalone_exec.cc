#include "sidecar/standalone_exec.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <optional>
#include <thread>

#include "common/logging.h"
#include "common/mountinfo.h"
#include "common/mutex.h"
#include "sidecar/dataset_builder.h"

namespace ferry::sidecar {
namespace {

constexpr auto kExecStartTimeout = std::chrono::seconds(10);

// Write end of the stop pipe for the signal handler (one standalone mount per process).
std::atomic<int> g_exec_stop_fd{-1};

void ExecStopSignal(int) {
  int fd = g_exec_stop_fd.load();
  char c = 's';
  if (fd >= 0) (void)!::write(fd, &c, 1);
}

StatusOr<std::chrono::milliseconds> ExecOptionMillis(const std::string& key, const std::string& v) {
  FERRY_ASSIGN_OR_RETURN(std::chrono::nanoseconds d, ParseOptionDuration(key, v));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d);
  if (ms.count() < 1 || ms > std::chrono::hours(1)) {
    return InvalidArgument("-o " + key + "=" + v + ": must be between 1ms and 1h");
  }
  return ms;
}

// True when the top mount at `path` is the one ferry made (fstype and fsname
// match), i.e. nobody unmounted it from outside.
bool OurMountIsAt(Sys& sys, const std::string& path, const FuseFdMountOptions& o) {
  SysResult<std::string> text = sys.ReadFile("/proc/self/mountinfo");
  if (text.err != 0) return false;
  StatusOr<std::vector<MountInfo>> table = ParseMountInfo(text.value);
  if (!table.ok()) return false;
  const MountInfo* top = nullptr;
  for (const MountInfo& m : *table) {
    if (m.mount_point == path) top = &m;
  }
  return top != nullptr && top->fstype == o.fstype && top->source == o.fsname;
}

}  // namespace

StatusOr<StandaloneExecConfig> MakeStandaloneExecConfig(
    std::string_view url, const std::map<std::string, std::string>& options,
    const std::vector<std::string>& trailing_args) {
  StandaloneExecConfig c;
  MountSpec spec;
  spec.source = std::string(url);
  spec.scheme = "exec";
  for (const auto& [k, v] : options) {
    if (k == "ro" || k == "allow_other" || k == "default_permissions" || k == "nonempty") {
    } else if (k == "rw") {
      return InvalidArgument("-o rw: ferry serves datasets read-only; drop rw");
    } else if (k == "fsname") {
      if (v.empty() || v.find_first_of(",\\ ") != std::string::npos) {
        return InvalidArgument("-o fsname: must be non-empty without ',', '\\' or spaces");
      }
      c.mount.fsname = v;
    } else if (k == "read_ahead_kb") {
      FERRY_ASSIGN_OR_RETURN(uint64_t kb, ParseUintOption(k, v));
      if (kb > (1u << 20)) return InvalidArgument("-o read_ahead_kb: at most 1048576");
      c.mount.read_ahead_kb = static_cast<uint32_t>(kb);
    } else if (k == "args") {
      if (!trailing_args.empty()) {
        return InvalidArgument("-o args: give the binary's arguments either with -o args= or after --, "
                               "not both");
      }
      spec.options["args"] = v;
    } else if (k == "restart_backoff") {
      FERRY_ASSIGN_OR_RETURN(c.exec.initial_backoff, ExecOptionMillis(k, v));
    } else if (k == "restart_backoff_max") {
      FERRY_ASSIGN_OR_RETURN(c.exec.max_backoff, ExecOptionMillis(k, v));
    } else if (k == "stop_grace") {
      FERRY_ASSIGN_OR_RETURN(c.exec.stop_grace, ExecOptionMillis(k, v));
    } else {
      return InvalidArgument("-o " + k + ": not an option of exec:// mounts (ro, fsname, "
                             "read_ahead_kb, args, restart_backoff, restart_backoff_max, "
                             "stop_grace); the binary's own options go after --, e.g. "
                             "-- mybucket {mountpoint} -o url=https://...");
    }
  }
  if (c.exec.max_backoff < c.exec.initial_backoff) c.exec.max_backoff = c.exec.initial_backoff;
  StatusOr<ExecSpec> e = ParseExecSpec(spec);
  if (!e.ok()) return e.status();
  c.spec = *std::move(e);
  if (!trailing_args.empty()) c.spec.args = trailing_args;
  return c;
}

int RunStandaloneExec(const StandaloneExecConfig& config, const std::string& dir,
                      const std::function<void(int)>& ready) {
  auto log = GetLogger("sidecar.mount");
  auto fail = [&](const Status& st) {
    std::fprintf(stderr, "ferry-sidecar mount: %s\n", st.ToString().c_str());
    int code = st.Is(StatusCode::kInvalidArgument) ? 2 : 1;
    ready(code);
    return code;
  };
  // Stop signals reach a handler on any thread (none blocks them: the binary
  // would inherit a blocked mask) and wake the main thread through a pipe.
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) return fail(StatusFromErrno(errno, "pipe2"));
  UniqueFd stop_read(pipe_fds[0]);
  UniqueFd stop_write(pipe_fds[1]);
  g_exec_stop_fd.store(stop_write.get());
  struct sigaction sa {};
  sa.sa_handler = ExecStopSignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    ::sigaction(sig, &sa, nullptr);
    sigaddset(&stop_signals, sig);
  }
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);

  LinuxSys sys;
  SysResult<std::string> real = sys.RealPath(dir);
  if (real.err != 0) return fail(StatusFromErrno(real.err, "mount point " + dir));
  const std::string path = real.value;
  if (OurMountIsAt(sys, path, config.mount)) {
    return fail(AlreadyExists("a ferry mount named " + config.mount.fsname + " is already at " +
                              path + "; unmount it first"));
  }

  Mutex mu;
  Status first_error;  // guarded by mu
  std::atomic<int> mounts{0};
  std::atomic<bool> unmounted_outside{false};
  // Each (re)start of the binary: a fresh mount (INIT comes once per mount).
  ExecMount::FuseFdProvider provider = [&]() -> StatusOr<UniqueFd> {
    if (mounts.fetch_add(1) > 0) {
      if (!OurMountIsAt(sys, path, config.mount)) {
        unmounted_outside.store(true);
        ExecStopSignal(SIGTERM);
        return Cancelled(path + " was unmounted from outside; not remounting");
      }
      SysResult<int> r = sys.Umount2(path, MNT_DETACH);
      if (r.err != 0) log->warn("detach {} before remounting: {}", path, StatusFromErrno(r.err, "umount2").ToString());
    }
    StatusOr<UniqueFd> fd = MountFuseFd(sys, path, config.mount);
    if (!fd.ok()) {
      MutexLock lock(mu);
      if (first_error.ok()) first_error = fd.status();
    }
    return fd;
  };
  StatusOr<std::unique_ptr<ExecMount>> exec = ExecMount::Start(config.spec, provider, config.exec);
  if (!exec.ok()) return fail(exec.status());
  auto deadline = std::chrono::steady_clock::now() + kExecStartTimeout;
  while ((*exec)->starts() == 0 && std::chrono::steady_clock::now() < deadline) {
    {
      MutexLock lock(mu);
      if (!first_error.ok()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if ((*exec)->starts() == 0) {
    (*exec)->Stop();
    if (OurMountIsAt(sys, path, config.mount)) (void)sys.Umount2(path, MNT_DETACH);
    MutexLock lock(mu);
    return fail(!first_error.ok() ? first_error
                                  : DeadlineExceeded(config.spec.program + " was not started within 10 s"));
  }
  log->info("serving {} at {} with {} (pid {})", config.mount.fsname, path, config.spec.program,
            (*exec)->pid());
  ready(0);

  for (;;) {
    pollfd p{stop_read.get(), POLLIN, 0};
    int n = ::poll(&p, 1, -1);
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  (*exec)->Stop();  // SIGTERM, SIGKILL after stop_grace; no restart
  bool ours = OurMountIsAt(sys, path, config.mount);
  if (ours) {
    SysResult<int> r = sys.Umount2(path, MNT_DETACH);
    if (r.err != 0) log->warn("detach {}: {}", path, StatusFromErrno(r.err, "umount2").ToString());
  }
  g_exec_stop_fd.store(-1);
  log->info("{} {} (the binary was started {} times)", path,
            unmounted_outside.load() || !ours ? "was unmounted" : "unmounted", (*exec)->starts());
  return 0;
}

}  // namespace ferry::sidecar
