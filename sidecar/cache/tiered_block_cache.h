#pragma once
// TieredBlockCache: the BlockCache for remote sources. Blocks of
// `block_size` bytes, named by (path, version, index) so a changed object is
// never served stale, are looked up in tiers fastest first (memory, then
// disk; later Redis); a hit in a lower tier is promoted. Misses go to the
// DataSource through SingleFlight, so concurrent readers of a block share one
// GET. A miss in a small file (<= small_file_bytes) fetches the whole file in
// one GET; a miss elsewhere fetches only the blocks the read touches.
//
// Sequential readers are detected per handle (Prefetcher) and their window is
// fetched ahead as parallel ranged GETs on a small worker pool; the caller
// only ever waits for blocks its read needs. Prefetch memory is bounded per
// cache (prefetch_memory bytes in flight), not per handle: when the budget is
// spent, prefetch is skipped and planned again on the next read.
//
// Fetched blocks enter tier 0 (memory) at once and lower tiers (disk) through
// a bounded write-behind queue; a refused or failed lower-tier write only
// loses that copy. Memory use: memory quota + prefetch budget + the
// write-behind queue bound + one block per open handle.
//
// Thread-safe. Lock order: handles_mu_ is a leaf and is never held across
// I/O; tiers and SingleFlight lock internally.

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "sidecar/cache/block_cache.h"
#include "sidecar/cache/block_pool.h"
#include "sidecar/cache/cache_options.h"
#include "sidecar/cache/cache_tier.h"
#include "sidecar/cache/prefetcher.h"
#include "sidecar/cache/single_flight.h"
#include "sidecar/cache/task_pool.h"

namespace ferry::sidecar {

struct TieredCacheStats {
  CacheStats cache;
  std::vector<TierStats> tiers;       // same order as the tiers
  uint64_t source_reads = 0;          // GETs issued to the DataSource
  uint64_t source_bytes = 0;
  uint64_t prefetch_skipped = 0;      // ranges not scheduled: budget or queue full
  uint64_t prefetch_inflight_peak = 0;  // bytes
  uint64_t writeback_dropped = 0;     // lower-tier copies skipped: queue full
  uint64_t pool_reused = 0;           // fetches that reused a pooled block buffer
  uint64_t pool_free_blocks = 0;      // buffers waiting in the pool now
  uint64_t pool_idle_freed = 0;       // buffers freed after block_pool_idle unused
};

// Makes malloc serve every block (>= 512 KiB) with its own mmap, returned to
// the kernel when the block is freed: without it glibc raises its mmap
// threshold after the first free and blocks freed by one thread's arena are
// kept for that arena, so RSS drifts tens of MB above the cache's quota.
// Process-wide; call once at start (the data plane's entry points do).
void UseMmapForCacheBlocks();

class TieredBlockCache final : public BlockCache {
 public:
  // `tiers` fastest first; tiers[0] is the memory tier. Must not be empty.
  // `clock` (may be null: pooled buffers are then never trimmed for idleness)
  // times options.block_pool_idle and must outlive the cache.
  TieredBlockCache(DataSource& source, CacheOptions options,
                   std::vector<std::unique_ptr<CacheTier>> tiers, Clock* clock = nullptr);
  // A MemoryTier of memory_bytes minus the prefetch budget (itself capped at
  // a quarter of memory_bytes), plus a DiskTier when options.disk_bytes > 0.
  // Errors are
  // DiskTier::Open's (bad directory, permissions). `clock` drives the disk
  // tier's full-disk backoff and the block pool's idle trim, and must outlive
  // the cache.
  static StatusOr<std::unique_ptr<TieredBlockCache>> Create(DataSource& source,
                                                            const CacheOptions& options,
                                                            Clock& clock);
  ~TieredBlockCache() override;

