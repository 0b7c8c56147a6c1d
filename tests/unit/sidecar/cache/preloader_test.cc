#include "sidecar/cache/preloader.h"

#include <gtest/gtest.h>

#include "sidecar/cache/memory_tier.h"
#include "sidecar/cache/tiered_block_cache.h"
#include "tests/support/fake_data_source.h"
#include "tests/unit/sidecar/cache/cache_test_util.h"

namespace ferry::sidecar {
namespace {

using testutil::Content;

class PreloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_.PutFile("train/a/1.bin", Content(300 * 1024, 1));
    src_.PutFile("train/a/2.bin", Content(3 << 20, 2));
    src_.PutFile("train/b/3.bin", Content(1000, 3));
    src_.PutFile("train/b/skip.txt", Content(10, 4));
    src_.PutFile("test/x.bin", Content(5000, 5));
    src_.PutFile("top.bin", Content(7, 6));
    src_.PutSymlink("train/link.bin", "a/1.bin");
    CacheOptions o;
    o.memory_bytes = 64 << 20;
    std::vector<std::unique_ptr<CacheTier>> tiers;
    tiers.push_back(std::make_unique<MemoryTier>(o.memory_bytes));
    cache_ = std::make_unique<TieredBlockCache>(src_, o, std::move(tiers));
  }
  Preloader Make(std::vector<std::string> globs, std::vector<PreloadProgress>* seen = nullptr,
                 size_t concurrency = 3) {
    StatusOr<std::vector<Glob>> g = ParseGlobs(globs);
    EXPECT_TRUE(g.ok());
    PreloadOptions o;
    o.concurrency = concurrency;
    return Preloader(src_, *cache_, *g, o, [seen](const PreloadProgress& p) {
      if (seen) seen->push_back(p);
    });
  }

  testing::FakeDataSource src_;
  std::unique_ptr<TieredBlockCache> cache_;
};

TEST_F(PreloaderTest, WarmsMatchingFilesAndReportsProgress) {
  std::vector<PreloadProgress> seen;
  Preloader p = Make({"train/**/*.bin"}, &seen);
  ASSERT_TRUE(p.Run().ok());
  PreloadProgress end = p.Progress();
  EXPECT_EQ(end.files_total, 3u);
  EXPECT_EQ(end.files_done, 3u);
  EXPECT_EQ(end.files_failed, 0u);
  EXPECT_EQ(end.bytes_done, 300u * 1024 + (3u << 20) + 1000);
  EXPECT_EQ(end.bytes_total, end.bytes_done);
  ASSERT_EQ(seen.size(), 4u);  // after the walk, then per file
  EXPECT_EQ(seen[0].files_done, 0u);
  EXPECT_EQ(seen[0].files_total, 3u);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].files_done, i);
    EXPECT_GE(seen[i].bytes_done, seen[i - 1].bytes_done);
  }
  // test/ was never listed: no glob can match below it.
  EXPECT_EQ(src_.CountOps("list:test"), 0u);
  // The warmed files are now served from the cache.
  cache_->WaitIdleForTest();
  src_.ClearLog();
  std::vector<std::byte> buf(100);
  StatusOr<Entry> e = src_.Stat("train/a/2.bin");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(cache_->Read("train/a/2.bin", *e, (2 << 20) + 5, buf, 1).ok());
  EXPECT_EQ(src_.CountOps("read:"), 0u);
}

TEST_F(PreloaderTest, DirectoryPatternTakesEverythingBelow) {
  Preloader p = Make({"train/b", "top.bin"});
  ASSERT_TRUE(p.Run().ok());
  EXPECT_EQ(p.Progress().files_total, 3u);
  EXPECT_EQ(src_.CountOps("read:test"), 0u);
  EXPECT_EQ(src_.CountOps("read:train/a"), 0u);
}

TEST_F(PreloaderTest, ReadErrorsAreCountedAndReturnedAfterTheRest) {
  src_.FailPath("train/a/1.bin", Unavailable("flaky"));
  Preloader p = Make({"train/**"}, nullptr, 1);
  Status s = p.Run();
  EXPECT_TRUE(s.Is(StatusCode::kUnavailable)) << s.ToString();
  EXPECT_NE(s.message().find("train/a/1.bin"), std::string::npos);
  PreloadProgress end = p.Progress();
  EXPECT_EQ(end.files_failed, 1u);
  EXPECT_EQ(end.files_done, end.files_total);
}

TEST_F(PreloaderTest, StopsWhenCancelled) {
  std::stop_source stop;
  stop.request_stop();
  Preloader p = Make({"**"});
  EXPECT_TRUE(p.Run(stop.get_token()).Is(StatusCode::kCancelled));
  EXPECT_EQ(src_.CountOps("read:"), 0u);
}

TEST_F(PreloaderTest, BadGlobIsRejected) {
  StatusOr<std::vector<Glob>> g = ParseGlobs({"ok/**", "/abs"});
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("/abs"), std::string::npos);
}

}  // namespace
}  // namespace ferry::sidecar
