#include "sidecar/status_server.h"

#include <civetweb.h>

#include <cstring>
#include <string_view>

#include "sidecar/status_json.h"
#include "sidecar/status_metrics.h"

namespace ferry::sidecar {
namespace {

void Reply(mg_connection* conn, int code, const char* content_type, const std::string& body) {
  mg_response_header_start(conn, code);
  mg_response_header_add(conn, "Content-Type", content_type, -1);
  mg_response_header_add(conn, "Content-Length", std::to_string(body.size()).c_str(), -1);
  mg_response_header_add(conn, "Cache-Control", "no-store", -1);
  mg_response_header_send(conn);
  mg_write(conn, body.data(), body.size());
}

std::string NotReadyReason(const StatusSnapshot& s) {
  std::string why = "not ready:";
  if (!s.spec_error.empty()) why += " spec error: " + s.spec_error + ";";
  for (const auto& [name, d] : s.datasets) {
    if (d.phase == DatasetPhase::kPending) why += " " + name + " Pending;";
  }
  if (why.back() == ':') why += " the initial spec is not applied yet";
  return why + "\n";
}

}  // namespace

StatusOr<std::unique_ptr<StatusServer>> StatusServer::Start(const std::string& addr,
                                                            StatusModel& model) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos || colon + 1 == addr.size() ||
      addr.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    return InvalidArgument("status address \"" + addr +
                           "\" must be HOST:PORT, e.g. 127.0.0.1:9781");
  }
  std::unique_ptr<StatusServer> server(new StatusServer(model));
  const char* options[] = {"listening_ports",    addr.c_str(), "num_threads", "2",
                           "request_timeout_ms", "5000",       nullptr};
  mg_callbacks callbacks{};
  // Silence civetweb's own stderr logging of bind errors: we report them.
  callbacks.log_message = [](const mg_connection*, const char*) { return 1; };
  server->ctx_ = mg_start(&callbacks, nullptr, options);
  if (server->ctx_ == nullptr) {
    return Unavailable("cannot listen on " + addr + " (address in use or not local?)");
  }
  mg_server_port ports[4];
  int n = mg_get_server_ports(server->ctx_, 4, ports);
  if (n > 0) server->port_ = ports[0].port;
  for (const char* path : {"/healthz$", "/readyz$", "/status$", "/metrics$"}) {
    mg_set_request_handler(server->ctx_, path, &StatusServer::Handle, server.get());
  }
  return server;
}

StatusServer::~StatusServer() {
  if (ctx_ != nullptr) mg_stop(ctx_);
}

int StatusServer::Handle(mg_connection* conn, void* self_ptr) {
  auto* self = static_cast<StatusServer*>(self_ptr);
  const mg_request_info* info = mg_get_request_info(conn);
  std::string_view uri = info->local_uri != nullptr ? info->local_uri : "";
  if (std::strcmp(info->request_method, "GET") != 0 &&
      std::strcmp(info->request_method, "HEAD") != 0) {
    Reply(conn, 405, "text/plain", "use GET\n");
    return 405;
  }
  StatusSnapshot snap = self->model_.Snapshot();
  if (uri == "/healthz") {
    Reply(conn, 200, "text/plain", "ok\n");
    return 200;
  }
  if (uri == "/readyz") {
    if (snap.ready) {
      Reply(conn, 200, "text/plain", "ready\n");
      return 200;
    }
    Reply(conn, 503, "text/plain", NotReadyReason(snap));
    return 503;
  }
  if (uri == "/status") {
    Reply(conn, 200, "application/json", StatusToJson(snap));
    return 200;
  }
  Reply(conn, 200, "text/plain; version=0.0.4", RenderMetrics(snap));
  return 200;
}

}  // namespace ferry::sidecar
