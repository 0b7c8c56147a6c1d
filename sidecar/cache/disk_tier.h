#pragma once
// DiskTier: blocks as files under `<dir>/ferry-blocks-v1/<hh>/<hash>` (see
// disk_block_format.h), within a byte quota with high/low watermarks: once the
// allocated size passes high x quota, segmented-LRU victims are deleted until
// it is below low x quota.
//
// Crash safety: a block is written to a temp file in the same directory,
// optionally fdatasync'ed (`fsync`), then renamed over its name, so readers
// see whole files only. Every read verifies both checksums, the lengths and
// the full key; a torn or corrupt file (power loss without fsync, bit rot,
// truncation) is deleted and reported missing, never served. Open() deletes
// leftover temp files and re-indexes surviving blocks (oldest mtime first).
//
// A full disk (ENOSPC, EDQUOT) evicts to the low watermark and refuses Puts
// for `full_backoff`: the cache degrades to memory, never to wrong data.

#include <chrono>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/mutex.h"
#include "sidecar/cache/cache_tier.h"
#include "sidecar/cache/slru_index.h"

namespace ferry::sidecar {

struct DiskTierOptions {
  std::string dir;               // e.g. /var/cache/ferry/<dataset>; created if missing
  uint64_t quota_bytes = 0;
  double high_watermark = 0.95;  // fraction of quota that triggers eviction
  double low_watermark = 0.85;   // fraction of quota eviction brings usage down to
  bool fsync = false;            // fdatasync each block before the rename
  std::chrono::milliseconds full_backoff{5000};
};

class DiskTier final : public CacheTier {
 public:
  // Creates the directory, removes temp files, indexes existing blocks and
  // evicts down to the low watermark if over the high one. kInvalidArgument:
  // bad options. Errors from mkdir (kPermissionDenied, ...).
  static StatusOr<std::unique_ptr<DiskTier>> Open(DiskTierOptions options, Clock& clock);

  std::string_view Name() const override { return "disk"; }
  // kNotFound: absent, from another key, or damaged (then deleted).
  // kInternal: read error. Thread-safe; I/O outside the lock.
  StatusOr<BlockData> Get(const BlockKey& key) override;
  bool Contains(const BlockKey& key) const override;
  // kResourceExhausted: disk full or within the backoff after it, or block
  // larger than the quota. kInternal: other write error. Thread-safe.
  Status Put(const BlockKey& key, BlockData data) override;
  void Erase(const BlockKey& key) override;
  TierStats Stats() const override;

  // Path of the file that holds `key`'s block (for crash-safety tests).
  std::string PathForTest(const BlockKey& key) const { return PathFor(key.Hash()); }
  // Every following write fails with `err` (0 clears): fault injection for
  // ENOSPC/EIO handling.
  void SetWriteErrorForTest(int err);

 private:
  DiskTier(DiskTierOptions options, Clock& clock);
  Status Scan();
  std::string PathFor(uint64_t hash) const;
  Status WriteFile(const BlockKey& key, const BlockData& data, uint64_t hash);
  void DropCorrupt(uint64_t hash, const std::string& path);
  void EvictTo(uint64_t target_bytes) FERRY_EXCLUDES(mu_);

  const DiskTierOptions options_;
  const std::string root_;
  Clock& clock_;
  mutable Mutex mu_;  // guards everything below; leaf lock, never held across I/O
  SlruIndex<uint64_t> index_ FERRY_GUARDED_BY(mu_);  // by BlockKey::Hash(), allocated bytes
  TierStats stats_ FERRY_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point full_until_ FERRY_GUARDED_BY(mu_){};
  int write_error_for_test_ FERRY_GUARDED_BY(mu_) = 0;
  uint64_t temp_counter_ FERRY_GUARDED_BY(mu_) = 0;
};

}  // namespace ferry::sidecar
