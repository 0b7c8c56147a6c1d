#include "sidecar/fs/fuse_server.h"

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <pthread.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <system_error>
#include <vector>

#include "common/logging.h"

namespace ferry::sidecar {
namespace {

void NoopSignalHandler(int /*sig*/) {}

// Process-wide and idempotent: the no-op handler, without SA_RESTART, so a
// read() of /dev/fuse interrupted by pthread_kill returns EINTR.
void InstallWakeHandler(int sig) {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = NoopSignalHandler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(sig, &sa, nullptr);
}

}  // namespace

// Queues kernel-cache invalidations and sends them from its own thread, never
// from a request handler (the kernel may wait on pages a handler is filling).
// The thread starts with the first invalidation: most mounts never need one.
class InvalidationQueue final : public InvalidationSink {
 public:
  explicit InvalidationQueue(fuse_session* se) : se_(se) {}
  ~InvalidationQueue() override { Stop(); }

  void InvalidateInode(uint64_t ino) override {
    MutexLock lock(mu_);
    if (stop_) return;
    inodes_.insert(ino);
    WakeLocked();
  }
  void InvalidateEntry(uint64_t parent, std::string name) override {
    MutexLock lock(mu_);
    if (stop_) return;
    entries_.emplace_back(parent, std::move(name));
    WakeLocked();
  }
  // Only after INIT: the kernel refuses notifications before it.
  void SetReady() {
    MutexLock lock(mu_);
    ready_ = true;
    if (!inodes_.empty() || !entries_.empty()) WakeLocked();
  }
  void Stop() {
    std::thread t;
    {
      MutexLock lock(mu_);
      stop_ = true;
      cv_.NotifyOne();
      t = std::move(thread_);
    }
    if (t.joinable()) t.join();
  }

 private:
  void WakeLocked() FERRY_REQUIRES(mu_) {
    if (!ready_) return;  // SetReady() wakes
    if (!thread_.joinable()) {
      try {
        thread_ = std::thread([this] { Loop(); });
      } catch (const std::system_error& e) {  // no thread: the TTLs still expire the entries
        GetLogger("sidecar.fs")->warn("no invalidation thread: {}", e.what());
        inodes_.clear();
        entries_.clear();
        return;
      }
    }
    cv_.NotifyOne();
  }

  void Loop() {
    for (;;) {
      std::set<uint64_t> inodes;
      std::deque<std::pair<uint64_t, std::string>> entries;
      {
        MutexLock lock(mu_);
        while (!stop_ && !(ready_ && (!inodes_.empty() || !entries_.empty()))) cv_.Wait(mu_);
        if (stop_) return;
        inodes.swap(inodes_);
        entries.swap(entries_);
      }
      for (uint64_t ino : inodes) fuse_lowlevel_notify_inval_inode(se_, ino, 0, 0);
      for (const auto& [parent, name] : entries) {
        fuse_lowlevel_notify_inval_entry(se_, parent, name.c_str(), name.size());
      }
    }
  }

