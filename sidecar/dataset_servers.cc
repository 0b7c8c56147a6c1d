// The production DatasetServerFactory (declared in mount_reconciler.h):
// ferry's own Filesystem over BuildDataset's source + cache, with
// cache.preload run after mount, and exec:// datasets served by a supervised
// vendor binary (ExecMount).

#include <stop_token>
#include <thread>

#include "common/logging.h"
#include "common/mutex.h"
#include "sidecar/cache/preloader.h"
#include "sidecar/dataset_builder.h"
#include "sidecar/exec_mount.h"
#include "sidecar/fs/filesystem.h"
#include "sidecar/fs/fuse_server.h"
#include "sidecar/mount_reconciler.h"
#include "sidecar/source/exec_spec.h"

namespace ferry::sidecar {
namespace {

std::shared_ptr<spdlog::logger> Log() { return GetLogger("sidecar.reconciler"); }

// How long the kernel may take to send INIT on a fresh mount.
constexpr std::chrono::seconds kInitTimeout{10};

// A source, its cache, the FUSE loop serving them and the preloader warming
// the cache. The destructor stops the preloader, then the server, then
// destroys the cache and the source (members in reverse order).
class FuseDatasetServer final : public DatasetServer {
 public:
  FuseDatasetServer(std::string name, BuiltDataset parts)
      : name_(std::move(name)), parts_(std::move(parts)) {}
  ~FuseDatasetServer() override {
    StopPreload();
    if (server_ != nullptr) server_->Stop();
  }
  bool Finished() const override { return !server_->Running(); }
  DatasetServerStats Stats() const override {
    DatasetServerStats st;
    st.bytes_read = parts_.source->Stats().bytes_read;
    if (parts_.cache != nullptr) {
      CacheStats c = parts_.cache->Stats();
      st.bytes_cached = c.memory_bytes + c.disk_bytes;
    }
    if (server_ != nullptr) st.passthrough = server_->filesystem().Stats().passthrough;
    MutexLock lock(preload_mu_);
    st.preload = preload_;
    return st;
  }
  void SetPreload(const std::vector<std::string>& globs) override {
    StopPreload();
    {
      MutexLock lock(preload_mu_);
      preload_ = PreloadStatus{};
      preload_.configured = !globs.empty();
    }
    if (globs.empty()) return;
    if (parts_.cache == nullptr) {
      Finish("cache.preload: local:// datasets have no block cache to warm; drop cache.preload");
      return;
    }
    StatusOr<std::vector<Glob>> parsed = ParseGlobs(globs);
    if (!parsed.ok()) {
      Finish("cache.preload: " + std::string(parsed.status().message()));
      return;
    }
    auto preloader = std::make_shared<Preloader>(
        *parts_.source, *parts_.cache, *std::move(parsed), PreloadOptions{},
        [this](const PreloadProgress& p) { Progress(p); });
    Log()->info("{}: preloading {} glob(s)", name_, globs.size());
    preload_thread_ = std::jthread([this, preloader](std::stop_token stop) {
      Status s = preloader->Run(stop);
      PreloadProgress p = preloader->Progress();
      Progress(p);
      if (s.Is(StatusCode::kCancelled)) {
        Finish("");
        return;
      }
      Log()->info("{}: preload finished: {} of {} files, {} bytes{}", name_, p.files_done,
                  p.files_total, p.bytes_done, s.ok() ? "" : "; first error: " + s.ToString());
      Finish(s.ok() ? "" : std::string(s.message()));
    });
  }
  DataSource& source() { return *parts_.source; }
  TieredBlockCache* cache() { return parts_.cache.get(); }
  const FilesystemOptions& fs_options() const { return parts_.fs_options; }
  void SetServer(std::unique_ptr<FuseServer> server) { server_ = std::move(server); }

 private:
  void StopPreload() {
    if (preload_thread_.joinable()) {
      preload_thread_.request_stop();
      preload_thread_.join();
    }
  }
  void Progress(const PreloadProgress& p) {
    MutexLock lock(preload_mu_);
    preload_.files_done = p.files_done;
    preload_.files_total = p.files_total;
    preload_.files_failed = p.files_failed;
    preload_.bytes_done = p.bytes_done;
    preload_.bytes_total = p.bytes_total;
  }
  void Finish(std::string error) {
    MutexLock lock(preload_mu_);
    preload_.done = true;
    preload_.error = std::move(error);
  }

