#pragma once
// ControlHandler: the propagator's end of the control protocol
// (common/control_protocol.h). Turns one request datagram into one reply
// datagram plus the fds to send with it, by calling the MountManager. Every
// reply echoes the request's "id" when it has one. Malformed requests get an
// error reply, never a crash. Not thread-safe.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"
#include "propagator/mount_manager.h"

namespace ferry::propagator {

struct ControlReply {
  std::string text;
  std::vector<UniqueFd> fds;  // sent with SCM_RIGHTS, then closed
};

class ControlHandler {
 public:
  // `propagation` answers ping's "propagation" field: "ok" or the error.
  ControlHandler(MountManager& mounts, pid_t pid, std::function<std::string()> propagation)
      : mounts_(mounts), pid_(pid), propagation_(std::move(propagation)) {}

  // `fds`: the descriptors that came with the request (backingOpen's file).
  ControlReply Handle(std::string_view request, std::vector<UniqueFd> fds = {});

 private:
  // Each fills `reply` (already {"ok": true}) and `fds`, or returns the error.
  Status Dispatch(const nlohmann::json& req, const std::string& op, nlohmann::json& reply,
                  std::vector<UniqueFd>& in_fds, std::vector<UniqueFd>& fds);
  Status DoMount(const nlohmann::json& req, std::vector<UniqueFd>& fds);
  Status DoSave(const nlohmann::json& req);
  Status DoAdopt(nlohmann::json& reply, std::vector<UniqueFd>& fds);
  Status DoBackingOpen(const nlohmann::json& req, std::vector<UniqueFd>& in_fds,
                       nlohmann::json& reply);
  Status DoBackingClose(const nlohmann::json& req);

  MountManager& mounts_;
  pid_t pid_;
  std::function<std::string()> propagation_;
};

}  // namespace ferry::propagator
