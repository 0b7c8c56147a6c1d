#include "sidecar/cache/cache_options.h"

#include <gtest/gtest.h>

namespace ferry::sidecar {
namespace {

TEST(ParseByteSizeTest, Units) {
  EXPECT_EQ(*ParseByteSize("256Mi"), 256ull << 20);
  EXPECT_EQ(*ParseByteSize("1Gi"), 1ull << 30);
  EXPECT_EQ(*ParseByteSize("2GiB"), 2ull << 30);
  EXPECT_EQ(*ParseByteSize("512M"), 512'000'000ull);
  EXPECT_EQ(*ParseByteSize("64k"), 64'000ull);
  EXPECT_EQ(*ParseByteSize("1048576"), 1048576ull);
  EXPECT_FALSE(ParseByteSize("").ok());
  EXPECT_FALSE(ParseByteSize("Mi").ok());
  EXPECT_FALSE(ParseByteSize("12Qi").ok());
  EXPECT_FALSE(ParseByteSize("-1").ok());
  EXPECT_FALSE(ParseByteSize("99999999999Ti").ok());
}

TEST(ParseCacheOptionsTest, DefaultsAndOverrides) {
  StatusOr<CacheOptions> o = ParseCacheOptions({{"endpoint", "http://x"}}, "");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->block_size, 1u << 20);
  EXPECT_EQ(o->disk_bytes, 0u);
  o = ParseCacheOptions({{"cache_memory", "64Mi"},
                         {"cache_disk", "10Gi"},
                         {"cache_disk_high", "90%"},
                         {"cache_disk_low", "0.7"},
                         {"cache_fsync", "true"},
                         {"prefetch_max", "64Mi"},
                         {"prefetch_workers", "8"},
                         {"cache_pool", "0"},
                         {"block_size", "4Mi"}},
                        "/var/cache/ferry/ds");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->memory_bytes, 64u << 20);
  EXPECT_EQ(o->disk_bytes, 10ull << 30);
  EXPECT_EQ(o->disk_dir, "/var/cache/ferry/ds");
  EXPECT_DOUBLE_EQ(o->disk_high_watermark, 0.9);
  EXPECT_DOUBLE_EQ(o->disk_low_watermark, 0.7);
  EXPECT_TRUE(o->disk_fsync);
  EXPECT_EQ(o->prefetch_max, 64u << 20);
  EXPECT_EQ(o->prefetch_workers, 8u);
  EXPECT_EQ(o->block_size, 4u << 20);
  EXPECT_EQ(o->block_pool_bytes, 0u);
}

TEST(ParseCacheOptionsTest, PoolIdlePeriod) {
  EXPECT_EQ(ParseCacheOptions({}, "")->block_pool_idle, std::chrono::seconds(10));
  EXPECT_EQ(ParseCacheOptions({{"cache_pool_idle", "0"}}, "")->block_pool_idle,
            std::chrono::seconds(0));
  EXPECT_EQ(ParseCacheOptions({{"cache_pool_idle", "30s"}}, "")->block_pool_idle,
            std::chrono::seconds(30));
  EXPECT_EQ(ParseCacheOptions({{"cache_pool_idle", "2m"}}, "")->block_pool_idle,
            std::chrono::seconds(120));
  for (const char* bad : {"", "s", "-1", "1.5s", "10ms", "ten"}) {
    StatusOr<CacheOptions> o = ParseCacheOptions({{"cache_pool_idle", bad}}, "");
    ASSERT_FALSE(o.ok()) << bad;
    EXPECT_NE(o.status().message().find("cache_pool_idle"), std::string::npos);
  }
}

TEST(ParseCacheOptionsTest, DiskDefaultsOnWhenADirectoryIsKnown) {
  StatusOr<CacheOptions> o = ParseCacheOptions({}, "/var/cache/ferry/ds");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->disk_bytes, 1ull << 30);
  o = ParseCacheOptions({{"cache_disk", "0"}}, "/var/cache/ferry/ds");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->disk_bytes, 0u);
}

TEST(ParseCacheOptionsTest, ErrorsNameTheKey) {
  StatusOr<CacheOptions> o = ParseCacheOptions({{"cache_memroy", "1Gi"}}, "");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("cache_memroy"), std::string::npos);
  o = ParseCacheOptions({{"cache_memory", "lots"}}, "");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("cache_memory"), std::string::npos);
  EXPECT_FALSE(ParseCacheOptions({{"block_size", "1000"}}, "").ok());
  EXPECT_FALSE(ParseCacheOptions({{"cache_disk", "1Gi"}}, "").ok());
  EXPECT_FALSE(ParseCacheOptions({{"cache_disk_low", "0.9"}, {"cache_disk_high", "0.8"}}, "/d").ok());
  EXPECT_FALSE(ParseCacheOptions({{"cache_fsync", "maybe"}}, "").ok());
  EXPECT_FALSE(ParseCacheOptions({{"prefetch_workers", "1000"}}, "").ok());
}

}  // namespace
}  // namespace ferry::sidecar
