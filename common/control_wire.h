#pragma once
// Framing for the propagator <-> data plane control channel
// (common/control_protocol.h): one JSON object per SOCK_SEQPACKET datagram
// (<= kControlMaxMessageBytes), file descriptors alongside with SCM_RIGHTS.
// Used by both ends. Functions are thread-compatible: one sender and one
// receiver per socket at a time.

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"

namespace ferry {

// The kernel's SCM_MAX_FD: most descriptors one datagram may carry.
inline constexpr size_t kControlMaxFds = 253;

struct WireMessage {
  std::string text;
  std::vector<UniqueFd> fds;  // received with MSG_CMSG_CLOEXEC
};

// Sends one datagram. kInvalidArgument: text over kControlMaxMessageBytes or
// too many fds. kUnavailable (EPIPE, ECONNRESET): the peer is gone. Never
// raises SIGPIPE. EINTR is retried.
Status SendWireMessage(int socket, std::string_view text, const std::vector<int>& fds = {});

// Receives one datagram, blocking. kUnavailable "peer closed the control
// socket" at end of stream; kInvalidArgument for a truncated datagram or
// truncated fd list (any fds that did arrive are closed). EINTR is retried.
StatusOr<WireMessage> RecvWireMessage(int socket);

// Waits until `socket` is readable (or hung up). kDeadlineExceeded after `timeout`.
Status WaitReadable(int socket, std::chrono::milliseconds timeout);

// Parses a JSON object; kInvalidArgument naming the problem. Never throws.
StatusOr<nlohmann::json> ParseJsonObject(std::string_view text);

// {"ok": false, "error": message, "errno": N, "code": "NOT_FOUND"}.
nlohmann::json ErrorReply(const Status& status);

// OK for {"ok": true}; otherwise the Status the reply describes (code from
// "code" when present, else from "errno", else kInternal).
Status StatusFromReply(const nlohmann::json& reply);

// Inverse of StatusCodeName; kInternal for unknown names.
StatusCode StatusCodeFromName(std::string_view name);

}  // namespace ferry
