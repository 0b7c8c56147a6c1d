#include "sidecar/standalone_mount.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/clock.h"
#include "common/logging.h"
#include "sidecar/fs/filesystem.h"
#include "sidecar/fs/fuse_server.h"
#include "sidecar/dataset_builder.h"
#include "sidecar/source/remote_sources.h"
#include "sidecar/standalone_exec.h"

namespace ferry::sidecar {
namespace {

constexpr char kUsage[] =
    "usage: ferry-sidecar mount SOURCE DIR [-o k=v,...] [-f]\n"
    "       ferry-sidecar mount exec://PROGRAM DIR [-o k=v,...] [-f] [-- ARGS...]\n"
    "  SOURCE: s3://bucket/prefix/, oss://bucket/prefix/, http(s)://host/path/,\n"
    "          local:///abs/path (or /abs/path)\n"
    "  exec:   a libfuse3 binary (s3fs, ossfs, ...) run on DIR's FUSE fd as /dev/fd/3 and\n"
    "          restarted when it exits; ARGS are its arguments ({mountpoint} = /dev/fd/3,\n"
    "          else appended). Options: ro, fsname=NAME, read_ahead_kb=N, args=TEXT,\n"
    "          restart_backoff=500ms, restart_backoff_max=30s, stop_grace=5s\n"
    "  mount:  ro, threads=N, fsname=NAME, splice=0|1, uid=N, gid=N,\n"
    "          read_ahead_kb=16384 (kernel read-ahead of the mount; 0 = leave it)\n"
    "  metadata: attr_ttl=D, entry_ttl=D, negative_ttl=D, dir_ttl=D (30s, 500ms, 5m, 1h),\n"
    "          list_on_lookup=0|1\n"
    "  s3/oss: endpoint=URL (s3fs: url=), region=R, style=path|virtual (s3fs:\n"
    "          use_path_request_style), anonymous=1 (s3fs: public_bucket=1), list=auto|delimiter|flat\n"
    "  remote: connections=N, timeout=D, tls_verify=0|1, ca_file=PEM\n"
    "  cache:  cache_memory=256Mi, cache_disk=SIZE, cache_dir=DIR (disk tier; off without it),\n"
    "          block_size=1Mi, cache_small_file=2Mi, prefetch_workers=4, prefetch_range=8Mi,\n"
    "          prefetch_initial=1152Ki, prefetch_max=32Mi, prefetch_memory=32Mi,\n"
    "          cache_pool=32Mi, cache_pool_idle=10s (pooled buffers freed after this idle)\n"
    "  local:  direct_io=0|1\n"
    "  credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (oss: also\n"
    "          OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET, OSS_SESSION_TOKEN); AWS_REGION,\n"
    "          AWS_ENDPOINT_URL (OSS_REGION, OSS_ENDPOINT) when region=/endpoint= are not given\n"
    "  -f: stay in the foreground (default: detach once mounted)\n";

struct Args {
  std::string source;
  std::string dir;
  bool foreground = false;
  bool help = false;
  std::map<std::string, std::string> options;
  std::vector<std::string> trailing;  // after "--": exec:// arguments
};

StatusOr<Args> ParseArgs(int argc, char** argv) {
  Args a;
  std::vector<std::string> positional;
  int i = 1;
  if (i < argc && std::strcmp(argv[i], "mount") == 0) ++i;
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) a.trailing.emplace_back(argv[i]);
      break;
    }
    if (arg == "-f") {
      a.foreground = true;
    } else if (arg == "-h" || arg == "--help") {
      a.help = true;
    } else if (arg == "-o" || (arg.rfind("-o", 0) == 0 && arg.size() > 2)) {
      std::string list = arg.size() > 2 ? arg.substr(2) : (i + 1 < argc ? argv[++i] : "");
      if (list.empty()) return InvalidArgument("-o needs a value");
      size_t start = 0;
      while (start <= list.size()) {
        size_t end = list.find(',', start);
        std::string kv = list.substr(start, end == std::string::npos ? end : end - start);
        if (!kv.empty()) {
          size_t eq = kv.find('=');
          a.options[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
        }
        if (end == std::string::npos) break;
        start = end + 1;
      }
    } else if (!arg.empty() && arg[0] == '-') {
      return InvalidArgument("unknown flag " + arg);
    } else {
      positional.push_back(arg);
    }
  }
  if (a.help) return a;
  if (positional.size() != 2) return InvalidArgument("need SOURCE and DIR");
  a.source = positional[0];
  a.dir = positional[1];
  if (!a.trailing.empty() && SchemeOf(a.source) != "exec") {
    return InvalidArgument("arguments after -- are only for exec:// sources");
  }
  return a;
}

