// Micro-benchmarks of the block cache, each next to a reference measured in
// the same run (memcpy, a direct read of the source, the portable CRC).
// Results: bench/results/cache.md.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <latch>
#include <thread>

#include "common/clock.h"
#include "sidecar/cache/crc32c.h"
#include "sidecar/cache/disk_tier.h"
#include "sidecar/cache/memory_tier.h"
#include "sidecar/cache/tiered_block_cache.h"
#include "tests/support/fake_data_source.h"

namespace ferry::sidecar {
namespace {

constexpr uint64_t kMi = 1 << 20;

// A FakeDataSource behind a simulated link: each request costs `latency`
// plus its bytes at `bytes_per_s` (per request, like one TCP stream).
class SlowSource final : public DataSource {
 public:
  SlowSource(DataSource& inner, std::chrono::microseconds latency, double bytes_per_s)
      : inner_(inner), latency_(latency), bytes_per_s_(bytes_per_s) {}
  std::string Describe() const override { return "slow"; }
  StatusOr<Entry> Stat(std::string_view p) override { return inner_.Stat(p); }
  StatusOr<std::vector<Entry>> List(std::string_view d) override { return inner_.List(d); }
  StatusOr<size_t> Read(std::string_view p, const Entry& v, uint64_t off,
                        std::span<std::byte> out) override {
    auto start = std::chrono::steady_clock::now();
    StatusOr<size_t> r = inner_.Read(p, v, off, out);
    auto cost = latency_ + std::chrono::microseconds(static_cast<int64_t>(
                               static_cast<double>(out.size()) / bytes_per_s_ * 1e6));
    std::this_thread::sleep_until(start + cost);
    return r;
  }

 private:
  DataSource& inner_;
  std::chrono::microseconds latency_;
  double bytes_per_s_;
};

std::string Content(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + (i >> 12));
  return s;
}

std::unique_ptr<TieredBlockCache> MemoryCache(DataSource& src, uint64_t memory) {
  CacheOptions o;
  o.memory_bytes = memory;
  std::vector<std::unique_ptr<CacheTier>> tiers;
  tiers.push_back(std::make_unique<MemoryTier>(memory));
  return std::make_unique<TieredBlockCache>(src, o, std::move(tiers));
}

// Reference for the hit path: copying the same bytes.
void BM_Memcpy(benchmark::State& state) {
  std::vector<char> a(state.range(0)), b(state.range(0));
  for (auto _ : state) {
    std::memcpy(b.data(), a.data(), a.size());
    benchmark::DoNotOptimize(b.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Memcpy)->Arg(4096)->Arg(128 << 10);

// A read served from the memory tier: random offsets in a cached 64 MiB file.
void BM_MemoryHitRandom(benchmark::State& state) {
  testing::FakeDataSource src;
  src.PutFile("f", Content(64 * kMi));
  Entry e = *src.Stat("f");
  auto cache = MemoryCache(src, 128 * kMi);
  std::vector<std::byte> buf(state.range(0));
  for (uint64_t off = 0; off < e.size; off += kMi) (void)cache->Read("f", e, off, buf, 1);
  cache->WaitIdleForTest();
  uint64_t x = 1;
  uint64_t handle = 2;
  for (auto _ : state) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t off = (x >> 20) % (e.size - buf.size());
    benchmark::DoNotOptimize(cache->Read("f", e, off, buf, handle++));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
  state.counters["source_reads"] = static_cast<double>(cache->DetailedStats().source_reads);
}
BENCHMARK(BM_MemoryHitRandom)->Arg(4096)->Arg(128 << 10)->ThreadRange(1, 2);

// Sequential 128 KiB reads of a cached file on one handle (FUSE's pattern).
void BM_MemoryHitSequential(benchmark::State& state) {
  testing::FakeDataSource src;
  src.PutFile("f", Content(64 * kMi));
  Entry e = *src.Stat("f");
  auto cache = MemoryCache(src, 128 * kMi);
  std::vector<std::byte> buf(128 << 10);
  for (uint64_t off = 0; off < e.size; off += kMi) (void)cache->Read("f", e, off, buf, 1);
  cache->WaitIdleForTest();
  uint64_t off = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache->Read("f", e, off, buf, 2));
    off = (off + buf.size()) % e.size;
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(buf.size()));
}
BENCHMARK(BM_MemoryHitSequential);

// 8 readers hit one cold block at once; counts GETs per block (want 1).
void BM_SingleFlight8Readers(benchmark::State& state) {
  testing::FakeDataSource src;
  src.PutFile("f", Content(4 * kMi));
  SlowSource slow(src, std::chrono::microseconds(500), 400e6);
  Entry e = *src.Stat("f");
  uint64_t gets = 0, rounds = 0;
  for (auto _ : state) {
    auto cache = MemoryCache(slow, 64 * kMi);
    std::latch start(8);
    {
      std::vector<std::jthread> readers;
      for (int i = 0; i < 8; ++i) {
        readers.emplace_back([&, i] {
          std::vector<std::byte> buf(4096);
          start.arrive_and_wait();
          benchmark::DoNotOptimize(cache->Read("f", e, 2 * kMi + 100, buf, 10 + i));
        });
      }
    }
    gets += cache->DetailedStats().source_reads;
    rounds++;
  }
  state.counters["gets_per_block"] = static_cast<double>(gets) / static_cast<double>(rounds);
}
BENCHMARK(BM_SingleFlight8Readers)->UseRealTime()->Unit(benchmark::kMillisecond);

constexpr uint64_t kSeqBytes = 128 * kMi;

// Reference: the same simulated link read sequentially by one stream of
// 1 MiB GETs (what a cache without prefetch does), and by one whole-object GET.
void BM_DirectSequentialGets(benchmark::State& state) {
  testing::FakeDataSource src;
  src.PutFile("f", Content(kSeqBytes));
  SlowSource slow(src, std::chrono::microseconds(state.range(0)), 400e6);
  Entry e = *src.Stat("f");
  std::vector<std::byte> buf(state.range(1));
  for (auto _ : state) {
    for (uint64_t off = 0; off < e.size; off += buf.size()) {
      benchmark::DoNotOptimize(slow.Read("f", e, off, buf));
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kSeqBytes));
}
BENCHMARK(BM_DirectSequentialGets)
    ->Args({3000, 1 << 20})
    ->Args({3000, kSeqBytes})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

// Cold sequential 128 KiB reads through the cache: prefetch in parallel ranges.
void BM_PrefetchSequential(benchmark::State& state) {
  testing::FakeDataSource src;
  src.PutFile("f", Content(kSeqBytes));
  SlowSource slow(src, std::chrono::microseconds(state.range(0)), 400e6);
  Entry e = *src.Stat("f");
  std::vector<std::byte> buf(128 << 10);
  uint64_t peak = 0;
  CacheOptions o;
  o.memory_bytes = 256 * kMi;
  o.prefetch_workers = static_cast<uint32_t>(state.range(1));
  o.prefetch_range = static_cast<uint64_t>(state.range(2)) * kMi;
  o.prefetch_max = static_cast<uint64_t>(state.range(3)) * kMi;
  o.prefetch_memory = o.prefetch_max + o.prefetch_range;
  for (auto _ : state) {
    std::vector<std::unique_ptr<CacheTier>> tiers;
    tiers.push_back(std::make_unique<MemoryTier>(o.memory_bytes));
    auto cache = std::make_unique<TieredBlockCache>(slow, o, std::move(tiers));
    for (uint64_t off = 0; off < e.size; off += buf.size()) {
      benchmark::DoNotOptimize(cache->Read("f", e, off, buf, 1));
    }
    TieredCacheStats st = cache->DetailedStats();
    peak = std::max(peak, st.prefetch_inflight_peak);
    state.counters["gets"] = static_cast<double>(st.source_reads);
    state.counters["misses"] = static_cast<double>(st.cache.misses);
    state.counters["skipped"] = static_cast<double>(st.prefetch_skipped);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kSeqBytes));
  state.counters["inflight_peak_MiB"] = static_cast<double>(peak) / kMi;
}
// Args: latency us, workers, range MiB, max window MiB (defaults: 4, 8, 32).
BENCHMARK(BM_PrefetchSequential)
    ->Args({3000, 4, 8, 32})
    ->Args({3000, 8, 8, 64})
    ->Args({3000, 4, 4, 16})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

