#include "sidecar/mount_reconciler.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "common/logging.h"
#include "sidecar/cache/cache_options.h"
#include "sidecar/cache/tiered_block_cache.h"
#include "sidecar/fs/filesystem.h"
#include "sidecar/fs/fuse_server.h"
#include "sidecar/source/local_source.h"
#include "sidecar/source/remote_sources.h"

namespace ferry::sidecar {
namespace {

std::shared_ptr<spdlog::logger> Log() { return GetLogger("sidecar.reconciler"); }

// How long the kernel may take to send INIT on a fresh mount.
constexpr std::chrono::seconds kInitTimeout{10};

// A source, its cache and the FUSE loop serving them. Members are destroyed
// in reverse order: the server (and its Filesystem) before what it reads.
class FuseDatasetServer final : public DatasetServer {
 public:
  FuseDatasetServer(std::unique_ptr<DataSource> source, std::unique_ptr<TieredBlockCache> cache)
      : source_(std::move(source)), cache_(std::move(cache)) {}
  ~FuseDatasetServer() override {
    if (server_ != nullptr) server_->Stop();
  }
  bool Finished() const override { return !server_->Running(); }
  DatasetServerStats Stats() const override {
    DatasetServerStats st;
    st.bytes_read = source_->Stats().bytes_read;
    if (cache_ != nullptr) {
      CacheStats c = cache_->Stats();
      st.bytes_cached = c.memory_bytes + c.disk_bytes;
    }
    return st;
  }
  DataSource& source() { return *source_; }
  TieredBlockCache* cache() { return cache_.get(); }
  void SetServer(std::unique_ptr<FuseServer> server) { server_ = std::move(server); }

 private:
  std::unique_ptr<DataSource> source_;
  std::unique_ptr<TieredBlockCache> cache_;
  std::unique_ptr<FuseServer> server_;
};

class FuseDatasetServerFactory final : public DatasetServerFactory {
 public:
  FuseDatasetServerFactory(FuseDatasetOptions options, Clock& clock)
      : options_(std::move(options)), clock_(clock) {}

  StatusOr<std::unique_ptr<DatasetServer>> Start(const MountSpec& spec,
                                                 const MountFn& mount) override {
    FERRY_ASSIGN_OR_RETURN(std::unique_ptr<DataSource> source, MakeSource(spec));
    std::unique_ptr<TieredBlockCache> cache;
    bool local = spec.scheme == "local";
    if (!local) {
      FERRY_ASSIGN_OR_RETURN(CacheOptions cache_options,
                             ParseCacheOptions(spec.options, options_.cache_dir + "/" + spec.name));
      FERRY_ASSIGN_OR_RETURN(cache, TieredBlockCache::Create(*source, cache_options, clock_));
    }
    auto dataset = std::make_unique<FuseDatasetServer>(std::move(source), std::move(cache));
    auto fs = std::make_unique<Filesystem>(
        dataset->source(), dataset->cache(),
        local ? FilesystemOptions::ForLocal() : FilesystemOptions::ForRemote(), clock_);
    FERRY_ASSIGN_OR_RETURN(UniqueFd fd, mount());
    FuseServerOptions server_options;
    server_options.max_threads = options_.max_threads;
    server_options.read_only = spec.read_only;
    server_options.fsname = "ferry:" + spec.name;
    FERRY_ASSIGN_OR_RETURN(std::unique_ptr<FuseServer> server,
                           FuseServer::StartOnFd(std::move(fd), std::move(fs), server_options));
    if (!server->WaitInitialized(kInitTimeout)) {
      return DeadlineExceeded("the kernel did not complete FUSE INIT within 10 s");
    }
    dataset->SetServer(std::move(server));
    return std::unique_ptr<DatasetServer>(std::move(dataset));
  }

 private:
  StatusOr<std::unique_ptr<DataSource>> MakeSource(const MountSpec& spec) {
    if (spec.scheme == "local") {
      std::string root = spec.source.substr(std::string_view("local://").size());
      auto local = std::make_unique<LocalSource>(root);
      FERRY_RETURN_IF_ERROR(local->CheckRoot().WithContext(spec.source));
      return std::unique_ptr<DataSource>(std::move(local));
    }
    if (spec.scheme == "s3" || spec.scheme == "oss" || spec.scheme == "http" ||
        spec.scheme == "https") {
      SourceEnv env;
      env.config_dir = options_.config_dir;
      env.clock = &clock_;
      return MakeRemoteSource(spec, env);
    }
    return Unimplemented("source scheme " + spec.scheme + " not supported yet");
  }

  const FuseDatasetOptions options_;
  Clock& clock_;
};

}  // namespace

std::unique_ptr<DatasetServerFactory> NewFuseDatasetServerFactory(FuseDatasetOptions options,
                                                                  Clock& clock) {
  return std::make_unique<FuseDatasetServerFactory>(std::move(options), clock);
}

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
  DatasetServerFactory::MountFn mount = [&]() -> StatusOr<UniqueFd> {
    FuseMountRequest req;
    req.name = spec.name;
    req.read_only = spec.read_only;
    req.fsname = "ferry:" + spec.name;
    StatusOr<UniqueFd> fd = provider_.Mount(req);
    result.mounted = fd.ok();
    return fd;
  };
  result.server = factory_.Start(spec, mount);
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
    r.spec = *specs[i];
    r.hash = specs[i]->ConfigHash();
    r.server = results[i].server.ok() ? std::move(results[i].server).value() : nullptr;
  }
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
        it->second.spec = *m;  // e.g. cache.preload only: no remount
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
      continue;
    }
    DatasetServerStats st = r.server->Stats();
    model_.SetDatasetBytes(name, st.bytes_read, st.bytes_cached);
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
