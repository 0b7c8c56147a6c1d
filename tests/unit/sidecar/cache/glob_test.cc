#include "sidecar/cache/glob.h"

#include <gtest/gtest.h>

namespace ferry::sidecar {
namespace {

Glob G(const char* p) {
  StatusOr<Glob> g = Glob::Parse(p);
  EXPECT_TRUE(g.ok()) << p;
  return *g;
}

TEST(GlobTest, Components) {
  EXPECT_TRUE(MatchComponent("*.jpg", "a.jpg"));
  EXPECT_TRUE(MatchComponent("*", ""));
  EXPECT_TRUE(MatchComponent("a?c", "abc"));
  EXPECT_FALSE(MatchComponent("a?c", "ac"));
  EXPECT_TRUE(MatchComponent("*a*b*", "xxaxxbxx"));
  EXPECT_FALSE(MatchComponent("*.jpg", "a.png"));
}

TEST(GlobTest, DoubleStarSpansDirectories) {
  Glob g = G("train/**");
  EXPECT_TRUE(g.Matches("train/a"));
  EXPECT_TRUE(g.Matches("train/x/y/z"));
  EXPECT_TRUE(g.Matches("train"));
  EXPECT_FALSE(g.Matches("test/a"));
  Glob mid = G("**/*.jpg");
  EXPECT_TRUE(mid.Matches("a.jpg"));
  EXPECT_TRUE(mid.Matches("x/y/a.jpg"));
  EXPECT_FALSE(mid.Matches("x/y/a.png"));
  Glob inner = G("data/**/labels/?.txt");
  EXPECT_TRUE(inner.Matches("data/labels/a.txt"));
  EXPECT_TRUE(inner.Matches("data/x/y/labels/b.txt"));
  EXPECT_FALSE(inner.Matches("data/x/labels/bb.txt"));
}

TEST(GlobTest, StarStaysInOneComponent) {
  Glob g = G("train/*.bin");
  EXPECT_TRUE(g.Matches("train/a.bin"));
  EXPECT_FALSE(g.Matches("train/sub/a.bin"));
}

TEST(GlobTest, PrunesDirectoriesNoPathCanMatch) {
  Glob g = G("train/shard-0*/*.bin");
  EXPECT_TRUE(g.CouldMatchBelow(""));
  EXPECT_TRUE(g.CouldMatchBelow("train"));
  EXPECT_TRUE(g.CouldMatchBelow("train/shard-01"));
  EXPECT_FALSE(g.CouldMatchBelow("train/shard-11"));
  EXPECT_FALSE(g.CouldMatchBelow("test"));
  EXPECT_FALSE(g.CouldMatchBelow("train/shard-01/deeper"));
  EXPECT_TRUE(G("**/x").CouldMatchBelow("any/where"));
}

TEST(GlobTest, RejectsBadPatterns) {
  EXPECT_FALSE(Glob::Parse("").ok());
  EXPECT_FALSE(Glob::Parse("/abs").ok());
  EXPECT_FALSE(Glob::Parse("a/../b").ok());
  EXPECT_FALSE(Glob::Parse("a//b").ok());
  EXPECT_TRUE(Glob::Parse("a/").ok());
}

}  // namespace
}  // namespace ferry::sidecar
