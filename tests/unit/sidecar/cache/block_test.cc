#include "sidecar/cache/block.h"

#include <gtest/gtest.h>

namespace ferry::sidecar {
namespace {

Entry File(std::string etag, uint64_t size, int64_t mtime) {
  Entry e;
  e.etag = std::move(etag);
  e.size = size;
  e.mtime_ns = mtime;
  return e;
}

TEST(BlockTest, ObjectIdChangesWithEveryVersionField) {
  std::string base = ObjectId("a/b", File("e1", 10, 5));
  EXPECT_NE(base, ObjectId("a/b", File("e2", 10, 5)));
  EXPECT_NE(base, ObjectId("a/b", File("e1", 11, 5)));
  EXPECT_NE(base, ObjectId("a/b", File("e1", 10, 6)));
  EXPECT_NE(base, ObjectId("a/c", File("e1", 10, 5)));
  EXPECT_EQ(base, ObjectId("a/b", File("e1", 10, 5)));
}

TEST(BlockTest, HashIsStableAndSeparatesIndexes) {
  BlockKey a{"obj", 0}, b{"obj", 1}, c{"obj2", 0};
  EXPECT_EQ(a.Hash(), (BlockKey{"obj", 0}).Hash());
  EXPECT_NE(a.Hash(), b.Hash());
  EXPECT_NE(a.Hash(), c.Hash());
  EXPECT_NE(a.Hash(), 0u);
  // FNV-1a reference value: the disk layout depends on it staying put.
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cull);
}

}  // namespace
}  // namespace ferry::sidecar
