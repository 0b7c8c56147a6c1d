#include "sidecar/mount_reconciler.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "common/logging.h"

namespace ferry::sidecar {
namespace {

std::shared_ptr<spdlog::logger> Log() { return GetLogger("sidecar.reconciler"); }

}  // namespace

MountReconciler::MountReconciler(MountProvider& provider, DatasetServerFactory& factory,
                                 StatusModel& model, Clock& clock, ReconcilerOptions options)
    : provider_(provider), factory_(factory), model_(model), clock_(clock), options_(options) {}

MountReconciler::~MountReconciler() { StopAll(); }

void MountReconciler::DropKeptMounts() {
  StatusOr<std::vector<KeptMount>> kept = provider_.Adopt();
  if (!kept.ok()) {
    Log()->warn("cannot list mounts kept by the propagator: {}", kept.status().ToString());
    return;
  }
  for (KeptMount& m : *kept) {
    // The state of a crashed predecessor is not resumed: detach and remount fresh.
    m.fuse_fd.Reset();
    Status s = provider_.Unmount(m.name);
    Log()->info("detached mount {} left by a previous data plane{}", m.name,
                s.ok() ? "" : ": " + s.ToString());
  }
}

void MountReconciler::OnConfig(const ConfigSnapshot& snapshot) {
  if (!snapshot.error.ok()) {
    std::string msg = "cannot read the dataset spec: " + snapshot.error.ToString();
    Log()->error("{}; keeping the last good spec", msg);
    model_.SetSpecError(msg);
    return;
  }
  if (!snapshot.present) {
    Log()->info("no dataset spec file: applying an empty spec");
    Apply(DatasetSpec{});
    return;
  }
  StatusOr<DatasetSpec> spec = ParseDatasetSpec(snapshot.text);
  if (!spec.ok()) {
    std::string msg(spec.status().message());
    Log()->error("invalid dataset spec (hash {:016x}), keeping the last good one: {}",
                 snapshot.hash, msg);
    model_.SetSpecError(msg);
    return;
  }
  Log()->info("dataset spec changed (hash {:016x}, {} datasets)", snapshot.hash,
              spec->mounts.size());
  Apply(*spec);
}

void MountReconciler::BeginRemoval(const std::string& name, bool replaced) {
  auto it = running_.find(name);
  if (it == running_.end()) return;
  Running old = std::move(it->second);
  running_.erase(it);
  if (old.server != nullptr) {
    old.server->BeginDrain();
    Status s = provider_.Unmount(name);
    if (!s.ok()) Log()->error("unmount {}: {}", name, s.ToString());
    draining_.push_back({name, std::move(old.server), clock_.Now() + options_.unmount_grace});
    if (!replaced) {
      model_.SetDataset(name, DatasetPhase::kUnmounting, old.spec.source, old.spec.read_only, "");
    }
  } else if (!replaced) {
    model_.RemoveDataset(name);
  }
  Log()->info("{} {}", replaced ? "remounting" : "removed", name);
}

MountReconciler::StartResult MountReconciler::StartOne(const MountSpec& spec) {
  StartResult result;
  // Outlives this call (exec:// remounts from its supervisor thread); the
  // provider outlives every server.
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto mounted = std::make_shared<std::atomic<bool>>(false);
  DatasetServerFactory::MountFn mount = [provider = &provider_, name = spec.name,
                                         read_only = spec.read_only, calls,
                                         mounted]() -> StatusOr<UniqueFd> {
    if (calls->fetch_add(1) > 0) {
      Status s = provider->Unmount(name);  // a restart gets a fresh mount
      if (!s.ok()) Log()->warn("detach {} before remounting: {}", name, s.ToString());
    }
    FuseMountRequest req;
    req.name = name;
    req.read_only = read_only;
    req.fsname = "ferry:" + name;
    StatusOr<UniqueFd> fd = provider->Mount(req);
    if (fd.ok()) mounted->store(true);
    return fd;
  };
  result.server = factory_.Start(spec, mount);
  result.mounted = mounted->load();
  if (!result.server.ok() && result.mounted) {
    // A mount nobody serves would hang every reader: take it away again.
    Status s = provider_.Unmount(spec.name);
    if (!s.ok()) Log()->error("unmount {} after a failed start: {}", spec.name, s.ToString());
  }
  return result;
}

void MountReconciler::StartAll(const std::vector<const MountSpec*>& specs) {
  if (specs.empty()) return;
  std::vector<StartResult> results(specs.size());
  auto record = [&](size_t i) {
    const MountSpec& spec = *specs[i];
    if (results[i].server.ok()) {
      model_.SetDataset(spec.name, DatasetPhase::kMounted, spec.source, spec.read_only, "");
      Log()->info("mounted {} ({})", spec.name, spec.source);
    } else {
      std::string err(results[i].server.status().message());
      model_.CountMountFailure();
      model_.SetDataset(spec.name, DatasetPhase::kFailed, spec.source, spec.read_only, err);
      Log()->error("dataset {} failed: {}", spec.name, err);
    }
  };
  size_t workers = std::min<size_t>(specs.size(), std::max(1, options_.parallel_mounts));
  if (workers <= 1) {
    for (size_t i = 0; i < specs.size(); ++i) {
      results[i] = StartOne(*specs[i]);
      record(i);
    }
  } else {
    std::atomic<size_t> next{0};
    std::vector<std::jthread> threads;
    threads.reserve(workers);
    for (size_t w = 0; w < workers; ++w) {
      threads.emplace_back([&] {
        for (size_t i = next++; i < specs.size(); i = next++) {
          results[i] = StartOne(*specs[i]);
          record(i);  // StatusModel is thread-safe
        }
      });
    }
  }  // joins
  for (size_t i = 0; i < specs.size(); ++i) {
    Running& r = running_[specs[i]->name];
    bool same = r.hash == specs[i]->ConfigHash();
    r.spec = *specs[i];
    r.hash = specs[i]->ConfigHash();
    if (!same) r.failures = 0;
    if (results[i].server.ok()) {
      r.server = std::move(results[i].server).value();
      r.failures = 0;
      model_.SetDatasetRetry(specs[i]->name, 0, std::chrono::system_clock::time_point{});
    } else {
      r.server = nullptr;
      ScheduleRetry(specs[i]->name, r, results[i].server.status());
    }
  }
}

void MountReconciler::ScheduleRetry(const std::string& name, Running& r, const Status& error) {
  // A bad option or an unsupported scheme only changes with the spec.
  r.retryable = !error.Is(StatusCode::kInvalidArgument) && !error.Is(StatusCode::kUnimplemented);
  ++r.failures;
  if (!r.retryable) {
    model_.SetDatasetRetry(name, r.failures, std::chrono::system_clock::time_point{});
    return;
  }
  auto delay = options_.retry_initial;
  for (uint32_t i = 1; i < r.failures && delay < options_.retry_max; ++i) delay *= 2;
  delay = std::min(delay, options_.retry_max);
  r.next_retry = clock_.Now() + delay;
  model_.SetDatasetRetry(name, r.failures, clock_.WallNow() + delay);
  Log()->info("{}: retrying in {} ms (failure {})", name, delay.count(), r.failures);
}

void MountReconciler::RetryFailed() {
  std::vector<const MountSpec*> due;
  auto now = clock_.Now();
  for (auto& entry : running_) {  // not a structured binding: clang 14 cannot capture one
    const std::string& name = entry.first;
    Running& r = entry.second;
    if (r.server != nullptr || !r.retryable || now < r.next_retry) continue;
    // The name must not still be draining from a previous server.
    bool draining = std::any_of(draining_.begin(), draining_.end(),
                                [&](const Draining& d) { return d.name == name; });
    if (draining) continue;
    r.retryable = false;  // until this attempt's outcome is known
    due.push_back(&r.spec);
  }
  if (due.empty()) return;
  std::vector<MountSpec> specs;
  for (const MountSpec* m : due) specs.push_back(*m);
  std::vector<const MountSpec*> ptrs;
  for (const MountSpec& m : specs) {
    ptrs.push_back(&m);
    Log()->info("{}: retrying the failed mount", m.name);
  }
  StartAll(ptrs);
}

void MountReconciler::Apply(const DatasetSpec& spec) {
  model_.CountReconcile();
  std::map<std::string, const MountSpec*> desired;
  for (const MountSpec& m : spec.mounts) desired[m.name] = &m;

  std::vector<const MountSpec*> to_start;
  {
    StatusModel::Batch batch(model_);
    std::vector<std::string> gone;
    for (const auto& [name, r] : running_) {
      if (desired.count(name) == 0) gone.push_back(name);
    }
    for (const std::string& name : gone) BeginRemoval(name, /*replaced=*/false);
    for (const auto& [name, m] : desired) {
      auto it = running_.find(name);
      if (it != running_.end() && it->second.hash == m->ConfigHash()) {
        bool preload_changed = it->second.spec.cache.preload != m->cache.preload;
        it->second.spec = *m;  // e.g. cache.preload only: no remount
        if (preload_changed && it->second.server != nullptr) {
          it->second.server->SetPreload(m->cache.preload);
          model_.SetDatasetPreload(name, it->second.server->Stats().preload);
        }
        continue;
      }
      if (it != running_.end()) BeginRemoval(name, /*replaced=*/true);
      model_.SetDataset(name, DatasetPhase::kPending, m->source, m->read_only, "");
      to_start.push_back(m);
    }
  }
  StartAll(to_start);
  StatusModel::Batch batch(model_);
  model_.SpecApplied();
  if (!applied_any_) {
    applied_any_ = true;
    model_.SetReady();
    Log()->info("initial spec applied: ready");
  }
}

void MountReconciler::Tick() {
  RetryFailed();
  StatusModel::Batch batch(model_);
  auto now = clock_.Now();
  for (auto it = draining_.begin(); it != draining_.end();) {
    bool finished = it->server->Finished();
    if (!finished && now < it->deadline) {
      ++it;
      continue;
    }
    if (!finished) {
      Log()->warn("{}: files still open {} ms after unmount; stopping its server", it->name,
                  options_.unmount_grace.count());
    }
    std::string name = it->name;
    it = draining_.erase(it);  // destroys the server
    bool still_draining = std::any_of(draining_.begin(), draining_.end(),
                                      [&](const Draining& d) { return d.name == name; });
    if (running_.count(name) == 0 && !still_draining) model_.RemoveDataset(name);
  }
  for (auto& [name, r] : running_) {
    if (r.server == nullptr) continue;
    if (r.server->Finished()) {
      // Unmounted behind our back (or the FUSE loop died): nothing serves it.
      Log()->error("{}: the FUSE connection ended unexpectedly", name);
      r.server.reset();
      (void)provider_.Unmount(name);
      model_.CountMountFailure();
      model_.SetDataset(name, DatasetPhase::kFailed, r.spec.source, r.spec.read_only,
                        "the FUSE connection ended unexpectedly (unmounted from outside?)");
      ScheduleRetry(name, r, Unavailable("the FUSE connection ended"));
      continue;
    }
    DatasetServerStats st = r.server->Stats();
    model_.SetDatasetBytes(name, st.bytes_read, st.bytes_cached, st.passthrough);
    model_.SetDatasetPreload(name, st.preload);
  }
}

void MountReconciler::StopAll() {
  draining_.clear();
  for (auto& [name, r] : running_) r.server.reset();
}

std::vector<std::string> MountReconciler::ServingForTest() const {
  std::vector<std::string> out;
  for (const auto& [name, r] : running_) {
    if (r.server != nullptr) out.push_back(name);
  }
  return out;
}

}  // namespace ferry::sidecar
