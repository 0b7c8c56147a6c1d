#pragma once
// The exec:// half of `ferry-sidecar mount` (standalone_mount.h):
//
//   ferry-sidecar mount exec:///usr/bin/s3fs DIR [-o k=v,...] [-f] -- ARGS...
//
// runs a vendor FUSE binary (libfuse >= 3.3) on a mount ferry makes itself
// (as root: open /dev/fuse, mount(2) at DIR, common/fuse_mount.h) and hands
// over as "/dev/fd/3", exactly as the reconciler serves exec:// datasets with
// the propagator's mount (ExecMount): ARGS (or -o args=TEXT without commas)
// are the binary's arguments, `{mountpoint}` replaced, `-f` added. The binary
// is supervised in the foreground: when it exits or crashes, DIR is lazily
// detached and mounted afresh (the kernel sends INIT once per mount) and the
// binary restarted after a backoff; its stdout/stderr go to ferry's log.
// SIGINT/SIGTERM/SIGHUP stop the binary (SIGTERM, SIGKILL after stop_grace),
// lazily detach DIR and exit 0; an external unmount of DIR ends it too.
//
// Options (-o): ro, allow_other, default_permissions, nonempty (accepted),
//   fsname=NAME, read_ahead_kb=N (16384; 0 = kernel default), args=TEXT,
//   restart_backoff=D (500ms), restart_backoff_max=D (30s), stop_grace=D (5s).
// Anything else is refused with a message naming it (the binary's own
// options go after --).

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/fuse_mount.h"
#include "common/status.h"
#include "sidecar/exec_mount.h"
#include "sidecar/source/exec_spec.h"

namespace ferry::sidecar {

struct StandaloneExecConfig {
  ExecSpec spec;
  FuseFdMountOptions mount;
  ExecMount::Options exec;
};

// kInvalidArgument naming the bad option, the bad URL or the clash of -o args
// with arguments after --.
StatusOr<StandaloneExecConfig> MakeStandaloneExecConfig(
    std::string_view url, const std::map<std::string, std::string>& options,
    const std::vector<std::string>& trailing_args);

// Mounts DIR, starts and supervises the binary until a stop signal or an
// external unmount. `ready(code)` is called once: 0 when the binary has been
// started on the mount, else the exit code about to be returned. Installs
// handlers for SIGINT/SIGTERM/SIGHUP (no signal may be blocked: the binary
// inherits the mask). Returns the process exit code (0 clean, 1 errors).
int RunStandaloneExec(const StandaloneExecConfig& config, const std::string& dir,
                      const std::function<void(int)>& ready);

}  // namespace ferry::sidecar
