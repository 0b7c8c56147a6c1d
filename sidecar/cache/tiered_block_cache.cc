#include "sidecar/cache/tiered_block_cache.h"

#include <malloc.h>

#include <algorithm>
#include <cstring>

#include "sidecar/cache/disk_tier.h"
#include "sidecar/cache/memory_tier.h"

namespace ferry::sidecar {
namespace {

constexpr uint64_t kWritebackLimitBytes = 32ull << 20;

void RaiseMax(std::atomic<uint64_t>& peak, uint64_t v) {
  uint64_t cur = peak.load();
  while (v > cur && !peak.compare_exchange_weak(cur, v)) {
  }
}

}  // namespace

void UseMmapForCacheBlocks() { mallopt(M_MMAP_THRESHOLD, 512 * 1024); }

TieredBlockCache::TieredBlockCache(DataSource& source, CacheOptions options,
                                   std::vector<std::unique_ptr<CacheTier>> tiers, Clock* clock)
    : source_(source), options_(std::move(options)), tiers_(std::move(tiers)) {
  FERRY_CHECK(!tiers_.empty());
  const uint64_t pool_bytes = std::min(options_.block_pool_bytes, options_.memory_bytes / 8);
  const size_t pool_blocks = pool_bytes / std::max<uint64_t>(options_.block_size, 1);
  pool_ = clock != nullptr ? BlockPool::Create(options_.block_size, pool_blocks, *clock,
                                               options_.block_pool_idle)
                           : BlockPool::Create(options_.block_size, pool_blocks);
  prefetch_options_.block_size = options_.block_size;
  prefetch_options_.initial_window = options_.prefetch_initial;
  // Prefetched blocks wait in the memory tier: a window larger than a
  // fraction of it would evict its own blocks before they are read.
  prefetch_options_.max_window =
      std::max(options_.block_size, std::min(options_.prefetch_max, options_.memory_bytes / 4));
  prefetch_options_.range_bytes = options_.prefetch_range;
  size_t workers = options_.prefetch_workers;
  if (options_.memory_bytes < 4 * options_.block_size) workers = 0;  // nowhere to keep blocks
  prefetch_pool_ = std::make_unique<TaskPool>(workers, 256);
  // Two writers: a disk tier writes with O_DIRECT, which waits for the
  // device, and one writer fell behind a cold read at 500+ MB/s.
  writer_pool_ = std::make_unique<TaskPool>(tiers_.size() > 1 ? 2 : 0, 1024);
}

TieredBlockCache::~TieredBlockCache() {
  prefetch_pool_.reset();
  writer_pool_.reset();
  // Blocks still held (tiers, handles, readers) are freed when dropped, and
  // the pool stops reading the clock, which may go before they do.
  pool_->Close();
}

StatusOr<std::unique_ptr<TieredBlockCache>> TieredBlockCache::Create(DataSource& source,
                                                                     const CacheOptions& options,
                                                                     Clock& clock) {
  // cache_memory covers the memory tier and the prefetch buffers in flight,
  // so the process stays near cache_memory whatever the dataset size.
  CacheOptions o = options;
  o.prefetch_memory = std::min(o.prefetch_memory, o.memory_bytes / 4);
  std::vector<std::unique_ptr<CacheTier>> tiers;
  tiers.push_back(std::make_unique<MemoryTier>(o.memory_bytes - o.prefetch_memory));
  if (options.disk_bytes > 0) {
    DiskTierOptions d;
    d.dir = options.disk_dir;
    d.quota_bytes = options.disk_bytes;
    d.block_bytes = options.block_size;
    d.high_watermark = options.disk_high_watermark;
    d.low_watermark = options.disk_low_watermark;
    d.fsync = options.disk_fsync;
    FERRY_ASSIGN_OR_RETURN(std::unique_ptr<DiskTier> disk, DiskTier::Open(std::move(d), clock));
    tiers.push_back(std::move(disk));
  }
  return std::make_unique<TieredBlockCache>(source, o, std::move(tiers), &clock);
}

StatusOr<size_t> TieredBlockCache::Read(std::string_view path, const Entry& version,
                                        uint64_t offset, std::span<std::byte> out,
                                        uint64_t handle) {
  size_t copied = 0;
  return ReadImpl(path, version, offset, out.size(), handle,
                  [&](const BlockData& block, uint64_t from, uint64_t to) {
                    std::memcpy(out.data() + copied, block->data() + from, to - from);
                    copied += to - from;
                  });
}

StatusOr<size_t> TieredBlockCache::ReadSlices(std::string_view path, const Entry& version,
                                              uint64_t offset, size_t size, uint64_t handle,
                                              std::vector<Slice>& out) {
  return ReadImpl(path, version, offset, size, handle,
                  [&](const BlockData& block, uint64_t from, uint64_t to) {
                    out.push_back({block, std::span<const std::byte>(block->data() + from, to - from)});
                  });
}

template <typename Take>
StatusOr<size_t> TieredBlockCache::ReadImpl(std::string_view path, const Entry& version,
                                            uint64_t offset, uint64_t want, uint64_t handle,
                                            Take&& take) {
  const uint64_t size = version.size;
  if (offset >= size || want == 0) return size_t{0};
  const uint64_t len = std::min<uint64_t>(want, size - offset);
  const uint64_t bs = options_.block_size;
  const uint64_t first = offset / bs;
  const uint64_t last = (offset + len - 1) / bs;
  const uint64_t total_blocks = (size + bs - 1) / bs;
  auto target = std::make_shared<const Target>(Target{std::string(path), version, ObjectId(path, version)});

  std::vector<PrefetchRange> plan;
  BlockData hot;
  uint64_t hot_index = 0;
  {
    MutexLock lock(handles_mu_);
    auto it = handles_.try_emplace(handle, prefetch_options_).first;
    if (it->second.object != target->object) {
      it->second = HandleState(prefetch_options_);
      it->second.object = target->object;
    }
    plan = it->second.prefetcher.OnRead(offset, len, size);
    if (size <= options_.small_file_bytes) plan.clear();  // the demand fetch takes it whole
    hot = it->second.last_block;
    hot_index = it->second.last_index;
  }
  if (!plan.empty()) SchedulePrefetch(target, plan, handle);

  // A small file is fetched whole on its first miss; otherwise only the
  // blocks this read covers (one GET for the run).
  const uint64_t run_end = size <= options_.small_file_bytes ? total_blocks : last + 1;
  size_t copied = 0;
  BlockData block;
  for (uint64_t idx = first; idx <= last; ++idx) {
    if (hot && hot_index == idx) {
      block = hot;
      hits_++;
    } else {
      FERRY_ASSIGN_OR_RETURN(block, GetBlock(*target, idx, std::max(run_end, idx + 1)));
    }
    const uint64_t block_start = idx * bs;
    const uint64_t from = std::max(offset, block_start) - block_start;
    const uint64_t to = std::min<uint64_t>(offset + len - block_start, block->size());
    if (from >= to) break;  // the object is shorter than `version` says
    take(block, from, to);
    copied += to - from;
    if (to < std::min<uint64_t>(bs, offset + len - block_start)) break;
  }
  {
    MutexLock lock(handles_mu_);
    auto it = handles_.find(handle);
    if (it != handles_.end() && it->second.object == target->object && block) {
      it->second.last_block = block;
      it->second.last_index = last;
    }
  }
  return copied;
}

void TieredBlockCache::Release(uint64_t handle) {
  std::unique_ptr<HandleState> dropped;  // block freed outside the lock
  MutexLock lock(handles_mu_);
  auto it = handles_.find(handle);
  if (it == handles_.end()) return;
  dropped = std::make_unique<HandleState>(std::move(it->second));
  handles_.erase(it);
}

BlockData TieredBlockCache::LookupTiers(const BlockKey& key) {
  for (size_t i = 0; i < tiers_.size(); ++i) {
    if (i > 0 && !tiers_[i]->Contains(key)) continue;
    StatusOr<BlockData> r = tiers_[i]->Get(key);
    if (!r.ok()) continue;
    for (size_t j = 0; j < i; ++j) (void)tiers_[j]->Put(key, *r);
    return *r;
  }
  return nullptr;
}

bool TieredBlockCache::AnyTierContains(const BlockKey& key) const {
  for (const auto& t : tiers_) {
    if (t->Contains(key)) return true;
  }
  return false;
}

bool TieredBlockCache::ClaimIfMissing(const BlockKey& key,
                                      std::vector<std::shared_ptr<SingleFlight::Call>>& calls) {
  if (AnyTierContains(key)) return false;
  std::shared_ptr<SingleFlight::Call> c = flights_.TryClaim(key);
  if (!c) return false;
  // A fetch may have published and completed between the check and the
  // claim: hand its block to anyone who joined us and stop the run.
  if (tiers_[0]->Contains(key)) {
    if (BlockData b = LookupTiers(key)) {
      flights_.Complete(key, c, b);
      return false;
    }
  }
  calls.push_back(std::move(c));
  return true;
}

StatusOr<BlockData> TieredBlockCache::GetBlock(const Target& t, uint64_t index, uint64_t run_end) {
  BlockKey key{t.object, index};
  if (BlockData b = LookupTiers(key)) {
    hits_++;
    return b;
  }
  misses_++;
  SingleFlight::Ticket ticket = flights_.Join(key);
  if (!ticket.leader) return SingleFlight::Wait(ticket.call);
  // A fetch that completed between our lookup and Join has published to
  // tier 0 first: look again before going to the source.
  if (BlockData b = LookupTiers(key)) {
    flights_.Complete(key, ticket.call, b);
    return b;
  }
  std::vector<std::shared_ptr<SingleFlight::Call>> calls = {ticket.call};
  for (uint64_t j = index + 1; j < run_end && ClaimIfMissing({t.object, j}, calls); ++j) {
  }
  return FetchClaimed(t, index, calls, /*prefetch=*/false);
}

StatusOr<BlockData> TieredBlockCache::FetchClaimed(
    const Target& t, uint64_t first, const std::vector<std::shared_ptr<SingleFlight::Call>>& calls,
    bool prefetch) {
  const uint64_t bs = options_.block_size;
  const uint64_t offset = first * bs;
  const uint64_t want =
      offset >= t.version.size ? 0 : std::min<uint64_t>(calls.size() * bs, t.version.size - offset);
  // One GET straight into the blocks: no range buffer, no copy. Buffers come
  // from the pool: resident, not zeroed (the source overwrites them).
  std::vector<BlockPool::Buffer> blocks(calls.size());
  std::vector<std::span<std::byte>> sinks;
  for (size_t i = 0; i < calls.size(); ++i) {
    const uint64_t start = i * bs;
    if (start >= want) {
      blocks[i] = pool_->Take(0);
      continue;
    }
    blocks[i] = pool_->Take(std::min<uint64_t>(bs, want - start));
    sinks.push_back(*blocks[i]);
  }
  source_reads_++;
  StatusOr<size_t> got = source_.ReadScatter(t.path, t.version, offset, sinks);
  if (!got.ok()) {
    for (size_t i = 0; i < calls.size(); ++i) {
      flights_.Complete(BlockKey{t.object, first + i}, calls[i], got.status());
    }
    return got.status();
  }
  source_bytes_ += *got;
  if (prefetch) prefetched_bytes_ += *got;
  BlockData first_block;
  for (size_t i = 0; i < calls.size(); ++i) {
    const uint64_t start = i * bs;
    BlockBytes& b = *blocks[i];
    if (start >= *got) {
      b.clear();  // past the end: not cached
    } else if (start + b.size() > *got) {
      b.resize(*got - start);
    }
    BlockData data = pool_->Seal(std::move(blocks[i]));
    BlockKey key{t.object, first + i};
    if (!data->empty()) Publish(key, data);
    flights_.Complete(key, calls[i], data);
    if (i == 0) first_block = std::move(data);
  }
  return first_block;
}

void TieredBlockCache::Publish(const BlockKey& key, const BlockData& data) {
  (void)tiers_[0]->Put(key, data);
  if (tiers_.size() < 2) return;
  const uint64_t bytes = data->size();
  if (writeback_bytes_.fetch_add(bytes) + bytes > kWritebackLimitBytes) {
    writeback_bytes_ -= bytes;
    writeback_dropped_++;
    return;
  }
  bool queued = writer_pool_->Submit([this, key, data, bytes] {
    for (size_t i = 1; i < tiers_.size(); ++i) {
      if (!tiers_[i]->Contains(key)) (void)tiers_[i]->Put(key, data);
    }
    writeback_bytes_ -= bytes;
  });
  if (!queued) {
    writeback_bytes_ -= bytes;
    writeback_dropped_++;
  }
}

void TieredBlockCache::SchedulePrefetch(const std::shared_ptr<const Target>& t,
                                        const std::vector<PrefetchRange>& plan, uint64_t handle) {
  const uint64_t bs = options_.block_size;
  for (const PrefetchRange& r : plan) {
    const uint64_t bytes = r.block_count * bs;
    uint64_t now = prefetch_inflight_.fetch_add(bytes) + bytes;
    bool ok = now <= options_.prefetch_memory;
    if (ok) {
      RaiseMax(prefetch_inflight_peak_, now);
      ok = prefetch_pool_->Submit([this, t, r, bytes] {
        PrefetchRangeNow(*t, r.first_block, r.block_count);
        prefetch_inflight_ -= bytes;
      });
    }
    if (!ok) {
      prefetch_inflight_ -= bytes;
      prefetch_skipped_++;
      MutexLock lock(handles_mu_);
      auto it = handles_.find(handle);
      if (it != handles_.end() && it->second.object == t->object) {
        it->second.prefetcher.Unissue(r.first_block);
      }
      return;
    }
  }
}

void TieredBlockCache::PrefetchRangeNow(const Target& t, uint64_t first, uint64_t count) {
  const uint64_t end = first + count;
  uint64_t idx = first;
  while (idx < end) {
    BlockKey key{t.object, idx};
    if (tiers_[0]->Contains(key)) {
      ++idx;
      continue;
    }
    bool promoted = false;
    for (size_t i = 1; i < tiers_.size() && !promoted; ++i) {
      if (!tiers_[i]->Contains(key)) continue;
      StatusOr<BlockData> r = tiers_[i]->Get(key);
      if (r.ok()) {
        (void)tiers_[0]->Put(key, *r);
        promoted = true;
      }
    }
    if (promoted) {
      ++idx;
      continue;
    }
    std::vector<std::shared_ptr<SingleFlight::Call>> calls;
    for (uint64_t j = idx; j < end && ClaimIfMissing({t.object, j}, calls); ++j) {
    }
    if (calls.empty()) {  // fetched or being fetched by someone else
      ++idx;
      continue;
    }
    StatusOr<BlockData> r = FetchClaimed(t, idx, calls, /*prefetch=*/true);
    if (!r.ok()) return;  // errors surface on the reader's own fetch
    idx += calls.size();
  }
}

CacheStats TieredBlockCache::Stats() const { return DetailedStats().cache; }

TieredCacheStats TieredBlockCache::DetailedStats() const {
  TieredCacheStats s;
  s.cache.hits = hits_;
  s.cache.misses = misses_;
  s.cache.prefetched_bytes = prefetched_bytes_;
  for (const auto& t : tiers_) {
    TierStats ts = t->Stats();
    if (t->Name() == "memory") s.cache.memory_bytes += ts.bytes;
    if (t->Name() == "disk") s.cache.disk_bytes += ts.bytes;
    s.cache.evictions += ts.evictions;
    s.tiers.push_back(ts);
  }
  s.source_reads = source_reads_;
  s.source_bytes = source_bytes_;
  s.prefetch_skipped = prefetch_skipped_;
  s.prefetch_inflight_peak = prefetch_inflight_peak_;
  s.writeback_dropped = writeback_dropped_;
  pool_->TrimIdle();
  s.pool_reused = pool_->Reused();
  s.pool_free_blocks = pool_->FreeBlocks();
  s.pool_idle_freed = pool_->IdleFreed();
  return s;
}

void TieredBlockCache::WaitIdleForTest() {
  prefetch_pool_->WaitIdle();
  writer_pool_->WaitIdle();
}

}  // namespace ferry::sidecar