// Sets the kernel read-ahead of the FUSE mount at `dir` (the propagator does
// the same for sidecar mounts): FUSE INIT can only lower it.
void SetReadAhead(const std::string& dir, uint64_t kb) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return;
  std::string path = "/sys/class/bdi/" + std::to_string(major(st.st_dev)) + ":" +
                     std::to_string(minor(st.st_dev)) + "/read_ahead_kb";
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    GetLogger("sidecar.mount")->warn("cannot set read-ahead: {}: {}", path, std::strerror(errno));
    return;
  }
  std::string v = std::to_string(kb);
  if (::write(fd, v.data(), v.size()) < 0) {
    GetLogger("sidecar.mount")->warn("cannot set read-ahead: {}: {}", path, std::strerror(errno));
  }
  ::close(fd);
}

// Applies the mount-level keys and removes them from `o`.
Status ApplyMountOptions(std::map<std::string, std::string>& o, FuseServerOptions& server,
                         uint64_t& read_ahead_kb) {
  for (auto it = o.begin(); it != o.end();) {
    const std::string& k = it->first;
    const std::string& v = it->second;
    if (k == "ro" || k == "allow_other" || k == "default_permissions" || k == "nonempty") {
    } else if (k == "rw") {
      return InvalidArgument("-o rw: ferry serves datasets read-only; drop rw");
    } else if (k == "threads") {
      FERRY_ASSIGN_OR_RETURN(uint64_t n, ParseUintOption(k, v));
      if (n < 1 || n > 1024) return InvalidArgument("-o threads: must be 1..1024");
      server.max_threads = static_cast<int>(n);
    } else if (k == "fsname") {
      if (v.empty() || v.find_first_of(",\\ ") != std::string::npos) {
        return InvalidArgument("-o fsname: must be non-empty without ',', '\\' or spaces");
      }
      server.fsname = v;
    } else if (k == "splice") {
      FERRY_ASSIGN_OR_RETURN(server.conn.splice_write, ParseBoolOption(k, v));
    } else if (k == "read_ahead_kb") {
      FERRY_ASSIGN_OR_RETURN(read_ahead_kb, ParseUintOption(k, v));
      if (read_ahead_kb > (1u << 20)) return InvalidArgument("-o read_ahead_kb: at most 1048576");
    } else {
      ++it;
      continue;
    }
    it = o.erase(it);
  }
  return Status();
}

