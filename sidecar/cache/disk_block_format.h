#pragma once
// On-disk format of one disk-tier block file (format version 1):
//
//   offset size field
//        0    4 magic "FRYB"
//        4    2 format version (1)
//        6    2 reserved (0)
//        8    4 key length K
//       12    4 data length N
//       16    8 BlockKey::Hash()
//       24    8 block index
//       32    4 CRC32C of the data
//       36    4 CRC32C of bytes [0, 36) and the key
//       40    K key (BlockKey::object)
//     40+K    N data
//
// Integers are little-endian. A file is accepted only if both checksums, the
// lengths, the file size and the full key match, so a torn write, a
// truncated file, a flipped bit or a hash collision is never served. Pure.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common/status.h"
#include "sidecar/cache/block.h"

namespace ferry::sidecar {

inline constexpr size_t kBlockHeaderBytes = 40;

// Header plus key for `data` stored under `key`.
std::string EncodeBlockHeader(const BlockKey& key, std::span<const std::byte> data);

struct BlockFileLayout {
  uint32_t key_len = 0;
  uint32_t data_len = 0;
  uint64_t key_hash = 0;
  uint64_t index = 0;
  uint32_t data_crc = 0;
};

// Parses the fixed header (first kBlockHeaderBytes bytes of `file_prefix`).
// kDataLoss-like failures are kFailedPrecondition: bad magic, version or
// lengths. Does not check the header checksum (needs the key): see CheckKey.
StatusOr<BlockFileLayout> ParseBlockHeader(std::span<const std::byte> file_prefix);

// Checks the header checksum over `header_and_key` (the first 40 + key_len
// bytes) and that the stored key equals `expect`. kFailedPrecondition: torn or
// corrupt header. kNotFound: a valid block of another key (hash collision).
Status CheckBlockKey(std::span<const std::byte> header_and_key, const BlockFileLayout& layout,
                     const BlockKey& expect);

// Checks `data` against the layout's length and checksum. kFailedPrecondition
// on mismatch.
Status CheckBlockData(std::span<const std::byte> data, const BlockFileLayout& layout);

}  // namespace ferry::sidecar