  fuse_session* const se_;
  Mutex mu_;  // guards the queues, flags and thread_; leaf lock, never held across a notify
  CondVar cv_;
  std::set<uint64_t> inodes_ FERRY_GUARDED_BY(mu_);
  std::deque<std::pair<uint64_t, std::string>> entries_ FERRY_GUARDED_BY(mu_);
  bool ready_ FERRY_GUARDED_BY(mu_) = false;
  bool stop_ FERRY_GUARDED_BY(mu_) = false;
  std::thread thread_ FERRY_GUARDED_BY(mu_);
};

FuseServer::FuseServer(std::unique_ptr<Filesystem> fs, FuseServerOptions options)
    : fs_(std::move(fs)), options_(std::move(options)) {
  ctx_.fs = fs_.get();
  ctx_.conn = options_.conn;
}

FuseServer::~FuseServer() { Stop(); }

Status FuseServer::CreateSession() {
  std::vector<std::string> argv_store = {"ferry-sidecar"};
  if (self_mounted_) {
    std::string opts = "default_permissions,fsname=" + options_.fsname + ",subtype=ferry";
    if (options_.allow_other) opts += ",allow_other";
    if (options_.read_only) opts += ",ro";
    argv_store.push_back("-o");
    argv_store.push_back(opts);
  }
  std::vector<char*> argv;
  for (std::string& s : argv_store) argv.push_back(s.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  const fuse_lowlevel_ops& ops = FerryLowlevelOps();
  se_ = fuse_session_new(&args, &ops, sizeof(ops), &ctx_);
  // libfuse copies argv into an allocated vector when it adds arguments of its
  // own; free it (a no-op when nothing was allocated).
  fuse_opt_free_args(&args);
  if (se_ == nullptr) return Internal("fuse_session_new failed (bad mount options?)");
  return Status();
}

StatusOr<std::unique_ptr<FuseServer>> FuseServer::StartOnFd(UniqueFd fuse_fd,
                                                            std::unique_ptr<Filesystem> fs,
                                                            FuseServerOptions options) {
  if (!fuse_fd.valid()) return InvalidArgument("StartOnFd: no /dev/fuse fd");
  if (fs == nullptr) return InvalidArgument("StartOnFd: no filesystem");
  std::unique_ptr<FuseServer> server(new FuseServer(std::move(fs), std::move(options)));
  FERRY_RETURN_IF_ERROR(server->CreateSession());
  std::string mountpoint = "/dev/fd/" + std::to_string(fuse_fd.get());
  if (fuse_session_mount(server->se_, mountpoint.c_str()) != 0) {
    return InvalidArgument("StartOnFd: libfuse refused " + mountpoint);
  }
  fuse_fd.Release();  // the session owns it now and closes it in fuse_session_destroy
  return Start(std::move(server), mountpoint);
}

StatusOr<std::unique_ptr<FuseServer>> FuseServer::StartOnPath(std::string dir,
                                                              std::unique_ptr<Filesystem> fs,
                                                              FuseServerOptions options) {
  if (fs == nullptr) return InvalidArgument("StartOnPath: no filesystem");
  if (options.fsname.find_first_of(",\\") != std::string::npos) {
    return InvalidArgument("fsname must not contain ',' or '\\': " + options.fsname);
  }
  std::unique_ptr<FuseServer> server(new FuseServer(std::move(fs), std::move(options)));
  server->self_mounted_ = true;
  FERRY_RETURN_IF_ERROR(server->CreateSession());
  if (fuse_session_mount(server->se_, dir.c_str()) != 0) {
    return Internal("mounting FUSE at " + dir +
                    " failed (needs root, /dev/fuse and an existing directory)");
  }
  return Start(std::move(server), dir);
}

StatusOr<std::unique_ptr<FuseServer>> FuseServer::Start(std::unique_ptr<FuseServer> server,
                                                        const std::string& mountpoint) {
  int fd = fuse_session_fd(server->se_);
  if (int rc = fuse_session_custom_io(server->se_, &FerryCustomIo(), fd); rc != 0) {
    return StatusFromErrno(-rc, "installing the FUSE session I/O for " + mountpoint);
  }
  if (server->fs_->options().passthrough) {
    server->backing_ = server->options_.backing;
    if (server->backing_ == nullptr) server->backing_ = NewDeviceBackingRegistrar(fd);
    server->ctx_.backing = server->backing_.get();
  }
  InstallWakeHandler(server->options_.wake_signal);
  server->invalidations_ = std::make_unique<InvalidationQueue>(server->se_);
  server->fs_->SetInvalidationSink(server->invalidations_.get());
  server->running_ = true;
  bool spawned;
  {
    MutexLock lock(server->mu_);
    spawned = server->SpawnWorker();
  }
  if (!spawned) {
    server->running_ = false;
    return ResourceExhausted("cannot start a FUSE worker thread for " + mountpoint);
  }
  GetLogger("sidecar.fs")->info("serving {} on {}", server->fs_->source().Describe(), mountpoint);
  return server;
}

bool FuseServer::SpawnWorker() {
  // Join workers that retired: they set `done` under mu_ and touch nothing
  // of this server afterwards, so their threads are ending or gone. Keeps the
  // list as short as the live workers.
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->done && !ended_) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  workers_.emplace_back();
  Worker* w = &workers_.back();
  try {
    w->thread = std::thread([this, w] { WorkerLoop(w); });
  } catch (const std::system_error& e) {
    workers_.pop_back();
    GetLogger("sidecar.fs")->warn("cannot start a FUSE worker: {}", e.what());
    return false;
  }
  live_++;
  return true;
}

bool FuseServer::TakeReadingTurn(Worker* self) {
  MutexLock lock(mu_);
  waiting_++;
  while (reader_ != nullptr && !ended_) {
    if (!turn_cv_.WaitFor(mu_, options_.idle_thread_timeout) && reader_ != nullptr && !ended_) {
      waiting_--;
      return false;  // idle while another worker reads: retire
    }
  }
  waiting_--;
  if (ended_) return false;
  reader_ = self;
  return true;
}

void FuseServer::WorkerLoop(Worker* self) {
  sigset_t mask;
  sigfillset(&mask);
  sigdelset(&mask, options_.wake_signal);
  pthread_sigmask(SIG_SETMASK, &mask, nullptr);

  fuse_buf buf;
  std::memset(&buf, 0, sizeof(buf));
  Status error;
  while (TakeReadingTurn(self)) {
    int res = fuse_session_receive_buf(se_, &buf);
    {
      MutexLock lock(mu_);
      reader_ = nullptr;
      if (res > 0 && !ended_) {
        // Hand the reading turn on before processing this request.
        if (waiting_ > 0) {
          turn_cv_.NotifyOne();
        } else if (live_ < options_.max_threads) {
          SpawnWorker();  // on failure this worker reads again after this request
        }
      } else {
        turn_cv_.NotifyOne();
      }
    }
    if (res == -EINTR || res == -EAGAIN) continue;
    if (res <= 0) {
      // ENODEV (libfuse returns 0 for it) and ECONNABORTED both mean the kernel
      // ended the connection: after the last close of a lazily unmounted
      // mount the kernel may abort it before the reader sees ENODEV. That is
      // the normal end, not an error of the server.
      if (res < 0 && res != -ECONNABORTED) error = StatusFromErrno(-res, "reading /dev/fuse");
      MutexLock lock(mu_);
      ended_ = true;  // the connection is gone or a read failed: the loop is over
      turn_cv_.NotifyAll();
      break;
    }
    fuse_session_process_buf(se_, &buf);
    if (ctx_.init_seen.load()) {
      MutexLock lock(mu_);
      if (!initialized_) {
        initialized_ = true;
        invalidations_->SetReady();
        cv_.NotifyAll();
      }
    }
  }
  std::free(buf.mem);
  Leave(self, error);
}

void FuseServer::Leave(Worker* self, const Status& error) {
  bool last;
  {
    MutexLock lock(mu_);
    if (!error.ok() && loop_status_.ok()) loop_status_ = error;
    self->done = true;
    live_--;
    last = live_ == 0 && ended_;
    cv_.NotifyAll();
  }
  if (last) Finish();
}

void FuseServer::Finish() {
  fuse_session_exit(se_);
  invalidations_->Stop();
  Status status;
  {
    MutexLock lock(mu_);
    status = loop_status_;
  }
  running_ = false;
  if (status.ok()) {
    GetLogger("sidecar.fs")->info("FUSE loop for {} ended", fs_->source().Describe());
  } else {
    GetLogger("sidecar.fs")
        ->error("FUSE loop for {} failed: {}", fs_->source().Describe(), status.ToString());
  }
  if (options_.on_exit) options_.on_exit(status);
}

bool FuseServer::WaitInitialized(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (!initialized_ && !ended_) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    cv_.WaitFor(mu_, deadline - now);
  }
  return initialized_ && !ended_;
}

