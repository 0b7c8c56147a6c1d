#include "sidecar/status_json.h"

#include <ctime>
#include <nlohmann/json.hpp>

namespace ferry::sidecar {

std::string FormatRfc3339(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string StatusToJson(const StatusSnapshot& s) {
  nlohmann::ordered_json doc;
  doc["version"] = FERRY_VERSION;
  doc["ready"] = s.ready;
  doc["generation"] = s.generation;
  doc["specError"] = s.spec_error;
  doc["updated"] = FormatRfc3339(s.updated);
  nlohmann::ordered_json datasets = nlohmann::ordered_json::object();
  for (const auto& [name, d] : s.datasets) {
    nlohmann::ordered_json j;
    j["phase"] = DatasetPhaseName(d.phase);
    j["source"] = d.source;
    j["readOnly"] = d.read_only;
    j["error"] = d.error;
    j["bytesCached"] = d.bytes_cached;
    j["bytesRead"] = d.bytes_read;
    if (d.passthrough) j["passthrough"] = true;
    if (d.failures > 0) {
      j["failures"] = d.failures;
      j["nextRetry"] = d.next_retry == std::chrono::system_clock::time_point{}
                           ? std::string()
                           : FormatRfc3339(d.next_retry);
    }
    if (d.preload.configured) {
      nlohmann::ordered_json p;
      p["done"] = d.preload.done;
      p["filesDone"] = d.preload.files_done;
      p["filesTotal"] = d.preload.files_total;
      p["filesFailed"] = d.preload.files_failed;
      p["bytesDone"] = d.preload.bytes_done;
      p["bytesTotal"] = d.preload.bytes_total;
      p["error"] = d.preload.error;
      j["preload"] = std::move(p);
    }
    j["lastChange"] = FormatRfc3339(d.last_change);
    datasets[name] = std::move(j);
  }
  doc["datasets"] = std::move(datasets);
  // Replace invalid UTF-8 (a source URL is user text) instead of throwing.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace ferry::sidecar
