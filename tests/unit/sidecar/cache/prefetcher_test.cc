#include "sidecar/cache/prefetcher.h"

#include <gtest/gtest.h>

namespace ferry::sidecar {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kSize = 1024 * kMiB;

PrefetchOptions Options() {
  PrefetchOptions o;
  o.block_size = kMiB;
  o.initial_window = kMiB + 128 * 1024;
  o.max_window = 32 * kMiB;
  o.range_bytes = 8 * kMiB;
  return o;
}

uint64_t Blocks(const std::vector<PrefetchRange>& plan) {
  uint64_t n = 0;
  for (const auto& r : plan) n += r.block_count;
  return n;
}

TEST(PrefetcherTest, ReadAtZeroStartsSmallThenDoubles) {
  Prefetcher p(Options());
  auto plan = p.OnRead(0, kMiB, kSize);
  // end 1 MiB + window 1.125 MiB -> blocks [1, 3)
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0], (PrefetchRange{1, 2}));
  uint64_t window = p.window();
  uint64_t off = kMiB;
  for (int i = 0; i < 10; ++i) {
    plan = p.OnRead(off, kMiB, kSize);
    off += kMiB;
    EXPECT_GE(p.window(), window);
    window = p.window();
    for (const auto& r : plan) EXPECT_LE(r.block_count, 8u);
  }
  EXPECT_EQ(p.window(), 32 * kMiB);
}

TEST(PrefetcherTest, NeverPlansABlockTwice) {
  Prefetcher p(Options());
  std::vector<int> planned(200, 0);
  for (uint64_t off = 0; off < 100 * kMiB; off += 128 * 1024) {
    for (const auto& r : p.OnRead(off, 128 * 1024, 150 * kMiB)) {
      for (uint64_t b = r.first_block; b < r.first_block + r.block_count; ++b) planned[b]++;
    }
  }
  for (int b = 1; b < 150; ++b) EXPECT_LE(planned[b], 1) << b;
  for (int b = 1; b < 100; ++b) EXPECT_EQ(planned[b], 1) << b;
  EXPECT_EQ(planned[0], 0);
}

TEST(PrefetcherTest, RandomReadsPrefetchNothing) {
  Prefetcher p(Options());
  uint64_t offs[] = {500 * kMiB, 3 * kMiB, 800 * kMiB, 100 * kMiB, 700 * kMiB};
  for (uint64_t off : offs) EXPECT_TRUE(p.OnRead(off, 4096, kSize).empty());
  EXPECT_FALSE(p.sequential());
}

TEST(PrefetcherTest, SecondContiguousReadStartsAStream) {
  Prefetcher p(Options());
  EXPECT_TRUE(p.OnRead(500 * kMiB, kMiB, kSize).empty());
  EXPECT_FALSE(p.OnRead(501 * kMiB, kMiB, kSize).empty());
  EXPECT_TRUE(p.sequential());
}

TEST(PrefetcherTest, SmallSeeksKeepTheStreamBigOnesReset) {
  Prefetcher p(Options());
  for (uint64_t off = 0; off < 8 * kMiB; off += kMiB) (void)p.OnRead(off, kMiB, kSize);
  uint64_t w = p.window();
  (void)p.OnRead(8 * kMiB + 10 * kMiB, kMiB, kSize);  // 10 MiB forward
  EXPECT_TRUE(p.sequential());
  EXPECT_GE(p.window(), w);
  (void)p.OnRead(19 * kMiB - 512 * 1024, kMiB, kSize);  // 512 KiB back
  EXPECT_TRUE(p.sequential());
  (void)p.OnRead(900 * kMiB, kMiB, kSize);  // far away
  EXPECT_FALSE(p.sequential());
  (void)p.OnRead(0, kMiB, kSize);  // far back
  EXPECT_FALSE(p.sequential());
}

TEST(PrefetcherTest, StopsAtEndOfObject) {
  Prefetcher p(Options());
  uint64_t size = 3 * kMiB + 10;
  uint64_t total = 0;
  for (uint64_t off = 0; off < size; off += kMiB) total += Blocks(p.OnRead(off, kMiB, size));
  EXPECT_EQ(total, 3u);  // blocks 1..3
}

TEST(PrefetcherTest, UnissuedRangesArePlannedAgain) {
  Prefetcher p(Options());
  ASSERT_FALSE(p.OnRead(0, kMiB, kSize).empty());         // blocks [1, 3)
  auto plan = p.OnRead(kMiB, kMiB, kSize);                   // blocks [3, 5)
  ASSERT_FALSE(plan.empty());
  EXPECT_EQ(plan[0].first_block, 3u);
  p.Unissue(plan[0].first_block);                          // the cache had no budget
  auto again = p.OnRead(2 * kMiB, kMiB, kSize);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].first_block, 3u);
}

}  // namespace
}  // namespace ferry::sidecar