void FuseServer::Stop() {
  if (stopped_.exchange(true)) return;
  std::vector<std::thread> threads;
  {
    MutexLock lock(mu_);
    ended_ = true;
    turn_cv_.NotifyAll();  // waiting workers leave
    if (se_ != nullptr) fuse_session_exit(se_);
    // The reading worker may be blocked in read(): interrupt it until every
    // worker has left (a signal sent just before it enters read() is lost,
    // hence the repeat).
    while (live_ > 0) {
      if (reader_ != nullptr) pthread_kill(reader_->thread.native_handle(), options_.wake_signal);
      cv_.WaitFor(mu_, std::chrono::milliseconds(5));
    }
    for (Worker& w : workers_) threads.push_back(std::move(w.thread));
    workers_.clear();
  }
  for (std::thread& t : threads) t.join();  // the last one may still run on_exit
  if (invalidations_ != nullptr) invalidations_->Stop();
  if (se_ != nullptr) {
    if (self_mounted_) fuse_session_unmount(se_);
    fs_->SetInvalidationSink(nullptr);
    fuse_session_destroy(se_);
    se_ = nullptr;
  }
}

size_t FuseServer::ThreadCountForTest() const {
  MutexLock lock(mu_);
  return static_cast<size_t>(live_);
}

}  // namespace ferry::sidecar
