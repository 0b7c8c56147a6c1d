#pragma once
// Real-server backends for the DataSource contract suite and the fault tests:
// s3rver (SigV4 from a projected-Secret layout) and nginx (HTML and JSON
// autoindex, HTTP and TLS). Objects are written at the origin: PUT to s3rver
// (signed with ferry's own SigV4), files under nginx's root.

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/dataset_spec.h"
#include "sidecar/source/curl_easy.h"
#include "sidecar/source/remote_sources.h"
#include "sidecar/source/sigv4.h"
#include "sidecar/source/url.h"
#include "tests/support/server_fixtures.h"

namespace ferry::testing {

// PUT or DELETE one object on s3rver, path style, signed.
inline Status S3Write(const std::string& endpoint, const std::string& bucket,
                      const std::string& key, const std::string* body) {
  StatusOr<sidecar::ParsedUrl> u = sidecar::ParseHttpUrl(endpoint);
  if (!u.ok()) return u.status();
  std::string path = "/" + bucket + "/" + sidecar::UriEncode(key, true);
  std::string hash = sidecar::Sha256Hex(body ? *body : "");
  sidecar::SigV4Request r;
  r.method = body ? "PUT" : "DELETE";
  r.canonical_uri = path;
  r.headers = {{"host", u->Authority()}, {"x-amz-content-sha256", hash}};
  r.payload_sha256 = hash;
  r.region = "us-east-1";
  r.service = "s3";
  r.time = std::chrono::system_clock::now();
  sidecar::SigV4Signature sig =
      sidecar::SignV4(r, {S3rverServer::kAccessKey, S3rverServer::kSecretKey, ""});
  sidecar::HttpRequest req;
  req.method = r.method;
  req.url = endpoint + path;
  req.headers = {"x-amz-content-sha256: " + hash, "Authorization: " + sig.authorization};
  for (const auto& [k, v] : sig.added_headers) req.headers.push_back(k + ": " + v);
  if (body) req.upload = *body;
  sidecar::CurlEasy easy({});
  sidecar::HttpResponse resp;
  FERRY_RETURN_IF_ERROR(easy.Perform(req, &resp));
  if (resp.status != 200 && resp.status != 204) {
    return Internal(r.method + " " + key + ": " + std::to_string(resp.status) + " " + resp.body);
  }
  return Status::Ok();
}

// Writes the kubelet's projected-Secret layout for key prefix `prefix`.
inline void WriteSecret(const std::string& dir, const std::string& prefix, const std::string& id,
                        const std::string& secret) {
  namespace fs = std::filesystem;
  static int generation = 0;
  std::string gen = "..gen_" + std::to_string(++generation);
  fs::create_directories(fs::path(dir) / gen);
  (void)WriteFile(dir + "/" + gen + "/" + prefix + ".accessKeyId", id);
  (void)WriteFile(dir + "/" + gen + "/" + prefix + ".secretAccessKey", secret);
  fs::remove(fs::path(dir) / "..data_tmp");
  fs::create_symlink(gen, fs::path(dir) / "..data_tmp");
  fs::rename(fs::path(dir) / "..data_tmp", fs::path(dir) / "..data");
  for (const char* s : {".accessKeyId", ".secretAccessKey"}) {
    fs::path link = fs::path(dir) / (prefix + s);
    if (!fs::is_symlink(link)) fs::create_symlink(fs::path("..data") / (prefix + s), link);
  }
}

class S3rverBackend {
 public:
  static StatusOr<std::unique_ptr<S3rverBackend>> Create() {
    std::unique_ptr<S3rverBackend> b(new S3rverBackend());
    FERRY_ASSIGN_OR_RETURN(b->server_, S3rverServer::Start({"ferry"}));
    WriteSecret(b->config_.path(), "test", S3rverServer::kAccessKey, S3rverServer::kSecretKey);
    MountSpec spec;
    spec.name = "contract";
    spec.scheme = "s3";
    spec.source = "s3://ferry/data/";
    spec.credentials = "test";
    spec.options = {{"endpoint", b->server_->endpoint()}, {"region", "us-east-1"}};
    FERRY_ASSIGN_OR_RETURN(b->source_, sidecar::MakeRemoteSource(spec, b->Env()));
    return b;
  }
  Status Put(const std::string& path, const std::string& content) {
    return S3Write(server_->endpoint(), "ferry", "data/" + path, &content);
  }
  sidecar::DataSource& source() { return *source_; }
  sidecar::SourceEnv Env() {
    sidecar::SourceEnv env;
    env.config_dir = config_.path();
    env.clock = &clock_;
    return env;
  }
  S3rverServer& server() { return *server_; }
  const std::string& config_dir() const { return config_.path(); }

 private:
  S3rverBackend() = default;
  RealClock clock_;
  TempDir config_{"ferry-config"};
  std::unique_ptr<S3rverServer> server_;
  std::unique_ptr<sidecar::DataSource> source_;
};

template <bool kTls, bool kJson>
class NginxBackend {
 public:
  static StatusOr<std::unique_ptr<NginxBackend>> Create() {
    std::unique_ptr<NginxBackend> b(new NginxBackend());
    FERRY_ASSIGN_OR_RETURN(b->server_, NginxServer::Start({.tls = kTls}));
    MountSpec spec;
    spec.name = "contract";
    spec.scheme = kTls ? "https" : "http";
    spec.source = b->server_->base_url() + (kJson ? "json/" : "") + "data/";
    if (kTls) spec.options = {{"ca_file", b->server_->ca_file()}};
    sidecar::SourceEnv env;
    env.clock = &b->clock_;
    std::filesystem::create_directories(b->server_->root() + "/data");
    FERRY_ASSIGN_OR_RETURN(b->source_, sidecar::MakeRemoteSource(spec, env));
    return b;
  }
  Status Put(const std::string& path, const std::string& content) {
    std::string file = server_->root() + "/data/" + path;
    FERRY_RETURN_IF_ERROR(WriteFile(file, content));
    // A new version gets a new mtime even within the same second.
    timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(1'700'000'000 + ++version_ * 120), 0}};
    ::utimensat(AT_FDCWD, file.c_str(), times, 0);
    return Status::Ok();
  }
  sidecar::DataSource& source() { return *source_; }
  NginxServer& server() { return *server_; }

 private:
  NginxBackend() = default;
  RealClock clock_;
  std::unique_ptr<NginxServer> server_;
  std::unique_ptr<sidecar::DataSource> source_;
  int version_ = 0;
};

}  // namespace ferry::testing
