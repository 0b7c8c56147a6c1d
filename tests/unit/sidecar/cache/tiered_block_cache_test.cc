#include "sidecar/cache/tiered_block_cache.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <latch>
#include <map>
#include <algorithm>
#include <random>
#include <set>
#include <thread>
#include <unistd.h>

#include "sidecar/cache/disk_tier.h"
#include "sidecar/cache/memory_tier.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_data_source.h"
#include "tests/unit/sidecar/cache/cache_test_util.h"

namespace ferry::sidecar {
namespace {

constexpr uint64_t kMi = 1 << 20;
using testutil::Content;

// Delegates to a FakeDataSource; reads at or past `gate_from` wait until the
// gate opens.
class GatedSource final : public DataSource {
 public:
  explicit GatedSource(DataSource& inner, uint64_t gate_from) : inner_(inner), gate_from_(gate_from) {}
  void Open() {
    {
      MutexLock lock(mu_);
      open_ = true;
    }
    cv_.NotifyAll();
  }
  std::string Describe() const override { return "gated"; }
  StatusOr<Entry> Stat(std::string_view p) override { return inner_.Stat(p); }
  StatusOr<std::vector<Entry>> List(std::string_view d) override { return inner_.List(d); }
  StatusOr<size_t> Read(std::string_view p, const Entry& v, uint64_t off,
                        std::span<std::byte> out) override {
    if (off >= gate_from_) {
      MutexLock lock(mu_);
      while (!open_) cv_.Wait(mu_);
    }
    return inner_.Read(p, v, off, out);
  }

 private:
  DataSource& inner_;
  const uint64_t gate_from_;
  Mutex mu_;
  CondVar cv_;
  bool open_ FERRY_GUARDED_BY(mu_) = false;
};

class TieredBlockCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.memory_bytes = 64 * kMi;
    options_.prefetch_memory = 32 * kMi;
  }
  Entry Put(const std::string& path, const std::string& content) {
    src_.PutFile(path, content);
    StatusOr<Entry> e = src_.Stat(path);
    EXPECT_TRUE(e.ok());
    src_.ClearLog();  // tests count the cache's reads only
    return *e;
  }
  std::unique_ptr<TieredBlockCache> Make(DataSource* source = nullptr, DiskTier** disk_out = nullptr,
                                         uint64_t disk_bytes = 0) {
    std::vector<std::unique_ptr<CacheTier>> tiers;
    tiers.push_back(std::make_unique<MemoryTier>(options_.memory_bytes));
    if (disk_bytes > 0) {
      DiskTierOptions d;
      d.dir = dir_.path();
      d.quota_bytes = disk_bytes;
      auto disk = DiskTier::Open(d, clock_);
      EXPECT_TRUE(disk.ok());
      if (disk_out) *disk_out = disk->get();
      tiers.push_back(std::move(*disk));
    }
    return std::make_unique<TieredBlockCache>(source ? *source : src_, options_, std::move(tiers));
  }
  std::string ReadAll(TieredBlockCache& c, const std::string& path, const Entry& e,
                      uint64_t handle, size_t chunk = 128 * 1024) {
    std::string out;
    std::vector<std::byte> buf(chunk);
    for (uint64_t off = 0;;) {
      StatusOr<size_t> n = c.Read(path, e, off, buf, handle);
      EXPECT_TRUE(n.ok()) << n.status().ToString();
      if (!n.ok() || *n == 0) break;
      out.append(reinterpret_cast<const char*>(buf.data()), *n);
      off += *n;
    }
    c.Release(handle);
    return out;
  }
  std::string ReadAt(TieredBlockCache& c, const std::string& path, const Entry& e, uint64_t off,
                     size_t len, uint64_t handle) {
    std::vector<std::byte> buf(len);
    StatusOr<size_t> n = c.Read(path, e, off, buf, handle);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? std::string(reinterpret_cast<const char*>(buf.data()), *n) : "";
  }
  // Source reads of `path` by offset.
  std::map<uint64_t, int> ReadsByOffset(const std::string& path) {
    std::map<uint64_t, int> m;
    std::string prefix = "read:" + path + ":";
    for (const std::string& op : src_.Log()) {
      if (op.rfind(prefix, 0) != 0) continue;
      m[std::stoull(op.substr(prefix.size()))]++;
    }
    return m;
  }

