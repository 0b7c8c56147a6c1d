#pragma once
// Block naming shared by the cache tiers. An object is cut into fixed-size
// blocks; a block is named by (ObjectId, index), where the ObjectId folds in
// the path and Entry::VersionKey(), so a changed object (ETag, size or mtime)
// gets new names and its old blocks are never served. Block payloads are
// immutable and shared between tiers and readers by reference count.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "sidecar/source/data_source.h"

namespace ferry::sidecar {

// Allocates block buffers on a page boundary (64 bytes when small) and leaves
// resize()d bytes uninitialized. Alignment is speed here: the kernel copies
// FUSE replies out of blocks into page-aligned page-cache pages, and a copy
// whose source and destination differ in alignment by a few bytes (malloc's
// 16) runs several times slower (4 KiB aliasing: a 1 GiB read spent a quarter
// of its CPU in that one memcpy). Block bytes are always written before they
// are read, so zero-filling them first was a wasted pass over memory.
template <typename T>
struct BlockAllocator {
  using value_type = T;
  BlockAllocator() = default;
  template <typename U>
  BlockAllocator(const BlockAllocator<U>&) noexcept {}  // NOLINT: allocator rebinding
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    void* p = nullptr;
    if (::posix_memalign(&p, bytes >= 4096 ? 4096 : 64, bytes) != 0) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) noexcept { std::free(p); }
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;  // default-init: no zero fill
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  friend bool operator==(const BlockAllocator&, const BlockAllocator&) { return true; }
};

using BlockBytes = std::vector<std::byte, BlockAllocator<std::byte>>;

// Immutable block bytes; the last block of an object may be short.
using BlockData = std::shared_ptr<const BlockBytes>;

// "path\0etag|size|mtime": unique per object version.
std::string ObjectId(std::string_view path, const Entry& version);

struct BlockKey {
  std::string object;  // ObjectId()
  uint64_t index = 0;  // block number within the object

  // Stable across processes and builds (names disk files): FNV-1a over the
  // object id, mixed with the index. Never 0.
  uint64_t Hash() const;
  bool operator==(const BlockKey&) const = default;
};

struct BlockKeyHash {
  size_t operator()(const BlockKey& k) const { return static_cast<size_t>(k.Hash()); }
};

// 64-bit FNV-1a; stable.
uint64_t Fnv1a64(std::string_view data);

}  // namespace ferry::sidecar
