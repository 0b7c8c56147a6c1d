#include "sidecar/cache/disk_tier.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/fake_clock.h"
#include "tests/unit/sidecar/cache/cache_test_util.h"

namespace ferry::sidecar {
namespace {

BlockData Block(size_t n, char fill = 'x') {
  return std::make_shared<const BlockBytes>(n, static_cast<std::byte>(fill));
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
    EXPECT_EQ(tier->Stats().bytes, 4096u + 8192u);  // header+key, data: 4 KiB units
  }
  auto tier = Open(1 << 20);
  EXPECT_TRUE(tier->Contains(k));
  StatusOr<BlockData> got = tier->Get(k);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((**got)[4999], std::byte{'q'});
  EXPECT_TRUE(tier->Get({"obj\0v", 4}).status().Is(StatusCode::kNotFound));
}

// Bytes the slot file really holds on disk (holes excluded).
uint64_t AllocatedOnDisk(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST_F(DiskTierTest, WatermarksBoundUsage) {
  auto tier = Open(100 * 4096);
  for (uint64_t i = 0; i < 300; ++i) ASSERT_TRUE(tier->Put({"o", i}, Block(1000)).ok());
  TierStats s = tier->Stats();
  EXPECT_LE(s.bytes, 90u * 4096);
  EXPECT_GT(s.evictions, 0u);
  // Evicted slots are punched out and reused: the disk holds about what the
  // index says, and the slot file never grew past the slots in use at once.
  std::string file = tier->LocationForTest({"o", 299}).path;
  EXPECT_LE(AllocatedOnDisk(file), s.bytes + 16 * 4096);
  EXPECT_LE(std::filesystem::file_size(file), 91 * tier->StrideForTest());
  // The newest block survived; the oldest was evicted.
  EXPECT_TRUE(tier->Get({"o", 299}).ok());
  EXPECT_FALSE(tier->Contains({"o", 0}));
}

TEST_F(DiskTierTest, CorruptBlockIsDroppedNotServed) {
  auto tier = Open(1 << 20);
  BlockKey k{"o", 0};
  ASSERT_TRUE(tier->Put(k, Block(3000, 'a')).ok());
  DiskTier::Location at = tier->LocationForTest(k);
  {
    int fd = ::open(at.path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "Z", 1, static_cast<off_t>(at.offset + at.bytes - 1000)), 1);
    ::close(fd);
  }
  EXPECT_TRUE(tier->Get(k).status().Is(StatusCode::kNotFound));
  EXPECT_EQ(tier->Stats().corrupt, 1u);
  EXPECT_FALSE(tier->Contains(k));
  EXPECT_EQ(AllocatedOnDisk(at.path), 0u);  // the damaged slot was punched out
  // The slot is reused for the next block, which reads back whole.
  ASSERT_TRUE(tier->Put(k, Block(3000, 'b')).ok());
  EXPECT_EQ(tier->LocationForTest(k).offset, at.offset);
  StatusOr<BlockData> got = tier->Get(k);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(**got, *Block(3000, 'b'));
}

TEST_F(DiskTierTest, TornBlockIsDetected) {
  auto tier = Open(1 << 20);
  BlockKey k{"o", 0};
  ASSERT_TRUE(tier->Put(k, Block(3000, 'a')).ok());
  DiskTier::Location at = tier->LocationForTest(k);
  ASSERT_EQ(::truncate(at.path.c_str(), static_cast<off_t>(at.offset + 2500)), 0);
  EXPECT_TRUE(tier->Get(k).status().Is(StatusCode::kNotFound));
  EXPECT_EQ(tier->Stats().corrupt, 1u);
}

TEST_F(DiskTierTest, OpenRemovesTheOldLayoutAndJunkSlots) {
  BlockKey k{"o", 0};
  DiskTier::Location at;
  {
    auto tier = Open(1 << 20);
    ASSERT_TRUE(tier->Put(k, Block(100)).ok());
    ASSERT_TRUE(tier->Put({"o", 1}, Block(100)).ok());
    at = tier->LocationForTest({"o", 1});
  }
  std::string v1 = dir_.path() + "/ferry-blocks-v1/ab";
  std::filesystem::create_directories(v1);
  std::ofstream(v1 + "/abcdef0123456789") << "a block of the old layout";
  {  // garbage over the second block's header
    int fd = ::open(at.path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "junkjunkjunkjunk", 16, static_cast<off_t>(at.offset + 8)), 16);
    ::close(fd);
  }
  auto tier = Open(1 << 20);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/ferry-blocks-v1"));
  EXPECT_EQ(tier->Stats().blocks, 1u);
  EXPECT_EQ(tier->Stats().corrupt, 1u);
  EXPECT_TRUE(tier->Get(k).ok());
  EXPECT_FALSE(tier->Contains({"o", 1}));
}

