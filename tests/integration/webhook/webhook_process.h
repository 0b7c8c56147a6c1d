#pragma once
// WebhookProcess: runs the real ferry-webhook binary on 127.0.0.1:0, parses the port
// from its "listening on https://HOST:PORT" line, and stops it (SIGTERM, then SIGKILL)
// by PID on destruction. HttpsClient: libcurl over TLS, verifying the server
// certificate against the test CA under the Service name (resolved to 127.0.0.1), one
// easy handle = one keep-alive connection.

#include <curl/curl.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace ferry::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string stderr_text;
};

class WebhookProcess {
 public:
  WebhookProcess() = default;
  ~WebhookProcess() { Stop(); }
  WebhookProcess(const WebhookProcess&) = delete;
  WebhookProcess& operator=(const WebhookProcess&) = delete;

  // Starts `bin/ferry-webhook` with `args` plus --listen 127.0.0.1:0; waits up to 10 s
  // for the listening line. False (with stderr kept) when it exits or times out.
  bool Start(const std::vector<std::string>& args);
  // SIGTERM, wait up to 10 s, SIGKILL. Returns the exit code (128+sig when killed).
  int Stop();
  bool Running() const;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& stderr_text() const { return stderr_; }

  // Runs the binary to completion with `args` (for flag/config errors).
  static ProcessResult RunToExit(const std::vector<std::string>& args);
  static std::string BinaryPath();

 private:
  void DrainStderr(int timeout_ms);
  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  int port_ = 0;
  std::string stderr_;
};

struct HttpsResponse {
  CURLcode curl = CURLE_OK;
  long status = 0;
  std::string body;
  std::string serial;  // server certificate serial (hex upper case) when requested
};

class HttpsClient {
 public:
  HttpsClient(std::string ca_file, std::string host, int port);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  HttpsResponse Post(const std::string& path, const std::string& body);
  HttpsResponse Get(const std::string& path);
  // A fresh connection that reports the served certificate's serial.
  HttpsResponse GetWithNewConnection(const std::string& path);
  // Restricts TLS versions (CURL_SSLVERSION_* values) for the next requests.
  void SetTlsVersions(long min_and_max);

 private:
  HttpsResponse Perform(const std::string& path, const std::string* body, bool certinfo);
  std::string ca_file_, host_;
  int port_;
  CURL* curl_ = nullptr;
  curl_slist* resolve_ = nullptr;
  curl_slist* headers_ = nullptr;
};

}  // namespace ferry::testing
