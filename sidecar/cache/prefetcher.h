#pragma once
// Prefetcher: the per-handle read-pattern state machine (pure logic; the
// cache runs the ranges it returns on its worker pool). Modelled on
// mountpoint-s3's prefetch.rs, with a per-handle cap instead of its 2 GiB:
//
//  - A stream starts at a first read at offset 0, or at a read that starts
//    within `start_slack` of the previous read's end (kernel read-ahead may
//    reorder requests a little); a lone read elsewhere (random access)
//    prefetches nothing, so random readers fetch only the blocks they touch.
//  - Once streaming, reads that land within `forward_seek` ahead or
//    `backward_seek` behind the previous end keep the stream; anything else
//    ends it.
//  - The window starts at `initial_window` (1 MiB + 128 KiB) past the read
//    and doubles on every sequential read up to `max_window`.
//  - Each plan covers [issued_until, end + window), block-aligned, cut into
//    ranges of at most `range_bytes` (one GET each), and goes out only once
//    that gap is worth min(range_bytes, window / 2) (or reaches the end of
//    the object), so a steady reader issues big GETs. The cache reports what
//    it could not schedule (global budget) with Unissue(), so it is planned
//    again on the next read.

#include <cstdint>
#include <vector>

namespace ferry::sidecar {

struct PrefetchOptions {
  uint64_t block_size = 1 << 20;
  uint64_t initial_window = (1 << 20) + (128 << 10);
  uint64_t max_window = 32 << 20;
  uint64_t range_bytes = 8 << 20;
  uint64_t forward_seek = 16 << 20;
  uint64_t backward_seek = 1 << 20;
  uint64_t start_slack = 256 << 10;
};

struct PrefetchRange {
  uint64_t first_block = 0;
  uint64_t block_count = 0;
  bool operator==(const PrefetchRange&) const = default;
};

class Prefetcher {
 public:
  explicit Prefetcher(const PrefetchOptions& options) : options_(options) {}

  // Records a read of [offset, offset + len) of an object of `object_size`
  // bytes; returns the ranges to fetch ahead now (possibly none). Not
  // thread-safe: one per handle, under the cache's handle lock.
  std::vector<PrefetchRange> OnRead(uint64_t offset, uint64_t len, uint64_t object_size);

  // The cache could not schedule ranges starting at `first_block`: plan them
  // again later.
  void Unissue(uint64_t first_block);

  uint64_t window() const { return window_; }
  bool sequential() const { return sequential_; }

 private:
  PrefetchOptions options_;
  bool has_history_ = false;
  bool sequential_ = false;
  uint64_t last_end_ = 0;
  uint64_t window_ = 0;
  uint64_t issued_until_block_ = 0;  // blocks below this were planned already
};

}  // namespace ferry::sidecar
