#pragma once
// CacheOptions: the cache's settings, parsed from a mount's `options` map
// (keys documented in docs/cache.md). Keys that do not start with "cache_" or
// "prefetch_" (and are not "block_size") belong to the source and are
// ignored here; an unknown cache_/prefetch_ key is an error.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ferry::sidecar {

struct CacheOptions {
  uint64_t block_size = 1 << 20;            // block_size
  uint64_t memory_bytes = 256ull << 20;     // cache_memory
  uint64_t disk_bytes = 0;                  // cache_disk; 0 = no disk tier
  std::string disk_dir;                     // cache_dir
  double disk_high_watermark = 0.95;        // cache_disk_high (fraction or percent)
  double disk_low_watermark = 0.85;         // cache_disk_low
  bool disk_fsync = false;                  // cache_fsync
  uint64_t small_file_bytes = 2 << 20;      // cache_small_file: fetched whole, one GET
  uint64_t prefetch_initial = (1 << 20) + (128 << 10);  // prefetch_initial
  uint64_t prefetch_max = 64 << 20;         // prefetch_max: window per handle
  uint64_t prefetch_range = 8 << 20;        // prefetch_range: bytes per GET
  uint64_t prefetch_memory = 64 << 20;      // prefetch_memory: in-flight bytes per mount, part of cache_memory
  uint32_t prefetch_workers = 8;            // prefetch_workers: parallel GETs per mount
  // cache_pool: freed block buffers kept for reuse (BlockPool), capped at
  // cache_memory / 8; 0 allocates (and zero-fills, page-faults) every block.
  uint64_t block_pool_bytes = 32 << 20;
  // cache_pool_idle: a pooled buffer unused this long is freed, so an idle
  // mount's RSS returns to its cached blocks ("10", "10s", "2m"; 0 = never).
  std::chrono::seconds block_pool_idle{10};
};

// "256Mi", "1Gi", "512M", "64k", "1048576", "2GiB" -> bytes. Binary suffixes
// (Ki, Mi, Gi, Ti) are powers of 1024; decimal ones (k, M, G, T) of 1000.
// kInvalidArgument names the bad text.
StatusOr<uint64_t> ParseByteSize(std::string_view text);

// Applies the cache keys of `options` over the defaults; `default_disk_dir`
// is used when cache_dir is not given (e.g. /var/cache/ferry/<dataset>).
// cache_disk defaults to 0 (memory only) when no directory is known, else to
// 1Gi. kInvalidArgument: bad value or unknown cache key, naming the key.
StatusOr<CacheOptions> ParseCacheOptions(const std::map<std::string, std::string>& options,
                                         std::string_view default_disk_dir);

}  // namespace ferry::sidecar
