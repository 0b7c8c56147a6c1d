#include "sidecar/source/retry.h"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"

namespace ferry::sidecar {
namespace {

using std::chrono::milliseconds;

TEST(RetryTest, RetryableStatuses) {
  for (long s : {408, 429, 500, 502, 503, 504}) EXPECT_TRUE(IsRetryableHttpStatus(s)) << s;
  for (long s : {200, 206, 301, 400, 403, 404, 412, 416, 501}) EXPECT_FALSE(IsRetryableHttpStatus(s)) << s;
}

TEST(RetryTest, BackoffGrowsWithJitterAndIsCapped) {
  testing::FakeClock clock;
  RetryPolicy p;
  p.initial_backoff = milliseconds(100);
  p.max_backoff = milliseconds(1000);
  Backoff b(p, clock, 42);
  for (int n = 1; n <= 8; ++n) {
    int64_t base = std::min<int64_t>(100LL << (n - 1), 1000);
    for (int i = 0; i < 20; ++i) {
      int64_t d = b.DelayForTest(n).count();
      EXPECT_GE(d, base / 2) << n;
      EXPECT_LE(d, base) << n;
    }
  }
}

TEST(RetryTest, StopsAfterMaxAttempts) {
  testing::FakeClock clock;
  std::vector<milliseconds> slept;
  RetryPolicy p;
  p.max_attempts = 3;
  p.sleep = [&](milliseconds d) {
    slept.push_back(d);
    clock.Advance(d);
  };
  Backoff b(p, clock, 1);
  EXPECT_TRUE(b.Wait(1));
  EXPECT_TRUE(b.Wait(2));
  EXPECT_FALSE(b.Wait(3));
  EXPECT_EQ(slept.size(), 2u);
}

TEST(RetryTest, StopsWhenTimeBudgetIsSpent) {
  testing::FakeClock clock;
  RetryPolicy p;
  p.max_attempts = 100;
  p.max_elapsed = milliseconds(1000);
  int sleeps = 0;
  p.sleep = [&](milliseconds d) {
    ++sleeps;
    clock.Advance(d);
  };
  Backoff b(p, clock, 1);
  int n = 1;
  while (b.Wait(n)) ++n;
  EXPECT_LT(n, 100);
  EXPECT_GT(sleeps, 1);
}

TEST(RetryTest, HonoursRetryAfterUpToTheCap) {
  testing::FakeClock clock;
  std::vector<milliseconds> slept;
  RetryPolicy p;
  p.max_backoff = milliseconds(3000);
  p.sleep = [&](milliseconds d) { slept.push_back(d); };
  Backoff b(p, clock, 1);
  ASSERT_TRUE(b.Wait(1, ParseRetryAfter("2")));
  ASSERT_TRUE(b.Wait(2, ParseRetryAfter("60")));
  EXPECT_EQ(slept[0], milliseconds(2000));
  EXPECT_EQ(slept[1], milliseconds(3000));
  EXPECT_FALSE(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_FALSE(ParseRetryAfter("-1"));
}

}  // namespace
}  // namespace ferry::sidecar
