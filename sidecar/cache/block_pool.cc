#include "sidecar/cache/block_pool.h"

#include <algorithm>
#include <utility>

namespace ferry::sidecar {

std::shared_ptr<BlockPool> BlockPool::Create(size_t block_size, size_t max_free) {
  return std::shared_ptr<BlockPool>(new BlockPool(block_size, max_free));
}

BlockPool::Buffer BlockPool::Take(size_t size) {
  Buffer b;
  if (size <= block_size_) {
    MutexLock lock(mu_);
    if (!free_.empty()) {
      b = std::move(free_.back());
      free_.pop_back();
      reused_++;
    }
  }
  if (!b) {
    b = std::make_unique<std::vector<std::byte>>();
    b->reserve(std::max(size, block_size_));
  }
  b->resize(size);  // no fill when shrinking or when the buffer was this long before
  return b;
}

BlockData BlockPool::Seal(Buffer buffer) {
  std::vector<std::byte>* raw = buffer.release();
  return BlockData(raw, [pool = shared_from_this()](const std::vector<std::byte>* p) {
    pool->Give(const_cast<std::vector<std::byte>*>(p));
  });
}

void BlockPool::Give(std::vector<std::byte>* buffer) {
  Buffer b(buffer);
  if (b->capacity() != block_size_) return;  // not one of ours: freed
  MutexLock lock(mu_);
  if (free_.size() < max_free_) free_.push_back(std::move(b));
  // else: freed as `b` goes out of scope, after the lock (declared first)
}

void BlockPool::Trim() {
  std::vector<Buffer> dropped;
  MutexLock lock(mu_);
  dropped.swap(free_);
}

size_t BlockPool::FreeBlocks() const {
  MutexLock lock(mu_);
  return free_.size();
}

uint64_t BlockPool::Reused() const {
  MutexLock lock(mu_);
  return reused_;
}

}  // namespace ferry::sidecar
