#include "tests/integration/webhook/webhook_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <regex>

namespace ferry::testing {
namespace {

pid_t Spawn(const std::vector<std::string>& args, int* stderr_fd) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 2);
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    std::vector<char*> argv;
    std::string bin = WebhookProcess::BinaryPath();
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  *stderr_fd = pipefd[0];
  return pid;
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

std::string WebhookProcess::BinaryPath() { return FERRY_BINARY_DIR "/bin/ferry-webhook"; }

void WebhookProcess::DrainStderr(int timeout_ms) {
  pollfd p{stderr_fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return;
  char buf[4096];
  ssize_t n = ::read(stderr_fd_, buf, sizeof(buf));
  if (n > 0) stderr_.append(buf, static_cast<size_t>(n));
}

bool WebhookProcess::Start(const std::vector<std::string>& args) {
  std::vector<std::string> all = args;
  all.push_back("--listen");
  all.push_back("127.0.0.1:0");
  pid_ = Spawn(all, &stderr_fd_);
  if (pid_ < 0) return false;
  static const std::regex re("listening on https://127\\.0\\.0\\.1:([0-9]+)");  // NOLINT
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    DrainStderr(100);
    std::smatch m;
    if (std::regex_search(stderr_, m, re)) {
      port_ = std::stoi(m[1]);
      return port_ > 0;
    }
    if (!Running()) return false;
  }
  return false;
}

bool WebhookProcess::Running() const {
  if (pid_ < 0) return false;
  int status = 0;
  return ::waitpid(pid_, &status, WNOHANG) == 0;
}

int WebhookProcess::Stop() {
  if (pid_ < 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int code = -1;
  while (true) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      code = ExitCode(status);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      code = ExitCode(status);
      break;
    }
    DrainStderr(20);
  }
  DrainStderr(0);
  ::close(stderr_fd_);
  pid_ = -1;
  return code;
}

ProcessResult WebhookProcess::RunToExit(const std::vector<std::string>& args) {
  int fd = -1;
  pid_t pid = Spawn(args, &fd);
  ProcessResult r;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) r.stderr_text.append(buf, static_cast<size_t>(n));
  ::close(fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = ExitCode(status);
  return r;
}

HttpsClient::HttpsClient(std::string ca_file, std::string host, int port)
    : ca_file_(std::move(ca_file)), host_(std::move(host)), port_(port) {
  curl_ = curl_easy_init();
  std::string entry = host_ + ":" + std::to_string(port_) + ":127.0.0.1";
  resolve_ = curl_slist_append(nullptr, entry.c_str());
  headers_ = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl_, CURLOPT_RESOLVE, resolve_);
  curl_easy_setopt(curl_, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(curl_, CURLOPT_MAXCONNECTS, 1L);
}

HttpsClient::~HttpsClient() {
  curl_easy_cleanup(curl_);
  curl_slist_free_all(resolve_);
  curl_slist_free_all(headers_);
}

void HttpsClient::SetTlsVersions(long v) { curl_easy_setopt(curl_, CURLOPT_SSLVERSION, v); }

HttpsResponse HttpsClient::Perform(const std::string& path, const std::string* body,
                                   bool certinfo) {
  HttpsResponse r;
  std::string url = "https://" + host_ + ":" + std::to_string(port_) + path;
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl_, CURLOPT_CERTINFO, certinfo ? 1L : 0L);
  // A fresh connection is closed after use, so idle connections never pile up on the
  // server (civetweb serves one connection per worker thread).
  curl_easy_setopt(curl_, CURLOPT_FRESH_CONNECT, certinfo ? 1L : 0L);
  curl_easy_setopt(curl_, CURLOPT_FORBID_REUSE, certinfo ? 1L : 0L);
  if (body != nullptr) {
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  } else {
    curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
  }
  r.curl = curl_easy_perform(curl_);
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &r.status);
  if (certinfo && r.curl == CURLE_OK) {
    curl_certinfo* ci = nullptr;
    if (curl_easy_getinfo(curl_, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci && ci->num_of_certs > 0) {
      for (curl_slist* s = ci->certinfo[0]; s; s = s->next) {
        std::string line = s->data;
        if (line.rfind("Serial Number:", 0) == 0) r.serial = line.substr(14);
      }
    }
  }
  return r;
}

HttpsResponse HttpsClient::Post(const std::string& path, const std::string& body) {
  return Perform(path, &body, false);
}
HttpsResponse HttpsClient::Get(const std::string& path) { return Perform(path, nullptr, false); }
HttpsResponse HttpsClient::GetWithNewConnection(const std::string& path) {
  return Perform(path, nullptr, true);
}

}  // namespace ferry::testing
