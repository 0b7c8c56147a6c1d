#pragma once
// BlockCache: the read path for remote sources. Objects are cut into blocks
// (default 1 MiB) named by (path, Entry::VersionKey(), index), so a changed
// object is never served stale. Implementations stack tiers (memory, disk,
// Redis) over a DataSource and prefetch for sequential readers.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sidecar/source/data_source.h"

namespace ferry::sidecar {

struct CacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t memory_bytes = 0;
  uint64_t disk_bytes = 0;
  uint64_t prefetched_bytes = 0;
  uint64_t evictions = 0;
};

class BlockCache {
 public:
  BlockCache() = default;
  virtual ~BlockCache() = default;
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // Fills `out` with bytes [offset, offset + out.size()) of `path` at
  // `version`, from the tiers or from the cache's source; short only at end of
  // object. `handle` identifies the open file (the prefetcher tracks
  // sequential access per handle). Errors are the source's. Thread-safe; never
  // holds a lock across I/O; concurrent misses on one block share one fetch.
  virtual StatusOr<size_t> Read(std::string_view path, const Entry& version, uint64_t offset,
                                std::span<std::byte> out, uint64_t handle) = 0;

  // A piece of a cached block handed out without copying: `bytes` stay valid
  // while `keep` is held.
  struct Slice {
    std::shared_ptr<const void> keep;
    std::span<const std::byte> bytes;
  };
  // Like Read, but appends the bytes as slices of the cached blocks to `out`
  // (no copy; a FUSE reply can write them straight from the cache) and
  // returns their total. kUnimplemented: not supported, use Read.
  virtual StatusOr<size_t> ReadSlices(std::string_view path, const Entry& version,
                                      uint64_t offset, size_t size, uint64_t handle,
                                      std::vector<Slice>& out) {
    (void)path, (void)version, (void)offset, (void)size, (void)handle, (void)out;
    return Status(StatusCode::kUnimplemented, "ReadSlices");
  }

  // The handle was released: drop its prefetch state. Thread-safe.
  virtual void Release(uint64_t handle) { (void)handle; }

  virtual CacheStats Stats() const = 0;
};

}  // namespace ferry::sidecar
