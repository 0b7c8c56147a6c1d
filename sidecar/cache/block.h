#pragma once
// Block naming shared by the cache tiers. An object is cut into fixed-size
// blocks; a block is named by (ObjectId, index), where the ObjectId folds in
// the path and Entry::VersionKey(), so a changed object (ETag, size or mtime)
// gets new names and its old blocks are never served. Block payloads are
// immutable and shared between tiers and readers by reference count.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sidecar/source/data_source.h"

namespace ferry::sidecar {

// Immutable block bytes; the last block of an object may be short.
using BlockData = std::shared_ptr<const std::vector<std::byte>>;

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
