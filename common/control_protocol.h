#pragma once
// The control channel between ferry-propagator (privileged, PID 1 of the
// sidecar container) and ferry-sidecar (its unprivileged child, the data plane).
//
// Transport: an AF_UNIX SOCK_SEQPACKET socketpair made by the propagator; the
// child end is inherited as the fd named by env FERRY_CONTROL_FD. One request
// datagram, one reply datagram, strictly alternating; each is a JSON object of
// at most 64 KiB, fds ride along with SCM_RIGHTS. Requests: {"op": ...}.
// Replies: {"ok": true, ...} or {"ok": false, "error": "...", "errno": N}.
//
//   mount    {name, readOnly, fsname}     -> {ok} + 1 fd: the /dev/fuse fd of a
//            fresh FUSE mount at <mnt-dir>/<name> (kernel INIT pending). The
//            propagator keeps a dup until unmount.
//   unmount  {name}                        -> {ok}: lazy detach (MNT_DETACH), the
//            propagator's dup is closed. Unknown name: ok (idempotent).
//   adopt    {}                            -> {ok, mounts:[{name, readOnly, state}]}
//            + one fd per mount in the same order: the mounts kept from a
//            previous data plane instance, with the state blob it saved.
//   save     {name, state}                 -> {ok}: opaque base64 state the
//            data plane wants back after a crash (negotiated INIT, inode table).
//   ping     {}                            -> {ok, pid, propagation: "ok"|"...error..."}
//   backingOpen  {name} + 1 fd              -> {ok, backingId}: registers the fd
//            (a regular file the data plane opened) as a FUSE passthrough
//            backing file on the connection of mount <name>
//            (FUSE_DEV_IOC_BACKING_OPEN needs CAP_SYS_ADMIN, which the data
//            plane lacks). kNotFound: not mounted.
//   backingClose {name, backingId}          -> {ok}: drops that registration.
//
// The client serializes calls; it is thread-safe.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace ferry {

inline constexpr char kControlFdEnv[] = "FERRY_CONTROL_FD";
inline constexpr size_t kControlMaxMessageBytes = 64 * 1024;

struct FuseMountRequest {
  std::string name;    // dataset name, one path component
  bool read_only = true;
  std::string fsname;  // shown in /proc/mounts, e.g. "ferry:imagenet"
};

struct KeptMount {
  std::string name;
  bool read_only = true;
  std::string state;  // as saved by the data plane; may be empty
  UniqueFd fuse_fd;
};

class PropagatorClient {
 public:
  explicit PropagatorClient(UniqueFd socket);
  // From env FERRY_CONTROL_FD; kNotFound if unset.
  static StatusOr<std::unique_ptr<PropagatorClient>> FromEnv();

  StatusOr<UniqueFd> Mount(const FuseMountRequest& request);
  Status Unmount(std::string_view name);
  StatusOr<std::vector<KeptMount>> Adopt();
  Status SaveState(std::string_view name, std::string_view state);
  Status Ping();
  // See backingOpen / backingClose above.
  StatusOr<int32_t> BackingOpen(std::string_view name, int file_fd);
  Status BackingClose(std::string_view name, int32_t backing_id);

 private:
  Mutex mu_;  // serializes request/reply pairs on socket_
  UniqueFd socket_ FERRY_GUARDED_BY(mu_);
};

}  // namespace ferry
