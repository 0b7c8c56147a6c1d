// PropagatorClient: the data plane's end of the control channel.

#include "common/control_protocol.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>

#include "common/control_wire.h"

namespace ferry {
namespace {

// A propagator answers in microseconds; this only bounds a wedged one.
constexpr std::chrono::seconds kReplyTimeout{30};

struct Reply {
  nlohmann::json body;
  std::vector<UniqueFd> fds;
};

// One request, one reply. Each request carries a fresh "id" the propagator
// echoes; a reply with another id is a late answer to an earlier request that
// timed out, and is skipped so the pairing never shifts.
StatusOr<Reply> Call(int socket, nlohmann::json request, uint64_t id,
                     const std::vector<int>& fds = {}) {
  request["id"] = id;
  FERRY_RETURN_IF_ERROR(SendWireMessage(
      socket, request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), fds));
  for (;;) {
    FERRY_RETURN_IF_ERROR(WaitReadable(socket, kReplyTimeout));
    FERRY_ASSIGN_OR_RETURN(WireMessage msg, RecvWireMessage(socket));
    FERRY_ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonObject(msg.text));
    auto rid = body.find("id");
    if (rid != body.end() && rid->is_number_unsigned() && rid->get<uint64_t>() != id) continue;
    Status s = StatusFromReply(body);
    if (!s.ok()) return s.WithContext("propagator refused " + request["op"].get<std::string>());
    return Reply{std::move(body), std::move(msg.fds)};
  }
}

// Distinct for calls that are more than a nanosecond apart, which any two
// round trips on one socket are.
uint64_t NextId() {
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace

PropagatorClient::PropagatorClient(UniqueFd socket) : socket_(std::move(socket)) {}

StatusOr<std::unique_ptr<PropagatorClient>> PropagatorClient::FromEnv() {
  const char* v = std::getenv(kControlFdEnv);
  if (v == nullptr || *v == '\0') {
    return NotFound(std::string(kControlFdEnv) +
                    " is not set: run the data plane under ferry-propagator");
  }
  std::string_view s(v);
  int fd = -1;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), fd);
  if (ec != std::errc() || p != s.data() + s.size() || fd < 0) {
    return InvalidArgument(std::string(kControlFdEnv) + "=\"" + std::string(s) +
                           "\" is not a file descriptor number");
  }
  int type = 0;
  socklen_t len = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
    return StatusFromErrno(errno, std::string(kControlFdEnv) + "=" + std::string(s) +
                                      " is not an open socket");
  }
  if (type != SOCK_SEQPACKET) {
    return InvalidArgument(std::string(kControlFdEnv) + " is not a SOCK_SEQPACKET socket");
  }
  // Programs the data plane starts (exec:// sources) must not inherit the channel.
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
    return StatusFromErrno(errno, "set FD_CLOEXEC on the control socket");
  }
  return std::make_unique<PropagatorClient>(UniqueFd(fd));
}

StatusOr<UniqueFd> PropagatorClient::Mount(const FuseMountRequest& request) {
  nlohmann::json j = {{"op", "mount"},
                      {"name", request.name},
                      {"readOnly", request.read_only},
                      {"fsname", request.fsname}};
  MutexLock lock(mu_);
  FERRY_ASSIGN_OR_RETURN(Reply r, Call(socket_.get(), std::move(j), NextId()));
  if (r.fds.size() != 1) {
    return Internal("propagator answered mount of \"" + request.name + "\" with " +
                    std::to_string(r.fds.size()) + " fds instead of 1");
  }
  return std::move(r.fds[0]);
}

Status PropagatorClient::Unmount(std::string_view name) {
  nlohmann::json j = {{"op", "unmount"}, {"name", std::string(name)}};
  MutexLock lock(mu_);
  FERRY_ASSIGN_OR_RETURN(Reply r, Call(socket_.get(), std::move(j), NextId()));
  return Status::Ok();
}

StatusOr<std::vector<KeptMount>> PropagatorClient::Adopt() {
  MutexLock lock(mu_);
  FERRY_ASSIGN_OR_RETURN(Reply r, Call(socket_.get(), {{"op", "adopt"}}, NextId()));
  auto mounts = r.body.find("mounts");
  if (mounts == r.body.end() || !mounts->is_array()) {
    return Internal("propagator's adopt reply has no \"mounts\" array");
  }
  if (mounts->size() != r.fds.size()) {
    return Internal("propagator's adopt reply lists " + std::to_string(mounts->size()) +
                    " mounts but carries " + std::to_string(r.fds.size()) + " fds");
  }
  std::vector<KeptMount> out;
  for (size_t i = 0; i < mounts->size(); ++i) {
    const nlohmann::json& m = (*mounts)[i];
    if (!m.is_object() || !m.contains("name") || !m["name"].is_string()) {
      return Internal("propagator's adopt reply has a mount without a name");
    }
    KeptMount k;
    k.name = m["name"].get<std::string>();
    if (m.contains("readOnly") && m["readOnly"].is_boolean()) k.read_only = m["readOnly"].get<bool>();
    if (m.contains("state") && m["state"].is_string()) k.state = m["state"].get<std::string>();
    k.fuse_fd = std::move(r.fds[i]);
    out.push_back(std::move(k));
  }
  return out;
}

Status PropagatorClient::SaveState(std::string_view name, std::string_view state) {
  nlohmann::json j = {{"op", "save"}, {"name", std::string(name)}, {"state", std::string(state)}};
  MutexLock lock(mu_);
  FERRY_ASSIGN_OR_RETURN(Reply r, Call(socket_.get(), std::move(j), NextId()));
  return Status::Ok();
}

StatusOr<int32_t> PropagatorClient::BackingOpen(std::string_view name, int file_fd) {
  nlohmann::json j = {{"op", "backingOpen"}, {"name", std::string(name)}};
  MutexLock lock(mu_);
  FERRY_ASSIGN_OR_RETURN(Reply r, Call(socket_.get(), std::move(j), NextId(), {file_fd}));
  auto id = r.body.find("backingId");
  if (id == r.body.end() || !id->is_number_integer() || id->get<int64_t>() <= 0 ||
      id->get<int64_t>() > INT32_MAX) {
    return Internal("propagator's backingOpen reply has no valid \"backingId\"");
  }
  return static_cast<int32_t>(id->get<int64_t>());
}

Status PropagatorClient::BackingClose(std::string_view name, int32_t backing_id) {
  nlohmann::json j = {{"op", "backingClose"}, {"name", std::string(name)}, {"backingId", backing_id}};
  MutexLock lock(mu_);
  FERRY_ASSIGN_OR_RETURN(Reply r, Call(socket_.get(), std::move(j), NextId()));
  return Status::Ok();
}

Status PropagatorClient::Ping() {
  MutexLock lock(mu_);
  FERRY_ASSIGN_OR_RETURN(Reply r, Call(socket_.get(), {{"op", "ping"}}, NextId()));
  auto prop = r.body.find("propagation");
  if (prop != r.body.end() && prop->is_string() && prop->get<std::string>() != "ok") {
    return FailedPrecondition("propagator reports mount propagation broken: " +
                              prop->get<std::string>());
  }
  return Status::Ok();
}

}  // namespace ferry