TEST_F(DiskTierTest, ANewBlockSizeStartsEmpty) {
  { ASSERT_TRUE(Open(1 << 20)->Put({"o", 0}, Block(100)).ok()); }
  DiskTierOptions o;
  o.dir = dir_.path();
  o.quota_bytes = 1 << 20;
  o.block_bytes = 64 << 10;
  StatusOr<std::unique_ptr<DiskTier>> t = DiskTier::Open(o, clock_);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->Stats().blocks, 0u);
  EXPECT_TRUE((*t)->Put({"o", 0}, Block(64 << 10)).ok());
  EXPECT_TRUE((*t)->Put({"o", 1}, Block(100 << 10)).Is(StatusCode::kInvalidArgument));
}

// A block dropped while a reader is reading it keeps its slot until that read
// is done: the read gets its bytes, the next block takes another slot, and the
// slot is reused only afterwards.
TEST_F(DiskTierTest, APinnedSlotIsNotReusedUnderItsReader) {
  auto tier = Open(1 << 20);
  BlockKey a{"o", 0}, b{"o", 1}, c{"o", 2};
  ASSERT_TRUE(tier->Put(a, Block(3000, 'a')).ok());
  uint64_t slot_a = tier->LocationForTest(a).offset;
  bool once = false;
  tier->SetReadHookForTest([&] {
    if (std::exchange(once, true)) return;
    tier->Erase(a);
    ASSERT_TRUE(tier->Put(b, Block(3000, 'b')).ok());
  });
  StatusOr<BlockData> got = tier->Get(a);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(**got, *Block(3000, 'a'));
  EXPECT_NE(tier->LocationForTest(b).offset, slot_a);
  EXPECT_FALSE(tier->Contains(a));
  ASSERT_TRUE(tier->Put(c, Block(3000, 'c')).ok());
  EXPECT_EQ(tier->LocationForTest(c).offset, slot_a);  // freed once the read was done
  EXPECT_EQ(tier->Stats().corrupt, 0u);
  StatusOr<BlockData> gb = tier->Get(b);
  ASSERT_TRUE(gb.ok());
  EXPECT_EQ(**gb, *Block(3000, 'b'));
}

// Readers racing writers and eviction on a tiny quota: every Get returns the
// right bytes or kNotFound, never another block's bytes or a torn one. Bounded
// by count (no spinning readers starving the writers under ASan).
TEST_F(DiskTierTest, ConcurrentReadersNeverSeeReusedSlots) {
  // Blocks of 32 KiB and room for about 8: slots are reused all the time.
  auto tier = Open(8 * (36 << 10));
  auto content = [](uint64_t i) {
    return Block((32 << 10) - i % 97, static_cast<char>('a' + i % 26));
  };
  for (uint64_t i = 0; i < 20; ++i) ASSERT_TRUE(tier->Put({"o", i}, content(i)).ok());
  std::atomic<uint64_t> hits{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (uint64_t i = static_cast<uint64_t>(w); i < 1200; i += 2) {
        ASSERT_TRUE(tier->Put({"o", i % 20}, content(i % 20)).ok());
      }
    });
  }
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      for (uint64_t n = 0; n < 1500; ++n) {
        uint64_t i = (n * 7 + static_cast<uint64_t>(r) * 13) % 20;
        StatusOr<BlockData> b = tier->Get({"o", i});
        if (!b.ok()) continue;
        hits++;
        if (**b != *content(i)) wrong++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(hits.load(), 0u);
  EXPECT_EQ(tier->Stats().corrupt, 0u);
  EXPECT_LE(tier->Stats().bytes, 8u * (36 << 10));
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
