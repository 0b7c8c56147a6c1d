#pragma once
// WebhookService: routes HTTP requests to the AdmissionHandler and answers the
// operational endpoints; records every request in Metrics.
//   POST /mutate, POST /validate   AdmissionReview in, AdmissionReview out
//   GET  /healthz                  200 "ok" while the process serves
//   GET  /readyz                   200 "ok", 503 once draining (SIGTERM)
//   GET  /metrics                  Prometheus text
// Anything else: 404; wrong method: 405. Thread-safe.

#include <atomic>
#include <string_view>

#include "common/clock.h"
#include "webhook/admission.h"
#include "webhook/http_server.h"
#include "webhook/metrics.h"

namespace ferry::webhook {

class WebhookService final : public HttpHandler {
 public:
  WebhookService(const AdmissionHandler& handler, Metrics& metrics, Clock& clock)
      : handler_(handler), metrics_(metrics), clock_(clock) {}

  HttpReply Serve(std::string_view method, std::string_view path, std::string_view body) override;
  void Refused(std::string_view path, const HttpReply& reply) override;

  // /readyz answers 503 from now on (load balancers stop sending before shutdown).
  void SetDraining() { draining_.store(true); }

 private:
  HttpReply Route(std::string_view method, std::string_view path, std::string_view body);

  const AdmissionHandler& handler_;
  Metrics& metrics_;
  Clock& clock_;
  std::atomic<bool> draining_{false};
};

}  // namespace ferry::webhook
