#include "sidecar/cache/disk_block_format.h"

#include <bit>
#include <cstring>

#include "sidecar/cache/crc32c.h"

namespace ferry::sidecar {
namespace {

static_assert(std::endian::native == std::endian::little, "disk format assumes little-endian");

constexpr char kMagic[4] = {'F', 'R', 'Y', 'B'};
constexpr uint16_t kVersion = 2;
constexpr size_t kDataCrcAt = 40;
constexpr size_t kHeaderCrcAt = 44;
constexpr uint32_t kMaxKeyLen = 1u << 16;
constexpr uint32_t kMaxDataLen = 1u << 30;

template <typename T>
void Store(std::string& out, size_t at, T v) {
  std::memcpy(out.data() + at, &v, sizeof(v));
}
template <typename T>
T Load(std::span<const std::byte> in, size_t at) {
  T v;
  std::memcpy(&v, in.data() + at, sizeof(v));
  return v;
}
std::span<const std::byte> AsBytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

}  // namespace

std::string EncodeBlockHeader(const BlockKey& key, std::span<const std::byte> data,
                              uint64_t written_ns) {
  std::string out(kBlockHeaderBytes, '\0');
  std::memcpy(out.data(), kMagic, 4);
  Store<uint16_t>(out, 4, kVersion);
  Store<uint16_t>(out, 6, 0);
  Store<uint32_t>(out, 8, static_cast<uint32_t>(key.object.size()));
  Store<uint32_t>(out, 12, static_cast<uint32_t>(data.size()));
  Store<uint64_t>(out, 16, key.Hash());
  Store<uint64_t>(out, 24, key.index);
  Store<uint64_t>(out, 32, written_ns);
  Store<uint32_t>(out, kDataCrcAt, Crc32c(data));
  out += key.object;
  uint32_t hcrc = Crc32c(AsBytes(out).first(kHeaderCrcAt));
  hcrc = Crc32c(AsBytes(out).subspan(kBlockHeaderBytes), hcrc);
  Store<uint32_t>(out, kHeaderCrcAt, hcrc);
  return out;
}

StatusOr<BlockFileLayout> ParseBlockHeader(std::span<const std::byte> p) {
  if (p.size() < kBlockHeaderBytes) return FailedPrecondition("block file: short header");
  if (std::memcmp(p.data(), kMagic, 4) != 0) return FailedPrecondition("block file: bad magic");
  if (Load<uint16_t>(p, 4) != kVersion) return FailedPrecondition("block file: unknown version");
  BlockFileLayout l;
  l.key_len = Load<uint32_t>(p, 8);
  l.data_len = Load<uint32_t>(p, 12);
  l.key_hash = Load<uint64_t>(p, 16);
  l.index = Load<uint64_t>(p, 24);
  l.written_ns = Load<uint64_t>(p, 32);
  l.data_crc = Load<uint32_t>(p, kDataCrcAt);
  if (l.key_len > kMaxKeyLen || l.data_len > kMaxDataLen) {
    return FailedPrecondition("block file: implausible lengths");
  }
  return l;
}

Status CheckBlockHeader(std::span<const std::byte> hk, const BlockFileLayout& l) {
  if (hk.size() != kBlockHeaderBytes + l.key_len) {
    return FailedPrecondition("block file: short key");
  }
  uint32_t hcrc = Crc32c(hk.first(kHeaderCrcAt));
  hcrc = Crc32c(hk.subspan(kBlockHeaderBytes), hcrc);
  if (hcrc != Load<uint32_t>(hk, kHeaderCrcAt)) {
    return FailedPrecondition("block file: header checksum");
  }
  return Status();
}

std::string_view StoredBlockKey(std::span<const std::byte> hk, const BlockFileLayout& l) {
  return {reinterpret_cast<const char*>(hk.data()) + kBlockHeaderBytes, l.key_len};
}

Status CheckBlockKey(std::span<const std::byte> hk, const BlockFileLayout& l,
                     const BlockKey& expect) {
  FERRY_RETURN_IF_ERROR(CheckBlockHeader(hk, l));
  if (StoredBlockKey(hk, l) != expect.object || l.index != expect.index) {
    return NotFound("block file: holds another key");
  }
  return Status();
}

Status CheckBlockData(std::span<const std::byte> data, const BlockFileLayout& l) {
  if (data.size() != l.data_len) return FailedPrecondition("block file: truncated data");
  if (Crc32c(data) != l.data_crc) return FailedPrecondition("block file: data checksum");
  return Status();
}

}  // namespace ferry::sidecar
