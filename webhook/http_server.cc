#include "webhook/http_server.h"

#include <civetweb.h>
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/logging.h"

namespace ferry::webhook {
namespace {

struct StartContext {
  SSL_CTX* ssl_ctx;
};

int ExternalSslCtx(void** ssl_ctx, void* user_data) {
  auto* server_ctx = static_cast<StartContext*>(user_data);
  // Creation: hand civetweb our context. Teardown (*ssl_ctx set): return 1 so civetweb
  // does not free a context TlsReloader owns.
  if (*ssl_ctx == nullptr) *ssl_ctx = server_ctx->ssl_ctx;
  return 1;
}

int LogMessage(const struct mg_connection*, const char* message) {
  GetLogger("webhook.http")->debug("civetweb: {}", message);
  return 1;
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

void Send(struct mg_connection* conn, const HttpReply& reply, bool close) {
  char head[256];
  int n = std::snprintf(head, sizeof(head),
                        "HTTP/1.1 %d %s\r\nContent-Type: %.*s\r\nContent-Length: %zu\r\n"
                        "Cache-Control: no-store\r\nConnection: %s\r\n\r\n",
                        reply.status, Reason(reply.status),
                        static_cast<int>(reply.content_type.size()), reply.content_type.data(),
                        reply.body.size(), close ? "close" : "keep-alive");
  // One write for head + small bodies: fewer TLS records, fewer syscalls.
  if (reply.body.size() < 16384) {
    std::string all(head, static_cast<size_t>(n));
    all += reply.body;
    mg_write(conn, all.data(), all.size());
  } else {
    mg_write(conn, head, static_cast<size_t>(n));
    mg_write(conn, reply.body.data(), reply.body.size());
  }
}

// Debian's libcivetweb 1.15 is built for the OpenSSL 1.1 API and loads libssl with
// dlopen + dlsym into its function table `ssl_sw` ({name, category, ptr} entries).
// OpenSSL 3 exports SSL_get_peer_certificate only as a macro for
// SSL_get1_peer_certificate, so that entry stays NULL (civetweb's reference count
// makes the failed load look successful) and every TLS connection crashes when civetweb
// calls it right after the handshake. Both functions return a new reference, so the
// fix is to fill the entry with SSL_get1_peer_certificate. The entry is found by
// scanning civetweb's writable segments for a pointer to its "SSL_get_peer_certificate"
// string. No-op when the entry is already set (a civetweb built for OpenSSL 3).
struct TableScan {
  std::vector<std::pair<uintptr_t, size_t>> readable;
  std::vector<std::pair<uintptr_t, size_t>> writable;
};

int CollectCivetwebSegments(struct dl_phdr_info* info, size_t, void* data) {
  if (info->dlpi_name == nullptr || std::strstr(info->dlpi_name, "libcivetweb") == nullptr) {
    return 0;
  }
  auto* scan = static_cast<TableScan*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_flags & PF_R) scan->readable.emplace_back(start, ph.p_memsz);
    if (ph.p_flags & PF_W) scan->writable.emplace_back(start, ph.p_memsz);
  }
  return 1;
}

Status RepairCivetwebTlsTable() {
  TableScan scan;
  dl_iterate_phdr(&CollectCivetwebSegments, &scan);
  static constexpr char kName[] = "SSL_get_peer_certificate";
  int repaired = 0, found = 0;
  for (auto [rstart, rsize] : scan.readable) {
    const char* base = reinterpret_cast<const char*>(rstart);
    for (const char* p = base; p + sizeof(kName) <= base + rsize;) {
      const void* hit = std::memchr(p, 'S', static_cast<size_t>(base + rsize - p));
      if (hit == nullptr) break;
      p = static_cast<const char*>(hit);
      if (std::memcmp(p, kName, sizeof(kName)) == 0 && (p == base || p[-1] == '\0')) {
        for (auto [wstart, wsize] : scan.writable) {
          // Entries are {const char* name; enum category (padded); void (*ptr)(void)}.
          auto* w = reinterpret_cast<uintptr_t*>(wstart);
          size_t n = wsize / sizeof(uintptr_t);
          for (size_t i = 0; i + 2 < n; ++i) {
            if (w[i] != reinterpret_cast<uintptr_t>(p) || w[i + 1] > 8) continue;
            ++found;
            if (w[i + 2] == 0) {
              w[i + 2] = reinterpret_cast<uintptr_t>(&SSL_get1_peer_certificate);
              ++repaired;
            }
          }
        }
      }
      ++p;
    }
  }
  if (found > 0) {
    GetLogger("webhook.http")->debug("civetweb TLS table: {} entries, {} repaired", found, repaired);
  }
  return Status::Ok();
}

}  // namespace

}  // namespace ferry::webhook

