#pragma once
// Real servers for integration tests, on loopback ports picked at run time:
// s3rver (npm), nginx (autoindex HTML + JSON, optional TLS with a fresh CA per
// run) and redis-server. Each lives in its own temp dir and is stopped by PID
// (SIGTERM, then SIGKILL to its process group) when the object is destroyed.
// A missing binary is reported as kUnavailable so tests can GTEST_SKIP with
// the reason. Not thread-safe; one owner.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace ferry::testing {

// A directory under /tmp removed (recursively) on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "ferry-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A child process in its own process group; stdout and stderr go to `log_path`.
class ChildProcess {
 public:
  // `extra_env`: "NAME=value" entries added to (or overriding) this process's environment.
  static StatusOr<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                       const std::string& log_path,
                                                       const std::vector<std::string>& extra_env = {});
  ~ChildProcess();  // Stop()
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  pid_t pid() const { return pid_; }
  // SIGTERM, wait up to `grace`, then SIGKILL the group. Idempotent.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  bool Running();
  // Blocks until the process exits; its exit code (128 + signal when killed).
  int Wait();

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
};

// Runs argv to completion; its exit code, or an error when it cannot start.
StatusOr<int> RunCommand(const std::vector<std::string>& argv, const std::string& log_path = "/dev/null");

// A port free on 127.0.0.1 right now.
uint16_t PickFreePort();
// Waits until 127.0.0.1:port accepts TCP connections.
Status WaitForPort(uint16_t port, std::chrono::milliseconds deadline = std::chrono::seconds(30));
// The file's contents ("" if missing).
std::string ReadFileOrEmpty(const std::string& path);
// Writes `content` to `path`, creating parent directories.
Status WriteFile(const std::string& path, std::string_view content);
// `n` pseudo-random bytes, the same for the same seed.
std::string RandomBytes(size_t n, uint32_t seed);

class S3rverServer {
 public:
  static constexpr char kAccessKey[] = "S3RVER";
  static constexpr char kSecretKey[] = "S3RVER";
  // Starts s3rver with each bucket configured. kUnavailable if s3rver is not
  // installed (scripts/lib/common.sh install_npm_tools). Runs node with
  // --openssl-legacy-provider: s3rver 3.7.1 makes continuation tokens with DES,
  // which OpenSSL 3 (node >= 17) refuses, so every truncated listing would be
  // a 500 InternalError.
  static StatusOr<std::unique_ptr<S3rverServer>> Start(const std::vector<std::string>& buckets);
  uint16_t port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return process_->pid(); }
  std::string log() const { return ReadFileOrEmpty(dir_.path() + "/s3rver.log"); }

 private:
  S3rverServer() = default;
  TempDir dir_{"ferry-s3rver"};
  std::unique_ptr<ChildProcess> process_;
  uint16_t port_ = 0;
};

class NginxServer {
 public:
  struct Options {
    bool tls = false;   // HTTPS (and HTTP/2) with a certificate for 127.0.0.1 from a fresh CA
    bool ranges = true; // false: `max_ranges 0` (server ignores Range, answers 200)
  };
  // Serves root() at "/" (autoindex HTML) and at "/json/" (autoindex JSON).
  static StatusOr<std::unique_ptr<NginxServer>> Start(Options options);
  const std::string& root() const { return root_; }
  uint16_t port() const { return port_; }
  // "http(s)://127.0.0.1:port/"
  std::string base_url() const;
  std::string ca_file() const { return dir_.path() + "/ca.pem"; }  // TLS only
  pid_t pid() const { return process_->pid(); }

 private:
  NginxServer() = default;
  TempDir dir_{"ferry-nginx"};
  std::string root_;
  bool tls_ = false;
  std::unique_ptr<ChildProcess> process_;
  uint16_t port_ = 0;
};

class RedisServer {
 public:
  static StatusOr<std::unique_ptr<RedisServer>> Start();
  uint16_t port() const { return port_; }
  pid_t pid() const { return process_->pid(); }

 private:
  RedisServer() = default;
  TempDir dir_{"ferry-redis"};
  std::unique_ptr<ChildProcess> process_;
  uint16_t port_ = 0;
};

}  // namespace ferry::testing
