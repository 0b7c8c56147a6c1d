#include "sidecar/cache/single_flight.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace ferry::sidecar {
namespace {

TEST(SingleFlightTest, OneLeaderManyWaiters) {
  SingleFlight sf;
  BlockKey k{"o", 0};
  SingleFlight::Ticket leader = sf.Join(k);
  ASSERT_TRUE(leader.leader);
  std::vector<StatusOr<BlockData>> results(8, Status(StatusCode::kInternal, "unset"));
  {
    std::vector<std::jthread> waiters;
    for (int i = 0; i < 8; ++i) {
      SingleFlight::Ticket t = sf.Join(k);
      EXPECT_FALSE(t.leader);
      waiters.emplace_back([&results, i, call = t.call] { results[i] = SingleFlight::Wait(call); });
    }
    auto data = std::make_shared<const BlockBytes>(3, std::byte{1});
    sf.Complete(k, leader.call, BlockData(data));
  }
  for (auto& r : results) {
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->size(), 3u);
  }
  EXPECT_EQ(sf.InFlightForTest(), 0u);
  EXPECT_TRUE(sf.Join(k).leader);  // completed keys start a new flight
}

TEST(SingleFlightTest, ErrorsReachEveryWaiter) {
  SingleFlight sf;
  BlockKey k{"o", 0};
  auto leader = sf.Join(k);
  auto follower = sf.Join(k);
  sf.Complete(k, leader.call, Unavailable("down"));
  EXPECT_TRUE(SingleFlight::Wait(follower.call).status().Is(StatusCode::kUnavailable));
}

TEST(SingleFlightTest, TryClaimOnlyWhenIdle) {
  SingleFlight sf;
  auto c = sf.TryClaim({"o", 1});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(sf.TryClaim({"o", 1}), nullptr);
  EXPECT_FALSE(sf.Join({"o", 1}).leader);
  sf.Complete({"o", 1}, c, Status(StatusCode::kCancelled, "x"));
  EXPECT_NE(sf.TryClaim({"o", 1}), nullptr);
}

}  // namespace
}  // namespace ferry::sidecar
