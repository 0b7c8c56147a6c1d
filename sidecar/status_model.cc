#include "sidecar/status_model.h"

namespace ferry::sidecar {

std::string_view DatasetPhaseName(DatasetPhase phase) {
  switch (phase) {
    case DatasetPhase::kPending:
      return "Pending";
    case DatasetPhase::kMounted:
      return "Mounted";
    case DatasetPhase::kFailed:
      return "Failed";
    case DatasetPhase::kUnmounting:
      return "Unmounting";
  }
  return "Unknown";
}

StatusModel::StatusModel(Clock& clock) : clock_(clock) {
  MutexLock lock(mu_);
  state_.updated = clock_.WallNow();
}

void StatusModel::SetListener(Listener listener) { listener_ = std::move(listener); }

StatusModel::Batch::Batch(StatusModel& model) : model_(model) {
  MutexLock lock(model_.mu_);
  ++model_.batch_depth_;
}

StatusModel::Batch::~Batch() {
  {
    MutexLock lock(model_.mu_);
    --model_.batch_depth_;
  }
  model_.MaybeNotify();
}

void StatusModel::Touch() {
  ++state_.version;
  state_.updated = clock_.WallNow();
  dirty_ = true;
}

void StatusModel::MaybeNotify() {
  StatusSnapshot snap;
  {
    MutexLock lock(mu_);
    if (!dirty_ || batch_depth_ > 0) return;
    dirty_ = false;
    snap = state_;
  }
  if (listener_) listener_(snap);
}

void StatusModel::SetDataset(const std::string& name, DatasetPhase phase, std::string_view source,
                             bool read_only, std::string_view error) {
  {
    MutexLock lock(mu_);
    auto [it, inserted] = state_.datasets.try_emplace(name);
    DatasetStatus& d = it->second;
    if (!inserted && d.phase == phase && d.source == source && d.read_only == read_only &&
        d.error == error) {
      return;
    }
    d.phase = phase;
    d.source = std::string(source);
    d.read_only = read_only;
    d.error = std::string(error);
    d.last_change = clock_.WallNow();
    Touch();
  }
  MaybeNotify();
}

void StatusModel::RemoveDataset(const std::string& name) {
  {
    MutexLock lock(mu_);
    if (state_.datasets.erase(name) == 0) return;
    Touch();
  }
  MaybeNotify();
}

void StatusModel::SetDatasetBytes(const std::string& name, uint64_t bytes_read,
                                  uint64_t bytes_cached, bool passthrough) {
  {
    MutexLock lock(mu_);
    auto it = state_.datasets.find(name);
    if (it == state_.datasets.end()) return;
    if (it->second.bytes_read == bytes_read && it->second.bytes_cached == bytes_cached &&
        it->second.passthrough == passthrough) {
      return;
    }
    it->second.bytes_read = bytes_read;
    it->second.passthrough = passthrough;
    it->second.bytes_cached = bytes_cached;
    Touch();
  }
  MaybeNotify();
}

void StatusModel::SetDatasetPreload(const std::string& name, const PreloadStatus& preload) {
  {
    MutexLock lock(mu_);
    auto it = state_.datasets.find(name);
    if (it == state_.datasets.end() || it->second.preload == preload) return;
    it->second.preload = preload;
    Touch();
  }
  MaybeNotify();
}

void StatusModel::SetDatasetRetry(const std::string& name, uint32_t failures,
                                  std::chrono::system_clock::time_point next_retry) {
  {
    MutexLock lock(mu_);
    auto it = state_.datasets.find(name);
    if (it == state_.datasets.end()) return;
    if (it->second.failures == failures && it->second.next_retry == next_retry) return;
    it->second.failures = failures;
    it->second.next_retry = next_retry;
    Touch();
  }
  MaybeNotify();
}

void StatusModel::SpecApplied() {
  {
    MutexLock lock(mu_);
    ++state_.generation;
    state_.spec_error.clear();
    Touch();
  }
  MaybeNotify();
}

void StatusModel::SetSpecError(std::string_view error) {
  {
    MutexLock lock(mu_);
    ++state_.spec_errors_total;
    state_.spec_error = std::string(error);
    Touch();
  }
  MaybeNotify();
}

void StatusModel::SetReady() {
  {
    MutexLock lock(mu_);
    if (state_.ready) return;
    state_.ready = true;
    Touch();
  }
  MaybeNotify();
}

void StatusModel::CountReconcile() {
  MutexLock lock(mu_);
  ++state_.reconciles_total;  // counters alone do not rewrite status.json
}

void StatusModel::CountMountFailure() {
  MutexLock lock(mu_);
  ++state_.mount_failures_total;
}

StatusSnapshot StatusModel::Snapshot() const {
  MutexLock lock(mu_);
  return state_;
}

}  // namespace ferry::sidecar
