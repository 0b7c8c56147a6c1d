#pragma once
// Reading the sidecar's status.json (format: docs/sidecar.md) for
// `ferryctl probe` and `ferryctl status`, and judging readiness. ferryctl
// depends on common/ only, so this is its own reader of the document the
// sidecar writes (sidecar/status_json.cc); an integration test runs both.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry::ferryctl {

inline constexpr char kDefaultSidecarMntDir[] = "/run/ferry/mnt";
inline constexpr char kDefaultAppMntDir[] = "/datasets";

struct DatasetRow {
  std::string name;
  std::string phase;  // Pending | Mounted | Failed | Unmounting
  std::string source;
  bool read_only = true;
  std::string error;
  uint64_t bytes_cached = 0;
  std::string last_change;
};

struct SidecarStatus {
  std::string version;
  bool ready = false;
  uint64_t generation = 0;
  std::string spec_error;
  std::string updated;
  std::vector<DatasetRow> datasets;  // sorted by name
};

// <mnt_dir>/.ferry/status.json
std::string StatusPath(std::string_view mnt_dir);

// Parses the document. kInvalidArgument when it is not status JSON.
StatusOr<SidecarStatus> ParseSidecarStatus(std::string_view json);

// Reads and parses the status of `mnt_dir`. kNotFound when the file is
// missing (message says the sidecar has not written it yet).
StatusOr<SidecarStatus> ReadSidecarStatus(std::string_view mnt_dir);

// Why the status is not ready ("" when ready), e.g. "waiting for 2 of 3
// datasets: b (Pending), c (Pending)" or "spec error: ...".
std::string NotReadyReason(const SidecarStatus& status);

// The human table of `ferryctl status`.
std::string FormatStatusTable(const SidecarStatus& status, std::string_view path);

// "0 B", "1.5 KiB", "3.0 GiB".
std::string HumanBytes(uint64_t bytes);

}  // namespace ferry::ferryctl
