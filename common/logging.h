#pragma once
// One spdlog logger per component (STYLE §5): GetLogger("sidecar.cache").
// Loggers write to stderr with "[time] [level] [component] message". Log level
// comes from FERRY_LOG_LEVEL (trace, debug, info, warn, error; default info),
// read once in InitLogging(), which main() calls before starting threads.
// Never log credentials, signed URLs, tokens or Secret contents.

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

namespace ferry {

// Call once in main() before any thread starts. `program` names the process in
// each line (e.g. "ferry-webhook").
void InitLogging(std::string_view program);

// Thread-safe; returns the same logger for the same name.
std::shared_ptr<spdlog::logger> GetLogger(std::string_view component);

}  // namespace ferry
