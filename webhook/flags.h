#pragma once
// Command line of ferry-webhook (docs/webhook.md). Parsing is pure so tests reach it.
//   --listen HOST:PORT        IPv4 address and port; PORT 0 picks a free one (default 0.0.0.0:8443)
//   --tls-cert FILE           PEM certificate (+ chain), reloaded when it changes (required)
//   --tls-key FILE            PEM private key, reloaded when it changes (required)
//   --config FILE             YAML config (optional; defaults = docs/pod-contract.md)
//   --threads N               worker threads = concurrent connections (default 32)
//   --tls-reload-interval MS  how often the files are checked, milliseconds (default 1000)
//   --shutdown-delay MS       after SIGTERM, /readyz fails this long before the listener
//                             closes (default 0)
// Both "--flag value" and "--flag=value" are accepted.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace ferry::webhook {

struct Flags {
  std::string host = "0.0.0.0";
  uint16_t port = 8443;
  std::string tls_cert;
  std::string tls_key;
  std::string config;
  int threads = 32;
  std::chrono::milliseconds tls_reload_interval{1000};
  std::chrono::milliseconds shutdown_delay{0};
  bool help = false;
  bool version = false;
};

// kInvalidArgument naming the flag for unknown flags, missing values or bad values.
StatusOr<Flags> ParseFlags(const std::vector<std::string>& args);

// Usage text for --help and flag errors.
const char* Usage();

}  // namespace ferry::webhook