  testing::FakeDataSource src_;
  testing::FakeClock clock_;
  testutil::TempDir dir_;
  CacheOptions options_;
};

TEST_F(TieredBlockCacheTest, ReadsMatchTheSourceAtAnyOffset) {
  std::string content = Content(5 * kMi + 123);
  Entry e = Put("f", content);
  auto cache = Make();
  std::mt19937 rng(3);
  for (int i = 0; i < 200; ++i) {
    uint64_t off = rng() % (content.size() + 10);
    size_t len = 1 + rng() % (3 * kMi);
    std::string want = off < content.size() ? content.substr(off, len) : "";
    ASSERT_EQ(ReadAt(*cache, "f", e, off, len, 1 + i % 3), want) << off << "+" << len;
  }
  EXPECT_EQ(ReadAll(*cache, "f", e, 9), content);
}

TEST_F(TieredBlockCacheTest, ConcurrentReadersOfABlockShareOneGet) {
  Entry e = Put("f", Content(16 * kMi));
  auto cache = Make();
  constexpr int kReaders = 8;
  std::latch start(kReaders);
  std::vector<std::string> got(kReaders);
  {
    std::vector<std::jthread> readers;
    for (int i = 0; i < kReaders; ++i) {
      readers.emplace_back([&, i] {
        start.arrive_and_wait();
        got[i] = ReadAt(*cache, "f", e, 5 * kMi + 100, 4096, 100 + i);
      });
    }
  }
  for (const auto& g : got) EXPECT_EQ(g, Content(16 * kMi).substr(5 * kMi + 100, 4096));
  EXPECT_EQ(src_.CountOps("read:"), 1u);
  EXPECT_EQ(ReadsByOffset("f")[5 * kMi], 1);
}

TEST_F(TieredBlockCacheTest, SequentialReadPrefetchesInGrowingRanges) {
  std::string content = Content(40 * kMi);
  Entry e = Put("f", content);
  auto cache = Make();
  // Let each read's prefetch finish before the next read, so the GET
  // sequence does not depend on thread scheduling.
  std::vector<std::byte> buf(128 * 1024);
  for (uint64_t off = 0; off < content.size(); off += buf.size()) {
    StatusOr<size_t> n = cache->Read("f", e, off, buf, 1);
    ASSERT_TRUE(n.ok());
    ASSERT_EQ(std::memcmp(buf.data(), content.data() + off, *n), 0);
    cache->WaitIdleForTest();
  }
  std::vector<std::string> log = src_.Log();
  ASSERT_FALSE(log.empty());
  // Fast first byte: the first GET is one block.
  EXPECT_EQ(std::count(log.begin(), log.end(), "read:f:0:1048576"), 1);
  // Every block fetched exactly once, in far fewer GETs than blocks.
  uint64_t covered = 0;
  for (const std::string& op : log) {
    auto last_colon = op.rfind(':');
    covered += std::stoull(op.substr(last_colon + 1));
  }
  EXPECT_EQ(covered, content.size());
  EXPECT_LE(log.size(), 10u);  // 1 + 2 + 2 + 4 + 8 + 8 + ... MiB
  TieredCacheStats s = cache->DetailedStats();
  EXPECT_EQ(s.cache.prefetched_bytes, content.size() - kMi);
  EXPECT_LE(s.prefetch_inflight_peak, options_.prefetch_memory);
}

TEST_F(TieredBlockCacheTest, FreeRunningSequentialReaderFetchesEachBlockOnce) {
  std::string content = Content(40 * kMi);
  Entry e = Put("f", content);
  auto cache = Make();
  EXPECT_EQ(ReadAll(*cache, "f", e, 1), content);
  cache->WaitIdleForTest();
  uint64_t covered = 0;
  for (const std::string& op : src_.Log()) covered += std::stoull(op.substr(op.rfind(':') + 1));
  EXPECT_EQ(covered, content.size());
}

