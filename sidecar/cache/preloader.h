#pragma once
// Preloader: warms a cache with `cache.preload` globs after mount. It walks
// the DataSource (List only; directories that no glob can reach are not
// listed), selects files matching any glob (see glob.h), then reads each one
// sequentially through the BlockCache with `concurrency` worker threads, so
// the cache's own prefetch, single flight and quotas apply. Progress
// {files_done, files_total, bytes_done} is reported after the walk and after
// every file. Memory: one `chunk_bytes` buffer per worker.

#include <atomic>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "sidecar/cache/block_cache.h"
#include "sidecar/cache/glob.h"
#include "sidecar/source/data_source.h"

namespace ferry::sidecar {

struct PreloadProgress {
  uint64_t files_done = 0;    // read to the end, or failed
  uint64_t files_total = 0;   // matched by the walk so far
  uint64_t files_failed = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  bool walk_done = false;
};

struct PreloadOptions {
  size_t concurrency = 4;
  uint64_t chunk_bytes = 1 << 20;
  uint64_t first_handle = 1ull << 62;  // handles given to the cache: first_handle + file number
};

// Parses every glob; kInvalidArgument names the first bad one.
StatusOr<std::vector<Glob>> ParseGlobs(const std::vector<std::string>& patterns);

class Preloader {
 public:
  using ProgressFn = std::function<void(const PreloadProgress&)>;

  // `source` and `cache` must outlive Run(). `on_progress` may be empty; it is
  // called from worker threads, one call at a time, with monotonic counts.
  Preloader(DataSource& source, BlockCache& cache, std::vector<Glob> globs, PreloadOptions options,
            ProgressFn on_progress);

  // Blocks until every matching file was read or `stop` fires. OK; kCancelled
  // when stopped; otherwise the first error met (a List or Read), after
  // trying every other file. Call once.
  Status Run(std::stop_token stop = {});

  // A snapshot; thread-safe.
  PreloadProgress Progress() const FERRY_EXCLUDES(mu_);

 private:
  struct File {
    std::string path;
    Entry entry;
  };
  Status Walk(std::stop_token stop, std::vector<File>& files);
  Status ReadFile(const File& f, uint64_t handle, std::vector<std::byte>& buf, std::stop_token stop);
  void Report() FERRY_EXCLUDES(mu_, report_mu_);
  void NoteError(const Status& s) FERRY_EXCLUDES(mu_);

  DataSource& source_;
  BlockCache& cache_;
  const std::vector<Glob> globs_;
  const PreloadOptions options_;
  const ProgressFn on_progress_;
  Mutex report_mu_;  // serializes on_progress_ calls; taken before mu_
  mutable Mutex mu_;  // guards progress_ and first_error_; leaf lock
  PreloadProgress progress_ FERRY_GUARDED_BY(mu_);
  Status first_error_ FERRY_GUARDED_BY(mu_);
};

}  // namespace ferry::sidecar
