// The disk tier on a real directory: blocks written by one process survive a
// reopen, and what a crash or power loss leaves behind (torn blocks, zeroed
// slots, half-written headers) is detected and dropped, never served. A real
// full disk (a tiny tmpfs; needs root) degrades the cache to memory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/clock.h"
#include "sidecar/cache/disk_tier.h"
#include "sidecar/cache/memory_tier.h"
#include "sidecar/cache/tiered_block_cache.h"
#include "tests/support/fake_data_source.h"
#include "tests/unit/sidecar/cache/cache_test_util.h"

namespace ferry::sidecar {
namespace {

constexpr uint64_t kMi = 1 << 20;

BlockData Block(size_t n, uint32_t seed) {
  std::string s = testutil::Content(n, seed);
  auto b = std::as_bytes(std::span<const char>(s.data(), s.size()));
  return std::make_shared<const BlockBytes>(b.begin(), b.end());
}

class DiskTierCrashTest : public ::testing::Test {
 protected:
  std::unique_ptr<DiskTier> Open(const std::string& dir, uint64_t quota = 256 * kMi) {
    DiskTierOptions o;
    o.dir = dir;
    o.quota_bytes = quota;
    o.fsync = true;
    StatusOr<std::unique_ptr<DiskTier>> t = DiskTier::Open(o, clock_);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(*t) : nullptr;
  }
  testutil::TempDir dir_;
  RealClock clock_;
};

TEST_F(DiskTierCrashTest, BlocksWrittenByAKilledProcessSurviveReopen) {
  // A child writes blocks and dies without any clean-up (SIGKILL-like _exit).
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto tier = Open(dir_.path());
    for (uint64_t i = 0; i < 16; ++i) {
      if (!tier->Put({"obj", i}, Block(kMi, static_cast<uint32_t>(i))).ok()) ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto tier = Open(dir_.path());
  EXPECT_EQ(tier->Stats().blocks, 16u);
  for (uint64_t i = 0; i < 16; ++i) {
    StatusOr<BlockData> b = tier->Get({"obj", i});
    ASSERT_TRUE(b.ok()) << i;
    EXPECT_EQ(**b, *Block(kMi, static_cast<uint32_t>(i))) << i;
  }
}

// Overwrites [offset, offset + n) of `path` with `byte`.
void Fill(const std::string& path, uint64_t offset, uint64_t n, char byte) {
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  std::string bytes(n, byte);
  ASSERT_EQ(::pwrite(fd, bytes.data(), n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
  ::close(fd);
}

TEST_F(DiskTierCrashTest, PowerLossLeftoversAreDetectedAfterReopen) {
  DiskTier::Location torn, zeroed, bad_header;
  {
    auto tier = Open(dir_.path());
    for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(tier->Put({"obj", i}, Block(kMi, 9)).ok());
    torn = tier->LocationForTest({"obj", 0});
    zeroed = tier->LocationForTest({"obj", 1});
    bad_header = tier->LocationForTest({"obj", 2});
  }
  // What a crash without fsync can leave: a block whose second half never
  // reached the disk, a slot whose write never reached it at all (zeros), and
  // a header torn half way through its rewrite.
  Fill(torn.path, torn.offset + torn.bytes / 2, torn.bytes - torn.bytes / 2, '\0');
  Fill(zeroed.path, zeroed.offset, zeroed.bytes, '\0');
  Fill(bad_header.path, bad_header.offset + 20, 20, 'x');

  auto tier = Open(dir_.path());
  EXPECT_EQ(tier->Stats().blocks, 2u);  // the zeroed slot is empty, the bad header dropped
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(tier->Get({"obj", i}).status().Is(StatusCode::kNotFound)) << i;
  }
  EXPECT_EQ(tier->Stats().corrupt, 2u);  // the bad header at Open, the torn data on read
  StatusOr<BlockData> good = tier->Get({"obj", 3});
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(**good, *Block(kMi, 9));
  // Both damaged slots were punched out and are reused.
  for (uint64_t i = 10; i < 13; ++i) ASSERT_TRUE(tier->Put({"obj", i}, Block(kMi, 1)).ok());
  EXPECT_LE(std::filesystem::file_size(torn.path), 4 * tier->StrideForTest());
}

TEST_F(DiskTierCrashTest, CacheRefetchesBlocksDamagedWhileDown) {
  testing::FakeDataSource src;
  std::string content = testutil::Content(6 * kMi, 4);
  src.PutFile("f", content);
  Entry e = *src.Stat("f");
  CacheOptions o;
  o.memory_bytes = 16 * kMi;
  o.disk_bytes = 256 * kMi;
  o.disk_dir = dir_.path();
  auto read_all = [&](TieredBlockCache& c) {
    std::string out(content.size(), '\0');
    auto span = std::as_writable_bytes(std::span<char>(out.data(), out.size()));
    StatusOr<size_t> n = c.Read("f", e, 0, span, 1);
    EXPECT_TRUE(n.ok());
    c.Release(1);
    return out;
  };
  {
    auto cache = TieredBlockCache::Create(src, o, clock_);
    ASSERT_TRUE(cache.ok());
    EXPECT_EQ(read_all(**cache), content);
    (*cache)->WaitIdleForTest();
  }
  // Damage two blocks behind the cache's back.
  for (uint64_t i : {1u, 4u}) {
    BlockKey key{ObjectId("f", e), i};
    auto tier = Open(dir_.path());
    DiskTier::Location at = tier->LocationForTest(key);
    ASSERT_NE(at.offset, UINT64_MAX);
    Fill(at.path, at.offset + 100000, 8, '!');
  }
  src.ClearLog();
  auto cache = TieredBlockCache::Create(src, o, clock_);
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ(read_all(**cache), content);
  (*cache)->WaitIdleForTest();
  EXPECT_EQ(src.CountOps("read:"), 2u);
}

// A real ENOSPC: a 4 MiB tmpfs under a cache that wants 64 MiB on disk.
TEST_F(DiskTierCrashTest, FullTmpfsDegradesToMemory) {
  std::string mnt = dir_.path() + "/tiny";
  std::filesystem::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=4m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs (needs root): " << std::strerror(errno);
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  testing::FakeDataSource src;
  std::string content = testutil::Content(24 * kMi, 5);
  src.PutFile("f", content);
  Entry e = *src.Stat("f");
  CacheOptions o;
  o.memory_bytes = 64 * kMi;
  o.disk_bytes = 64 * kMi;
  o.disk_dir = mnt + "/cache";
  auto cache = TieredBlockCache::Create(src, o, clock_);
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  std::vector<std::byte> buf(kMi);
  std::string got;
  for (uint64_t off = 0; off < content.size(); off += kMi) {
    StatusOr<size_t> n = (*cache)->Read("f", e, off, buf, 1);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    got.append(reinterpret_cast<const char*>(buf.data()), *n);
  }
  EXPECT_EQ(got, content);
  (*cache)->WaitIdleForTest();
  TieredCacheStats s = (*cache)->DetailedStats();
  EXPECT_GT(s.tiers[1].put_failures, 0u);
  EXPECT_LT(s.tiers[1].bytes, 4 * kMi);
  // Everything is still served, from memory, with no new GETs.
  src.ClearLog();
  for (uint64_t off = 0; off < content.size(); off += kMi) {
    ASSERT_TRUE((*cache)->Read("f", e, off, buf, 2).ok());
  }
  EXPECT_EQ(src.CountOps("read:"), 0u);
}

}  // namespace
}  // namespace ferry::sidecar
