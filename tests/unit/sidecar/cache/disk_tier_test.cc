#include "sidecar/cache/disk_tier.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "tests/support/fake_clock.h"
#include "tests/unit/sidecar/cache/cache_test_util.h"

namespace ferry::sidecar {
namespace {

BlockData Block(size_t n, char fill = 'x') {
  return std::make_shared<const std::vector<std::byte>>(n, static_cast<std::byte>(fill));
}

class DiskTierTest : public ::testing::Test {
 protected:
  std::unique_ptr<DiskTier> Open(uint64_t quota) {
    DiskTierOptions o;
    o.dir = dir_.path();
    o.quota_bytes = quota;
    o.high_watermark = 0.9;
    o.low_watermark = 0.5;
    o.full_backoff = std::chrono::seconds(5);
    StatusOr<std::unique_ptr<DiskTier>> t = DiskTier::Open(o, clock_);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(*t) : nullptr;
  }
  testutil::TempDir dir_;
  testing::FakeClock clock_;
};

TEST_F(DiskTierTest, PutGetAndReopen) {
  BlockKey k{"obj\0v", 3};
  {
    auto tier = Open(1 << 20);
    ASSERT_TRUE(tier->Put(k, Block(5000, 'q')).ok());
    StatusOr<BlockData> got = tier->Get(k);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ((*got)->size(), 5000u);
    EXPECT_EQ(tier->Stats().bytes, 8192u);  // allocated, 4 KiB units
  }
  auto tier = Open(1 << 20);
  EXPECT_TRUE(tier->Contains(k));
  StatusOr<BlockData> got = tier->Get(k);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((**got)[4999], std::byte{'q'});
  EXPECT_TRUE(tier->Get({"obj\0v", 4}).status().Is(StatusCode::kNotFound));
}

TEST_F(DiskTierTest, WatermarksBoundUsage) {
  auto tier = Open(100 * 4096);
  for (uint64_t i = 0; i < 300; ++i) ASSERT_TRUE(tier->Put({"o", i}, Block(1000)).ok());
  TierStats s = tier->Stats();
  EXPECT_LE(s.bytes, 90u * 4096);
  EXPECT_GT(s.evictions, 0u);
  size_t files = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir_.path())) {
    files += e.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(files, s.blocks);
  // The newest block survived; the oldest was evicted.
  EXPECT_TRUE(tier->Get({"o", 299}).ok());
  EXPECT_FALSE(tier->Contains({"o", 0}));
}

TEST_F(DiskTierTest, CorruptBlockIsDroppedNotServed) {
  auto tier = Open(1 << 20);
  BlockKey k{"o", 0};
  ASSERT_TRUE(tier->Put(k, Block(3000, 'a')).ok());
  {
    int fd = ::open(tier->PathForTest(k).c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "Z", 1, 2000), 1);
    ::close(fd);
  }
  EXPECT_TRUE(tier->Get(k).status().Is(StatusCode::kNotFound));
  EXPECT_EQ(tier->Stats().corrupt, 1u);
  EXPECT_FALSE(std::filesystem::exists(tier->PathForTest(k)));
  EXPECT_FALSE(tier->Contains(k));
}

TEST_F(DiskTierTest, TornBlockIsDetected) {
  auto tier = Open(1 << 20);
  BlockKey k{"o", 0};
  ASSERT_TRUE(tier->Put(k, Block(3000, 'a')).ok());
  ASSERT_EQ(::truncate(tier->PathForTest(k).c_str(), 2500), 0);
  EXPECT_TRUE(tier->Get(k).status().Is(StatusCode::kNotFound));
  EXPECT_EQ(tier->Stats().corrupt, 1u);
}

TEST_F(DiskTierTest, OpenRemovesTempFilesAndJunk) {
  { auto tier = Open(1 << 20); }
  std::string tmp = dir_.path() + "/ferry-blocks-v1/ab/.abcdef0123456789.tmp.3";
  std::ofstream(tmp) << "partial";
  auto tier = Open(1 << 20);
  EXPECT_FALSE(std::filesystem::exists(tmp));
  EXPECT_EQ(tier->Stats().blocks, 0u);
}

TEST_F(DiskTierTest, DiskFullRefusesWritesThenRecovers) {
  auto tier = Open(1 << 20);
  ASSERT_TRUE(tier->Put({"o", 0}, Block(100)).ok());
  tier->SetWriteErrorForTest(ENOSPC);
  EXPECT_TRUE(tier->Put({"o", 1}, Block(100)).Is(StatusCode::kResourceExhausted));
  tier->SetWriteErrorForTest(0);
  // Within the backoff the tier does not even try.
  EXPECT_TRUE(tier->Put({"o", 2}, Block(100)).Is(StatusCode::kResourceExhausted));
  clock_.Advance(std::chrono::seconds(6));
  EXPECT_TRUE(tier->Put({"o", 3}, Block(100)).ok());
  EXPECT_EQ(tier->Stats().put_failures, 2u);
  EXPECT_FALSE(tier->Contains({"o", 1}));
}

TEST_F(DiskTierTest, IoErrorIsInternal) {
  auto tier = Open(1 << 20);
  tier->SetWriteErrorForTest(EIO);
  EXPECT_TRUE(tier->Put({"o", 1}, Block(100)).Is(StatusCode::kInternal));
  tier->SetWriteErrorForTest(0);
  EXPECT_TRUE(tier->Put({"o", 1}, Block(100)).ok());  // no backoff for EIO
}

TEST_F(DiskTierTest, RejectsBadWatermarks) {
  DiskTierOptions o;
  o.dir = dir_.path();
  o.quota_bytes = 1;
  o.high_watermark = 0.5;
  o.low_watermark = 0.8;
  EXPECT_TRUE(DiskTier::Open(o, clock_).status().Is(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace ferry::sidecar
