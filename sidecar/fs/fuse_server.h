#pragma once
// FuseServer: owns one libfuse low-level session, its worker threads and the
// kernel-cache invalidation thread for one mount (STYLE R4: the destructor
// stops everything).
//
// Two ways in:
//  - StartOnFd: serve an already-mounted /dev/fuse fd (the propagator mounted
//    it and handed it over; libfuse >= 3.3 takes the mountpoint "/dev/fd/N"
//    and then neither mounts nor unmounts). The kernel's INIT arrives on it.
//  - StartOnPath: mount `dir` itself (needs root; standalone mounts, tests and
//    benchmarks) with allow_other,default_permissions[,ro]; Stop() unmounts
//    it lazily.
//
// Workers take turns (leader/follower): one at a time reads /dev/fuse with
// fuse_session_receive_buf; on getting a request it hands the reading turn to
// a waiting worker (or starts one, up to max_threads) and processes the
// request. A worker that waits for its turn longer than idle_thread_timeout
// while another one reads retires, so an idle mount runs exactly one thread
// (blocked in read) and a busy one as many as its requests need. There is no
// other thread per mount: the kernel-cache invalidation thread starts on the
// first invalidation.
// The loop ends
//  - by itself, when the kernel ends the connection (lazy unmount plus last
//    close, or an abort): read() gives ENODEV. Running() turns false and
//    on_exit runs;
//  - on Stop(): the reading worker is woken with pthread_kill and a no-op
//    handler for `wake_signal` installed without SA_RESTART (the process must
//    not use that signal for anything else).
// The last worker to leave runs on_exit.
// Thread-safe.

#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <thread>

#include "common/mutex.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "sidecar/fs/backing.h"
#include "sidecar/fs/filesystem.h"
#include "sidecar/fs/fuse_ops.h"

struct fuse_session;

namespace ferry::sidecar {

struct FuseServerOptions {
  int max_threads = 16;
  // A worker waiting this long for the reading turn retires (the reader stays).
  std::chrono::milliseconds idle_thread_timeout{1000};
  FuseConnOptions conn;
  // StartOnPath only (with StartOnFd the mounter chose these):
  bool read_only = true;
  bool allow_other = true;
  std::string fsname = "ferry";  // shown in /proc/mounts; no commas
  int wake_signal = SIGUSR2;
  // Runs once, on the last worker thread, when the loop has ended: OK after
  // Stop() or when the kernel ended the connection, else the read error. It
  // must not destroy the FuseServer (signal another thread to do that).
  std::function<void(const Status&)> on_exit;
  // Registers FUSE passthrough backing files when the filesystem's options
  // ask for passthrough (e.g. through the propagator). Null: the server does
  // the ioctl on its own /dev/fuse fd, which needs CAP_SYS_ADMIN.
  std::shared_ptr<BackingRegistrar> backing;
};

class InvalidationQueue;

class FuseServer {
 public:
  // kInvalidArgument: bad fd or options; kInternal: libfuse refused.
  static StatusOr<std::unique_ptr<FuseServer>> StartOnFd(UniqueFd fuse_fd,
                                                         std::unique_ptr<Filesystem> fs,
                                                         FuseServerOptions options);
  // Errors as above, plus the mount failure (needs CAP_SYS_ADMIN).
  static StatusOr<std::unique_ptr<FuseServer>> StartOnPath(std::string dir,
                                                           std::unique_ptr<Filesystem> fs,
                                                           FuseServerOptions options);
  ~FuseServer();
  FuseServer(const FuseServer&) = delete;
  FuseServer& operator=(const FuseServer&) = delete;

  // True once the kernel's INIT has been answered; false on timeout or if the
  // loop ended first.
  bool WaitInitialized(std::chrono::milliseconds timeout);
  // False once the loop has ended (Stop, or the kernel ended the connection).
  bool Running() const { return running_.load(); }
  // Ends the loop (even with workers blocked in read), joins every thread,
  // unmounts (StartOnPath) and closes the session's fd. Idempotent. Must not
  // be called from on_exit.
  void Stop();

  Filesystem& filesystem() { return *fs_; }
  uint32_t NegotiatedMaxWrite() const { return ctx_.negotiated_max_write.load(); }
  // The kernel's INIT offered FUSE passthrough / the mount negotiated it.
  bool KernelOffersPassthrough() const { return ctx_.kernel_offers_passthrough.load(); }
  bool Passthrough() const { return ctx_.passthrough.load(); }
  size_t ThreadCountForTest() const;

 private:
  struct Worker {
    std::thread thread;
    bool done = false;  // left the loop (the thread may still be finishing)
  };

  FuseServer(std::unique_ptr<Filesystem> fs, FuseServerOptions options);
  static StatusOr<std::unique_ptr<FuseServer>> Start(std::unique_ptr<FuseServer> server,
                                                     const std::string& mountpoint);
  Status CreateSession();
  // Starts a worker; false if the thread could not be created.
  bool SpawnWorker() FERRY_REQUIRES(mu_);
  void WorkerLoop(Worker* self);
  // Waits for the reading turn; false: leave the loop (ended or retired).
  bool TakeReadingTurn(Worker* self);
  // The loop is over for `self`; the last worker out runs Finish().
  void Leave(Worker* self, const Status& error);
  void Finish();

  std::unique_ptr<Filesystem> fs_;
  const FuseServerOptions options_;
  FuseOpsContext ctx_;
  fuse_session* se_ = nullptr;
  bool self_mounted_ = false;
  std::shared_ptr<BackingRegistrar> backing_;
  std::unique_ptr<InvalidationQueue> invalidations_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopped_{false};

  // Guards the worker list and loop state. Leaf lock; never held across a
  // request, a read from /dev/fuse, a join or on_exit.
  mutable Mutex mu_;
  CondVar cv_;       // a worker left, INIT answered
  CondVar turn_cv_;  // the reading turn is free
  std::list<Worker> workers_ FERRY_GUARDED_BY(mu_);
  int live_ FERRY_GUARDED_BY(mu_) = 0;       // workers not done
  int waiting_ FERRY_GUARDED_BY(mu_) = 0;    // workers waiting for the reading turn
  Worker* reader_ FERRY_GUARDED_BY(mu_) = nullptr;  // has the reading turn
  bool ended_ FERRY_GUARDED_BY(mu_) = false;  // no more requests are taken
  bool initialized_ FERRY_GUARDED_BY(mu_) = false;
  Status loop_status_ FERRY_GUARDED_BY(mu_);
};

}  // namespace ferry::sidecar
