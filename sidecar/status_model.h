#pragma once
// StatusModel: the observed state of the data plane, the one source for
// status.json, /status, /readyz and /metrics (format: docs/sidecar.md).
// Only the reconcile thread mutates it; any thread reads snapshots. Each
// mutation bumps a version and notifies the listener (the status.json writer)
// outside the lock; Batch groups several mutations into one notification.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/mutex.h"

namespace ferry::sidecar {

enum class DatasetPhase : uint8_t { kPending, kMounted, kFailed, kUnmounting };
std::string_view DatasetPhaseName(DatasetPhase phase);  // "Pending", "Mounted", ...

// cache.preload progress of one dataset (status.json "preload").
struct PreloadStatus {
  bool configured = false;  // the dataset has cache.preload globs
  bool done = false;        // finished (see error) or stopped
  uint64_t files_done = 0;  // read to the end, or failed
  uint64_t files_total = 0;
  uint64_t files_failed = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  std::string error;  // first error met, "" when none
  bool operator==(const PreloadStatus&) const = default;
};

struct DatasetStatus {
  DatasetPhase phase = DatasetPhase::kPending;
  std::string source;  // the spec's URL as written (never credentials)
  bool read_only = true;
  std::string error;  // why Failed (or why a removal is still draining)
  uint64_t bytes_cached = 0;
  uint64_t bytes_read = 0;  // payload bytes fetched from the source
  bool passthrough = false;  // the kernel reads local files directly (FUSE passthrough)
  PreloadStatus preload;
  // Failed: consecutive failed starts, and when the next attempt is due
  // (epoch: none, the spec entry must change first).
  uint32_t failures = 0;
  std::chrono::system_clock::time_point next_retry{};
  std::chrono::system_clock::time_point last_change;
};

struct StatusSnapshot {
  uint64_t version = 0;     // bumps on every mutation
  bool ready = false;       // the initial spec has been applied (see docs/sidecar.md)
  uint64_t generation = 0;  // specs applied so far
  std::string spec_error;   // "" when the last read spec was good
  std::chrono::system_clock::time_point updated;
  std::map<std::string, DatasetStatus> datasets;
  // Counters for /metrics.
  uint64_t reconciles_total = 0;
  uint64_t spec_errors_total = 0;
  uint64_t mount_failures_total = 0;
};

class StatusModel {
 public:
  using Listener = std::function<void(const StatusSnapshot&)>;

  explicit StatusModel(Clock& clock);
  StatusModel(const StatusModel&) = delete;
  StatusModel& operator=(const StatusModel&) = delete;

  // Called after each mutation (or Batch) with the new snapshot, on the
  // mutating thread, outside the lock. Set before the first mutation.
  void SetListener(Listener listener);

  // Groups mutations: one notification when the outermost Batch ends.
  class Batch {
   public:
    explicit Batch(StatusModel& model);
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

   private:
    StatusModel& model_;
  };

  // Mutations (reconcile thread). A call that changes nothing notifies nothing.
  void SetDataset(const std::string& name, DatasetPhase phase, std::string_view source,
                  bool read_only, std::string_view error);
  void RemoveDataset(const std::string& name);
  // Byte counters change often: they do not touch lastChange.
  void SetDatasetBytes(const std::string& name, uint64_t bytes_read, uint64_t bytes_cached,
                       bool passthrough = false);
  // Preload progress changes often: it does not touch lastChange.
  void SetDatasetPreload(const std::string& name, const PreloadStatus& preload);
  void SetDatasetRetry(const std::string& name, uint32_t failures,
                       std::chrono::system_clock::time_point next_retry);
  void SpecApplied();                         // generation++, specError cleared
  void SetSpecError(std::string_view error);  // counts a spec error
  void SetReady();
  void CountReconcile();
  void CountMountFailure();

  // Thread-safe.
  StatusSnapshot Snapshot() const;

 private:
  void Touch() FERRY_REQUIRES(mu_);
  void MaybeNotify() FERRY_EXCLUDES(mu_);

  Clock& clock_;
  Listener listener_;  // set before any concurrency
  // Guards everything below. Leaf lock; the listener runs without it.
  mutable Mutex mu_;
  StatusSnapshot state_ FERRY_GUARDED_BY(mu_);
  int batch_depth_ FERRY_GUARDED_BY(mu_) = 0;
  bool dirty_ FERRY_GUARDED_BY(mu_) = false;
};

}  // namespace ferry::sidecar