TEST_F(TieredBlockCacheTest, CallerNeverWaitsForPrefetchItDoesNotNeed) {
  std::string content = Content(64 * kMi);
  Entry e = Put("f", content);
  GatedSource gated(src_, 3 * kMi);  // every GET starting at >= 3 MiB hangs
  auto cache = Make(&gated);
  // Blocks 0-2 come from the first GETs (demand + first prefetch range);
  // later prefetch ranges are stuck, and the reader does not care.
  EXPECT_EQ(ReadAt(*cache, "f", e, 0, kMi, 1), content.substr(0, kMi));
  EXPECT_EQ(ReadAt(*cache, "f", e, kMi, kMi, 1), content.substr(kMi, kMi));
  EXPECT_EQ(ReadAt(*cache, "f", e, 2 * kMi, kMi, 1), content.substr(2 * kMi, kMi));
  gated.Open();
  EXPECT_EQ(ReadAt(*cache, "f", e, 3 * kMi, kMi, 1), content.substr(3 * kMi, kMi));
  cache->WaitIdleForTest();
}

TEST_F(TieredBlockCacheTest, RandomReadsFetchOnlyTheirBlocks) {
  Entry e = Put("f", Content(64 * kMi));
  auto cache = Make();
  std::mt19937 rng(5);
  std::set<uint64_t> blocks;
  for (int i = 0; i < 30; ++i) {
    uint64_t off = (1 + rng() % 63) * kMi + rng() % (kMi - 4096);
    blocks.insert(off / kMi);
    (void)ReadAt(*cache, "f", e, off, 4096, 7);
  }
  cache->WaitIdleForTest();
  EXPECT_EQ(src_.CountOps("read:"), blocks.size());
  TieredCacheStats s = cache->DetailedStats();
  EXPECT_EQ(s.source_bytes, blocks.size() * kMi);  // amplification capped at one block per read
  EXPECT_EQ(s.cache.prefetched_bytes, 0u);
}

TEST_F(TieredBlockCacheTest, ChangedObjectIsNeverServedStale) {
  Entry v1 = Put("f", std::string(8 * kMi, 'a'));
  auto cache = Make();
  EXPECT_EQ(ReadAt(*cache, "f", v1, 0, 10, 1), std::string(10, 'a'));
  cache->WaitIdleForTest();
  Entry v2 = Put("f", std::string(8 * kMi, 'b'));
  ASSERT_NE(v1.etag, v2.etag);
  src_.ClearLog();
  EXPECT_EQ(ReadAt(*cache, "f", v2, 0, 10, 1), std::string(10, 'b'));
  EXPECT_EQ(src_.CountOps("read:f:0:"), 1u);
  // A reader still holding the old version gets the source's refusal, not bytes
  // of another version, for blocks not cached under v1.
  StatusOr<size_t> n = [&] {
    std::vector<std::byte> buf(10);
    return cache->Read("f", v1, 6 * kMi, buf, 2);
  }();
  EXPECT_TRUE(n.status().Is(StatusCode::kFailedPrecondition));
}

TEST_F(TieredBlockCacheTest, SmallFileIsFetchedWholeWithOneGet) {
  std::string content = Content(1536 * 1024);
  Entry e = Put("small", content);
  auto cache = Make();
  EXPECT_EQ(ReadAt(*cache, "small", e, 0, 4096, 1), content.substr(0, 4096));
  EXPECT_EQ(ReadAt(*cache, "small", e, 1200 * 1024, 4096, 2), content.substr(1200 * 1024, 4096));
  cache->WaitIdleForTest();
  EXPECT_EQ(src_.Log(), std::vector<std::string>{"read:small:0:1572864"});
}

TEST_F(TieredBlockCacheTest, SlicesAreTheCachedBlocksWithoutACopy) {
  std::string content = Content(5 * kMi + 333, 7);
  Entry e = Put("obj", content);
  auto cache = Make();
  // A read across a block boundary: two slices, the bytes of Read.
  std::vector<BlockCache::Slice> slices;
  StatusOr<size_t> n = cache->ReadSlices("obj", e, kMi - 100, 4096, 1, slices);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 4096u);
  ASSERT_EQ(slices.size(), 2u);
  std::string got;
  for (const auto& sl : slices) got.append(reinterpret_cast<const char*>(sl.bytes.data()), sl.bytes.size());
  EXPECT_EQ(got, content.substr(kMi - 100, 4096));
  // The same block again (another handle): the very same memory.
  std::vector<BlockCache::Slice> again;
  ASSERT_TRUE(cache->ReadSlices("obj", e, kMi - 100, 100, 2, again).ok());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].bytes.data(), slices[0].bytes.data());
  // Short at end of object, empty past it.
  std::vector<BlockCache::Slice> tail;
  n = cache->ReadSlices("obj", e, content.size() - 10, kMi, 3, tail);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 10u);
  tail.clear();
  n = cache->ReadSlices("obj", e, content.size(), kMi, 3, tail);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_TRUE(tail.empty());
}

