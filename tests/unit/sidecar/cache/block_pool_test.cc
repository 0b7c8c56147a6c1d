#include "sidecar/cache/block_pool.h"

#include <gtest/gtest.h>

#include <cstring>

namespace ferry::sidecar {
namespace {

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

}  // namespace
}  // namespace ferry::sidecar
