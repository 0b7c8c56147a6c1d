#include "sidecar/cache/slru_index.h"

#include <gtest/gtest.h>

namespace ferry::sidecar {
namespace {

TEST(SlruIndexTest, EvictsOldestProbationFirst) {
  SlruIndex<int> idx;
  for (int k = 0; k < 4; ++k) idx.Insert(k, 10);
  auto v = idx.EvictTo(20);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].first, 0);
  EXPECT_EQ(v[1].first, 1);
  EXPECT_EQ(idx.bytes(), 20u);
}

TEST(SlruIndexTest, SecondAccessProtectsAgainstScans) {
  SlruIndex<int> idx;
  const uint64_t cap = 100;
  idx.Insert(1, 10);
  idx.Touch(1, cap);  // first access: referenced only
  idx.Touch(1, cap);  // second: protected
  for (int k = 100; k < 200; ++k) {
    idx.Insert(k, 10);
    idx.EvictTo(cap);
  }
  EXPECT_TRUE(idx.Contains(1));
  EXPECT_EQ(idx.bytes(), cap);
}

TEST(SlruIndexTest, ProtectedSegmentIsCapped) {
  SlruIndex<int> idx(0.5);
  const uint64_t cap = 40;
  for (int k = 0; k < 4; ++k) {
    idx.Insert(k, 10);
    idx.Touch(k, cap);
    idx.Touch(k, cap);
  }
  // Only 2 fit in protected; 0 and 1 were demoted to probation and go first.
  auto v = idx.EvictTo(20);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_TRUE(idx.Contains(2));
  EXPECT_TRUE(idx.Contains(3));
}

TEST(SlruIndexTest, EraseAndReinsertKeepAccounting) {
  SlruIndex<int> idx;
  idx.Insert(1, 10);
  idx.Insert(1, 30);
  EXPECT_EQ(idx.bytes(), 30u);
  EXPECT_EQ(idx.Erase(1), 30u);
  EXPECT_EQ(idx.Erase(1), 0u);
  EXPECT_EQ(idx.bytes(), 0u);
  EXPECT_FALSE(idx.Touch(1, 100));
}

}  // namespace
}  // namespace ferry::sidecar
