#include "ferryctl/status_file.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ferry::ferryctl {

std::string StatusPath(std::string_view mnt_dir) {
  std::string p(mnt_dir);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p + "/.ferry/status.json";
}

StatusOr<SidecarStatus> ParseSidecarStatus(std::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("ready") || !doc["ready"].is_boolean()) {
    return InvalidArgument("not a ferry status document (no boolean \"ready\")");
  }
  try {
    SidecarStatus s;
    s.version = doc.value("version", "");
    s.ready = doc["ready"].get<bool>();
    s.generation = doc.value("generation", uint64_t{0});
    s.spec_error = doc.value("specError", "");
    s.updated = doc.value("updated", "");
    if (doc.contains("datasets") && doc["datasets"].is_object()) {
      for (const auto& [name, d] : doc["datasets"].items()) {
        if (!d.is_object()) continue;
        DatasetRow row;
        row.name = name;
        row.phase = d.value("phase", "");
        row.source = d.value("source", "");
        row.read_only = d.value("readOnly", true);
        row.error = d.value("error", "");
        row.bytes_cached = d.value("bytesCached", uint64_t{0});
        row.last_change = d.value("lastChange", "");
        s.datasets.push_back(std::move(row));
      }
    }
    std::sort(s.datasets.begin(), s.datasets.end(),
              [](const DatasetRow& a, const DatasetRow& b) { return a.name < b.name; });
    return s;
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("malformed status document: ") + e.what());
  }
}

StatusOr<SidecarStatus> ReadSidecarStatus(std::string_view mnt_dir) {
  std::string path = StatusPath(mnt_dir);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFound(path + " does not exist: the sidecar has not started (or --mnt-dir is wrong)");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = ParseSidecarStatus(ss.str());
  if (!s.ok()) return s.status().WithContext(path);
  return s;
}

std::string NotReadyReason(const SidecarStatus& s) {
  if (s.ready) return "";
  std::string pending;
  size_t n = 0;
  for (const DatasetRow& d : s.datasets) {
    if (d.phase != "Pending") continue;
    if (++n <= 5) pending += (pending.empty() ? "" : ", ") + d.name + " (Pending)";
  }
  if (n > 5) pending += ", ...";
  std::string why;
  if (!s.spec_error.empty()) why = "spec error: " + s.spec_error;
  if (n > 0) {
    if (!why.empty()) why += "; ";
    why += "waiting for " + std::to_string(n) + " of " + std::to_string(s.datasets.size()) +
           " datasets: " + pending;
  }
  if (why.empty()) why = "the sidecar has not applied the initial dataset spec yet";
  return why;
}

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

std::string FormatStatusTable(const SidecarStatus& s, std::string_view path) {
  std::string out = "status:     " + std::string(path) + "\n";
  out += "ready:      " + std::string(s.ready ? "yes" : "no (" + NotReadyReason(s) + ")") + "\n";
  out += "generation: " + std::to_string(s.generation) + "   updated: " + s.updated + "\n";
  if (!s.spec_error.empty()) out += "spec error: " + s.spec_error + " (the last good spec stays)\n";
  if (s.datasets.empty()) return out + "no datasets\n";
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "PHASE", "SOURCE", "MODE", "CACHED", "SINCE", "ERROR"}};
  for (const DatasetRow& d : s.datasets) {
    rows.push_back({d.name, d.phase, d.source, d.read_only ? "ro" : "rw",
                    HumanBytes(d.bytes_cached), d.last_change, d.error});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  out += "\n";
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace ferry::ferryctl
