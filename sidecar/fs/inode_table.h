#pragma once
// InodeTable: FUSE nodeids for dataset paths, with the kernel's lookup counts.
//
// Nodeids are never pointers (DATAPLANE §5): each is a 64-bit value derived
// from the path (a fixed hash, so a restarted process derives the same id for
// the same path), probed past collisions, never 0 or kRootIno except for the
// root. Every record also carries a generation drawn from a table-wide
// counter, so (ino, generation) is unique for the table's life even when a
// forgotten path comes back with the same ino.
//
// The kernel holds one reference per successful LOOKUP / READDIRPLUS entry
// (Acquire) and drops them with FORGET (Forget). A record lives while its count
// is above zero; the root lives forever. Unknown nodeids are ESTALE to callers.
//
// Serialize()/Restore() carry the whole table (ino -> path, generation,
// nlookup, type) to a restarted data plane so the kernel's nodeids stay valid.
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/mutex.h"
#include "common/status.h"
#include "sidecar/source/data_source.h"

namespace ferry::sidecar {

inline constexpr uint64_t kRootIno = 1;  // FUSE_ROOT_ID

struct InodeRecord {
  uint64_t ino = 0;
  uint64_t generation = 0;
  uint64_t nlookup = 0;
  EntryType type = EntryType::kFile;
  std::string path;  // dataset-relative; "" = root
  // The file size last sent to the kernel in an attribute reply, and when
  // (a default time point: none since this data plane started).
  uint64_t kernel_size = 0;
  std::chrono::steady_clock::time_point kernel_attr_at{};
};

class InodeTable {
 public:
  InodeTable();
  InodeTable(const InodeTable&) = delete;
  InodeTable& operator=(const InodeTable&) = delete;

  // Returns the record for `path` with its lookup count raised by one, creating
  // it if needed. A live record of another type at `path` (a file replaced by
  // a directory) is detached: it stays valid by ino until forgotten, and
  // `path` gets a fresh record. The root is returned unchanged (no count).
  InodeRecord Acquire(std::string_view path, EntryType type);

  // The record for `ino`, or nullopt (the caller answers ESTALE).
  std::optional<InodeRecord> Get(uint64_t ino) const;

  // The ino `path` has now, or nullopt; no count is taken.
  std::optional<uint64_t> Find(std::string_view path) const;

  // The ino a plain readdir reports for `path`: its live ino, else the one an
  // Acquire would most likely give. Takes no count.
  uint64_t PeekIno(std::string_view path) const;

  // Drops `n` lookups; returns true when the record was removed. Unknown
  // inos and the root are ignored (false); counts never go below zero.
  bool Forget(uint64_t ino, uint64_t n);

  // Records the size sent to the kernel for `ino` at `at`. Unknown inos are ignored.
  void NoteKernelAttr(uint64_t ino, uint64_t size, std::chrono::steady_clock::time_point at);

  size_t Size() const;

  // Binary image: "FRYI", u32 version, u64 next generation, u64 count, then
  // per record u64 ino, u64 generation, u64 nlookup, u8 type, u32 path length,
  // path bytes; little-endian.
  std::string Serialize() const;
  // Replaces the table with an image from Serialize(). kInvalidArgument on a
  // malformed image (the table is then unchanged).
  Status Restore(std::string_view image);

 private:
  static uint64_t HashPath(std::string_view path, uint64_t salt);
  uint64_t FreeInoFor(std::string_view path) const FERRY_REQUIRES(mu_);

  struct PathHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  // Guards everything below. Leaf lock: nothing is called while it is held.
  mutable Mutex mu_;
  std::unordered_map<uint64_t, InodeRecord> by_ino_ FERRY_GUARDED_BY(mu_);
  std::unordered_map<std::string, uint64_t, PathHash, std::equal_to<>> by_path_ FERRY_GUARDED_BY(mu_);
  uint64_t next_generation_ FERRY_GUARDED_BY(mu_) = 1;
};

}  // namespace ferry::sidecar
