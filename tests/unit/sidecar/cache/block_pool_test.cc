#include "sidecar/cache/block_pool.h"

#include <gtest/gtest.h>

#include <cstdint>

#include <chrono>
#include <cstring>

#include "tests/support/fake_clock.h"

namespace ferry::sidecar {
namespace {

TEST(BlockPoolTest, BuffersArePageAligned) {
  // The kernel copies FUSE replies out of these into page-aligned pages; a
  // buffer at malloc's usual 16-byte offset makes that copy several times
  // slower (4 KiB aliasing).
  std::shared_ptr<BlockPool> pool = BlockPool::Create(1 << 20, 4);
  for (size_t size : {size_t{1} << 20, size_t{256} << 10, size_t{5000}}) {
    BlockPool::Buffer b = pool->Take(size);
    ASSERT_EQ(b->size(), size);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b->data()) % 4096, 0u) << size;
  }
  BlockBytes small(100);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small.data()) % 64, 0u);
}

TEST(BlockPoolTest, ReusesTheBufferOfADroppedBlock) {
  std::shared_ptr<BlockPool> pool = BlockPool::Create(4096, 4);
  BlockPool::Buffer b = pool->Take(4096);
  ASSERT_EQ(b->size(), 4096u);
  std::memset(b->data(), 'a', b->size());
  const std::byte* storage = b->data();
  BlockData block = pool->Seal(std::move(b));
  EXPECT_EQ(pool->FreeBlocks(), 0u);
  block.reset();
  EXPECT_EQ(pool->FreeBlocks(), 1u);
  BlockPool::Buffer again = pool->Take(1000);
  EXPECT_EQ(again->data(), storage);  // same pages, no new allocation
  EXPECT_EQ(again->size(), 1000u);
  EXPECT_EQ(pool->Reused(), 1u);
  EXPECT_EQ(pool->FreeBlocks(), 0u);
}

TEST(BlockPoolTest, KeepsAtMostMaxFreeBuffers) {
  std::shared_ptr<BlockPool> pool = BlockPool::Create(1024, 2);
  std::vector<BlockData> blocks;
  for (int i = 0; i < 5; ++i) blocks.push_back(pool->Seal(pool->Take(1024)));
  blocks.clear();
  EXPECT_EQ(pool->FreeBlocks(), 2u);
  pool->Trim();
  EXPECT_EQ(pool->FreeBlocks(), 0u);
}

TEST(BlockPoolTest, ZeroMaxFreeNeverKeepsBuffers) {
  std::shared_ptr<BlockPool> pool = BlockPool::Create(1024, 0);
  pool->Seal(pool->Take(1024)).reset();
  EXPECT_EQ(pool->FreeBlocks(), 0u);
  EXPECT_EQ(pool->Reused(), 0u);
}

TEST(BlockPoolTest, OversizedBuffersAreNotPooled) {
  std::shared_ptr<BlockPool> pool = BlockPool::Create(1024, 4);
  BlockPool::Buffer big = pool->Take(4096);
  EXPECT_EQ(big->size(), 4096u);
  pool->Seal(std::move(big)).reset();
  EXPECT_EQ(pool->FreeBlocks(), 0u);
}

TEST(BlockPoolTest, BlocksOutliveTheOwnerOfThePool) {
  std::shared_ptr<BlockPool> pool = BlockPool::Create(64, 4);
  BlockPool::Buffer b = pool->Take(64);
  (*b)[0] = std::byte{7};
  BlockData block = pool->Seal(std::move(b));
  std::weak_ptr<BlockPool> weak = pool;
  pool.reset();
  EXPECT_FALSE(weak.expired());  // kept alive by the block
  EXPECT_EQ((*block)[0], std::byte{7});
  block.reset();
  EXPECT_TRUE(weak.expired());
}


using std::chrono::seconds;

// Returns `n` sealed blocks of the pool to it, one FakeClock second apart.
void GiveBack(BlockPool& pool, testing::FakeClock& clock, int n) {
  std::vector<BlockData> blocks;
  for (int i = 0; i < n; ++i) blocks.push_back(pool.Seal(pool.Take(1024)));
  for (BlockData& b : blocks) {
    b.reset();
    clock.Advance(seconds(1));
  }
}

