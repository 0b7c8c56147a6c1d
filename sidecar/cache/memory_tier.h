#pragma once
// MemoryTier: blocks in RAM within a byte quota, evicted by segmented LRU
// (SlruIndex), so a one-pass scan does not flush the re-used working set.
// Blocks are shared by reference: an evicted block stays alive while a reader
// still holds it, but no longer counts against the quota.

#include <unordered_map>

#include "common/mutex.h"
#include "sidecar/cache/cache_tier.h"
#include "sidecar/cache/slru_index.h"

namespace ferry::sidecar {

class MemoryTier final : public CacheTier {
 public:
  explicit MemoryTier(uint64_t quota_bytes);

  std::string_view Name() const override { return "memory"; }
  // kNotFound: absent. Never fails otherwise. Thread-safe.
  StatusOr<BlockData> Get(const BlockKey& key) override;
  bool Contains(const BlockKey& key) const override;
  // kResourceExhausted: the block alone exceeds the quota. Thread-safe.
  Status Put(const BlockKey& key, BlockData data) override;
  void Erase(const BlockKey& key) override;
  TierStats Stats() const override;

 private:
  const uint64_t quota_bytes_;
  mutable Mutex mu_;  // guards everything below; leaf lock, never held across I/O
  SlruIndex<BlockKey, BlockKeyHash> index_ FERRY_GUARDED_BY(mu_);
  std::unordered_map<BlockKey, BlockData, BlockKeyHash> blocks_ FERRY_GUARDED_BY(mu_);
  TierStats stats_ FERRY_GUARDED_BY(mu_);
};

}  // namespace ferry::sidecar
