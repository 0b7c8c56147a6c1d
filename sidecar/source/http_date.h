#pragma once
// Timestamps in the formats remote sources send: ISO 8601 (S3 listings,
// "2026-11-23T14:10:19.000Z"), IMF-fixdate (HTTP Last-Modified, "Mon, 23 Nov
// 2026 14:10:19 GMT"), and the autoindex page formats of nginx
// ("23-Nov-2026 14:10") and Apache ("2026-11-23 14:10"). All UTC. Pure, thread-safe.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::sidecar {

// Nanoseconds since the epoch, or nullopt when `s` is not in that format.
std::optional<int64_t> ParseIso8601Ns(std::string_view s);
std::optional<int64_t> ParseHttpDateNs(std::string_view s);
// "23-Nov-2026 14:10[:SS]" (nginx) or "2026-11-23 14:10[:SS]" (Apache).
std::optional<int64_t> ParseIndexDateNs(std::string_view s);

// "20150830T123600Z" and "20150830" for SigV4.
std::string FormatAmzDate(std::chrono::system_clock::time_point t);
std::string FormatAmzDay(std::chrono::system_clock::time_point t);

}  // namespace ferry::sidecar
