#pragma once
// `ferry-sidecar run`: the data plane's control loop (docs/sidecar.md).
//
// Started by ferry-propagator with the control socket in FERRY_CONTROL_FD. It
// watches the config dir (ConfigWatcher), reconciles mounts
// (MountReconciler), keeps <mnt-dir>/.ferry/status.json current and serves
// /healthz, /readyz, /status and /metrics on a localhost port (a bind failure
// is logged, not fatal). Stop() (SIGTERM) ends watching, stops every FUSE
// server and makes Run() return 0; the propagator unmounts.
//
// main.cc builds the concrete pieces (PropagatorMountProvider, the FUSE
// dataset factory, InotifyFileWatcher, RealClock); tests inject others.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/file_watcher.h"
#include "common/mutex.h"
#include "common/status.h"
#include "sidecar/config_watcher.h"
#include "sidecar/mount_provider.h"
#include "sidecar/mount_reconciler.h"
#include "sidecar/status_file_writer.h"
#include "sidecar/status_model.h"
#include "sidecar/status_server.h"

namespace ferry::sidecar {

struct RunOptions {
  std::string config_dir = "/etc/ferry";            // --config-dir
  std::string spec_file = "datasets.yaml";          // --spec-file (name inside config-dir)
  std::string mnt_dir = "/run/ferry/mnt";           // --mnt-dir
  std::string cache_dir = "/var/cache/ferry";       // --cache-dir
  std::string status_addr = "127.0.0.1:9781";       // --status-addr; "" or "off" disables
  std::chrono::milliseconds debounce{50};           // --debounce
  std::chrono::milliseconds rescan{60'000};         // --rescan
  std::chrono::milliseconds unmount_grace{30'000};  // --unmount-grace
  int fuse_threads = 4;                             // --fuse-threads (max per mount)
  int parallel_mounts = 4;                          // --parallel-mounts
};

// "50ms", "2s", "1m", "1h", "250" (milliseconds) -> duration.
// kInvalidArgument names the text.
StatusOr<std::chrono::milliseconds> ParseDurationFlag(std::string_view text);

// Parses the flags after "run". kInvalidArgument names the bad flag; a
// kCancelled status means --help was asked (print RunUsage(), exit 0).
StatusOr<RunOptions> ParseRunFlags(const std::vector<std::string>& args);
std::string RunUsage();

class RunCommand {
 public:
  // Every reference must outlive the RunCommand.
  RunCommand(RunOptions options, MountProvider& provider, DatasetServerFactory& factory,
             FileWatcher& watcher, Clock& clock);
  RunCommand(const RunCommand&) = delete;
  RunCommand& operator=(const RunCommand&) = delete;

  // Runs until Stop(); returns the process exit code (0).
  int Run();
  // Thread-safe; may come before Run().
  void Stop();

  StatusModel& model() { return model_; }
  int status_port() const { return status_port_.load(); }  // 0 until bound

 private:
  void WriteStatus(const StatusSnapshot& snapshot);
  void TrimWhenSettled(const StatusSnapshot& snapshot);

  const RunOptions options_;
  StatusModel model_;
  StatusFileWriter writer_;
  MountReconciler reconciler_;
  ConfigWatcher config_watcher_;
  std::unique_ptr<StatusServer> status_server_;
  std::atomic<int> status_port_{0};
  // Guards last_write_error_ (status writes may come from mount threads). Leaf.
  Mutex write_mu_;
  std::string last_write_error_ FERRY_GUARDED_BY(write_mu_);  // logged once per distinct error
  std::string last_trim_key_ FERRY_GUARDED_BY(write_mu_);     // what was mounted at the last trim
};

}  // namespace ferry::sidecar