TEST(BlockPoolIdleTest, FreesOnlyBuffersUnusedForTheIdlePeriod) {
  testing::FakeClock clock;
  std::shared_ptr<BlockPool> pool = BlockPool::Create(1024, 8, clock, seconds(10));
  GiveBack(*pool, clock, 4);  // given back at t=0,1,2,3; now t=4
  EXPECT_EQ(pool->FreeBlocks(), 4u);
  EXPECT_EQ(pool->TrimIdle(), 0u);
  clock.Advance(seconds(6));  // t=10: the first one waited exactly 10 s
  EXPECT_EQ(pool->TrimIdle(), 1u);
  EXPECT_EQ(pool->FreeBlocks(), 3u);
  clock.Advance(seconds(2));  // t=12: two more
  EXPECT_EQ(pool->TrimIdle(), 2u);
  EXPECT_EQ(pool->FreeBlocks(), 1u);
  clock.Advance(seconds(60));
  EXPECT_EQ(pool->TrimIdle(), 1u);
  EXPECT_EQ(pool->FreeBlocks(), 0u);
  EXPECT_EQ(pool->IdleFreed(), 4u);
  EXPECT_EQ(pool->TrimIdle(), 0u);  // nothing left: nothing to do
}

TEST(BlockPoolIdleTest, ReuseKeepsTheWorkingSetAndTakeDropsTheIdleRest) {
  testing::FakeClock clock;
  std::shared_ptr<BlockPool> pool = BlockPool::Create(1024, 8, clock, seconds(10));
  GiveBack(*pool, clock, 4);  // t=0..3 given back, now t=4
  // A reader keeps cycling one buffer: it is the newest, the others age.
  for (int i = 0; i < 20; ++i) {
    pool->Seal(pool->Take(1024)).reset();
    clock.Advance(seconds(1));
  }
  // Take/Give trimmed the three idle ones lazily, without TrimIdle().
  EXPECT_EQ(pool->FreeBlocks(), 1u);
  EXPECT_EQ(pool->IdleFreed(), 3u);
  EXPECT_EQ(pool->Reused(), 20u);
}

TEST(BlockPoolIdleTest, ReusedBufferIsStampedAgainWhenGivenBack) {
  testing::FakeClock clock;
  std::shared_ptr<BlockPool> pool = BlockPool::Create(1024, 8, clock, seconds(10));
  GiveBack(*pool, clock, 1);  // back at t=0, now t=1
  clock.Advance(seconds(8));
  BlockData b = pool->Seal(pool->Take(1024));  // t=9: not yet idle, reused
  EXPECT_EQ(pool->Reused(), 1u);
  clock.Advance(seconds(30));
  b.reset();  // back now: a fresh 10 s
  clock.Advance(seconds(9));
  EXPECT_EQ(pool->TrimIdle(), 0u);
  clock.Advance(seconds(1));
  EXPECT_EQ(pool->TrimIdle(), 1u);
}

TEST(BlockPoolIdleTest, ZeroIdlePeriodAndNoClockNeverTrim) {
  testing::FakeClock clock;
  std::shared_ptr<BlockPool> never = BlockPool::Create(1024, 8, clock, seconds(0));
  std::shared_ptr<BlockPool> plain = BlockPool::Create(1024, 8);
  GiveBack(*never, clock, 2);
  plain->Seal(plain->Take(1024)).reset();
  clock.Advance(std::chrono::hours(24));
  EXPECT_EQ(never->TrimIdle(), 0u);
  EXPECT_EQ(plain->TrimIdle(), 0u);
  EXPECT_EQ(never->FreeBlocks(), 2u);
  EXPECT_EQ(plain->FreeBlocks(), 1u);
}

TEST(BlockPoolIdleTest, AfterCloseReturnedBuffersAreFreed) {
  testing::FakeClock clock;
  std::shared_ptr<BlockPool> pool = BlockPool::Create(1024, 8, clock, seconds(10));
  GiveBack(*pool, clock, 2);
  BlockData held = pool->Seal(pool->Take(1024));
  pool->Close();
  EXPECT_EQ(pool->FreeBlocks(), 0u);
  held.reset();
  EXPECT_EQ(pool->FreeBlocks(), 0u);
  pool->Close();  // idempotent
}

}  // namespace
}  // namespace ferry::sidecar
