#include "sidecar/cache/memory_tier.h"

#include <gtest/gtest.h>

namespace ferry::sidecar {
namespace {

BlockData MemoryBlock(size_t n, char fill = 'x') {
  return std::make_shared<const BlockBytes>(n, static_cast<std::byte>(fill));
}

TEST(MemoryTierTest, GetReturnsWhatWasPut) {
  MemoryTier tier(1000);
  BlockKey k{"o", 1};
  EXPECT_TRUE(tier.Get(k).status().Is(StatusCode::kNotFound));
  ASSERT_TRUE(tier.Put(k, MemoryBlock(10, 'a')).ok());
  StatusOr<BlockData> got = tier.Get(k);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((**got)[0], std::byte{'a'});
  EXPECT_TRUE(tier.Contains(k));
  tier.Erase(k);
  EXPECT_FALSE(tier.Contains(k));
}

TEST(MemoryTierTest, StaysWithinQuota) {
  MemoryTier tier(100);
  for (uint64_t i = 0; i < 50; ++i) ASSERT_TRUE(tier.Put({"o", i}, MemoryBlock(30)).ok());
  TierStats s = tier.Stats();
  EXPECT_LE(s.bytes, 100u);
  EXPECT_EQ(s.blocks, 3u);
  EXPECT_EQ(s.evictions, 47u);
  EXPECT_TRUE(tier.Put({"big", 0}, MemoryBlock(101)).Is(StatusCode::kResourceExhausted));
}

TEST(MemoryTierTest, ReusedBlocksSurviveAScan) {
  MemoryTier tier(10 * 100);
  for (uint64_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(tier.Put({"hot", i}, MemoryBlock(100)).ok());
    ASSERT_TRUE(tier.Get({"hot", i}).ok());
    ASSERT_TRUE(tier.Get({"hot", i}).ok());
  }
  for (uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(tier.Put({"scan", i}, MemoryBlock(100)).ok());
  for (uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(tier.Contains({"hot", i})) << i;
  EXPECT_LE(tier.Stats().bytes, 1000u);
}

}  // namespace
}  // namespace ferry::sidecar
