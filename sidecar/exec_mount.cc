#include "sidecar/exec_mount.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "common/logging.h"

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX

namespace ferry::sidecar {
namespace {

constexpr int kChildFuseFd = 3;
constexpr char kMountpoint[] = "/dev/fd/3";

}  // namespace

StatusOr<std::string> ExecMount::ResolveProgram(const std::string& program,
                                                const std::string& path_env) {
  auto runnable = [](const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
  };
  if (program.find('/') != std::string::npos) {
    if (runnable(program)) return program;
    return NotFound("exec program " + program + " does not exist or is not executable");
  }
  size_t start = 0;
  while (start <= path_env.size()) {
    size_t colon = path_env.find(':', start);
    std::string dir = path_env.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!dir.empty() && runnable(dir + "/" + program)) return dir + "/" + program;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return NotFound("exec program '" + program + "' is not in PATH (" + path_env +
                  "): install it in the sidecar image or write its absolute path");
}

Status ExecMount::CheckFuseAbi(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  StatusOr<std::vector<std::string>> needed = ElfNeededLibraries(ss.str());
  FuseAbi abi = needed.ok() ? FuseAbiOf(*needed) : FuseAbi::kUnknown;
  if (abi == FuseAbi::kFuse2) {
    return FailedPrecondition(
        path + " links libfuse.so.2 (libfuse 2), which cannot serve a mountpoint handed over as "
               "/dev/fd/N: use a build against libfuse 3.3 or newer (e.g. s3fs >= 1.91, a recent "
               "ossfs 2.x), or use ferry's own s3:// / oss:// sources");
  }
  if (abi == FuseAbi::kUnknown) {
    GetLogger("exec")->warn("{}: no libfuse3.so.3 among its libraries ({}); assuming it can serve "
                            "/dev/fd/N (static libfuse 3.3+)",
                            path, needed.ok() ? "dynamic" : std::string(needed.status().message()));
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<ExecMount>> ExecMount::Start(const ExecSpec& spec, FuseFdProvider provider,
                                                      Options options) {
  FERRY_ASSIGN_OR_RETURN(std::string program, ResolveProgram(spec.program, options.path_env));
  FERRY_RETURN_IF_ERROR(CheckFuseAbi(program));
  std::unique_ptr<ExecMount> m(new ExecMount(spec, std::move(program), std::move(provider), std::move(options)));
  m->supervisor_ = std::thread([raw = m.get()] { raw->Supervise(); });
  return m;
}

ExecMount::ExecMount(ExecSpec spec, std::string program, FuseFdProvider provider, Options options)
    : spec_(std::move(spec)), program_(std::move(program)), provider_(std::move(provider)),
      options_(std::move(options)) {}

ExecMount::~ExecMount() { Stop(); }

void ExecMount::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    wake_.NotifyAll();
  }
  pid_t pid = pid_.load();
  if (pid > 0) {
    ::kill(pid, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + options_.stop_grace;
    while (pid_.load() == pid && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (pid_.load() == pid) ::kill(pid, SIGKILL);
  }
  if (supervisor_.joinable()) supervisor_.join();
}

StatusOr<std::pair<pid_t, UniqueFd>> ExecMount::Spawn(const UniqueFd& fuse_fd) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return StatusFromErrno(errno, "pipe2");
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  // Above 3 so dup2(.., 3) below always makes a fresh, inheritable fd 3.
  UniqueFd high(::fcntl(fuse_fd.get(), F_DUPFD_CLOEXEC, 10));
  if (!high) return StatusFromErrno(errno, "dup fuse fd");
  std::vector<std::string> argv_s = BuildArgv(spec_, program_, kMountpoint);
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) return StatusFromErrno(errno, "fork");
  if (pid == 0) {  // child: async-signal-safe calls only
    // The data plane blocks SIGTERM/SIGINT in every thread (a signal thread
    // sigwait()s them); a vendor binary must not inherit that, or it would
    // ignore both the stop and the parent-death signal.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(126);
    ::setpgid(0, 0);
    if (::dup2(high.get(), kChildFuseFd) < 0 || ::dup2(write_end.get(), 1) < 0 ||
        ::dup2(write_end.get(), 2) < 0) {
      ::_exit(126);
    }
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::execve(argv[0], argv.data(), environ);
    ::_exit(127);
  }
  return std::make_pair(pid, std::move(read_end));
}

void ExecMount::PumpOutput(UniqueFd pipe) {
  auto log = GetLogger("exec");
  std::string name = program_.substr(program_.rfind('/') + 1);
  std::string pending;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(pipe.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      log->info("{}: {}", name, pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
    if (pending.size() > 64 * 1024) {  // a binary without newlines: do not grow forever
      log->info("{}: {}", name, pending);
      pending.clear();
    }
  }
  if (!pending.empty()) log->info("{}: {}", name, pending);
}

void ExecMount::Supervise() {
  auto log = GetLogger("exec");
  std::chrono::milliseconds backoff = options_.initial_backoff;
  for (;;) {
    {
      MutexLock lock(mu_);
      if (stopping_) return;
    }
    auto started = std::chrono::steady_clock::now();
    StatusOr<UniqueFd> fd = provider_();
    Status error;
    if (fd.ok()) {
      StatusOr<std::pair<pid_t, UniqueFd>> child = Spawn(*fd);
      if (child.ok()) {
        pid_t pid = child->first;
        pid_.store(pid);
        starts_.fetch_add(1);
        log->info("started {} (pid {}) on {}", program_, pid, kMountpoint);
        std::thread pump([this, p = std::move(child->second)]() mutable { PumpOutput(std::move(p)); });
        {
          MutexLock lock(mu_);
          if (stopping_) ::kill(pid, SIGTERM);
        }
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        pid_.store(0);
        ::kill(-pid, SIGKILL);  // helpers it left in its group
        pump.join();
        error = Unavailable(program_ + (WIFEXITED(status)
                                            ? " exited with status " + std::to_string(WEXITSTATUS(status))
                                            : " was killed by signal " + std::to_string(WTERMSIG(status))));
      } else {
        error = child.status();
      }
    } else {
      error = fd.status();
    }
    if (std::chrono::steady_clock::now() - started > std::chrono::minutes(1)) {
      backoff = options_.initial_backoff;
    }
    MutexLock lock(mu_);
    if (stopping_) return;
    log->warn("{}; restarting in {} ms", error.ToString(), backoff.count());
    wake_.WaitFor(mu_, backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace ferry::sidecar
