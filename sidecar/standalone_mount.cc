#include "sidecar/standalone_mount.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
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
#include "sidecar/source/local_source.h"

namespace ferry::sidecar {
namespace {

constexpr char kUsage[] =
    "usage: ferry-sidecar mount SOURCE DIR [-o k=v,...] [-f]\n"
    "  SOURCE: local:///abs/path (or /abs/path)\n"
    "  options: ro, threads=N, attr_ttl=D, entry_ttl=D, negative_ttl=D, dir_ttl=D,\n"
    "           list_on_lookup=0|1, uid=N, gid=N, fsname=NAME, splice=0|1, direct_io=0|1\n"
    "  -f: stay in the foreground (default: detach once mounted)\n";

struct Args {
  std::string source;
  std::string dir;
  bool foreground = false;
  bool help = false;
  std::map<std::string, std::string> options;
};

StatusOr<Args> ParseArgs(int argc, char** argv) {
  Args a;
  std::vector<std::string> positional;
  int i = 1;
  if (i < argc && std::strcmp(argv[i], "mount") == 0) ++i;
  for (; i < argc; ++i) {
    std::string arg = argv[i];
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
  return a;
}

// "30" / "30s" / "500ms" / "5m" / "1h".
StatusOr<std::chrono::nanoseconds> ParseDuration(const std::string& key, const std::string& v) {
  size_t pos = 0;
  double n = 0;
  try {
    n = std::stod(v, &pos);
  } catch (...) {
    return InvalidArgument(key + ": not a duration: '" + v + "' (e.g. 30s, 500ms, 5m)");
  }
  std::string unit = v.substr(pos);
  double scale = 1e9;
  if (unit == "ms") {
    scale = 1e6;
  } else if (unit == "m") {
    scale = 60e9;
  } else if (unit == "h") {
    scale = 3600e9;
  } else if (!unit.empty() && unit != "s") {
    return InvalidArgument(key + ": unknown unit in '" + v + "' (use ms, s, m or h)");
  }
  if (n < 0) return InvalidArgument(key + ": negative duration");
  return std::chrono::nanoseconds(static_cast<int64_t>(n * scale));
}

StatusOr<uint64_t> ParseUint(const std::string& key, const std::string& v) {
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument(key + ": not a number: '" + v + "'");
  }
  return std::stoull(v);
}

StatusOr<bool> ParseBool(const std::string& key, const std::string& v) {
  if (v.empty() || v == "1" || v == "true" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "no") return false;
  return InvalidArgument(key + ": expected 0 or 1, got '" + v + "'");
}

// Applies the mount-level keys and removes them from `o`.
Status ApplyMountOptions(std::map<std::string, std::string>& o, FilesystemOptions& fs,
                         FuseServerOptions& server) {
  for (auto it = o.begin(); it != o.end();) {
    const std::string& k = it->first;
    const std::string& v = it->second;
    if (k == "ro" || k == "allow_other" || k == "default_permissions") {
    } else if (k == "rw") {
      return InvalidArgument("rw: ferry serves datasets read-only");
    } else if (k == "threads") {
      FERRY_ASSIGN_OR_RETURN(uint64_t n, ParseUint(k, v));
      if (n < 1 || n > 1024) return InvalidArgument("threads: must be 1..1024");
      server.max_threads = static_cast<int>(n);
    } else if (k == "attr_ttl") {
      FERRY_ASSIGN_OR_RETURN(fs.attr_ttl, ParseDuration(k, v));
    } else if (k == "entry_ttl") {
      FERRY_ASSIGN_OR_RETURN(fs.entry_ttl, ParseDuration(k, v));
    } else if (k == "negative_ttl") {
      FERRY_ASSIGN_OR_RETURN(fs.negative_ttl, ParseDuration(k, v));
    } else if (k == "dir_ttl") {
      FERRY_ASSIGN_OR_RETURN(fs.dir_ttl, ParseDuration(k, v));
    } else if (k == "list_on_lookup") {
      FERRY_ASSIGN_OR_RETURN(fs.list_on_lookup, ParseBool(k, v));
    } else if (k == "uid") {
      FERRY_ASSIGN_OR_RETURN(uint64_t n, ParseUint(k, v));
      fs.uid = static_cast<uint32_t>(n);
    } else if (k == "gid") {
      FERRY_ASSIGN_OR_RETURN(uint64_t n, ParseUint(k, v));
      fs.gid = static_cast<uint32_t>(n);
    } else if (k == "fsname") {
      if (v.empty() || v.find_first_of(",\\ ") != std::string::npos) {
        return InvalidArgument("fsname: must be non-empty without ',', '\\' or spaces");
      }
      server.fsname = v;
    } else if (k == "direct_io") {
      FERRY_ASSIGN_OR_RETURN(fs.local_direct_io, ParseBool(k, v));
    } else if (k == "splice") {
      FERRY_ASSIGN_OR_RETURN(server.conn.splice_write, ParseBool(k, v));
    } else {
      ++it;
      continue;
    }
    it = o.erase(it);
  }
  return Status();
}

bool IsLocalUrl(std::string_view url) {
  return url.rfind("local://", 0) == 0 || (!url.empty() && url[0] == '/');
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
  std::map<std::string, std::string> options = args.options;
  FilesystemOptions fs_options =
      IsLocalUrl(args.source) ? FilesystemOptions::ForLocal() : FilesystemOptions::ForRemote();
  FuseServerOptions server_options;
  Status s = ApplyMountOptions(options, fs_options, server_options);
  StatusOr<std::unique_ptr<DataSource>> source =
      s.ok() ? MakeSourceForStandalone(args.source, options) : StatusOr<std::unique_ptr<DataSource>>(s);
  if (source.ok() && !options.empty()) {
    source = InvalidArgument("unknown option -o " + options.begin()->first);
  }
  if (!source.ok()) {
    log->error("{}", source.status().ToString());
    int code = source.status().Is(StatusCode::kInvalidArgument) ? 2 : 1;
    report(static_cast<char>('0' + code));
    return code;
  }
  // SIGINT/SIGTERM/SIGHUP are taken with sigwait; the server's threads block them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  pid_t self = ::getpid();
  server_options.on_exit = [self](const Status&) { ::kill(self, SIGTERM); };

  RealClock clock;
  auto fs = std::make_unique<Filesystem>(**source, nullptr, fs_options, clock);
  StatusOr<std::unique_ptr<FuseServer>> server =
      FuseServer::StartOnPath(args.dir, std::move(fs), std::move(server_options));
  if (!server.ok()) {
    log->error("{}", server.status().ToString());
    report('1');
    return 1;
  }
  if (!(*server)->WaitInitialized(std::chrono::seconds(30))) {
    log->error("the kernel never sent INIT for {}", args.dir);
    report('1');
    return 1;
  }
  log->info("mounted {} at {} (read-only)", (*source)->Describe(), args.dir);
  report('0');
  int sig = 0;
  sigwait(&stop_signals, &sig);
  bool external = !(*server)->Running();
  (*server)->Stop();
  log->info("{} {}", args.dir, external ? "was unmounted" : "unmounted");
  return 0;
}

}  // namespace

StatusOr<std::unique_ptr<DataSource>> MakeSourceForStandalone(
    std::string_view url, std::map<std::string, std::string>& options) {
  (void)options;  // local:// takes no options
  if (IsLocalUrl(url)) {
    std::string root(url.rfind("local://", 0) == 0 ? url.substr(8) : url);
    if (root.empty() || root[0] != '/') {
      return InvalidArgument("local:// needs an absolute path, e.g. local:///srv/data");
    }
    auto source = std::make_unique<LocalSource>(root);
    FERRY_RETURN_IF_ERROR(source->CheckRoot());
    return std::unique_ptr<DataSource>(std::move(source));
  }
  return InvalidArgument("unsupported source '" + std::string(url) +
                         "' for a standalone mount (supported: local:///path)");
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
