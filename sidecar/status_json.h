#pragma once
// The status.json document (docs/sidecar.md): rendering a StatusSnapshot.
// Pure functions, thread-safe.

#include <chrono>
#include <string>

#include "sidecar/status_model.h"

namespace ferry::sidecar {

// RFC 3339 UTC with seconds, e.g. "2026-11-23T14:00:00Z".
std::string FormatRfc3339(std::chrono::system_clock::time_point t);

// The document written to <mnt-dir>/.ferry/status.json and served at /status:
// {"version", "ready", "generation", "specError", "updated", "datasets": {name:
// {"phase", "source", "readOnly", "error", "bytesCached", "bytesRead",
// "lastChange"}}}, pretty-printed with a trailing newline.
std::string StatusToJson(const StatusSnapshot& snapshot);

}  // namespace ferry::sidecar
