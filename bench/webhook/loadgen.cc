// ferry-loadgen: a small HTTPS load generator for the webhook benchmark.
//
// Open loop (--rate R > 0): request i is due at t0 + i/R, spread round-robin over the
// keep-alive connections (one request in flight per connection, like the apiserver's
// client). A connection sends each request at its due time, or at once when it is
// behind; latency counts from the due time, so queueing behind a slow answer
// (coordinated omission) is in the figures. Closed loop (--rate 0): every connection
// sends its next request as soon as the answer arrives (max throughput).
//
// Prints one line: "rps p50_ms p90_ms p99_ms p999_ms max_ms errors sent".
// Loopback benchmark tool: the server certificate is not verified.
//
// Usage: ferry-loadgen --port P --body FILE [--host 127.0.0.1] [--path /mutate]
//          [--connections 10] [--rate 1000] [--duration 10] [--warmup 1]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/mutate";
  std::string body_file;
  int connections = 10;
  double rate = 1000;  // total requests/s; 0 = closed loop
  double duration_s = 10;
  double warmup_s = 1;
};

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void SleepUntil(int64_t t_ns) {
  timespec ts{static_cast<time_t>(t_ns / 1000000000), static_cast<long>(t_ns % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

class Connection {
 public:
  Connection(SSL_CTX* ctx, const Options& o) : ctx_(ctx), o_(o) {}
  ~Connection() { Close(); }

  bool Open() {
    Close();
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(o_.port));
    inet_pton(AF_INET, o_.host.c_str(), &a.sin_addr);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return false;
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    return SSL_connect(ssl_) == 1;
  }

  // Sends `request` and reads one response; false on any error or non-200.
  bool RoundTrip(const std::string& request) {
    if (ssl_ == nullptr && !Open()) return false;
    if (SSL_write(ssl_, request.data(), static_cast<int>(request.size())) <= 0) {
      Close();
      return false;
    }
    buf_.clear();
    size_t head_end = std::string::npos;
    size_t need = 0;
    char tmp[65536];
    for (;;) {
      if (head_end == std::string::npos) {
        head_end = buf_.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          head_end += 4;
          size_t cl = FindContentLength(head_end);
          if (cl == std::string::npos) {
            Close();
            return false;
          }
          need = head_end + cl;
        }
      }
      if (head_end != std::string::npos && buf_.size() >= need) break;
      int n = SSL_read(ssl_, tmp, sizeof(tmp));
      if (n <= 0) {
        Close();
        return false;
      }
      buf_.append(tmp, static_cast<size_t>(n));
    }
    bool ok = buf_.compare(0, 12, "HTTP/1.1 200") == 0;
    if (buf_.find("Connection: close") < head_end) Close();
    return ok;
  }

 private:
  size_t FindContentLength(size_t head_end) const {
    for (size_t p = 0; p < head_end;) {
      size_t eol = buf_.find("\r\n", p);
      if (eol == std::string::npos || eol > head_end) break;
      if (eol - p > 15 && strncasecmp(buf_.data() + p, "content-length:", 15) == 0) {
        return std::strtoul(buf_.c_str() + p + 15, nullptr, 10);
      }
      p = eol + 2;
    }
    return std::string::npos;
  }
  void Close() {
    if (ssl_ != nullptr) {
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
  }

  SSL_CTX* ctx_;
  const Options& o_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string buf_;
};

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--host") o->host = v;
    else if (k == "--port") o->port = std::atoi(v);
    else if (k == "--path") o->path = v;
    else if (k == "--body") o->body_file = v;
    else if (k == "--connections") o->connections = std::atoi(v);
    else if (k == "--rate") o->rate = std::atof(v);
    else if (k == "--duration") o->duration_s = std::atof(v);
    else if (k == "--warmup") o->warmup_s = std::atof(v);
    else return false;
  }
  return (argc % 2) == 1 && o->port > 0 && !o->body_file.empty() && o->connections > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: ferry-loadgen --port P --body FILE [--host H] [--path /mutate] "
                 "[--connections N] [--rate R|0] [--duration S] [--warmup S]\n");
    return 2;
  }
  std::ifstream in(o.body_file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string body = ss.str();
  const std::string request = "POST " + o.path + " HTTP/1.1\r\nHost: " + o.host +
                              "\r\nContent-Type: application/json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);

  std::vector<std::unique_ptr<Connection>> conns;
  for (int c = 0; c < o.connections; ++c) {
    conns.push_back(std::make_unique<Connection>(ctx, o));
    if (!conns.back()->Open()) {
      std::fprintf(stderr, "cannot connect to %s:%d\n", o.host.c_str(), o.port);
      return 1;
    }
  }
  const int64_t warmup_ns = static_cast<int64_t>(o.warmup_s * 1e9);
  const int64_t t0 = NowNs() + 10'000'000;  // 10 ms to start the threads
  const int64_t measure_from = t0 + warmup_ns;
  const int64_t t_end = measure_from + static_cast<int64_t>(o.duration_s * 1e9);
  const double interval_ns = o.rate > 0 ? 1e9 / o.rate : 0;
  std::vector<std::vector<int64_t>> lat(static_cast<size_t>(o.connections));
  std::atomic<uint64_t> errors{0}, sent{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < o.connections; ++c) {
    threads.emplace_back([&, c] {
      auto& mine = lat[static_cast<size_t>(c)];
      mine.reserve(o.rate > 0 ? static_cast<size_t>(o.rate * o.duration_s / o.connections + 16)
                              : 1u << 20);
      Connection& conn = *conns[static_cast<size_t>(c)];
      SleepUntil(t0);
      for (uint64_t k = 0;; ++k) {
        int64_t due;
        if (interval_ns > 0) {
          due = t0 + static_cast<int64_t>(static_cast<double>(k * static_cast<uint64_t>(o.connections) +
                                                              static_cast<uint64_t>(c)) *
                                          interval_ns);
          if (due >= t_end) break;
          if (NowNs() < due) SleepUntil(due);
        } else {
          due = NowNs();
          if (due >= t_end) break;
        }
        bool ok = conn.RoundTrip(request);
        int64_t done = NowNs();
        if (due < measure_from) continue;
        sent.fetch_add(1, std::memory_order_relaxed);
        if (!ok) {
          errors.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        mine.push_back(done - due);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<int64_t> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) -> double {
    if (all.empty()) return 0;
    size_t i = std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())));
    return static_cast<double>(all[i]) / 1e6;
  };
  double rps = static_cast<double>(all.size()) / o.duration_s;
  std::printf("%.0f %.3f %.3f %.3f %.3f %.3f %llu %llu\n", rps, pct(0.50), pct(0.90), pct(0.99),
              pct(0.999), all.empty() ? 0.0 : static_cast<double>(all.back()) / 1e6,
              static_cast<unsigned long long>(errors.load()),
              static_cast<unsigned long long>(sent.load()));
  conns.clear();
  SSL_CTX_free(ctx);
  return 0;
}
