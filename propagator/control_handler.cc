#include "propagator/control_handler.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdint>

#include "common/control_wire.h"
#include "common/fuse_backing.h"
#include "common/logging.h"

namespace ferry::propagator {
namespace {

StatusOr<std::string> StringField(const nlohmann::json& req, const char* key) {
  auto it = req.find(key);
  if (it == req.end() || !it->is_string()) {
    return InvalidArgument(std::string("request needs a string field \"") + key + "\"");
  }
  return it->get<std::string>();
}

}  // namespace

Status ControlHandler::DoMount(const nlohmann::json& req, std::vector<UniqueFd>& fds) {
  FERRY_ASSIGN_OR_RETURN(std::string name, StringField(req, "name"));
  FuseMountRequest m;
  m.name = std::move(name);
  auto ro = req.find("readOnly");
  if (ro != req.end() && ro->is_boolean()) m.read_only = ro->get<bool>();
  auto fs = req.find("fsname");
  if (fs != req.end() && fs->is_string()) m.fsname = fs->get<std::string>();
  FERRY_ASSIGN_OR_RETURN(UniqueFd fd, mounts_.Mount(m));
  fds.push_back(std::move(fd));
  return Status::Ok();
}

Status ControlHandler::DoSave(const nlohmann::json& req) {
  FERRY_ASSIGN_OR_RETURN(std::string name, StringField(req, "name"));
  FERRY_ASSIGN_OR_RETURN(std::string state, StringField(req, "state"));
  return mounts_.SaveState(name, state);
}

Status ControlHandler::DoAdopt(nlohmann::json& reply, std::vector<UniqueFd>& fds) {
  FERRY_ASSIGN_OR_RETURN(std::vector<KeptMount> kept, mounts_.Adopt());
  nlohmann::json list = nlohmann::json::array();
  for (KeptMount& k : kept) {
    list.push_back({{"name", k.name}, {"readOnly", k.read_only}, {"state", k.state}});
    fds.push_back(std::move(k.fuse_fd));
  }
  reply["mounts"] = std::move(list);
  return Status::Ok();
}

Status ControlHandler::DoBackingOpen(const nlohmann::json& req, std::vector<UniqueFd>& in_fds,
                                     nlohmann::json& reply) {
  FERRY_ASSIGN_OR_RETURN(std::string name, StringField(req, "name"));
  if (in_fds.size() != 1) {
    return InvalidArgument("backingOpen needs exactly 1 fd, got " + std::to_string(in_fds.size()));
  }
  // The kernel re-opens the backing file's path with *our* credentials on
  // every FUSE open: only accept a regular file the data plane itself has
  // open for reading (an O_PATH fd needs no read permission).
  int file_fd = in_fds[0].get();
  int fl = ::fcntl(file_fd, F_GETFL);
  struct stat st;
  if (fl < 0 || (fl & O_PATH) != 0 || (fl & O_ACCMODE) == O_WRONLY ||
      ::fstat(file_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return PermissionDenied(
        "backingOpen needs a regular file opened for reading (not O_PATH, not write-only)");
  }
  FERRY_ASSIGN_OR_RETURN(int fuse_fd, mounts_.FuseFd(name));
  FERRY_ASSIGN_OR_RETURN(int32_t id, FuseBackingOpen(fuse_fd, file_fd));
  reply["backingId"] = id;
  return Status::Ok();
}

Status ControlHandler::DoBackingClose(const nlohmann::json& req) {
  FERRY_ASSIGN_OR_RETURN(std::string name, StringField(req, "name"));
  auto id = req.find("backingId");
  if (id == req.end() || !id->is_number_integer() || id->get<int64_t>() <= 0 ||
      id->get<int64_t>() > INT32_MAX) {
    return InvalidArgument("backingClose needs a positive integer \"backingId\"");
  }
  FERRY_ASSIGN_OR_RETURN(int fuse_fd, mounts_.FuseFd(name));
  return FuseBackingClose(fuse_fd, static_cast<int32_t>(id->get<int64_t>()));
}

Status ControlHandler::Dispatch(const nlohmann::json& req, const std::string& op,
                                nlohmann::json& reply, std::vector<UniqueFd>& in_fds,
                                std::vector<UniqueFd>& fds) {
  if (op == "backingOpen") return DoBackingOpen(req, in_fds, reply);
  if (op == "backingClose") return DoBackingClose(req);
  if (op == "mount") return DoMount(req, fds);
  if (op == "unmount") {
    FERRY_ASSIGN_OR_RETURN(std::string name, StringField(req, "name"));
    return mounts_.Unmount(name);
  }
  if (op == "save") return DoSave(req);
  if (op == "adopt") return DoAdopt(reply, fds);
  if (op == "ping") {
    reply["pid"] = pid_;
    reply["propagation"] = propagation_ ? propagation_() : std::string("ok");
    return Status::Ok();
  }
  return InvalidArgument("unknown op \"" + op + "\"; expected mount, unmount, adopt, save, ping, backingOpen or backingClose");
}

ControlReply ControlHandler::Handle(std::string_view request, std::vector<UniqueFd> fds) {
  ControlReply out;
  nlohmann::json reply = {{"ok", true}};
  std::string op;
  StatusOr<nlohmann::json> parsed = ParseJsonObject(request);
  Status status = parsed.status();
  if (parsed.ok()) {
    auto op_it = parsed->find("op");
    if (op_it != parsed->end() && op_it->is_string()) op = op_it->get<std::string>();
    status = Dispatch(*parsed, op, reply, fds, out.fds);
  }
  if (!status.ok()) {
    GetLogger("propagator")->warn("control request {} failed: {}", op.empty() ? "?" : op,
                                  status.ToString());
    reply = ErrorReply(status);
    out.fds.clear();
  }
  if (parsed.ok()) {
    auto id = parsed->find("id");
    if (id != parsed->end() && id->is_number_unsigned()) reply["id"] = *id;
  }
  out.text = reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return out;
}

}  // namespace ferry::propagator
