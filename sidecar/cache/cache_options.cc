#include "sidecar/cache/cache_options.h"

#include <charconv>
#include <limits>

namespace ferry::sidecar {
namespace {

StatusOr<double> ParseFraction(std::string_view key, std::string_view text) {
  std::string_view t = text;
  bool percent = !t.empty() && t.back() == '%';
  if (percent) t.remove_suffix(1);
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) {
    return InvalidArgument("option " + std::string(key) + "=\"" + std::string(text) +
                           "\": not a number; use a fraction (0.9) or a percentage (90%)");
  }
  if (percent || v > 1.0) v /= 100.0;
  if (!(v > 0.0 && v <= 1.0)) {
    return InvalidArgument("option " + std::string(key) + "=\"" + std::string(text) +
                           "\": must be in (0, 1] or (0%, 100%]");
  }
  return v;
}

StatusOr<bool> ParseBool(std::string_view key, std::string_view v) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return InvalidArgument("option " + std::string(key) + "=\"" + std::string(v) +
                         "\": use true or false");
}

// Whole seconds: "10", "10s", "2m", "1h". kInvalidArgument names `key`.
StatusOr<std::chrono::seconds> ParseIdleSeconds(std::string_view key, std::string_view text) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  std::string_view unit(p, static_cast<size_t>(text.data() + text.size() - p));
  uint64_t mult = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : 0;
  if (ec != std::errc() || p == text.data() || mult == 0 || v > (1u << 30)) {
    return InvalidArgument("option " + std::string(key) + "=\"" + std::string(text) +
                           "\": use whole seconds, minutes or hours (10, 10s, 2m, 1h; 0 = never)");
  }
  return std::chrono::seconds(static_cast<int64_t>(v * mult));
}

}  // namespace

StatusOr<uint64_t> ParseByteSize(std::string_view text) {
  std::string_view t = text;
  uint64_t value = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || p == t.data()) {
    return InvalidArgument("size \"" + std::string(text) + "\": expected a number such as 256Mi");
  }
  std::string_view suffix(p, static_cast<size_t>(t.data() + t.size() - p));
  if (!suffix.empty() && suffix.back() == 'B') suffix.remove_suffix(1);
  uint64_t mult = 1;
  static constexpr struct {
    std::string_view s;
    uint64_t m;
  } kUnits[] = {{"", 1},
                {"k", 1000},
                {"K", 1000},
                {"Ki", 1ull << 10},
                {"M", 1000 * 1000},
                {"Mi", 1ull << 20},
                {"G", 1000ull * 1000 * 1000},
                {"Gi", 1ull << 30},
                {"T", 1000ull * 1000 * 1000 * 1000},
                {"Ti", 1ull << 40}};
  bool found = false;
  for (const auto& u : kUnits) {
    if (u.s == suffix) {
      mult = u.m;
      found = true;
    }
  }
  if (!found) {
    return InvalidArgument("size \"" + std::string(text) +
                           "\": unknown unit; use Ki, Mi, Gi, Ti (or k, M, G, T)");
  }
  if (value > std::numeric_limits<uint64_t>::max() / mult) {
    return InvalidArgument("size \"" + std::string(text) + "\": too large");
  }
  return value * mult;
}

StatusOr<CacheOptions> ParseCacheOptions(const std::map<std::string, std::string>& options,
                                         std::string_view default_disk_dir) {
  CacheOptions o;
  o.disk_dir = std::string(default_disk_dir);
  bool disk_given = false;
  for (const auto& kv : options) {
    const std::string& key = kv.first;  // not a structured binding: clang 14 cannot capture one
    const std::string& value = kv.second;
    bool ours = key.rfind("cache_", 0) == 0 || key.rfind("prefetch_", 0) == 0 || key == "block_size";
    if (!ours) continue;
    auto size = [&](uint64_t& field) -> Status {
      StatusOr<uint64_t> v = ParseByteSize(value);
      if (!v.ok()) return v.status().WithContext("option " + key);
      field = *v;
      return Status();
    };
    if (key == "block_size") {
      FERRY_RETURN_IF_ERROR(size(o.block_size));
    } else if (key == "cache_memory") {
      FERRY_RETURN_IF_ERROR(size(o.memory_bytes));
    } else if (key == "cache_disk") {
      FERRY_RETURN_IF_ERROR(size(o.disk_bytes));
      disk_given = true;
    } else if (key == "cache_dir") {
      o.disk_dir = value;
    } else if (key == "cache_disk_high") {
      FERRY_ASSIGN_OR_RETURN(o.disk_high_watermark, ParseFraction(key, value));
    } else if (key == "cache_disk_low") {
      FERRY_ASSIGN_OR_RETURN(o.disk_low_watermark, ParseFraction(key, value));
    } else if (key == "cache_fsync") {
      FERRY_ASSIGN_OR_RETURN(o.disk_fsync, ParseBool(key, value));
    } else if (key == "cache_small_file") {
      FERRY_RETURN_IF_ERROR(size(o.small_file_bytes));
    } else if (key == "cache_pool") {
      FERRY_RETURN_IF_ERROR(size(o.block_pool_bytes));
    } else if (key == "cache_pool_idle") {
      FERRY_ASSIGN_OR_RETURN(o.block_pool_idle, ParseIdleSeconds(key, value));
    } else if (key == "prefetch_initial") {
      FERRY_RETURN_IF_ERROR(size(o.prefetch_initial));
    } else if (key == "prefetch_max") {
      FERRY_RETURN_IF_ERROR(size(o.prefetch_max));
    } else if (key == "prefetch_range") {
      FERRY_RETURN_IF_ERROR(size(o.prefetch_range));
    } else if (key == "prefetch_memory") {
      FERRY_RETURN_IF_ERROR(size(o.prefetch_memory));
    } else if (key == "prefetch_workers") {
      uint64_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size() || n > 64) {
        return InvalidArgument("option prefetch_workers=\"" + value + "\": use 0..64");
      }
      o.prefetch_workers = static_cast<uint32_t>(n);
    } else {
      return InvalidArgument("unknown cache option \"" + key +
                             "\"; see docs/cache.md for cache_* and prefetch_* options");
    }
  }
  if (!disk_given) o.disk_bytes = o.disk_dir.empty() ? 0 : (1ull << 30);
  if (o.disk_bytes > 0 && o.disk_dir.empty()) {
    return InvalidArgument("option cache_disk is set but no cache_dir is known; set cache_dir");
  }
  if (o.block_size < 4096 || o.block_size > (64u << 20) || (o.block_size & (o.block_size - 1)) != 0) {
    return InvalidArgument("option block_size: must be a power of two between 4Ki and 64Mi");
  }
  if (o.disk_low_watermark > o.disk_high_watermark) {
    return InvalidArgument("options cache_disk_low/cache_disk_high: low must not exceed high");
  }
  if (o.prefetch_range < o.block_size) o.prefetch_range = o.block_size;
  return o;
}

}  // namespace ferry::sidecar
