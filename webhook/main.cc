// ferry-webhook: the admission webhook's process. Parses flags and config (exit 2 on
// any usage or configuration error), loads the TLS pair, serves until SIGTERM/SIGINT,
// then drains: /readyz fails for --shutdown-delay, the listener stops and requests in
// flight finish. Exit codes are made only here (STYLE R2).
#include <signal.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/logging.h"
#include "webhook/admission.h"
#include "webhook/config.h"
#include "webhook/flags.h"
#include "webhook/http_server.h"
#include "webhook/metrics.h"
#include "webhook/service.h"
#include "webhook/tls_reloader.h"

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitRuntime = 1;

int Fail(int code, const ferry::Status& s) {
  std::fprintf(stderr, "ferry-webhook: %s\n", std::string(s.message()).c_str());
  if (code == kExitUsage) std::fputs(ferry::webhook::Usage(), stderr);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ferry::webhook;
  ferry::InitLogging("ferry-webhook");
  auto log = ferry::GetLogger("webhook");
  std::vector<std::string> args(argv + 1, argv + argc);
  auto flags = ParseFlags(args);
  if (!flags.ok()) return Fail(kExitUsage, flags.status());
  if (flags->help) {
    std::fputs(Usage(), stdout);
    return 0;
  }
  if (flags->version) {
    std::printf("ferry-webhook %s\n", FERRY_VERSION);
    return 0;
  }
  WebhookConfig config;
  if (!flags->config.empty()) {
    auto c = LoadWebhookConfigFile(flags->config);
    if (!c.ok()) return Fail(kExitUsage, c.status());
    config = std::move(c).value();
  }
  auto handler = AdmissionHandler::Create(config);
  if (!handler.ok()) return Fail(kExitUsage, handler.status());

  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Metrics metrics;
  ferry::RealClock clock;
  auto tls = TlsReloader::Create({flags->tls_cert, flags->tls_key, flags->tls_reload_interval,
                                  [&metrics, log](const ferry::Status& s) {
                                    metrics.RecordTlsReload(s.ok());
                                    if (s.ok()) {
                                      log->info("reloaded TLS certificate and key");
                                    } else {
                                      log->warn("TLS reload failed, keeping the last good pair: {}",
                                                s.message());
                                    }
                                  }});
  if (!tls.ok()) return Fail(kExitUsage, tls.status());
  WebhookService service(**handler, metrics, clock);
  HttpServerOptions opts;
  opts.host = flags->host;
  opts.port = flags->port;
  opts.num_threads = flags->threads;
  opts.ssl_ctx = (*tls)->ctx();
  auto server = HttpServer::Start(opts, service);
  if (!server.ok()) return Fail(kExitRuntime, server.status());
  log->info("serving certificate {}; sidecar {} ({} mode)", (*tls)->CurrentFingerprint(),
            config.ImageRef(), config.mode == SidecarMode::kNative ? "native" : "legacy");
  std::fprintf(stderr, "ferry-webhook: listening on https://%s:%u\n", flags->host.c_str(),
               static_cast<unsigned>((*server)->port()));
  std::fflush(stderr);

  int sig = 0;
  sigwait(&signals, &sig);
  log->info("signal {}: draining", sig);
  service.SetDraining();
  if (flags->shutdown_delay.count() > 0) std::this_thread::sleep_for(flags->shutdown_delay);
  server->reset();  // stops the listener, finishes requests in flight
  log->info("stopped");
  return 0;
}
