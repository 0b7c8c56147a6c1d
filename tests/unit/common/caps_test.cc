#include "common/caps.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(CapsTest, ParsesStatusMasks) {
  CapabilityState s = ParseCapabilityState(
      "Name:\tx\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n"
      "CapEff:\t000001fffeffffff\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n"
      "NoNewPrivs:\t1\nSeccomp:\t0\n");
  EXPECT_TRUE(s.parsed);
  EXPECT_EQ(s.inheritable, 0u);
  EXPECT_EQ(s.permitted, 0x1ffffffffffull);
  EXPECT_EQ(s.effective, 0x1fffeffffffull);
  EXPECT_EQ(s.bounding, 0x1ffffffffffull);
  EXPECT_EQ(s.ambient, 0u);
  EXPECT_EQ(s.no_new_privs, 1);
}

TEST(CapsTest, MissingLinesStayUnparsed) {
  CapabilityState s = ParseCapabilityState("Name:\tx\nCapEffX:\t1\n");
  EXPECT_FALSE(s.parsed);
  EXPECT_EQ(s.no_new_privs, -1);
}

}  // namespace
}  // namespace ferry