TEST_F(TieredBlockCacheTest, HotBlocksSurviveAScanBiggerThanMemory) {
  options_.memory_bytes = 16 * kMi;
  Entry hot = Put("hot", Content(4 * kMi, 1));
  Entry scan = Put("scan", Content(64 * kMi, 2));
  auto cache = Make();
  for (uint64_t h = 1; h <= 3; ++h) EXPECT_EQ(ReadAll(*cache, "hot", hot, h, kMi), Content(4 * kMi, 1));
  cache->WaitIdleForTest();
  src_.ClearLog();
  EXPECT_EQ(ReadAll(*cache, "scan", scan, 10), Content(64 * kMi, 2));
  cache->WaitIdleForTest();
  EXPECT_LE(cache->Stats().memory_bytes, 16 * kMi);
  src_.ClearLog();
  EXPECT_EQ(ReadAll(*cache, "hot", hot, 11, kMi), Content(4 * kMi, 1));
  EXPECT_EQ(src_.CountOps("read:"), 0u);
}

TEST_F(TieredBlockCacheTest, MemoryStaysWithinQuotaAndBudget) {
  options_.memory_bytes = 8 * kMi;
  options_.prefetch_memory = 4 * kMi;
  std::string content = Content(48 * kMi);
  Entry e = Put("f", content);
  auto cache = Make();
  EXPECT_EQ(ReadAll(*cache, "f", e, 1, kMi), content);
  cache->WaitIdleForTest();
  TieredCacheStats s = cache->DetailedStats();
  EXPECT_LE(s.cache.memory_bytes, 8 * kMi);
  EXPECT_LE(s.prefetch_inflight_peak, 4 * kMi);
}

TEST_F(TieredBlockCacheTest, ScanRecyclesEvictedBlockBuffers) {
  options_.memory_bytes = 8 * kMi;
  options_.prefetch_memory = 2 * kMi;
  options_.block_pool_bytes = 1 * kMi;  // one block (memory / 8)
  std::string content = Content(48 * kMi);
  Entry e = Put("f", content);
  auto cache = Make();
  EXPECT_EQ(ReadAll(*cache, "f", e, 1, kMi), content);  // recycled buffers hold the right bytes
  cache->WaitIdleForTest();
  TieredCacheStats s = cache->DetailedStats();
  EXPECT_GT(s.pool_reused, 0u);
  EXPECT_LE(s.pool_free_blocks, 1u);
  EXPECT_LE(s.cache.memory_bytes, 8 * kMi);
  cache->TrimPool();
  EXPECT_EQ(cache->DetailedStats().pool_free_blocks, 0u);
}

TEST_F(TieredBlockCacheTest, IdlePoolIsFreedWhenStatsAreRead) {
  options_.memory_bytes = 8 * kMi;
  options_.prefetch_memory = 2 * kMi;
  options_.block_pool_bytes = 1 * kMi;
  options_.block_pool_idle = std::chrono::seconds(10);
  std::string content = Content(24 * kMi);
  Entry e = Put("f", content);
  std::vector<std::unique_ptr<CacheTier>> tiers;
  tiers.push_back(std::make_unique<MemoryTier>(options_.memory_bytes));
  auto cache = std::make_unique<TieredBlockCache>(src_, options_, std::move(tiers), &clock_);
  EXPECT_EQ(ReadAll(*cache, "f", e, 1, kMi), content);
  cache->WaitIdleForTest();
  ASSERT_EQ(cache->DetailedStats().pool_free_blocks, 1u);  // evictions refilled it
  const uint64_t cached = cache->Stats().memory_bytes;
  EXPECT_GT(cached, 0u);
  clock_.Advance(std::chrono::seconds(9));
  cache->Stats();  // the reconciler's tick, before the idle period: nothing freed
  EXPECT_EQ(cache->DetailedStats().pool_free_blocks, 1u);
  clock_.Advance(std::chrono::seconds(1));
  cache->Stats();  // the tick after it
  TieredCacheStats s = cache->DetailedStats();
  EXPECT_EQ(s.pool_free_blocks, 0u);
  EXPECT_EQ(s.pool_idle_freed, 1u);
  EXPECT_EQ(s.cache.memory_bytes, cached);  // cached blocks stay
  EXPECT_EQ(ReadAll(*cache, "f", e, 2, kMi), content);  // still served right
}

