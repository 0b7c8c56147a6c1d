#pragma once
// MountReconciler: makes the mounted datasets match the dataset spec.
//
// Each config observation (ConfigWatcher) is parsed with the shared parser.
// A bad one keeps the last good spec in force and is reported (specError,
// log). A good one is diffed against what runs, by name and ConfigHash():
//   - gone or changed: PropagatorClient-style Unmount (lazy detach), then the
//     dataset's server drains: it ends by itself when the kernel drops the
//     connection (no open files left), and is stopped after `unmount_grace`
//     otherwise (open files then get ENOTCONN);
//   - new or changed: DatasetServerFactory::Start, which builds the source,
//     asks the MountProvider for the FUSE fd and serves it until INIT.
// Any failure is per dataset (phase Failed + error); nothing that works is
// torn down because of a bad entry. Independent mounts start concurrently on
// up to `parallel_mounts` short-lived threads; everything else runs on the
// reconcile thread, never on FUSE threads.
//
// Ready: set once the first good spec has been applied (every dataset in it
// Mounted or Failed). A missing file is a valid, empty spec.
//
// Threading: OnConfig/Apply/Tick/StopAll on the reconcile thread only.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/dataset_spec.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "sidecar/config_watcher.h"
#include "sidecar/mount_provider.h"
#include "sidecar/status_model.h"

namespace ferry::sidecar {

struct DatasetServerStats {
  uint64_t bytes_read = 0;    // payload bytes fetched from the source
  uint64_t bytes_cached = 0;  // bytes held by the cache tiers
  bool passthrough = false;   // local files are read by the kernel (FUSE passthrough)
  PreloadStatus preload;      // cache.preload progress (configured = false: none)
};

// One served dataset: a source, a Filesystem and a FUSE loop. Destroying it
// stops serving (joins its threads); the mount itself is the propagator's.
class DatasetServer {
 public:
  DatasetServer() = default;
  virtual ~DatasetServer() = default;
  DatasetServer(const DatasetServer&) = delete;
  DatasetServer& operator=(const DatasetServer&) = delete;

  // True once the FUSE connection ended (unmounted and no open files left,
  // or a fatal error). Thread-safe.
  virtual bool Finished() const = 0;
  virtual DatasetServerStats Stats() const = 0;
  // The dataset is being removed: its mount is about to be detached and must
  // not be re-created (exec:// restarts). Reconcile thread.
  virtual void BeginDrain() {}
  // cache.preload changed without a remount: restart preloading with these
  // globs (empty: stop). Reconcile thread.
  virtual void SetPreload(const std::vector<std::string>& globs) { (void)globs; }
};

class DatasetServerFactory {
 public:
  using MountFn = std::function<StatusOr<UniqueFd>()>;
  DatasetServerFactory() = default;
  virtual ~DatasetServerFactory() = default;
  DatasetServerFactory(const DatasetServerFactory&) = delete;
  DatasetServerFactory& operator=(const DatasetServerFactory&) = delete;

  // Builds what `spec` needs (source, cache, filesystem), then calls `mount`
  // for the FUSE fd and serves it; returns after the kernel's INIT was
  // answered (exec://: once the binary was started on the fd). `mount` stays
  // valid for the server's lifetime and may be called again from another
  // thread (exec:// restarts a crashed binary on a fresh mount: each call
  // after the first detaches the previous mount first). Fails before calling `mount` whenever it can (kUnimplemented:
  // scheme not supported yet; kInvalidArgument: bad options). Errors of
  // `mount` are passed through. Thread-safe (called for several datasets at
  // once).
  virtual StatusOr<std::unique_ptr<DatasetServer>> Start(const MountSpec& spec,
                                                         const MountFn& mount) = 0;
};

// The production factory (sidecar/dataset_servers.cc): local://, s3://,
// oss://, http(s):// through BuildDataset (source + block cache + ferry's
// Filesystem; cache.preload run after mount by a Preloader), exec:// through
// ExecMount (supervised vendor binary on the handed-over fd).
struct FuseDatasetOptions {
  std::string cache_dir = "/var/cache/ferry";
  std::string config_dir = "/etc/ferry";  // credentials live here
  int max_threads = 4;                    // FUSE workers per mount (idle mounts use 1)
  std::string exec_path_env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::chrono::milliseconds exec_initial_backoff{500};
  // Registers passthrough backing files for local:// datasets (the
  // propagator, through its MountProvider); null: no passthrough.
  MountProvider* backing = nullptr;
};
std::unique_ptr<DatasetServerFactory> NewFuseDatasetServerFactory(FuseDatasetOptions options,
                                                                  Clock& clock);

struct ReconcilerOptions {
  std::chrono::milliseconds unmount_grace{30'000};
  int parallel_mounts = 4;
  // A Failed dataset (anything but a bad spec entry, which only a spec change
  // fixes) is started again after retry_initial, doubling up to retry_max:
  // a bucket or NAS path that appears later gets mounted.
  std::chrono::milliseconds retry_initial{2'000};
  std::chrono::milliseconds retry_max{300'000};
};

class MountReconciler {
 public:
  MountReconciler(MountProvider& provider, DatasetServerFactory& factory, StatusModel& model,
                  Clock& clock, ReconcilerOptions options);
  ~MountReconciler();  // StopAll()
  MountReconciler(const MountReconciler&) = delete;
  MountReconciler& operator=(const MountReconciler&) = delete;

  // Mounts left by a crashed predecessor are detached (they are re-created
  // fresh by the next Apply). Errors are logged.
  void DropKeptMounts();

  // Handles one observation of the spec file: parse, then Apply or report.
  void OnConfig(const ConfigSnapshot& snapshot);

  // Makes the running datasets match `spec`.
  void Apply(const DatasetSpec& spec);

  // Housekeeping: ends drained servers (or stops them after the grace),
  // retries Failed datasets whose backoff has passed, and refreshes byte and
  // preload counters.
  void Tick();

  // SIGTERM: stops every server, draining or not. Mounts stay for the
  // propagator to unmount.
  void StopAll();

  // Names with a running server, for tests.
  std::vector<std::string> ServingForTest() const;
  size_t DrainingForTest() const { return draining_.size(); }

 private:
  struct Running {
    MountSpec spec;
    std::string hash;
    std::unique_ptr<DatasetServer> server;  // null when Failed
    // Failed only: retried at next_retry unless the error was the spec's.
    bool retryable = false;
    uint32_t failures = 0;
    std::chrono::steady_clock::time_point next_retry{};
  };
  struct Draining {
    std::string name;
    std::unique_ptr<DatasetServer> server;
    std::chrono::steady_clock::time_point deadline;
  };
  struct StartResult {
    StatusOr<std::unique_ptr<DatasetServer>> server = Status(StatusCode::kCancelled, "not started");
    bool mounted = false;  // the provider handed out an fd
  };

  void BeginRemoval(const std::string& name, bool replaced);
  void StartAll(const std::vector<const MountSpec*>& specs);
  void RetryFailed();
  // Records a failure of `r` (named `name`) and schedules its retry.
  void ScheduleRetry(const std::string& name, Running& r, const Status& error);
  StartResult StartOne(const MountSpec& spec);

  MountProvider& provider_;
  DatasetServerFactory& factory_;
  StatusModel& model_;
  Clock& clock_;
  const ReconcilerOptions options_;

  std::map<std::string, Running> running_;  // by dataset name
  std::vector<Draining> draining_;
  bool applied_any_ = false;
};

}  // namespace ferry::sidecar
