#pragma once
// TestCerts: a throwaway CA and serving certificates made with the openssl CLI in a
// fresh temporary directory (removed on destruction). Server certificates carry the
// SANs a Kubernetes client checks for a webhook Service: DNS ferry-webhook.<ns>.svc,
// ferry-webhook.<ns>.svc.cluster.local, plus IP 127.0.0.1.

#include <string>

#include "common/status.h"

namespace ferry::testing {

class TestCerts {
 public:
  // Creates the directory and the CA. kUnavailable when openssl is missing or fails.
  static StatusOr<TestCerts> Create(std::string ns = "ferry-system");
  TestCerts(TestCerts&& other) noexcept;
  TestCerts& operator=(TestCerts&&) = delete;
  TestCerts(const TestCerts&) = delete;
  ~TestCerts();

  const std::string& dir() const { return dir_; }
  std::string ca_cert() const { return dir_ + "/ca.pem"; }
  // "ferry-webhook.<ns>.svc", the name clients verify.
  std::string service_host() const { return "ferry-webhook." + ns_ + ".svc"; }

  struct Pair {
    std::string cert;    // PEM path
    std::string key;     // PEM path
    std::string serial;  // hex, as `openssl x509 -serial` prints it (upper case)
  };
  // Issues a new serving pair signed by the CA into files named <name>.pem/<name>-key.pem.
  StatusOr<Pair> IssueServerCert(const std::string& name) const;

 private:
  TestCerts(std::string dir, std::string ns) : dir_(std::move(dir)), ns_(std::move(ns)) {}
  std::string dir_;
  std::string ns_;
};

}  // namespace ferry::testing