  // See BlockCache::Read. `version.size` bounds the object. Errors are the
  // source's (kFailedPrecondition when the object changed under `version`).
  StatusOr<size_t> Read(std::string_view path, const Entry& version, uint64_t offset,
                        std::span<std::byte> out, uint64_t handle) override;
  StatusOr<size_t> ReadSlices(std::string_view path, const Entry& version, uint64_t offset,
                              size_t size, uint64_t handle, std::vector<Slice>& out) override;
  void Release(uint64_t handle) override;
  // Also returns the pooled block buffers idle for longer than
  // block_pool_idle (TrimIdlePool): the reconciler reads every mount's stats
  // on its tick, which is how an idle mount gives that memory back without a
  // thread of its own.
  CacheStats Stats() const override;
  TieredCacheStats DetailedStats() const;
  // Frees the pooled buffers unused for block_pool_idle; how many. Call it
  // periodically when Stats() is not (the standalone mount does).
  size_t TrimIdlePool() const { return pool_->TrimIdle(); }

  // Blocks until queued prefetches and lower-tier writes have finished.
  void WaitIdleForTest();
  // Frees the block buffers kept for reuse (memory pressure, idle mount).
  void TrimPool() { pool_->Trim(); }

 private:
  struct HandleState {
    explicit HandleState(const PrefetchOptions& o) : prefetcher(o) {}
    std::string object;
    Prefetcher prefetcher;
    BlockData last_block;  // the block of the previous read: small reads skip the tiers
    uint64_t last_index = 0;
  };
  struct Target {  // what a fetch needs to reach the source
    std::string path;
    Entry version;
    std::string object;
  };

  // Read and ReadSlices: calls `take(block, from, to)` for each block piece
  // of [offset, offset + size) in order; returns the byte count.
  template <typename Take>
  StatusOr<size_t> ReadImpl(std::string_view path, const Entry& version, uint64_t offset,
                            uint64_t size, uint64_t handle, Take&& take);
  StatusOr<BlockData> GetBlock(const Target& t, uint64_t index, uint64_t run_end);
  BlockData LookupTiers(const BlockKey& key);
  bool AnyTierContains(const BlockKey& key) const;
  // Claims `key` for a run being built in `calls` unless a tier has it or a
  // fetch is in flight; false ends the run.
  bool ClaimIfMissing(const BlockKey& key, std::vector<std::shared_ptr<SingleFlight::Call>>& calls);
  StatusOr<BlockData> FetchClaimed(const Target& t, uint64_t first,
                                   const std::vector<std::shared_ptr<SingleFlight::Call>>& calls,
                                   bool prefetch);
  void Publish(const BlockKey& key, const BlockData& data);
  void SchedulePrefetch(const std::shared_ptr<const Target>& t,
                        const std::vector<PrefetchRange>& plan, uint64_t handle);
  void PrefetchRangeNow(const Target& t, uint64_t first, uint64_t count);

  DataSource& source_;
  const CacheOptions options_;
  PrefetchOptions prefetch_options_;
  std::vector<std::unique_ptr<CacheTier>> tiers_;
  SingleFlight flights_;
  std::shared_ptr<BlockPool> pool_;  // block buffers for fetches

  mutable Mutex handles_mu_;  // guards handles_; leaf lock, never across I/O
  std::unordered_map<uint64_t, HandleState> handles_ FERRY_GUARDED_BY(handles_mu_);

  std::atomic<uint64_t> hits_{0}, misses_{0}, prefetched_bytes_{0};
  std::atomic<uint64_t> source_reads_{0}, source_bytes_{0}, prefetch_skipped_{0};
  std::atomic<uint64_t> prefetch_inflight_{0}, prefetch_inflight_peak_{0};
  std::atomic<uint64_t> writeback_bytes_{0}, writeback_dropped_{0};

  // Declared last: destroyed (joined) first, while everything they use lives.
  std::unique_ptr<TaskPool> writer_pool_;
  std::unique_ptr<TaskPool> prefetch_pool_;
};

}  // namespace ferry::sidecar
