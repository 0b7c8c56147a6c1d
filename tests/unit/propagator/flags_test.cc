#include "propagator/flags.h"

#include <gtest/gtest.h>

namespace ferry::propagator {
namespace {

TEST(FlagsTest, DefaultsAndCommand) {
  StatusOr<PropagatorOptions> o = ParseFlags({"--", "ferry-sidecar", "run", "--mnt-dir=/x"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->mnt_dir, "/run/ferry/mnt");
  EXPECT_EQ(o->grace, std::chrono::seconds(20));
  EXPECT_FALSE(o->keep_mounts_on_crash);
  EXPECT_EQ(o->termination_log, "/dev/termination-log");
  EXPECT_EQ(o->command, (std::vector<std::string>{"ferry-sidecar", "run", "--mnt-dir=/x"}));
}

TEST(FlagsTest, AllFlags) {
  StatusOr<PropagatorOptions> o =
      ParseFlags({"--mnt-dir=/m", "--grace=500ms", "--keep-mounts-on-crash",
                  "--termination-log=", "--", "dp"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->mnt_dir, "/m");
  EXPECT_EQ(o->grace, std::chrono::milliseconds(500));
  EXPECT_TRUE(o->keep_mounts_on_crash);
  EXPECT_EQ(o->termination_log, "");
}

TEST(FlagsTest, Errors) {
  EXPECT_TRUE(ParseFlags({}).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ParseFlags({"--"}).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ParseFlags({"--bogus", "--", "x"}).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ParseFlags({"--mnt-dir=rel", "--", "x"}).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ParseFlags({"--grace=soon", "--", "x"}).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ParseFlags({"--help"}).status().Is(StatusCode::kNotFound));
}

TEST(FlagsTest, Durations) {
  EXPECT_EQ(*ParseDuration("20s"), std::chrono::seconds(20));
  EXPECT_EQ(*ParseDuration("20"), std::chrono::seconds(20));
  EXPECT_EQ(*ParseDuration("1m"), std::chrono::minutes(1));
  EXPECT_EQ(*ParseDuration("2h"), std::chrono::hours(2));
  EXPECT_EQ(*ParseDuration("0ms"), std::chrono::milliseconds(0));
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("-1s").ok());
  EXPECT_FALSE(ParseDuration("5d").ok());
  EXPECT_FALSE(ParseDuration("99999999999999h").ok());
}

}  // namespace
}  // namespace ferry::propagator
