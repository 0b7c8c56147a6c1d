// cache_read: reads one object of a remote source through the TieredBlockCache
// (no FUSE) and prints MB/s, CPU seconds and peak RSS, so the cache's cold and
// warm paths can be compared with a direct curl GET of the same object.
//
//   cache_read URL PATH [-o k=v,...] [--readers N] [--read-size BYTES] [--passes N] [--pool BYTES]
//   e.g. AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
//        cache_read s3://bench/ big -o endpoint=http://127.0.0.1:4568,cache_memory=256Mi
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <map>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/dataset_spec.h"
#include "sidecar/cache/tiered_block_cache.h"
#include "sidecar/source/remote_sources.h"

namespace {

using namespace ferry;          // NOLINT(google-build-using-namespace): a small tool
using namespace ferry::sidecar;  // NOLINT(google-build-using-namespace)

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

long PeakRssKb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

int Usage() {
  std::fprintf(stderr,
               "usage: cache_read URL PATH [-o k=v,...] [--readers N] [--read-size BYTES] [--passes N] [--pool BYTES]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  UseMmapForCacheBlocks();  // as the data plane does
  MountSpec spec;
  spec.name = "bench";
  spec.source = argv[1];
  spec.scheme = spec.source.substr(0, spec.source.find(':'));
  std::string path = argv[2];
  int readers = 1, passes = 2;
  size_t read_size = 1 << 20;
  long long pool_bytes = -1;  // --pool BYTES: BlockPool size (0: no reuse); default: the cache's
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "-o") {
      size_t start = 0;
      while (start <= value.size()) {
        size_t end = value.find(',', start);
        std::string kv = value.substr(start, end == std::string::npos ? end : end - start);
        size_t eq = kv.find('=');
        if (!kv.empty()) spec.options[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
        if (end == std::string::npos) break;
        start = end + 1;
      }
    } else if (flag == "--readers") {
      readers = std::stoi(value);
    } else if (flag == "--read-size") {
      read_size = std::stoul(value);
    } else if (flag == "--passes") {
      passes = std::stoi(value);
    } else if (flag == "--pool") {
      pool_bytes = std::stoll(value);
    } else {
      return Usage();
    }
  }
  StatusOr<CacheOptions> cache_options = ParseCacheOptions(spec.options, "");
  if (!cache_options.ok()) {
    std::fprintf(stderr, "%s\n", cache_options.status().ToString().c_str());
    return 2;
  }
  if (pool_bytes >= 0) cache_options->block_pool_bytes = static_cast<uint64_t>(pool_bytes);
  std::map<std::string, std::string> source_options;
  for (const auto& [k, v] : spec.options) {
    if (k.rfind("cache_", 0) != 0 && k.rfind("prefetch_", 0) != 0 && k != "block_size") source_options[k] = v;
  }
  spec.options = source_options;
  RealClock clock;
  SourceEnv env;
  env.clock = &clock;
  env.standalone = true;
  env.environment = ProcessEnvironment();
  StatusOr<std::unique_ptr<DataSource>> source = MakeRemoteSource(spec, env);
  if (!source.ok()) {
    std::fprintf(stderr, "%s\n", source.status().ToString().c_str());
    return 1;
  }
  StatusOr<Entry> entry = (*source)->Stat(path);
  if (!entry.ok()) {
    std::fprintf(stderr, "stat %s: %s\n", path.c_str(), entry.status().ToString().c_str());
    return 1;
  }
  StatusOr<std::unique_ptr<TieredBlockCache>> cache = TieredBlockCache::Create(**source, *cache_options, clock);
  if (!cache.ok()) {
    std::fprintf(stderr, "%s\n", cache.status().ToString().c_str());
    return 1;
  }
  for (int pass = 0; pass < passes; ++pass) {
    double cpu0 = CpuSeconds();
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::jthread> threads;
    std::atomic<uint64_t> bytes{0};
    std::atomic<bool> failed{false};
    for (int r = 0; r < readers; ++r) {
      threads.emplace_back([&, r] {
        std::vector<std::byte> buf(read_size);
        uint64_t handle = static_cast<uint64_t>(pass) * 1000 + static_cast<uint64_t>(r) + 1;
        for (uint64_t off = 0; off < entry->size;) {
          StatusOr<size_t> n = (*cache)->Read(path, *entry, off, buf, handle);
          if (!n.ok()) {
            std::fprintf(stderr, "read: %s\n", n.status().ToString().c_str());
            failed = true;
            break;
          }
          if (*n == 0) break;
          off += *n;
          bytes += *n;
        }
        (*cache)->Release(handle);
      });
    }
    threads.clear();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    TieredCacheStats s = (*cache)->DetailedStats();
    std::printf("pass %d: %d reader(s) x %.0f MB in %.2f s = %.0f MB/s; cpu %.2f s; peak RSS %.0f MB; "
                "GETs %llu; prefetch peak %.0f MiB; pool reused %llu%s\n",
                pass + 1, readers, static_cast<double>(entry->size) / 1e6, secs,
                static_cast<double>(bytes.load()) / secs / 1e6, CpuSeconds() - cpu0,
                static_cast<double>(PeakRssKb()) * 1024 / 1e6,
                static_cast<unsigned long long>(s.source_reads),
                static_cast<double>(s.prefetch_inflight_peak) / (1 << 20),
                static_cast<unsigned long long>(s.pool_reused), failed ? " (FAILED)" : "");
  }
  return 0;
}
