#include "sidecar/fs/inode_table.h"

#include <gtest/gtest.h>

namespace ferry::sidecar {
namespace {

TEST(InodeTableTest, RootIsOneAndNeverForgotten) {
  InodeTable t;
  auto root = t.Get(kRootIno);
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->path, "");
  EXPECT_EQ(root->type, EntryType::kDirectory);
  EXPECT_FALSE(t.Forget(kRootIno, 100));
  EXPECT_TRUE(t.Get(kRootIno).has_value());
  EXPECT_EQ(t.Acquire("", EntryType::kDirectory).ino, kRootIno);
}

TEST(InodeTableTest, LookupCountsKeepRecordsAlive) {
  InodeTable t;
  InodeRecord a = t.Acquire("a/b", EntryType::kFile);
  InodeRecord again = t.Acquire("a/b", EntryType::kFile);
  EXPECT_EQ(a.ino, again.ino);
  EXPECT_EQ(again.nlookup, 2u);
  EXPECT_NE(a.ino, 0u);
  EXPECT_NE(a.ino, kRootIno);
  EXPECT_FALSE(t.Forget(a.ino, 1));
  EXPECT_TRUE(t.Get(a.ino).has_value());
  EXPECT_TRUE(t.Forget(a.ino, 1));
  EXPECT_FALSE(t.Get(a.ino).has_value());
  EXPECT_FALSE(t.Find("a/b").has_value());
  EXPECT_FALSE(t.Forget(a.ino, 1));  // unknown: ignored
}

TEST(InodeTableTest, ForgetMoreThanHeldRemoves) {
  InodeTable t;
  InodeRecord a = t.Acquire("x", EntryType::kFile);
  EXPECT_TRUE(t.Forget(a.ino, 5));
  EXPECT_EQ(t.Size(), 1u);  // root only
}

TEST(InodeTableTest, InosAreDerivedFromPathsAcrossTables) {
  InodeTable t1, t2;
  EXPECT_EQ(t1.Acquire("train/0001.jpg", EntryType::kFile).ino,
            t2.Acquire("train/0001.jpg", EntryType::kFile).ino);
  EXPECT_EQ(t1.PeekIno("train/0002.jpg"), t2.Acquire("train/0002.jpg", EntryType::kFile).ino);
}

TEST(InodeTableTest, ReacquiredPathGetsNewGeneration) {
  InodeTable t;
  InodeRecord a = t.Acquire("f", EntryType::kFile);
  ASSERT_TRUE(t.Forget(a.ino, 1));
  InodeRecord b = t.Acquire("f", EntryType::kFile);
  EXPECT_EQ(a.ino, b.ino);
  EXPECT_NE(a.generation, b.generation);
}

TEST(InodeTableTest, TypeChangeDetachesOldRecord) {
  InodeTable t;
  InodeRecord file = t.Acquire("p", EntryType::kFile);
  InodeRecord dir = t.Acquire("p", EntryType::kDirectory);
  EXPECT_NE(file.ino, dir.ino);
  EXPECT_EQ(t.Find("p"), dir.ino);
  ASSERT_TRUE(t.Get(file.ino).has_value());  // still valid for the kernel
  EXPECT_TRUE(t.Forget(file.ino, 1));
  EXPECT_EQ(t.Find("p"), dir.ino);  // forgetting the detached one leaves the live one
}

TEST(InodeTableTest, SerializeRestoreRoundTrip) {
  InodeTable t;
  InodeRecord a = t.Acquire("a", EntryType::kDirectory);
  InodeRecord f = t.Acquire("a/f", EntryType::kFile);
  t.Acquire("a/f", EntryType::kFile);
  InodeRecord l = t.Acquire("a/l", EntryType::kSymlink);
  std::string image = t.Serialize();

  InodeTable r;
  ASSERT_TRUE(r.Restore(image).ok());
  EXPECT_EQ(r.Size(), 4u);
  auto rf = r.Get(f.ino);
  ASSERT_TRUE(rf.has_value());
  EXPECT_EQ(rf->path, "a/f");
  EXPECT_EQ(rf->nlookup, 2u);
  EXPECT_EQ(rf->generation, f.generation);
  EXPECT_EQ(r.Get(l.ino)->type, EntryType::kSymlink);
  EXPECT_EQ(r.Find("a"), a.ino);
  // New records never reuse a restored generation.
  EXPECT_GT(r.Acquire("b", EntryType::kFile).generation, l.generation);
}

TEST(InodeTableTest, RestoreRejectsMalformedImagesAndKeepsTable) {
  InodeTable t;
  InodeRecord a = t.Acquire("a", EntryType::kFile);
  std::string image = t.Serialize();
  EXPECT_FALSE(t.Restore("").ok());
  EXPECT_FALSE(t.Restore("XXXX").ok());
  EXPECT_FALSE(t.Restore(image.substr(0, image.size() - 1)).ok());
  EXPECT_FALSE(t.Restore(image + "x").ok());
  std::string bad_version = image;
  bad_version[4] = 9;
  EXPECT_FALSE(t.Restore(bad_version).ok());
  EXPECT_TRUE(t.Get(a.ino).has_value());
  // Every truncation is refused, never a crash.
  for (size_t n = 0; n < image.size(); ++n) EXPECT_FALSE(t.Restore(image.substr(0, n)).ok()) << n;
}

}  // namespace
}  // namespace ferry::sidecar
