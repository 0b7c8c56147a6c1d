#include "webhook/flags.h"

#include <charconv>

namespace ferry::webhook {
namespace {

StatusOr<long> Number(const std::string& flag, const std::string& v, long min, long max) {
  long n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < min || n > max) {
    return InvalidArgument(flag + ": \"" + v + "\" is not a number in [" + std::to_string(min) +
                           ", " + std::to_string(max) + "]");
  }
  return n;
}

Status ParseListen(const std::string& v, Flags& f) {
  size_t colon = v.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgument("--listen: \"" + v + "\" must be HOST:PORT, e.g. 0.0.0.0:8443");
  }
  f.host = v.substr(0, colon);
  for (char ch : f.host) {
    if (!((ch >= '0' && ch <= '9') || ch == '.')) {
      return InvalidArgument("--listen: host \"" + f.host +
                             "\" must be an IPv4 address such as 0.0.0.0 or 127.0.0.1");
    }
  }
  FERRY_ASSIGN_OR_RETURN(long port, Number("--listen", v.substr(colon + 1), 0, 65535));
  f.port = static_cast<uint16_t>(port);
  return Status::Ok();
}

}  // namespace

const char* Usage() {
  return "usage: ferry-webhook --tls-cert FILE --tls-key FILE [--listen HOST:PORT] "
         "[--config FILE]\n"
         "                     [--threads N] [--tls-reload-interval MS] [--shutdown-delay MS]\n"
         "Admission webhook of ferry: POST /mutate, POST /validate, GET /healthz /readyz "
         "/metrics.\n";
}

StatusOr<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags f;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); name.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (name == "--help" || name == "-h") {
      f.help = true;
      continue;
    }
    if (name == "--version") {
      f.version = true;
      continue;
    }
    if (name != "--listen" && name != "--tls-cert" && name != "--tls-key" && name != "--config" &&
        name != "--threads" && name != "--tls-reload-interval" && name != "--shutdown-delay") {
      return InvalidArgument("unknown flag " + name);
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return InvalidArgument(name + " needs a value");
      value = args[++i];
    }
    if (name == "--listen") {
      FERRY_RETURN_IF_ERROR(ParseListen(value, f));
    } else if (name == "--tls-cert") {
      f.tls_cert = value;
    } else if (name == "--tls-key") {
      f.tls_key = value;
    } else if (name == "--config") {
      f.config = value;
    } else if (name == "--threads") {
      FERRY_ASSIGN_OR_RETURN(long n, Number(name, value, 1, 1024));
      f.threads = static_cast<int>(n);
    } else if (name == "--tls-reload-interval") {
      FERRY_ASSIGN_OR_RETURN(long n, Number(name, value, 10, 3600000));
      f.tls_reload_interval = std::chrono::milliseconds(n);
    } else {
      FERRY_ASSIGN_OR_RETURN(long n, Number(name, value, 0, 600000));
      f.shutdown_delay = std::chrono::milliseconds(n);
    }
  }
  if (f.help || f.version) return f;
  if (f.tls_cert.empty() || f.tls_key.empty()) {
    return InvalidArgument("--tls-cert and --tls-key are required");
  }
  return f;
}

}  // namespace ferry::webhook
