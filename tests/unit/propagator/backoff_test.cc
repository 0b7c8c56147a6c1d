#include "propagator/backoff.h"

#include <gtest/gtest.h>

namespace ferry::propagator {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RestartBackoffTest, DoublesFrom100msUpTo10s) {
  RestartBackoff b;
  std::vector<int64_t> got;
  for (int i = 0; i < 10; ++i) got.push_back(b.NextDelay(milliseconds(5)).count());
  EXPECT_EQ(got, (std::vector<int64_t>{100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000}));
}

TEST(RestartBackoffTest, ResetsAfterAMinuteOfUptime) {
  RestartBackoff b;
  for (int i = 0; i < 5; ++i) (void)b.NextDelay(milliseconds(5));
  EXPECT_EQ(b.NextDelay(seconds(60)).count(), 100);
  EXPECT_EQ(b.NextDelay(seconds(59)).count(), 200);
}

TEST(RestartBackoffTest, HonoursCustomBounds) {
  RestartBackoff b({milliseconds(10), milliseconds(25), seconds(1)});
  EXPECT_EQ(b.NextDelay(milliseconds(0)).count(), 10);
  EXPECT_EQ(b.NextDelay(milliseconds(0)).count(), 20);
  EXPECT_EQ(b.NextDelay(milliseconds(0)).count(), 25);
  EXPECT_EQ(b.NextDelay(milliseconds(0)).count(), 25);
}

}  // namespace
}  // namespace ferry::propagator