// Runs the mount until a signal or an external unmount. Returns the exit code.
int Serve(const Args& args, int ready_fd) {
  auto log = GetLogger("sidecar.mount");
  auto report = [&](char c) {
    if (ready_fd >= 0) {
      (void)!::write(ready_fd, &c, 1);
      ::close(ready_fd);
      ready_fd = -1;
    }
  };
  auto fail = [&](const Status& st) {
    std::fprintf(stderr, "ferry-sidecar mount: %s\n", st.ToString().c_str());
    int code = st.Is(StatusCode::kInvalidArgument) ? 2 : 1;
    report(static_cast<char>('0' + code));
    return code;
  };
  if (SchemeOf(args.source) == "exec") {
    StatusOr<StandaloneExecConfig> config =
        MakeStandaloneExecConfig(args.source, args.options, args.trailing);
    if (!config.ok()) return fail(config.status());
    return RunStandaloneExec(*config, args.dir, [&](int code) { report(static_cast<char>('0' + code)); });
  }
  // SIGINT/SIGTERM/SIGHUP are taken with sigtimedwait; every thread (FUSE workers,
  // cache pools) inherits the mask, so block them before any is started.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::map<std::string, std::string> options = args.options;
  FuseServerOptions server_options;
  uint64_t read_ahead_kb = 16384;
  Status s = ApplyMountOptions(options, server_options, read_ahead_kb);
  if (!s.ok()) return fail(s);
  StatusOr<MountSpec> spec = MakeStandaloneSpec(args.source, args.dir, options);
  if (!spec.ok()) return fail(spec.status());
  UseMmapForCacheBlocks();
  RealClock clock;
  DatasetEnv env;
  env.clock = &clock;
  env.standalone = true;
  env.strict_options = true;
  env.environment = ProcessEnvironment();
  StatusOr<BuiltDataset> dataset = BuildDataset(*spec, env);
  if (!dataset.ok()) return fail(dataset.status());
  pid_t self = ::getpid();
  server_options.on_exit = [self](const Status&) { ::kill(self, SIGTERM); };

  auto fs = std::make_unique<Filesystem>(*dataset->source, dataset->cache.get(),
                                         dataset->fs_options, clock);
  StatusOr<std::unique_ptr<FuseServer>> server =
      FuseServer::StartOnPath(args.dir, std::move(fs), std::move(server_options));
  if (!server.ok()) return fail(server.status());
  if (!(*server)->WaitInitialized(std::chrono::seconds(30))) {
    log->error("the kernel never sent INIT for {}", args.dir);
    report('1');
    return 1;
  }
  if (read_ahead_kb > 0) SetReadAhead(args.dir, read_ahead_kb);
  log->info("mounted {} at {} (read-only)", dataset->source->Describe(), args.dir);
  report('0');
  // The main thread is the idle mount's timer: it hands pooled block buffers
  // back once they have idled (the reconciler does it on its tick).
  const timespec tick{1, 0};
  while (sigtimedwait(&stop_signals, nullptr, &tick) < 0) {
    if (dataset->cache != nullptr) dataset->cache->TrimIdlePool();
  }
  bool external = !(*server)->Running();
  (*server)->Stop();
  server->reset();  // before the cache and source it reads
  log->info("{} {}", args.dir, external ? "was unmounted" : "unmounted");
  return 0;
}

}  // namespace

StatusOr<MountSpec> MakeStandaloneSpec(std::string_view url, std::string_view dir,
                                       const std::map<std::string, std::string>& options) {
  MountSpec spec;
  spec.source = std::string(url);
  spec.scheme = SchemeOf(url);
  if (spec.scheme == "local" && url.rfind("local://", 0) != 0) spec.source = "local://" + spec.source;
  if (spec.scheme != "local" && spec.scheme != "s3" && spec.scheme != "oss" &&
      spec.scheme != "http" && spec.scheme != "https") {
    return InvalidArgument("unsupported SOURCE '" + std::string(url) +
                           "': use s3://bucket/prefix/, oss://bucket/prefix/, "
                           "http(s)://host/path/ or local:///abs/path");
  }
  std::string_view base = dir;
  while (base.size() > 1 && base.back() == '/') base.remove_suffix(1);
  size_t slash = base.rfind('/');
  if (slash != std::string_view::npos) base = base.substr(slash + 1);
  for (char c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    spec.name.push_back(ok ? c : (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : '-'));
  }
  if (spec.name.empty()) spec.name = "standalone";
  for (const auto& [k, v] : options) {
    if (k == "url") {
      spec.options["endpoint"] = v;  // s3fs
    } else if (k == "use_path_request_style") {
      spec.options["style"] = "path";  // s3fs
    } else if (k == "public_bucket") {
      spec.options["anonymous"] = v.empty() || v == "1" ? "true" : v;  // s3fs
    } else {
      spec.options[k] = v;
    }
  }
  return spec;
}

int RunStandaloneMount(int argc, char** argv) {
  StatusOr<Args> args = ParseArgs(argc, argv);
  if (!args.ok()) {
    std::fprintf(stderr, "ferry-sidecar mount: %s\n%s", std::string(args.status().message()).c_str(),
                 kUsage);
    return 2;
  }
  if (args->help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args->foreground) return Serve(*args, -1);
  // Detach like s3fs: the parent exits once the child has mounted (or failed).
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    return 1;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    return 1;
  }
  if (pid == 0) {
    ::close(pipefd[0]);
    ::setsid();
    return Serve(*args, pipefd[1]);
  }
  ::close(pipefd[1]);
  char c = '1';
  ssize_t n;
  do {
    n = ::read(pipefd[0], &c, 1);
  } while (n < 0 && errno == EINTR);
  ::close(pipefd[0]);
  if (n != 1) return 1;  // the child died before reporting
  return c >= '0' && c <= '2' ? c - '0' : 1;
}

}  // namespace ferry::sidecar
