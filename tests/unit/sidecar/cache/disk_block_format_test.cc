#include "sidecar/cache/disk_block_format.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry::sidecar {
namespace {

std::vector<std::byte> ByteVector(const std::string& s) {
  auto b = std::as_bytes(std::span<const char>(s.data(), s.size()));
  return {b.begin(), b.end()};
}

struct Parsed {
  Status key;
  Status data;
};

Parsed Check(const std::vector<std::byte>& file, const BlockKey& key) {
  StatusOr<BlockFileLayout> l = ParseBlockHeader(file);
  if (!l.ok()) return {l.status(), l.status()};
  size_t hk = kBlockHeaderBytes + l->key_len;
  if (file.size() < hk) return {FailedPrecondition("short"), FailedPrecondition("short")};
  std::span<const std::byte> all(file);
  return {CheckBlockKey(all.first(hk), *l, key), CheckBlockData(all.subspan(hk), *l)};
}

class DiskBlockFormatTest : public ::testing::Test {
 protected:
  BlockKey key_{"dir/file\0etag|3|1", 7};
  std::vector<std::byte> data_ = ByteVector("hello block");
  std::vector<std::byte> File() {
    std::vector<std::byte> f = ByteVector(EncodeBlockHeader(key_, data_, 1234567890123));
    f.insert(f.end(), data_.begin(), data_.end());
    return f;
  }
};

TEST_F(DiskBlockFormatTest, RoundTrips) {
  Parsed p = Check(File(), key_);
  EXPECT_TRUE(p.key.ok()) << p.key.ToString();
  EXPECT_TRUE(p.data.ok()) << p.data.ToString();
  StatusOr<BlockFileLayout> l = ParseBlockHeader(File());
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->index, 7u);
  EXPECT_EQ(l->key_hash, key_.Hash());
  EXPECT_EQ(l->data_len, data_.size());
  EXPECT_EQ(l->written_ns, 1234567890123u);
}

TEST_F(DiskBlockFormatTest, EveryFlippedBitIsDetected) {
  std::vector<std::byte> good = File();
  for (size_t i = 0; i < good.size(); ++i) {
    std::vector<std::byte> bad = good;
    bad[i] ^= std::byte{0x10};
    Parsed p = Check(bad, key_);
    EXPECT_FALSE(p.key.ok() && p.data.ok()) << "byte " << i;
  }
}

TEST_F(DiskBlockFormatTest, TruncationIsDetected) {
  std::vector<std::byte> f = File();
  f.resize(f.size() - 1);
  EXPECT_FALSE(Check(f, key_).data.ok());
  f.resize(10);
  EXPECT_FALSE(ParseBlockHeader(f).ok());
}

TEST_F(DiskBlockFormatTest, AnotherKeyIsNotFound) {
  BlockKey other{"dir/file\0etag|3|1", 8};
  EXPECT_TRUE(Check(File(), other).key.Is(StatusCode::kNotFound));
  BlockKey other_obj{"dir/filf", 7};
  EXPECT_TRUE(Check(File(), other_obj).key.Is(StatusCode::kNotFound));
}

}  // namespace
}  // namespace ferry::sidecar