TEST_F(TieredBlockCacheTest, DiskTierServesAfterRestart) {
  options_.memory_bytes = 8 * kMi;
  std::string content = Content(24 * kMi);
  Entry e = Put("f", content);
  {
    auto cache = Make(nullptr, nullptr, 256 * kMi);
    EXPECT_EQ(ReadAll(*cache, "f", e, 1), content);
    cache->WaitIdleForTest();
    EXPECT_EQ(cache->DetailedStats().writeback_dropped, 0u);
  }
  src_.ClearLog();
  auto cache = Make(nullptr, nullptr, 256 * kMi);
  EXPECT_EQ(ReadAll(*cache, "f", e, 1), content);
  cache->WaitIdleForTest();
  EXPECT_EQ(src_.CountOps("read:"), 0u);
  EXPECT_GT(cache->Stats().disk_bytes, 24 * kMi);
}

TEST_F(TieredBlockCacheTest, CorruptDiskBlockIsRefetchedNotServed) {
  std::string content = Content(4 * kMi);
  Entry e = Put("f", content);
  DiskTier* disk = nullptr;
  {
    auto cache = Make(nullptr, &disk, 64 * kMi);
    EXPECT_EQ(ReadAll(*cache, "f", e, 1), content);
    cache->WaitIdleForTest();
  }
  auto cache = Make(nullptr, &disk, 64 * kMi);
  DiskTier::Location at = disk->LocationForTest({ObjectId("f", e), 2});
  ASSERT_NE(at.offset, UINT64_MAX);
  int fd = ::open(at.path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "\xff\xff\xff\xff", 4, static_cast<off_t>(at.offset + 4096)), 4);
  ::close(fd);
  src_.ClearLog();
  EXPECT_EQ(ReadAll(*cache, "f", e, 1), content);
  cache->WaitIdleForTest();
  EXPECT_EQ(src_.Log(), std::vector<std::string>{"read:f:2097152:1048576"});
  EXPECT_GE(cache->DetailedStats().tiers[1].corrupt, 1u);  // a racing prefetch may see it too
}

TEST_F(TieredBlockCacheTest, FullDiskDegradesToMemory) {
  std::string content = Content(8 * kMi);
  Entry e = Put("f", content);
  DiskTier* disk = nullptr;
  auto cache = Make(nullptr, &disk, 64 * kMi);
  disk->SetWriteErrorForTest(ENOSPC);
  EXPECT_EQ(ReadAll(*cache, "f", e, 1), content);
  cache->WaitIdleForTest();
  src_.ClearLog();
  EXPECT_EQ(ReadAll(*cache, "f", e, 2), content);  // from memory
  EXPECT_EQ(src_.CountOps("read:"), 0u);
  TieredCacheStats s = cache->DetailedStats();
  EXPECT_GT(s.tiers[1].put_failures, 0u);
  EXPECT_EQ(s.tiers[1].blocks, 0u);
}

TEST_F(TieredBlockCacheTest, SourceErrorsReachTheReaderAndAreNotCached) {
  Entry e = Put("f", Content(2 * kMi));
  auto cache = Make();
  src_.FailPath("f", Unavailable("backend down"));
  std::vector<std::byte> buf(100);
  EXPECT_TRUE(cache->Read("f", e, 0, buf, 1).status().Is(StatusCode::kUnavailable));
  src_.FailPath("f", Status());
  EXPECT_EQ(ReadAt(*cache, "f", e, 0, 100, 2), Content(2 * kMi).substr(0, 100));
}

TEST_F(TieredBlockCacheTest, ObjectShorterThanItsEntryGivesAShortRead) {
  Entry e = Put("f", Content(kMi + 10));
  e.size = 3 * kMi;  // the listing lied; the source has fewer bytes
  auto cache = Make();
  EXPECT_EQ(ReadAt(*cache, "f", e, kMi, kMi, 1).size(), 10u);
  EXPECT_EQ(ReadAt(*cache, "f", e, 2 * kMi, kMi, 2).size(), 0u);
}

}  // namespace
}  // namespace ferry::sidecar
