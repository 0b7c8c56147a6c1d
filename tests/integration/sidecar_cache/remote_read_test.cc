// The cache over the real HTTP and S3 sources (nginx and s3rver on loopback):
// ranged GETs land on the right bytes, concurrent sequential readers share
// blocks, and a second pass is served without a single GET.
#include <gtest/gtest.h>

#include <thread>

#include "common/clock.h"
#include "common/dataset_spec.h"
#include "sidecar/cache/tiered_block_cache.h"
#include "sidecar/source/remote_sources.h"
#include "tests/support/server_fixtures.h"
#include "tests/unit/sidecar/cache/cache_test_util.h"

namespace ferry::sidecar {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class RemoteReadTest : public ::testing::Test {
 protected:
  // Reads `path` with `readers` threads, each sequentially from 0 in 128 KiB
  // reads; every thread must see `want`.
  void ReadConcurrently(BlockCache& cache, const Entry& e, const std::string& path,
                        const std::string& want, int readers) {
    std::vector<std::string> got(readers);
    {
      std::vector<std::jthread> threads;
      for (int r = 0; r < readers; ++r) {
        threads.emplace_back([&, r] {
          std::vector<std::byte> buf(128 << 10);
          for (uint64_t off = 0; off < e.size;) {
            StatusOr<size_t> n = cache.Read(path, e, off, buf, 1000 + r);
            if (!n.ok() || *n == 0) break;
            got[r].append(reinterpret_cast<const char*>(buf.data()), *n);
            off += *n;
          }
          cache.Release(1000 + r);
        });
      }
    }
    for (int r = 0; r < readers; ++r) EXPECT_TRUE(got[r] == want) << "reader " << r;
  }

  void Exercise(DataSource& source, const std::string& path, const std::string& content) {
    StatusOr<Entry> e = source.Stat(path);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_EQ(e->size, content.size());
    CacheOptions o;
    o.memory_bytes = 64 * kMiB;
    auto cache = TieredBlockCache::Create(source, o, clock_);
    ASSERT_TRUE(cache.ok());
    ReadConcurrently(**cache, *e, path, content, 4);
    (*cache)->WaitIdleForTest();
    TieredCacheStats first = (*cache)->DetailedStats();
    EXPECT_EQ(first.source_bytes, content.size());  // every byte fetched exactly once
    ReadConcurrently(**cache, *e, path, content, 2);
    EXPECT_EQ((*cache)->DetailedStats().source_reads, first.source_reads);
  }

  RealClock clock_;
};

TEST_F(RemoteReadTest, HttpSourceThroughTheCache) {
  StatusOr<std::unique_ptr<testing::NginxServer>> nginx = testing::NginxServer::Start({});
  if (!nginx.ok()) GTEST_SKIP() << nginx.status().ToString();
  std::string content = testutil::Content(20 * kMiB + 12345, 11);
  ASSERT_TRUE(testing::WriteFile((*nginx)->root() + "/d/big.bin", content).ok());
  MountSpec spec;
  spec.name = "t";
  spec.source = (*nginx)->base_url();
  spec.scheme = "http";
  SourceEnv env;
  env.clock = &clock_;
  env.standalone = true;
  StatusOr<std::unique_ptr<DataSource>> source = MakeRemoteSource(spec, env);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  Exercise(**source, "d/big.bin", content);
}

TEST_F(RemoteReadTest, S3SourceThroughTheCache) {
  StatusOr<std::unique_ptr<testing::S3rverServer>> s3 = testing::S3rverServer::Start({"bkt"});
  if (!s3.ok()) GTEST_SKIP() << s3.status().ToString();
  testing::TempDir tmp;
  std::string content = testutil::Content(12 * kMiB + 777, 12);
  ASSERT_TRUE(testing::WriteFile(tmp.path() + "/obj", content).ok());
  StatusOr<int> put = testing::RunCommand({"curl", "-sf", "-X", "PUT", "--data-binary",
                                           "@" + tmp.path() + "/obj",
                                           (*s3)->endpoint() + "/bkt/data/obj.bin"});
  ASSERT_TRUE(put.ok() && *put == 0) << "upload failed";
  MountSpec spec;
  spec.name = "t";
  spec.source = "s3://bkt/";
  spec.scheme = "s3";
  spec.options = {{"endpoint", (*s3)->endpoint()}, {"style", "path"}, {"anonymous", "true"}};
  SourceEnv env;
  env.clock = &clock_;
  env.standalone = true;
  StatusOr<std::unique_ptr<DataSource>> source = MakeRemoteSource(spec, env);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  Exercise(**source, "data/obj.bin", content);
}

}  // namespace
}  // namespace ferry::sidecar
