#include "sidecar/cache/memory_tier.h"

#include <utility>
#include <vector>

namespace ferry::sidecar {

MemoryTier::MemoryTier(uint64_t quota_bytes) : quota_bytes_(quota_bytes) {}

StatusOr<BlockData> MemoryTier::Get(const BlockKey& key) {
  MutexLock lock(mu_);
  auto it = blocks_.find(key);
  if (it == blocks_.end()) {
    stats_.misses++;
    return NotFound("memory tier: no such block");
  }
  stats_.hits++;
  index_.Touch(key, quota_bytes_);
  return it->second;
}

bool MemoryTier::Contains(const BlockKey& key) const {
  MutexLock lock(mu_);
  return blocks_.count(key) != 0;
}

Status MemoryTier::Put(const BlockKey& key, BlockData data) {
  if (!data) return InvalidArgument("memory tier: null block");
  uint64_t size = data->size();
  if (size > quota_bytes_) {
    MutexLock lock(mu_);
    stats_.put_failures++;
    return ResourceExhausted("memory tier: block larger than the quota");
  }
  std::vector<BlockData> dropped;  // freed after the lock is released
  MutexLock lock(mu_);
  auto it = blocks_.find(key);
  if (it != blocks_.end()) {
    dropped.push_back(std::move(it->second));
    it->second = std::move(data);
  } else {
    blocks_.emplace(key, std::move(data));
  }
  index_.Insert(key, size);
  for (auto& [victim, bytes] : index_.EvictTo(quota_bytes_)) {
    (void)bytes;
    auto v = blocks_.find(victim);
    if (v != blocks_.end()) {
      dropped.push_back(std::move(v->second));
      blocks_.erase(v);
    }
    stats_.evictions++;
  }
  return Status();
}

void MemoryTier::Erase(const BlockKey& key) {
  BlockData dropped;
  MutexLock lock(mu_);
  index_.Erase(key);
  auto it = blocks_.find(key);
  if (it != blocks_.end()) {
    dropped = std::move(it->second);
    blocks_.erase(it);
  }
}

TierStats MemoryTier::Stats() const {
  MutexLock lock(mu_);
  TierStats s = stats_;
  s.bytes = index_.bytes();
  s.blocks = index_.size();
  s.quota_bytes = quota_bytes_;
  return s;
}

}  // namespace ferry::sidecar
