#pragma once
// HttpServer: the HTTPS listener (civetweb is used only in http_server.cc). HTTP/1.1
// with keep-alive, TLS from an SSL_CTX the caller owns (TlsReloader), IPv4. Reads each
// request body (refusing bodies over max_body_bytes with 413 before reading them) and
// hands method, path and body to an HttpHandler on one of civetweb's worker threads.

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "webhook/admission.h"

struct mg_connection;  // civetweb types, opaque outside http_server.cc
struct mg_context;

namespace ferry::webhook {

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  HttpHandler() = default;
  HttpHandler(const HttpHandler&) = delete;
  HttpHandler& operator=(const HttpHandler&) = delete;
  // Called concurrently from worker threads.
  virtual HttpReply Serve(std::string_view method, std::string_view path,
                          std::string_view body) = 0;
  // Records a request the server answered itself (e.g. 413) for metrics.
  virtual void Refused(std::string_view path, const HttpReply& reply) = 0;
};

struct HttpServerOptions {
  std::string host = "0.0.0.0";  // IPv4 address to bind
  uint16_t port = 8443;           // 0 = any free port; see HttpServer::port()
  int num_threads = 32;           // worker threads = concurrent keep-alive connections
  int request_timeout_ms = 10000;
  size_t max_body_bytes = 3u << 20;
  SSL_CTX* ssl_ctx = nullptr;     // required; must outlive the server
};

class HttpServer {
 public:
  // Binds and starts serving. kUnavailable naming host:port when binding fails.
  static StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                     HttpHandler& handler);
  // Stops accepting, finishes requests in flight, joins the workers.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the chosen one when options.port was 0).
  uint16_t port() const { return port_; }

 private:
  HttpServer(HttpServerOptions options, HttpHandler& handler)
      : options_(std::move(options)), handler_(handler) {}
  static int OnRequest(::mg_connection* conn, void* cbdata);

  const HttpServerOptions options_;
  HttpHandler& handler_;
  ::mg_context* ctx_ = nullptr;
  uint16_t port_ = 0;
};

}  // namespace ferry::webhook
