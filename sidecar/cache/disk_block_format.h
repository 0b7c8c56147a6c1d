#pragma once
// On-disk format of one disk-tier block (format version 2), as stored at the
// start of its slot in the tier's slot file:
//
//   offset size field
//        0    4 magic "FRYB"
//        4    2 format version (2)
//        6    2 reserved (0)
//        8    4 key length K
//       12    4 data length N
//       16    8 BlockKey::Hash()
//       24    8 block index
//       32    8 written at (ns since the Unix epoch): restart keeps LRU order
//       40    4 CRC32C of the data
//       44    4 CRC32C of bytes [0, 44) and the key
//       48    K key (BlockKey::object)
//     48+K    N data
//
// Integers are little-endian. A block is accepted only if both checksums, the
// lengths and the full key match, so a torn write, a slot overwritten half
// way, a flipped bit or a hash collision is never served. Pure.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "sidecar/cache/block.h"

namespace ferry::sidecar {

inline constexpr size_t kBlockHeaderBytes = 48;

// Header plus key for `data` stored under `key`, written at `written_ns`.
std::string EncodeBlockHeader(const BlockKey& key, std::span<const std::byte> data,
                              uint64_t written_ns = 0);

struct BlockFileLayout {
  uint32_t key_len = 0;
  uint32_t data_len = 0;
  uint64_t key_hash = 0;
  uint64_t index = 0;
  uint64_t written_ns = 0;
  uint32_t data_crc = 0;
};

// Parses the fixed header (first kBlockHeaderBytes bytes of `file_prefix`).
// kDataLoss-like failures are kFailedPrecondition: bad magic, version or
// lengths. Does not check the header checksum (needs the key): see
// CheckBlockHeader and CheckBlockKey.
StatusOr<BlockFileLayout> ParseBlockHeader(std::span<const std::byte> file_prefix);

// Checks the header checksum over `header_and_key` (the first
// kBlockHeaderBytes + key_len bytes). kFailedPrecondition: torn or corrupt.
Status CheckBlockHeader(std::span<const std::byte> header_and_key, const BlockFileLayout& layout);

// The stored key of a checked `header_and_key`.
std::string_view StoredBlockKey(std::span<const std::byte> header_and_key,
                                const BlockFileLayout& layout);

// CheckBlockHeader, then that the stored key equals `expect`. kFailedPrecondition: torn or
// corrupt header. kNotFound: a valid block of another key (hash collision).
Status CheckBlockKey(std::span<const std::byte> header_and_key, const BlockFileLayout& layout,
                     const BlockKey& expect);

// Checks `data` against the layout's length and checksum. kFailedPrecondition
// on mismatch.
Status CheckBlockData(std::span<const std::byte> data, const BlockFileLayout& layout);

}  // namespace ferry::sidecar
