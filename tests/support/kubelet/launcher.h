#pragma once
// ferry-kubelet-run: the container-runtime half of the kubelet emulator used by
// the end-to-end tests (tests/e2e, driven by tests/support/kubelet/ferry_kubelet).
//
// Three modes, each a small process the Python driver starts and tracks by PID:
//  - node:    a mount namespace standing for one Kubernetes node. `/` is made
//             rprivate (nothing leaks to the real host) and DIR/kubelet is bound
//             onto itself and made shared, like /var/lib/kubelet on a systemd host,
//             so pod volumes below it can carry Bidirectional propagation.
//  - sandbox: a pod's network/UTS/IPC namespaces (the "pause" container):
//             loopback up, hostname = pod name.
//  - run:     one container. Joins the node's mount namespace and the sandbox's
//             namespaces, unshares mount + PID namespaces, builds a tmpfs root
//             (read-only binds of the host's /usr /etc ..., fresh /proc, /dev,
//             the build's bin/ at /usr/local/bin), binds every volumeMount at its
//             mountPath with the propagation it asks for (rshared / rslave /
//             rprivate, MS_RDONLY remount for readOnly), pivot_roots, sets
//             uid/gid/capabilities and execs the command as PID 1 of its PID
//             namespace. The launcher stays as the parent ("shim") and exits with
//             the container's status (exit code, or 128 + signal).
// Each mode writes the PID of the process that owns the namespaces to the fd
// given by --report-fd, then lives until that process ends; node and sandbox
// end on SIGTERM or when stdin reaches EOF (the driver died).

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace ferry::kubelet {

enum class Propagation { kPrivate, kSlave, kShared };

struct VolumeBind {
  std::string source;  // path in the node's mount namespace
  std::string target;  // mountPath inside the container
  Propagation propagation = Propagation::kPrivate;
  bool read_only = false;
};

struct ContainerSpec {
  std::string node_mntns;  // /proc/<node>/ns/mnt
  int sandbox_pid = 0;     // its net, uts and ipc namespaces are joined
  std::string rootfs;      // empty directory in the node namespace to build the root on
  std::string bin_dir;     // bound read-only at /usr/local/bin when non-empty
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "K=V"
  std::string cwd = "/";
  unsigned uid = 0;
  unsigned gid = 0;
  bool privileged = false;
  std::vector<std::string> cap_add;  // "SYS_ADMIN", "ALL", ...
  std::vector<std::string> cap_drop;
  bool no_new_privs = false;
  bool read_only_rootfs = false;
  std::vector<VolumeBind> mounts;
};

// Parses the JSON the driver writes (field names as in ContainerSpec, camelCase
// not used: node_mntns, sandbox_pid, ...). kInvalidArgument on bad input.
StatusOr<ContainerSpec> ParseContainerSpec(const nlohmann::json& j);

// In the calling process (already in its fresh mount + PID namespace): builds
// the root at spec.rootfs, binds the volumes and pivot_roots into it.
Status BuildContainerRoot(const ContainerSpec& spec);

// Sets groups, gid, uid, capabilities and no_new_privs as the spec asks.
Status ApplySecurity(const ContainerSpec& spec);

// Runs the node / sandbox modes; return the process exit code.
int RunNode(const std::string& dir, int report_fd);
int RunSandbox(const std::string& hostname, int report_fd);

}  // namespace ferry::kubelet
