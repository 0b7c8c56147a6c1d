#include "sidecar/status_metrics.h"

#include <array>
#include <map>

namespace ferry::sidecar {
namespace {

void Header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void Sample(std::string& out, const std::string& name_and_labels, uint64_t value) {
  out += name_and_labels;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string RenderMetrics(const StatusSnapshot& s) {
  constexpr std::array kPhases = {DatasetPhase::kPending, DatasetPhase::kMounted,
                                  DatasetPhase::kFailed, DatasetPhase::kUnmounting};
  std::string out;
  Header(out, "ferry_ready", "gauge",
         "1 once every dataset of the initial spec is mounted or failed");
  Sample(out, "ferry_ready", s.ready ? 1 : 0);
  Header(out, "ferry_spec_generation", "gauge", "Dataset specs applied so far");
  Sample(out, "ferry_spec_generation", s.generation);
  Header(out, "ferry_spec_error", "gauge", "1 while the last read datasets.yaml is invalid");
  Sample(out, "ferry_spec_error", s.spec_error.empty() ? 0 : 1);

  std::map<DatasetPhase, uint64_t> by_phase;
  for (const auto& [name, d] : s.datasets) ++by_phase[d.phase];
  Header(out, "ferry_datasets", "gauge", "Datasets by phase");
  for (DatasetPhase p : kPhases) {
    Sample(out, "ferry_datasets{phase=\"" + std::string(DatasetPhaseName(p)) + "\"}", by_phase[p]);
  }
  Header(out, "ferry_reconciles_total", "counter", "Reconcile passes");
  Sample(out, "ferry_reconciles_total", s.reconciles_total);
  Header(out, "ferry_spec_errors_total", "counter", "Invalid dataset specs seen");
  Sample(out, "ferry_spec_errors_total", s.spec_errors_total);
  Header(out, "ferry_mount_failures_total", "counter", "Datasets that failed to mount");
  Sample(out, "ferry_mount_failures_total", s.mount_failures_total);

  Header(out, "ferry_dataset_bytes_read_total", "counter", "Payload bytes fetched from the source");
  for (const auto& [name, d] : s.datasets) {
    Sample(out, "ferry_dataset_bytes_read_total{dataset=\"" + EscapeLabelValue(name) + "\"}",
           d.bytes_read);
  }
  Header(out, "ferry_dataset_bytes_cached", "gauge", "Bytes of the dataset held in the cache");
  for (const auto& [name, d] : s.datasets) {
    Sample(out, "ferry_dataset_bytes_cached{dataset=\"" + EscapeLabelValue(name) + "\"}",
           d.bytes_cached);
  }
  Header(out, "ferry_dataset_phase", "gauge", "1 for the current phase of each dataset");
  for (const auto& [name, d] : s.datasets) {
    Sample(out,
           "ferry_dataset_phase{dataset=\"" + EscapeLabelValue(name) + "\",phase=\"" +
               std::string(DatasetPhaseName(d.phase)) + "\"}",
           1);
  }
  return out;
}

}  // namespace ferry::sidecar