void BM_Crc32c(benchmark::State& state) {
  std::vector<std::byte> data(kMi, std::byte{7});
  for (auto _ : state) {
    benchmark::DoNotOptimize(state.range(0) ? Crc32c(data) : Crc32cPortableForTest(data));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kMi));
  state.SetLabel(state.range(0) ? "sse4.2 when available" : "portable slicing-by-8");
}
BENCHMARK(BM_Crc32c)->Arg(1)->Arg(0);

// Disk tier Put and Get of 1 MiB blocks (page cache, no fsync) in $TMPDIR.
void BM_DiskTier(benchmark::State& state) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ferry-bench-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    state.SkipWithError("mkdtemp");
    return;
  }
  RealClock clock;
  DiskTierOptions o;
  o.dir = tmpl;
  o.quota_bytes = 256 * kMi;
  auto tier = std::move(*DiskTier::Open(o, clock));
  auto block = std::make_shared<const BlockBytes>(kMi, std::byte{3});
  uint64_t i = 0;
  for (int k = 0; k < 64; ++k) (void)tier->Put({"obj", static_cast<uint64_t>(k)}, block);
  for (auto _ : state) {
    if (state.range(0) == 0) {
      benchmark::DoNotOptimize(tier->Put({"obj", 64 + (i++ % 128)}, block));
    } else {
      benchmark::DoNotOptimize(tier->Get({"obj", i++ % 64}));
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kMi));
  state.SetLabel(state.range(0) == 0 ? "put" : "get");
  tier.reset();
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
}
BENCHMARK(BM_DiskTier)->Arg(0)->Arg(1);

}  // namespace
}  // namespace ferry::sidecar

BENCHMARK_MAIN();
