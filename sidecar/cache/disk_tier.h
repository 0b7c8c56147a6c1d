#pragma once
// DiskTier: blocks in one sparse slot file, `<dir>/ferry-blocks-v2/blocks`,
// within a byte quota with high/low watermarks: once the allocated size
// passes high x quota, segmented-LRU victims are dropped until it is below
// low x quota. Slot i holds one block (disk_block_format.h: header, key,
// data) at i x stride, where stride = block_bytes + 8 KiB: the header and
// key (up to 8 KiB - 48 bytes), zero-padded to 4 KiB, then the data, so a
// slot is written with O_DIRECT from one aligned buffer (buffered where the
// file system has no O_DIRECT); reads are buffered. A dropped block's slot is
// punched out (FALLOC_FL_PUNCH_HOLE, so the disk space is given back) and
// reused: steady-state caching creates, renames and deletes no files, which
// is what a file per block cost (an inode allocation per block, 30 % of the
// data plane's CPU on small files).
//
// Crash safety: every read verifies both checksums, the lengths and the full
// key, so a torn write, a slot overwritten half way, or bit rot is dropped
// and reported missing, never served. A slot being read is pinned: it is not
// punched or reused until its readers are done. Open() indexes the slots
// whose header checks out (oldest write first; holes are skipped with
// SEEK_DATA), punches the damaged ones, and removes the v1 layout (a file
// per block) of older versions. `<root>/layout` records the stride; a
// different block size starts an empty slot file.
//
// A full disk (ENOSPC, EDQUOT) evicts to the low watermark and refuses Puts
// for `full_backoff`: the cache degrades to memory, never to wrong data.

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/unique_fd.h"
#include "sidecar/cache/cache_tier.h"
#include "sidecar/cache/slru_index.h"

namespace ferry::sidecar {

struct DiskTierOptions {
  std::string dir;               // e.g. /var/cache/ferry/<dataset>; created if missing
  uint64_t quota_bytes = 0;
  uint64_t block_bytes = 1 << 20;  // the largest block (the cache's block_size): sizes the slots
  double high_watermark = 0.95;  // fraction of quota that triggers eviction
  double low_watermark = 0.85;   // fraction of quota eviction brings usage down to
  bool fsync = false;            // fdatasync after each block
  std::chrono::milliseconds full_backoff{5000};
};

class DiskTier final : public CacheTier {
 public:
  // Creates the directory and slot file, indexes existing blocks and evicts
  // down to the low watermark if over the high one. kInvalidArgument: bad
  // options. Errors from mkdir/open (kPermissionDenied, ...).
  static StatusOr<std::unique_ptr<DiskTier>> Open(DiskTierOptions options, Clock& clock);

  std::string_view Name() const override { return "disk"; }
  // kNotFound: absent, from another key, or damaged (then deleted).
  // kInternal: read error. Thread-safe; I/O outside the lock.
  StatusOr<BlockData> Get(const BlockKey& key) override;
  bool Contains(const BlockKey& key) const override;
  // A block already stored under `key` is kept (blocks are immutable).
  // kResourceExhausted: disk full or within the backoff after it, or block
  // larger than the quota. kInvalidArgument: block or key too big for a
  // slot. kInternal: other write error. Thread-safe.
  Status Put(const BlockKey& key, BlockData data) override;
  void Erase(const BlockKey& key) override;
  TierStats Stats() const override;

  // Where `key`'s block lies (for crash-safety tests): the slot file, the
  // slot's offset and the block's length (header + key + data); offset is
  // UINT64_MAX when the block is absent.
  struct Location {
    std::string path;
    uint64_t offset = 0;
    uint64_t bytes = 0;
  };
  Location LocationForTest(const BlockKey& key) const;
  uint64_t StrideForTest() const { return stride_; }
  // Every following write fails with `err` (0 clears): fault injection for
  // ENOSPC/EIO handling.
  void SetWriteErrorForTest(int err);
  // Runs in Get between pinning a slot and reading it (set before any Get).
  void SetReadHookForTest(std::function<void()> hook) { read_hook_for_test_ = std::move(hook); }

 private:
  struct Slot {
    uint32_t slot = 0;
    uint32_t key_len = 0;
    uint32_t data_len = 0;
  };

  DiskTier(DiskTierOptions options, Clock& clock);
  Status Scan();
  Status OpenSlotFile();
  uint64_t OffsetOf(uint32_t slot) const { return uint64_t{slot} * stride_; }
  // The quota's watermarks in bytes: eviction starts above High, stops at Low.
  uint64_t HighBytes() const {
    return static_cast<uint64_t>(static_cast<double>(options_.quota_bytes) * options_.high_watermark);
  }
  uint64_t LowBytes() const {
    return static_cast<uint64_t>(static_cast<double>(options_.quota_bytes) * options_.low_watermark);
  }
  Status WriteSlot(uint32_t slot, const BlockKey& key, const BlockData& data);
  // Drops `hash`'s index entry if it still names `slot`; true if it did.
  bool ForgetLocked(uint64_t hash, uint32_t slot) FERRY_REQUIRES(mu_);
  // Gives `slots` back: punched now, or when their last reader unpins.
  void ReleaseLocked(const std::vector<uint32_t>& slots, std::vector<uint32_t>& punch_now)
      FERRY_REQUIRES(mu_);
  // Punches `slots` (I/O, no lock held) and puts them on the free list.
  void PunchAndFree(const std::vector<uint32_t>& slots) FERRY_EXCLUDES(mu_);
  void EvictTo(uint64_t target_bytes) FERRY_EXCLUDES(mu_);

  const DiskTierOptions options_;
  const std::string root_;
  const std::string path_;  // the slot file, root_/blocks
  const uint64_t stride_;
  Clock& clock_;
  UniqueFd fd_;         // the slot file; pread/pwrite from any thread
  // The slot file again, O_DIRECT, for writes; used while use_direct_.
  UniqueFd direct_fd_;
  std::atomic<bool> use_direct_{false};
  struct FreeDeleter {
    void operator()(std::byte* p) const { std::free(p); }
  };
  struct AlignedBuffer {
    std::unique_ptr<std::byte, FreeDeleter> data;
    uint64_t bytes = 0;
  };
  Mutex buffers_mu_;  // leaf
  // Idle 4 KiB-aligned slot buffers, one per concurrent writer at most.
  std::vector<AlignedBuffer> buffers_ FERRY_GUARDED_BY(buffers_mu_);
  mutable Mutex mu_;  // guards everything below; leaf lock, never held across I/O
  SlruIndex<uint64_t> index_ FERRY_GUARDED_BY(mu_);  // by BlockKey::Hash(), allocated bytes
  std::unordered_map<uint64_t, Slot> where_ FERRY_GUARDED_BY(mu_);  // by BlockKey::Hash()
  std::vector<uint32_t> free_slots_ FERRY_GUARDED_BY(mu_);  // punched, reusable
  uint32_t next_slot_ FERRY_GUARDED_BY(mu_) = 0;            // never used at or above
  std::unordered_map<uint32_t, uint32_t> pins_ FERRY_GUARDED_BY(mu_);  // slot -> readers
  std::vector<uint32_t> release_on_unpin_ FERRY_GUARDED_BY(mu_);
  TierStats stats_ FERRY_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point full_until_ FERRY_GUARDED_BY(mu_){};
  int write_error_for_test_ FERRY_GUARDED_BY(mu_) = 0;
  std::function<void()> read_hook_for_test_;
};

}  // namespace ferry::sidecar
