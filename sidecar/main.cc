// ferry-sidecar: the data plane.
//   ferry-sidecar run [flags]                 (under ferry-propagator; docs/sidecar.md)
//   ferry-sidecar mount SOURCE DIR [-o ...]   (standalone, root; sidecar/standalone_mount.h)

#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/control_protocol.h"
#include "common/inotify_file_watcher.h"
#include "common/logging.h"
#include "sidecar/mount_provider.h"
#include "sidecar/mount_reconciler.h"
#include "sidecar/run_command.h"
#include "sidecar/standalone_mount.h"

namespace {

constexpr char kUsage[] = R"(usage: ferry-sidecar COMMAND ...

commands:
  run [flags]                 serve the datasets of the pod (started by ferry-propagator)
  mount SOURCE DIR [-o k=v]   mount one dataset standalone (root; for debugging, benchmarks)
  --version                   print the version

Run "ferry-sidecar run --help" or "ferry-sidecar mount --help" for the flags.
)";

int RunMain(const std::vector<std::string>& args) {
  using ferry::sidecar::ParseRunFlags;
  auto options = ParseRunFlags(args);
  if (!options.ok()) {
    if (options.status().Is(ferry::StatusCode::kCancelled)) {
      std::fputs(ferry::sidecar::RunUsage().c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "ferry-sidecar run: %s\n",
                 std::string(options.status().message()).c_str());
    return 2;
  }
  // At most two malloc arenas (glibc's default is 8 per core, one per thread
  // until then): the data plane's threads mostly wait, and each arena keeps
  // its own touched pages. Before any thread starts.
  mallopt(M_ARENA_MAX, 2);
  ferry::InitLogging("ferry-sidecar");
  auto log = ferry::GetLogger("sidecar.main");
  // No CurlGlobalInit() here: libcurl is loaded (and initialised) when the
  // first remote dataset needs it (sidecar/source/lazy_curl.cc).

  // SIGTERM/SIGINT are taken by one thread with sigwait(); every thread
  // started later inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto client = ferry::PropagatorClient::FromEnv();
  if (!client.ok()) {
    log->error("{}", client.status().ToString());
    return 1;
  }
  if (ferry::Status ping = (*client)->Ping(); !ping.ok()) {
    log->error("the propagator does not answer on the control socket: {}", ping.ToString());
    return 1;
  }
  auto watcher = ferry::InotifyFileWatcher::Create();
  if (!watcher.ok()) {
    log->error("{}", watcher.status().ToString());
    return 1;
  }
  ferry::RealClock clock;
  ferry::sidecar::PropagatorMountProvider provider(**client);
  ferry::sidecar::FuseDatasetOptions fuse_options;
  fuse_options.cache_dir = options->cache_dir;
  fuse_options.config_dir = options->config_dir;
  fuse_options.max_threads = options->fuse_threads;
  fuse_options.backing = &provider;
  auto factory = ferry::sidecar::NewFuseDatasetServerFactory(fuse_options, clock);
  ferry::sidecar::RunCommand run(*options, provider, *factory, **watcher, clock);

  std::atomic<bool> signalled{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    signalled = true;
    log->info("got {}, shutting down", sig == SIGTERM ? "SIGTERM" : strsignal(sig));
    run.Stop();
  });
  int code = run.Run();
  // Run() only returns after Stop(), i.e. after the signal thread woke; wake
  // it anyway should that ever change.
  if (!signalled) pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "run") return RunMain(std::vector<std::string>(argv + 2, argv + argc));
  if (cmd == "mount") return ferry::sidecar::RunStandaloneMount(argc, argv);
  if (cmd == "--version" || cmd == "version") {
    std::printf("ferry-sidecar %s\n", FERRY_VERSION);
    return 0;
  }
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::fprintf(stderr, "ferry-sidecar: unknown command \"%s\"\n%s", cmd.c_str(), kUsage);
  return 2;
}
