#pragma once
// Prometheus text exposition (format 0.0.4) of a StatusSnapshot, served at
// /metrics. Pure function, thread-safe.
//
//   ferry_ready                              1 once the initial spec is applied
//   ferry_spec_generation                    specs applied
//   ferry_spec_error                         1 while the last read spec is bad
//   ferry_datasets{phase="Mounted"}          datasets per phase (every phase listed)
//   ferry_reconciles_total                   reconcile passes
//   ferry_spec_errors_total                  bad specs seen
//   ferry_mount_failures_total               datasets that failed to mount
//   ferry_dataset_bytes_read_total{dataset}  payload bytes fetched from the source
//   ferry_dataset_bytes_cached{dataset}      bytes held in the cache
//   ferry_dataset_phase{dataset,phase}       1 for the dataset's current phase

#include <string>

#include "sidecar/status_model.h"

namespace ferry::sidecar {

std::string RenderMetrics(const StatusSnapshot& snapshot);

// Escapes a Prometheus label value (backslash, quote, newline).
std::string EscapeLabelValue(std::string_view value);

}  // namespace ferry::sidecar
