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
// Workers call fuse_session_receive_buf / fuse_session_process_buf in their
// own loop: one starts, more are spawned while none is idle, up to
// max_threads. The loop ends
//  - by itself, when the kernel ends the connection (lazy unmount plus last
//    close, or an abort): read() gives ENODEV. Running() turns false and
//    on_exit runs;
//  - on Stop(): workers blocked in read() are woken with pthread_kill and a
//    no-op handler for `wake_signal` installed without SA_RESTART (the process
//    must not use that signal for anything else).
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
#include "sidecar/fs/filesystem.h"
#include "sidecar/fs/fuse_ops.h"

struct fuse_session;

namespace ferry::sidecar {

struct FuseServerOptions {
  int max_threads = 16;
  FuseConnOptions conn;
  // StartOnPath only (with StartOnFd the mounter chose these):
  bool read_only = true;
  bool allow_other = true;
  std::string fsname = "ferry";  // shown in /proc/mounts; no commas
  int wake_signal = SIGUSR2;
  // Runs once, on the server's own thread, when the loop has ended: OK after
  // Stop() or when the kernel ended the connection, else the read error. It
  // must not destroy the FuseServer (signal another thread to do that).
  std::function<void(const Status&)> on_exit;
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
  size_t ThreadCountForTest() const;

 private:
  struct Worker {
    std::thread thread;
    bool done = false;
  };

  FuseServer(std::unique_ptr<Filesystem> fs, FuseServerOptions options);
  static StatusOr<std::unique_ptr<FuseServer>> Start(std::unique_ptr<FuseServer> server,
                                                     const std::string& mountpoint);
  Status CreateSession();
  void SpawnWorker() FERRY_REQUIRES(mu_);
  void WorkerLoop(Worker* self);
  void ReaperLoop();

  std::unique_ptr<Filesystem> fs_;
  const FuseServerOptions options_;
  FuseOpsContext ctx_;
  fuse_session* se_ = nullptr;
  bool self_mounted_ = false;
  std::unique_ptr<InvalidationQueue> invalidations_;
  std::thread reaper_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopped_{false};

  // Guards the worker list and loop state. Leaf lock; never held across a
  // request, a read from /dev/fuse or a join.
  mutable Mutex mu_;
  CondVar cv_;  // worker ended, INIT answered
  std::list<Worker> workers_ FERRY_GUARDED_BY(mu_);
  int idle_ FERRY_GUARDED_BY(mu_) = 0;
  bool ended_ FERRY_GUARDED_BY(mu_) = false;  // no more workers may start
  bool initialized_ FERRY_GUARDED_BY(mu_) = false;
  Status loop_status_ FERRY_GUARDED_BY(mu_);
};

}  // namespace ferry::sidecar
