#include "sidecar/cache/block_pool.h"

#include <malloc.h>

#include <algorithm>
#include <utility>

namespace ferry::sidecar {

std::shared_ptr<BlockPool> BlockPool::Create(size_t block_size, size_t max_free) {
  return std::shared_ptr<BlockPool>(
      new BlockPool(block_size, max_free, nullptr, std::chrono::nanoseconds::zero()));
}

std::shared_ptr<BlockPool> BlockPool::Create(size_t block_size, size_t max_free, Clock& clock,
                                             std::chrono::nanoseconds idle_after) {
  Clock* c = idle_after > std::chrono::nanoseconds::zero() ? &clock : nullptr;
  return std::shared_ptr<BlockPool>(new BlockPool(block_size, max_free, c, idle_after));
}

void BlockPool::TakeExpired(std::vector<Waiting>& out) {
  if (clock_ == nullptr || free_.empty()) return;
  const auto cutoff = clock_->Now() - idle_after_;
  auto end = std::find_if(free_.begin(), free_.end(),
                          [&](const Waiting& w) { return w.since > cutoff; });
  if (end == free_.begin()) return;
  idle_freed_ += static_cast<uint64_t>(end - free_.begin());
  out.insert(out.end(), std::make_move_iterator(free_.begin()), std::make_move_iterator(end));
  free_.erase(free_.begin(), end);
}

BlockPool::Buffer BlockPool::Take(size_t size) {
  Buffer b;
  std::vector<Waiting> expired;  // freed after the lock (declared first)
  if (size <= block_size_) {
    MutexLock lock(mu_);
    TakeExpired(expired);
    if (!free_.empty()) {
      b = std::move(free_.back().buffer);
      free_.pop_back();
      reused_++;
    }
  }
  if (!b) {
    b = std::make_unique<BlockBytes>();
    b->reserve(std::max(size, block_size_));
  }
  b->resize(size);  // never a fill (BlockAllocator default-initializes)
  return b;
}

BlockData BlockPool::Seal(Buffer buffer) {
  BlockBytes* raw = buffer.release();
  return BlockData(raw, [pool = shared_from_this()](const BlockBytes* p) {
    pool->Give(const_cast<BlockBytes*>(p));
  });
}

void BlockPool::Give(BlockBytes* buffer) {
  Buffer b(buffer);
  if (b->capacity() != block_size_) return;  // not one of ours: freed
  std::vector<Waiting> expired;  // freed after the lock (declared first)
  MutexLock lock(mu_);
  if (closed_) return;  // `b` is freed after the lock
  TakeExpired(expired);
  if (free_.size() < max_free_) {
    free_.push_back({std::move(b), clock_ != nullptr ? clock_->Now()
                                                     : std::chrono::steady_clock::time_point()});
  }
  // else: freed as `b` goes out of scope, after the lock (declared first)
}

void BlockPool::Trim() {
  std::vector<Waiting> dropped;
  MutexLock lock(mu_);
  dropped.swap(free_);
}

size_t BlockPool::TrimIdle() {
  std::vector<Waiting> expired;
  bool emptied;
  {
    MutexLock lock(mu_);
    TakeExpired(expired);
    emptied = free_.empty();
  }
  size_t n = expired.size();
  expired.clear();  // frees (munmap for mmapped blocks)
  // The pool emptied by idling: the mount is idle. Give back what the heap
  // keeps from the burst too (arena pages, free lists), as the data plane
  // does when it settles.
  if (n > 0 && emptied) malloc_trim(0);
  return n;
}

void BlockPool::Close() {
  std::vector<Waiting> dropped;
  MutexLock lock(mu_);
  closed_ = true;
  clock_ = nullptr;
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

uint64_t BlockPool::IdleFreed() const {
  MutexLock lock(mu_);
  return idle_freed_;
}

}  // namespace ferry::sidecar
