#include "tests/support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace ferry::testing {
namespace {

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// Splits a head into lines (without CRLF).
std::vector<std::string> Lines(std::string_view head) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < head.size()) {
    size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos) end = head.size();
    out.emplace_back(head.substr(start, end - start));
    start = end + 2;
  }
  return out;
}

size_t ContentLength(const std::vector<std::string>& lines) {
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string l = Lower(lines[i]);
    if (l.rfind("content-length:", 0) == 0) return std::strtoull(l.c_str() + 15, nullptr, 10);
  }
  return 0;
}

int ConnectUpstream(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

StatusOr<std::unique_ptr<FaultProxy>> FaultProxy::Start(uint16_t upstream_port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return StatusFromErrno(errno, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    return StatusFromErrno(err, "fault proxy listen");
  }
  return std::unique_ptr<FaultProxy>(new FaultProxy(fd, ntohs(addr.sin_port), upstream_port));
}

FaultProxy::FaultProxy(int listen_fd, uint16_t port, uint16_t upstream_port)
    : listen_fd_(listen_fd), port_(port), upstream_port_(upstream_port) {
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  std::vector<std::thread> threads;
  {
    MutexLock lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
  ::close(listen_fd_);
}

void FaultProxy::Push(Action action, int times) {
  MutexLock lock(mu_);
  for (int i = 0; i < times; ++i) queue_.push_back(action);
}

void FaultProxy::SetDefault(Action action) {
  MutexLock lock(mu_);
  default_ = action;
}

void FaultProxy::Clear() {
  MutexLock lock(mu_);
  queue_.clear();
  default_ = Action();
}

FaultProxy::Action FaultProxy::Next() {
  MutexLock lock(mu_);
  if (queue_.empty()) return default_;
  Action a = queue_.front();
  queue_.pop_front();
  return a;
}

void FaultProxy::Forget(int fd) {
  MutexLock lock(mu_);
  open_fds_.erase(fd);
}

void FaultProxy::AcceptLoop() {
  while (!stopping_) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      return;
    }
    MutexLock lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    open_fds_.insert(fd);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FaultProxy::Serve(int fd) {
  std::string buf;
  char chunk[65536];
  for (;;) {
    size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        Forget(fd);
        ::close(fd);
        return;
      }
      buf.append(chunk, static_cast<size_t>(n));
    }
    std::vector<std::string> lines = Lines(std::string_view(buf).substr(0, head_end));
    size_t body_len = ContentLength(lines);
    while (buf.size() < head_end + 4 + body_len) {
      ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
    }
    std::string body = buf.substr(head_end + 4, body_len);
    buf.erase(0, head_end + 4 + body_len);
    requests_++;
    const bool head_request = lines.empty() ? false : lines[0].rfind("HEAD ", 0) == 0;

    Action a = Next();
    if (a.fault != Fault::kNone && a.fault != Fault::kDelay) faults_++;
    if (a.fault == Fault::kReset) {
      linger lg{1, 0};  // RST instead of FIN
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
      Forget(fd);
      ::close(fd);
      return;
    }
    if (a.fault == Fault::kStatus) {
      std::string msg = "injected fault\n";
      std::string resp = "HTTP/1.1 " + std::to_string(a.status) + " Injected\r\nContent-Length: " +
                         std::to_string(head_request ? 0 : msg.size()) +
                         "\r\nContent-Type: text/plain\r\n" +
                         (a.retry_after.empty() ? "" : "Retry-After: " + a.retry_after + "\r\n") +
                         "\r\n" + (head_request ? "" : msg);
      if (!SendAll(fd, resp)) break;
      continue;
    }
    if (a.fault == Fault::kDelay) std::this_thread::sleep_for(a.delay);

    // Forward as HTTP/1.0 so the upstream frames by closing; re-frame for the client.
    std::string up_req;
    std::string first = lines[0];
    size_t v = first.rfind(" HTTP/1.1");
    if (v != std::string::npos) first.replace(v, 9, " HTTP/1.0");
    up_req += first + "\r\n";
    for (size_t i = 1; i < lines.size(); ++i) {
      std::string l = Lower(lines[i]);
      if (l.rfind("connection:", 0) == 0 || l.rfind("keep-alive:", 0) == 0) continue;
      up_req += lines[i] + "\r\n";
    }
    up_req += "Connection: close\r\n\r\n" + body;
    int up = ConnectUpstream(upstream_port_);
    if (up < 0 || !SendAll(up, up_req)) {
      if (up >= 0) ::close(up);
      break;
    }
    std::string resp;
    for (;;) {
      ssize_t n = ::recv(up, chunk, sizeof(chunk), 0);
      if (n <= 0) break;
      resp.append(chunk, static_cast<size_t>(n));
    }
    ::close(up);
    size_t rhead_end = resp.find("\r\n\r\n");
    if (rhead_end == std::string::npos) break;
    std::vector<std::string> rlines = Lines(std::string_view(resp).substr(0, rhead_end));
    std::string rbody = resp.substr(rhead_end + 4);
    std::string out = rlines[0] + "\r\n";
    std::string length_header;
    for (size_t i = 1; i < rlines.size(); ++i) {
      std::string l = Lower(rlines[i]);
      if (l.rfind("connection:", 0) == 0 || l.rfind("keep-alive:", 0) == 0 ||
          l.rfind("transfer-encoding:", 0) == 0) {
        continue;
      }
      if (l.rfind("content-length:", 0) == 0) {
        length_header = rlines[i];
        continue;
      }
      out += rlines[i] + "\r\n";
    }
    out += head_request && !length_header.empty()
               ? length_header + "\r\n"
               : "Content-Length: " + std::to_string(rbody.size()) + "\r\n";
    out += "Connection: keep-alive\r\n\r\n";
    if (a.fault == Fault::kTruncate) {
      SendAll(fd, out + rbody.substr(0, rbody.size() / 2));
      break;
    }
    if (!SendAll(fd, out + (head_request ? "" : rbody))) break;
  }
  Forget(fd);
  ::close(fd);
}

}  // namespace ferry::testing