  const std::string name_;
  BuiltDataset parts_;
  std::unique_ptr<FuseServer> server_;
  mutable Mutex preload_mu_;  // leaf lock
  PreloadStatus preload_ FERRY_GUARDED_BY(preload_mu_);
  std::jthread preload_thread_;
};

// exec://: a vendor FUSE binary on the handed-over fd, restarted on a fresh
// mount when it exits, until the dataset is removed.
class ExecDatasetServer final : public DatasetServer {
 public:
  explicit ExecDatasetServer(DatasetServerFactory::MountFn mount) : mount_(std::move(mount)) {}
  ~ExecDatasetServer() override {
    if (exec_ != nullptr) exec_->Stop();
  }
  bool Finished() const override { return draining_.load() && exec_->pid() == 0; }
  DatasetServerStats Stats() const override { return {}; }
  void BeginDrain() override {
    MutexLock lock(mu_);
    draining_.store(true);
  }
  // The supervisor's FuseFdProvider: a fresh mount, unless being removed.
  StatusOr<UniqueFd> Mount() {
    MutexLock lock(mu_);
    if (draining_.load()) return Cancelled("the dataset is being removed; not remounting");
    StatusOr<UniqueFd> fd = mount_();
    if (!fd.ok() && first_error_.ok()) first_error_ = fd.status();
    return fd;
  }
  Status Start(const ExecSpec& spec, const ExecMount::Options& options) {
    FERRY_ASSIGN_OR_RETURN(exec_, ExecMount::Start(spec, [this] { return Mount(); }, options));
    auto deadline = std::chrono::steady_clock::now() + kInitTimeout;
    while (exec_->starts() == 0 && std::chrono::steady_clock::now() < deadline) {
      {
        MutexLock lock(mu_);
        if (!first_error_.ok()) return first_error_;  // e.g. the propagator refused the mount
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (exec_->starts() == 0) {
      return DeadlineExceeded("exec://" + spec.program + " was not started within 10 s");
    }
    return Status::Ok();
  }

 private:
  const DatasetServerFactory::MountFn mount_;
  Mutex mu_;  // serializes Mount() with BeginDrain(); leaf lock
  std::atomic<bool> draining_{false};
  Status first_error_ FERRY_GUARDED_BY(mu_);
  std::unique_ptr<ExecMount> exec_;
};

class FuseDatasetServerFactory final : public DatasetServerFactory {
 public:
  FuseDatasetServerFactory(FuseDatasetOptions options, Clock& clock)
      : options_(std::move(options)), clock_(clock) {}

  StatusOr<std::unique_ptr<DatasetServer>> Start(const MountSpec& spec,
                                                 const MountFn& mount) override {
    if (spec.scheme == "exec") return StartExec(spec, mount);
    DatasetEnv env;
    env.clock = &clock_;
    env.cache_root = options_.cache_dir;
    env.config_dir = options_.config_dir;
    FERRY_ASSIGN_OR_RETURN(BuiltDataset parts, BuildDataset(spec, env));
    auto dataset = std::make_unique<FuseDatasetServer>(spec.name, std::move(parts));
    auto fs = std::make_unique<Filesystem>(dataset->source(), dataset->cache(),
                                           dataset->fs_options(), clock_);
    FERRY_ASSIGN_OR_RETURN(UniqueFd fd, mount());
    FuseServerOptions server_options;
    server_options.max_threads = options_.max_threads;
    server_options.read_only = spec.read_only;
    server_options.fsname = "ferry:" + spec.name;
    if (options_.backing != nullptr) {
      MountProvider* provider = options_.backing;
      std::string name = spec.name;
      server_options.backing = NewForwardingBackingRegistrar(
          [provider, name](int file_fd) { return provider->BackingOpen(name, file_fd); },
          [provider, name](int32_t id) {
            Status s = provider->BackingClose(name, id);
            if (!s.ok()) Log()->warn("{}: {}", name, s.ToString());
          });
    }
    FERRY_ASSIGN_OR_RETURN(std::unique_ptr<FuseServer> server,
                           FuseServer::StartOnFd(std::move(fd), std::move(fs), server_options));
    if (!server->WaitInitialized(kInitTimeout)) {
      return DeadlineExceeded("the kernel did not complete FUSE INIT within 10 s");
    }
    dataset->SetServer(std::move(server));
    dataset->SetPreload(spec.cache.preload);
    return std::unique_ptr<DatasetServer>(std::move(dataset));
  }

 private:
  StatusOr<std::unique_ptr<DatasetServer>> StartExec(const MountSpec& spec, const MountFn& mount) {
    FERRY_ASSIGN_OR_RETURN(ExecSpec exec_spec, ParseExecSpec(spec));
    ExecMount::Options o;
    o.path_env = options_.exec_path_env;
    o.initial_backoff = options_.exec_initial_backoff;
    auto dataset = std::make_unique<ExecDatasetServer>(mount);
    FERRY_RETURN_IF_ERROR(dataset->Start(exec_spec, o));
    if (!spec.cache.preload.empty()) {
      Log()->warn("{}: cache.preload is ignored for exec:// datasets (the binary has its own cache)",
                  spec.name);
    }
    return std::unique_ptr<DatasetServer>(std::move(dataset));
  }

  const FuseDatasetOptions options_;
  Clock& clock_;
};

}  // namespace

std::unique_ptr<DatasetServerFactory> NewFuseDatasetServerFactory(FuseDatasetOptions options,
                                                                  Clock& clock) {
  UseMmapForCacheBlocks();
  return std::make_unique<FuseDatasetServerFactory>(std::move(options), clock);
}

}  // namespace ferry::sidecar
