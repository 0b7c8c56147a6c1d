#pragma once
// `ferryctl probe`: the sidecar's startupProbe (native sidecars) and blocking
// postStart hook (legacy mode). Ready means status.json says "ready": every
// dataset of the initial spec is Mounted or Failed for good (an empty spec is
// ready at once). With a timeout, waits for the status file to change
// (FileWatcher on <mnt-dir>/.ferry, or <mnt-dir> until that exists), with a
// 250 ms re-check as a backstop.

#include <chrono>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/file_watcher.h"

namespace ferry::ferryctl {

struct ProbeResult {
  int exit_code = 1;    // 0 ready, 1 not ready
  std::string message;  // one line for the kubelet's event / the user
};

ProbeResult ProbeOnce(std::string_view mnt_dir);

// Probes until ready or `timeout` passes (then exit 1 with the last reason).
ProbeResult ProbeWait(std::string_view mnt_dir, std::chrono::milliseconds timeout,
                      FileWatcher& watcher, Clock& clock);

}  // namespace ferry::ferryctl
