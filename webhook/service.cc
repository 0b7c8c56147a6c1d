#include "webhook/service.h"

namespace ferry::webhook {

HttpReply WebhookService::Serve(std::string_view method, std::string_view path,
                                std::string_view body) {
  auto start = clock_.Now();
  HttpReply reply = Route(method, path, body);
  metrics_.Record(path, reply.result, clock_.Now() - start);
  return reply;
}

void WebhookService::Refused(std::string_view path, const HttpReply& reply) {
  metrics_.Record(path, reply.result, std::chrono::nanoseconds(0));
}

HttpReply WebhookService::Route(std::string_view method, std::string_view path,
                                std::string_view body) {
  const bool admission = path == "/mutate" || path == "/validate";
  const bool ops = path == "/healthz" || path == "/readyz" || path == "/metrics";
  if (!admission && !ops) return TextReply(404, "not found: use /mutate, /validate, /healthz, /readyz or /metrics");
  if (admission && method != "POST") return TextReply(405, "use POST");
  if (ops && method != "GET" && method != "HEAD") return TextReply(405, "use GET");
  if (path == "/mutate") return handler_.Mutate(body);
  if (path == "/validate") return handler_.Validate(body);
  HttpReply r;
  r.content_type = "text/plain; charset=utf-8";
  if (path == "/metrics") {
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_.Render();
    return r;
  }
  if (path == "/readyz" && draining_.load()) {
    r = TextReply(503, "draining");
    r.result = "error";
    return r;
  }
  r.body = "ok\n";
  return r;
}

}  // namespace ferry::webhook
