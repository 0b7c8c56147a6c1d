#pragma once
// CRC32C (Castagnoli), the checksum of disk-tier blocks. Uses the SSE4.2
// crc32 instruction when the CPU has it (several GB/s), else a slicing-by-8
// table. Thread-safe, pure.

#include <cstddef>
#include <cstdint>
#include <span>

namespace ferry::sidecar {

// Extends `crc` (0 for a fresh checksum) with `data`.
uint32_t Crc32c(std::span<const std::byte> data, uint32_t crc = 0);

// The portable implementation, for tests and benchmarks.
uint32_t Crc32cPortableForTest(std::span<const std::byte> data, uint32_t crc = 0);

}  // namespace ferry::sidecar
