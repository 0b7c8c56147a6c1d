#pragma once
// TlsReloader: the server's OpenSSL SSL_CTX (TLS 1.2 minimum) whose certificate
// callback hands every new handshake the newest certificate + key pair. A watcher
// thread stats --tls-cert and --tls-key (following symlinks, so a Secret volume's
// `..data` swap counts) every `poll_interval`; when either changed it loads both, checks
// that the key matches the certificate and swaps the pair in atomically. A half-written
// or mismatched pair is ignored until a later poll succeeds, so the last good pair keeps
// serving: no handshake ever sees a missing certificate and no connection is dropped
// (established connections keep their session; sessions are never resumed, so every
// new connection gets the newest certificate).
//
// Lock order: pair_mu_ is a leaf; the watcher never holds it while reading files.

#include <openssl/ssl.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/mutex.h"
#include "common/status.h"

namespace ferry::webhook {

class TlsReloader {
 public:
  struct Options {
    std::string cert_path;  // PEM: leaf certificate first, then any chain certificates
    std::string key_path;   // PEM private key
    std::chrono::milliseconds poll_interval{1000};
    // Called after each reload attempt with its outcome (metrics, logs). May be empty.
    std::function<void(const Status&)> on_reload;
  };

  // Loads the pair (kInvalidArgument / kNotFound naming the file on failure), builds the
  // SSL_CTX and starts the watcher.
  static StatusOr<std::unique_ptr<TlsReloader>> Create(Options options);
  ~TlsReloader();
  TlsReloader(const TlsReloader&) = delete;
  TlsReloader& operator=(const TlsReloader&) = delete;

  // The context to serve with; owned by this object, valid until destruction.
  SSL_CTX* ctx() const { return ctx_; }
  // Subject + serial of the pair in use, e.g. for logs. Thread-safe.
  std::string CurrentFingerprint() const FERRY_EXCLUDES(pair_mu_);
  // Checks the files now (as the watcher does). Thread-safe.
  Status ReloadIfChanged() FERRY_EXCLUDES(pair_mu_);

 private:
  struct KeyPair;
  struct FileStamp {
    long long ino = 0, size = 0, mtime_ns = 0, ctime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  explicit TlsReloader(Options options);
  static StatusOr<std::shared_ptr<const KeyPair>> LoadPair(const std::string& cert_path,
                                                           const std::string& key_path);
  static int CertCallback(SSL* ssl, void* arg);
  std::shared_ptr<const KeyPair> Current() const FERRY_EXCLUDES(pair_mu_);
  void WatchLoop(std::stop_token stop);
  static FileStamp Stamp(const std::string& path);

  const Options options_;
  SSL_CTX* ctx_ = nullptr;
  // Guards pair_ and stamps_.
  mutable Mutex pair_mu_;
  std::shared_ptr<const KeyPair> pair_ FERRY_GUARDED_BY(pair_mu_);
  FileStamp cert_stamp_ FERRY_GUARDED_BY(pair_mu_);
  FileStamp key_stamp_ FERRY_GUARDED_BY(pair_mu_);
  // Stamps of the last pair that failed to load: retried only once the files change again.
  FileStamp failed_cert_stamp_ FERRY_GUARDED_BY(pair_mu_);
  FileStamp failed_key_stamp_ FERRY_GUARDED_BY(pair_mu_);
  // Wakes the watcher early on shutdown.
  Mutex wake_mu_;
  CondVar wake_;
  bool stopping_ FERRY_GUARDED_BY(wake_mu_) = false;
  std::jthread watcher_;
};

}  // namespace ferry::webhook
