#include "common/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>
#include <mutex>
#include <string>

namespace ferry {
namespace {

spdlog::level::level_enum LevelFromEnv() {
  const char* v = std::getenv("FERRY_LOG_LEVEL");
  if (v == nullptr) return spdlog::level::info;
  return spdlog::level::from_str(v);
}

}  // namespace

void InitLogging(std::string_view program) {
  spdlog::set_level(LevelFromEnv());
  spdlog::set_pattern(std::string("%Y-%m-%dT%H:%M:%S.%e [%l] [") + std::string(program) +
                      " %n] %v");
}

std::shared_ptr<spdlog::logger> GetLogger(std::string_view component) {
  static std::mutex mu;  // NOLINT: guards spdlog's registry lookup-or-create only
  std::lock_guard<std::mutex> lock(mu);
  std::string name(component);
  if (auto l = spdlog::get(name)) return l;
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(name, sink);
  spdlog::initialize_logger(logger);  // applies the global level and pattern
  return logger;
}

}  // namespace ferry
