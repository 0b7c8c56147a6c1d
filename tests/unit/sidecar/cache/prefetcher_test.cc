#include "sidecar/cache/prefetcher.h"

#include <gtest/gtest.h>

namespace ferry::sidecar {
namespace {

constexpr uint64_t kMi = 1 << 20;
constexpr uint64_t kSize = 1024 * kMi;

PrefetchOptions Options() {
  PrefetchOptions o;
  o.block_size = kMi;
  o.initial_window = kMi + 128 * 1024;
  o.max_window = 32 * kMi;
  o.range_bytes = 8 * kMi;
  return o;
}

uint64_t Blocks(const std::vector<PrefetchRange>& plan) {
  uint64_t n = 0;
  for (const auto& r : plan) n += r.block_count;
  return n;
}

TEST(PrefetcherTest, ReadAtZeroStartsSmallThenDoubles) {
  Prefetcher p(Options());
  auto plan = p.OnRead(0, kMi, kSize);
  // end 1 MiB + window 1.125 MiB -> blocks [1, 3)
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0], (PrefetchRange{1, 2}));
  uint64_t window = p.window();
  uint64_t off = kMi;
  for (int i = 0; i < 10; ++i) {
    plan = p.OnRead(off, kMi, kSize);
    off += kMi;
    EXPECT_GE(p.window(), window);
    window = p.window();
    for (const auto& r : plan) EXPECT_LE(r.block_count, 8u);
  }
  EXPECT_EQ(p.window(), 32 * kMi);
}

TEST(PrefetcherTest, NeverPlansABlockTwice) {
  Prefetcher p(Options());
  std::vector<int> planned(200, 0);
  for (uint64_t off = 0; off < 100 * kMi; off += 128 * 1024) {
    for (const auto& r : p.OnRead(off, 128 * 1024, 150 * kMi)) {
      for (uint64_t b = r.first_block; b < r.first_block + r.block_count; ++b) planned[b]++;
    }
  }
  for (int b = 1; b < 150; ++b) EXPECT_LE(planned[b], 1) << b;
  for (int b = 1; b < 100; ++b) EXPECT_EQ(planned[b], 1) << b;
  EXPECT_EQ(planned[0], 0);
}

TEST(PrefetcherTest, RandomReadsPrefetchNothing) {
  Prefetcher p(Options());
  uint64_t offs[] = {500 * kMi, 3 * kMi, 800 * kMi, 100 * kMi, 700 * kMi};
  for (uint64_t off : offs) EXPECT_TRUE(p.OnRead(off, 4096, kSize).empty());
  EXPECT_FALSE(p.sequential());
}

TEST(PrefetcherTest, SecondContiguousReadStartsAStream) {
  Prefetcher p(Options());
  EXPECT_TRUE(p.OnRead(500 * kMi, kMi, kSize).empty());
  EXPECT_FALSE(p.OnRead(501 * kMi, kMi, kSize).empty());
  EXPECT_TRUE(p.sequential());
}

TEST(PrefetcherTest, SmallSeeksKeepTheStreamBigOnesReset) {
  Prefetcher p(Options());
  for (uint64_t off = 0; off < 8 * kMi; off += kMi) (void)p.OnRead(off, kMi, kSize);
  uint64_t w = p.window();
  (void)p.OnRead(8 * kMi + 10 * kMi, kMi, kSize);  // 10 MiB forward
  EXPECT_TRUE(p.sequential());
  EXPECT_GE(p.window(), w);
  (void)p.OnRead(19 * kMi - 512 * 1024, kMi, kSize);  // 512 KiB back
  EXPECT_TRUE(p.sequential());
  (void)p.OnRead(900 * kMi, kMi, kSize);  // far away
  EXPECT_FALSE(p.sequential());
  (void)p.OnRead(0, kMi, kSize);  // far back
  EXPECT_FALSE(p.sequential());
}

TEST(PrefetcherTest, StopsAtEndOfObject) {
  Prefetcher p(Options());
  uint64_t size = 3 * kMi + 10;
  uint64_t total = 0;
  for (uint64_t off = 0; off < size; off += kMi) total += Blocks(p.OnRead(off, kMi, size));
  EXPECT_EQ(total, 3u);  // blocks 1..3
}

TEST(PrefetcherTest, UnissuedRangesArePlannedAgain) {
  Prefetcher p(Options());
  ASSERT_FALSE(p.OnRead(0, kMi, kSize).empty());         // blocks [1, 3)
  auto plan = p.OnRead(kMi, kMi, kSize);                   // blocks [3, 5)
  ASSERT_FALSE(plan.empty());
  EXPECT_EQ(plan[0].first_block, 3u);
  p.Unissue(plan[0].first_block);                          // the cache had no budget
  auto again = p.OnRead(2 * kMi, kMi, kSize);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].first_block, 3u);
}

}  // namespace
}  // namespace ferry::sidecar
