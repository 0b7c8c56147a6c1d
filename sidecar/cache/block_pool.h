#pragma once
// BlockPool: reusable block buffers for the cache. A freshly allocated block
// of a MiB costs a zero fill, a page fault per 4 KiB and, when freed, an
// munmap with its TLB shootdown; the cold read path allocates one per block
// fetched. The pool hands out vectors whose pages are already resident and
// takes them back when the last BlockData reference goes (the memory tier
// evicting it, a reader dropping it), so a steady scan recycles the same
// buffers. Reused buffers are not zeroed: callers overwrite them.
//
// Memory stays bounded: only `max_free` blocks wait in the pool; more are
// freed at once, and Trim() frees them all (e.g. when memory is tight).
//
// Idle trim: a buffer that has waited in the pool longer than `idle_after`
// is freed, so a mount that once read a lot and then went idle gives the
// pool's memory back. The pool has no thread: Take() and Give() drop expired
// buffers lazily, and the owner's existing periodic work calls TrimIdle()
// (the reconciler's tick reads TieredBlockCache::Stats(); the standalone
// mount's main loop wakes up for it). When TrimIdle() empties the pool it
// also calls malloc_trim(0) (the rest of the data plane does the same when
// it settles), at most once per idle period.
//
// Thread-safe; blocks may outlive the cache (they keep the pool alive; after
// Close() returned buffers are freed and the clock is no longer read).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "sidecar/cache/block.h"

namespace ferry::sidecar {

class BlockPool : public std::enable_shared_from_this<BlockPool> {
 public:
  using Buffer = std::unique_ptr<BlockBytes>;

  // Never trims idle buffers (TrimIdle() does nothing).
  static std::shared_ptr<BlockPool> Create(size_t block_size, size_t max_free);
  // Frees buffers unused for `idle_after` (0: never) as told by `clock`,
  // which must outlive the pool or its Close().
  static std::shared_ptr<BlockPool> Create(size_t block_size, size_t max_free, Clock& clock,
                                           std::chrono::nanoseconds idle_after);

  // A buffer of exactly `size` bytes (<= block_size), contents unspecified.
  Buffer Take(size_t size) FERRY_EXCLUDES(mu_);
  // Freezes `buffer` into a shared block that returns to the pool when its
  // last reference is dropped.
  BlockData Seal(Buffer buffer);
  // Frees every waiting buffer.
  void Trim() FERRY_EXCLUDES(mu_);
  // Frees the buffers that waited longer than idle_after; returns how many.
  // When that leaves the pool empty, returns the freed heap to the kernel.
  size_t TrimIdle() FERRY_EXCLUDES(mu_);
  // The owner is going away: frees every waiting buffer; buffers given back
  // later are freed at once. Idempotent.
  void Close() FERRY_EXCLUDES(mu_);
  size_t FreeBlocks() const FERRY_EXCLUDES(mu_);
  uint64_t Reused() const FERRY_EXCLUDES(mu_);
  // Buffers freed by idle trimming so far.
  uint64_t IdleFreed() const FERRY_EXCLUDES(mu_);

 private:
  struct Waiting {
    Buffer buffer;
    std::chrono::steady_clock::time_point since;  // given back at
  };

  BlockPool(size_t block_size, size_t max_free, Clock* clock, std::chrono::nanoseconds idle_after)
      : block_size_(block_size), max_free_(max_free), clock_(clock), idle_after_(idle_after) {}
  void Give(BlockBytes* buffer) FERRY_EXCLUDES(mu_);
  // Moves the expired buffers (oldest first in free_) to `out`.
  void TakeExpired(std::vector<Waiting>& out) FERRY_REQUIRES(mu_);

  const size_t block_size_;
  const size_t max_free_;
  mutable Mutex mu_;  // leaf lock; buffers are freed outside it
  Clock* clock_ FERRY_GUARDED_BY(mu_);  // null: no idle trimming (or closed)
  const std::chrono::nanoseconds idle_after_;
  bool closed_ FERRY_GUARDED_BY(mu_) = false;
  // Stack: Take() pops the newest, so `since` never decreases front to back.
  std::vector<Waiting> free_ FERRY_GUARDED_BY(mu_);
  uint64_t reused_ FERRY_GUARDED_BY(mu_) = 0;
  uint64_t idle_freed_ FERRY_GUARDED_BY(mu_) = 0;
};

}  // namespace ferry::sidecar
