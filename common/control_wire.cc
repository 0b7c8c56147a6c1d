#include "common/control_wire.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/control_protocol.h"

namespace ferry {

Status SendWireMessage(int socket, std::string_view text, const std::vector<int>& fds) {
  if (text.size() > kControlMaxMessageBytes) {
    return InvalidArgument("control message of " + std::to_string(text.size()) +
                           " bytes is over the limit of " +
                           std::to_string(kControlMaxMessageBytes));
  }
  if (fds.size() > kControlMaxFds) {
    return InvalidArgument("control message carries " + std::to_string(fds.size()) +
                           " fds, more than " + std::to_string(kControlMaxFds));
  }
  iovec iov{const_cast<char*>(text.data()), text.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.assign(CMSG_SPACE(sizeof(int) * fds.size()), 0);
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (n >= 0) return Status::Ok();
    if (errno == EINTR) continue;
    return StatusFromErrno(errno, "send on the control socket");
  }
}

StatusOr<WireMessage> RecvWireMessage(int socket) {
  std::string buf(kControlMaxMessageBytes + 1, '\0');
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kControlMaxFds), 0);
  iovec iov{buf.data(), buf.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n;
  for (;;) {
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0 || errno != EINTR) break;
  }
  if (n < 0) return StatusFromErrno(errno, "receive on the control socket");
  WireMessage out;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      out.fds.emplace_back(fd);
    }
  }
  if ((msg.msg_flags & MSG_CTRUNC) != 0) {
    return InvalidArgument("control message carried more fds than the receiver accepts");
  }
  if ((msg.msg_flags & MSG_TRUNC) != 0 || static_cast<size_t>(n) > kControlMaxMessageBytes) {
    return InvalidArgument("control message over " + std::to_string(kControlMaxMessageBytes) +
                           " bytes");
  }
  if (n == 0 && out.fds.empty()) return Unavailable("peer closed the control socket");
  buf.resize(static_cast<size_t>(n));
  out.text = std::move(buf);
  return out;
}

Status WaitReadable(int socket, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    pollfd p{socket, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) return Status::Ok();
    if (r == 0) return DeadlineExceeded("no reply on the control socket within " +
                                        std::to_string(timeout.count()) + " ms");
    if (errno != EINTR) return StatusFromErrno(errno, "poll on the control socket");
  }
}

StatusOr<nlohmann::json> ParseJsonObject(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("control message is not valid JSON");
  if (!j.is_object()) return InvalidArgument("control message is not a JSON object");
  return j;
}

nlohmann::json ErrorReply(const Status& status) {
  nlohmann::json j;
  j["ok"] = false;
  j["error"] = std::string(status.message());
  j["errno"] = status.sys_errno();
  j["code"] = std::string(StatusCodeName(status.code()));
  return j;
}

StatusCode StatusCodeFromName(std::string_view name) {
  for (int c = static_cast<int>(StatusCode::kOk); c <= static_cast<int>(StatusCode::kCancelled);
       ++c) {
    if (StatusCodeName(static_cast<StatusCode>(c)) == name) return static_cast<StatusCode>(c);
  }
  return StatusCode::kInternal;
}

Status StatusFromReply(const nlohmann::json& reply) {
  auto ok = reply.find("ok");
  if (ok != reply.end() && ok->is_boolean() && ok->get<bool>()) return Status::Ok();
  std::string message = "control reply without \"ok\"";
  auto error = reply.find("error");
  if (error != reply.end() && error->is_string()) message = error->get<std::string>();
  int err = 0;
  auto e = reply.find("errno");
  if (e != reply.end() && e->is_number_integer()) err = e->get<int>();
  auto code = reply.find("code");
  if (code != reply.end() && code->is_string()) {
    StatusCode c = StatusCodeFromName(code->get<std::string>());
    if (c != StatusCode::kOk) return Status(c, message, err);
  }
  if (err != 0) {
    Status s = StatusFromErrno(err, "");
    return Status(s.code(), message, err);
  }
  return Internal(message);
}

}  // namespace ferry
