#pragma once
// StatusServer: the operator endpoints on a localhost port (civetweb):
//   /healthz  200 "ok" while the process serves
//   /readyz   200 "ready" once the initial spec is applied, else 503 and why
//   /status   the status.json document
//   /metrics  Prometheus text (status_metrics.h)
// Two worker threads; every handler only copies a snapshot of the model.
// civetweb appears in this file's .cc only.

#include <memory>
#include <string>

#include "common/status.h"
#include "sidecar/status_model.h"

struct mg_context;
struct mg_connection;

namespace ferry::sidecar {

class StatusServer {
 public:
  // Starts serving on `addr` ("127.0.0.1:9781"; port 0 picks a free one).
  // kUnavailable when the address cannot be bound (the caller logs it and runs
  // on without the endpoints); kInvalidArgument for a malformed address.
  static StatusOr<std::unique_ptr<StatusServer>> Start(const std::string& addr, StatusModel& model);
  ~StatusServer();  // stops the server, joining its threads
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  int port() const { return port_; }  // the bound port

 private:
  explicit StatusServer(StatusModel& model) : model_(model) {}
  static int Handle(::mg_connection* conn, void* self);

  StatusModel& model_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

}  // namespace ferry::sidecar
