#pragma once
// CacheTier: one level of the block cache (memory, disk, later Redis). A tier
// stores immutable blocks by BlockKey within its own quota and evicts on its
// own; TieredBlockCache stacks tiers fastest first, promotes hits upwards and
// fills misses from the DataSource. A tier never returns bytes of another key:
// a block it cannot verify is reported missing (and dropped).

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "sidecar/cache/block.h"

namespace ferry::sidecar {

struct TierStats {
  uint64_t bytes = 0;           // bytes held (disk: allocated size of block files)
  uint64_t blocks = 0;
  uint64_t quota_bytes = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;       // blocks dropped to respect the quota
  uint64_t corrupt = 0;         // blocks found damaged (torn, bad checksum) and dropped
  uint64_t put_failures = 0;    // Puts refused (no space, I/O error)
};

class CacheTier {
 public:
  CacheTier() = default;
  virtual ~CacheTier() = default;
  CacheTier(const CacheTier&) = delete;
  CacheTier& operator=(const CacheTier&) = delete;

  // "memory", "disk", "redis": for stats and logs.
  virtual std::string_view Name() const = 0;

  // The block stored under `key`. kNotFound: absent, or present but damaged
  // (then erased). Other codes: the tier failed (treat as a miss). Counts as
  // an access for eviction. Thread-safe; may do I/O (never under a lock).
  virtual StatusOr<BlockData> Get(const BlockKey& key) = 0;

  // Whether `key` is (probably) present, without I/O and without counting an
  // access. A true answer may still be followed by a kNotFound Get.
  // Thread-safe.
  virtual bool Contains(const BlockKey& key) const = 0;

  // Stores `data` under `key`, replacing any block of that key and evicting
  // others to stay within quota. kResourceExhausted: no room (block larger
  // than the quota, disk full); the tier keeps serving what it has.
  // kInternal/kUnavailable: I/O error. Thread-safe.
  virtual Status Put(const BlockKey& key, BlockData data) = 0;

  // Drops `key` if present. Thread-safe.
  virtual void Erase(const BlockKey& key) = 0;

  virtual TierStats Stats() const = 0;
};

}  // namespace ferry::sidecar
