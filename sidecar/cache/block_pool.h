#pragma once
// BlockPool: reusable block buffers for the cache. A freshly allocated block
// of a MiB costs a zero fill, a page fault per 4 KiB and, when freed, an
// munmap with its TLB shootdown; the cold read path allocates one per block
// fetched. The pool hands out vectors whose pages are already resident and
// takes them back when the last BlockData reference goes (the memory tier
// evicting it, a reader dropping it), so a steady scan recycles the same
// buffers. Reused buffers are not zeroed: callers overwrite them.
//
// Memory stays bounded: only `max_free` blocks wait in the pool; more are
// freed at once, and Trim() frees them all (e.g. when memory is tight).
// Thread-safe; blocks may outlive the cache (they keep the pool alive).

#include <cstddef>
#include <memory>
#include <vector>

#include "common/mutex.h"
#include "sidecar/cache/block.h"

namespace ferry::sidecar {

class BlockPool : public std::enable_shared_from_this<BlockPool> {
 public:
  using Buffer = std::unique_ptr<std::vector<std::byte>>;

  static std::shared_ptr<BlockPool> Create(size_t block_size, size_t max_free);

  // A buffer of exactly `size` bytes (<= block_size), contents unspecified.
  Buffer Take(size_t size);
  // Freezes `buffer` into a shared block that returns to the pool when its
  // last reference is dropped.
  BlockData Seal(Buffer buffer);
  // Frees every waiting buffer.
  void Trim();
  size_t FreeBlocks() const;
  uint64_t Reused() const;

 private:
  BlockPool(size_t block_size, size_t max_free) : block_size_(block_size), max_free_(max_free) {}
  void Give(std::vector<std::byte>* buffer);

  const size_t block_size_;
  const size_t max_free_;
  mutable Mutex mu_;  // leaf lock; buffers are freed outside it
  std::vector<Buffer> free_ FERRY_GUARDED_BY(mu_);
  uint64_t reused_ FERRY_GUARDED_BY(mu_) = 0;
};

}  // namespace ferry::sidecar