// Debian's libcivetweb 1.15 creates its worker threads with a fixed 100 KB stack
// (pthread_attr_setstacksize(attr, 102400), compile-time USE_STACK_SIZE). That is too
// small for the handler in the -O0 ASan build (the integration tests overflowed it in
// nlohmann's recursive serializer) and leaves little margin in Release. This definition
// in the executable interposes the libc function for libcivetweb (the dynamic linker
// binds its PLT call to the executable's symbol first) and raises any stack size asked
// for to at least 1 MiB; untouched stack pages cost no RSS. Everything else passes
// through to libc.
extern "C" int pthread_attr_setstacksize(pthread_attr_t* attr, size_t size) {
  using Fn = int (*)(pthread_attr_t*, size_t);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_attr_setstacksize"));
  constexpr size_t kMinStack = size_t{1} << 20;
  if (real == nullptr) return EINVAL;
  return real(attr, std::max(size, kMinStack));
}

namespace ferry::webhook {

int HttpServer::OnRequest(::mg_connection* conn, void* cbdata) {
  auto* self = static_cast<HttpServer*>(cbdata);
  const struct mg_request_info* info = mg_get_request_info(conn);
  std::string_view method = info->request_method ? info->request_method : "";
  std::string_view path = info->local_uri ? info->local_uri : "";
  const size_t max = self->options_.max_body_bytes;
  if (info->content_length > static_cast<long long>(max)) {
    HttpReply r = TextReply(413, "body is larger than 3 MiB");
    self->handler_.Refused(path, r);
    Send(conn, r, /*close=*/true);  // unread body: the connection cannot be reused
    return 413;
  }
  // Read straight into the body (no stack buffer: civetweb's threads have 100 KB stacks).
  std::string body;
  size_t want = info->content_length > 0 ? static_cast<size_t>(info->content_length) : 16384;
  for (;;) {
    size_t have = body.size();
    body.resize(have + std::max<size_t>(want - std::min(want, have), 16384));
    int got = mg_read(conn, body.data() + have, body.size() - have);
    body.resize(have + static_cast<size_t>(std::max(got, 0)));
    if (got <= 0) break;
    if (body.size() > max) {
      HttpReply r = TextReply(413, "body is larger than 3 MiB");
      self->handler_.Refused(path, r);
      Send(conn, r, /*close=*/true);
      return 413;
    }
  }
  HttpReply reply = self->handler_.Serve(method, path, body);
  Send(conn, reply, /*close=*/false);
  return reply.status;
}

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                        HttpHandler& handler) {
  if (options.ssl_ctx == nullptr) return InvalidArgument("HttpServer needs an SSL_CTX");
  std::unique_ptr<HttpServer> server(new HttpServer(options, handler));
  mg_init_library(MG_FEATURES_TLS);
  FERRY_RETURN_IF_ERROR(RepairCivetwebTlsTable());
  std::string ports = (options.host.empty() ? "" : options.host + ":") +
                      std::to_string(options.port) + "s";
  std::string threads = std::to_string(options.num_threads);
  std::string timeout = std::to_string(options.request_timeout_ms);
  const char* cfg[] = {"listening_ports", ports.c_str(),
                       "num_threads", threads.c_str(),
                       "enable_keep_alive", "yes",
                       "keep_alive_timeout_ms", "60000",
                       "request_timeout_ms", timeout.c_str(),
                       "tcp_nodelay", "1",
                       "listen_backlog", "512",
                       "connection_queue", "256",
                       "enable_auth_domain_check", "no",
                       nullptr};
  // civetweb copies what it needs during mg_start; the SSL_CTX pointer is read through
  // user_data only inside mg_start (creation) and mg_stop (teardown, ignored).
  static StartContext start_ctx;  // NOLINT: written before mg_start, read only inside it
  start_ctx.ssl_ctx = options.ssl_ctx;
  struct mg_callbacks callbacks {};
  callbacks.external_ssl_ctx = &ExternalSslCtx;
  callbacks.log_message = &LogMessage;
  struct mg_init_data init {};
  init.callbacks = &callbacks;
  init.user_data = &start_ctx;
  init.configuration_options = cfg;
  struct mg_error_data err {};
  char errtext[256] = {0};
  err.text = errtext;
  err.text_buffer_size = sizeof(errtext);
  server->ctx_ = mg_start2(&init, &err);
  if (server->ctx_ == nullptr) {
    mg_exit_library();
    return Unavailable("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                       ": " + errtext);
  }
  mg_set_request_handler(server->ctx_, "/", &HttpServer::OnRequest, server.get());
  struct mg_server_port bound[4] {};
  int n = mg_get_server_ports(server->ctx_, 4, bound);
  if (n < 1) return Internal("civetweb reports no listening port");
  server->port_ = static_cast<uint16_t>(bound[0].port);
  return server;
}

HttpServer::~HttpServer() {
  if (ctx_ != nullptr) {
    mg_stop(ctx_);
    mg_exit_library();
  }
}

}  // namespace ferry::webhook
