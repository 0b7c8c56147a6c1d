#include "tests/support/test_certs.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace ferry::testing {
namespace {

Status Run(const std::string& cmd) {
  std::string full = cmd + " >/dev/null 2>&1";
  int rc = std::system(full.c_str());
  if (rc != 0) return Unavailable("command failed (" + std::to_string(rc) + "): " + cmd);
  return Status::Ok();
}

StatusOr<std::string> Output(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return Unavailable("popen " + cmd);
  std::string out;
  char buf[256];
  while (size_t n = std::fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  if (::pclose(p) != 0) return Unavailable("command failed: " + cmd);
  return out;
}

}  // namespace

StatusOr<TestCerts> TestCerts::Create(std::string ns) {
  char tmpl[] = "/tmp/ferry-certs-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return StatusFromErrno(errno, "mkdtemp");
  TestCerts certs(tmpl, std::move(ns));
  const std::string& d = certs.dir_;
  FERRY_RETURN_IF_ERROR(Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                            "-days 2 -subj /CN=ferry-test-ca -keyout " + d + "/ca-key.pem -out " +
                            d + "/ca.pem"));
  return certs;
}

TestCerts::TestCerts(TestCerts&& other) noexcept
    : dir_(std::exchange(other.dir_, "")), ns_(std::move(other.ns_)) {}

TestCerts::~TestCerts() {
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

StatusOr<TestCerts::Pair> TestCerts::IssueServerCert(const std::string& name) const {
  const std::string& d = dir_;
  const std::string host = service_host();
  std::ofstream(d + "/" + name + ".ext")
      << "subjectAltName=DNS:" << host << ",DNS:" << host << ".cluster.local,IP:127.0.0.1\n"
      << "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n";
  // Work files first, then rename into place: a reader never sees a half-written file.
  const std::string key = d + "/" + name + "-key.pem";
  const std::string cert = d + "/" + name + ".pem";
  FERRY_RETURN_IF_ERROR(Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                            "-subj /CN=" + host + " -keyout " + key + ".tmp -out " + d + "/" +
                            name + ".csr"));
  FERRY_RETURN_IF_ERROR(Run("openssl x509 -req -in " + d + "/" + name + ".csr -CA " + d +
                            "/ca.pem -CAkey " + d + "/ca-key.pem -CAcreateserial -days 1 "
                            "-extfile " + d + "/" + name + ".ext -out " + cert + ".tmp"));
  std::error_code ec;
  std::filesystem::rename(key + ".tmp", key, ec);
  if (!ec) std::filesystem::rename(cert + ".tmp", cert, ec);
  if (ec) return Internal("rename: " + ec.message());
  FERRY_ASSIGN_OR_RETURN(std::string serial, Output("openssl x509 -noout -serial -in " + cert));
  // "serial=0123ABCD\n"
  size_t eq = serial.find('=');
  serial = serial.substr(eq == std::string::npos ? 0 : eq + 1);
  while (!serial.empty() && (serial.back() == '\n' || serial.back() == '\r')) serial.pop_back();
  return Pair{cert, key, serial};
}

}  // namespace ferry::testing
