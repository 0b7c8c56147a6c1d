#pragma once
// Where S3 credentials come from: the projected Secret `ferry-credentials`
// (files `<config_dir>/<prefix>.accessKeyId`, `.secretAccessKey`,
// `.sessionToken`), re-read when the kubelet rotates them; the standard AWS
// environment variables (standalone `ferry-sidecar mount`); or none
// (anonymous). Values are secrets: never log them (Describe() names only the
// key prefix and file names).

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"

namespace ferry::sidecar {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  bool anonymous() const { return access_key_id.empty(); }
  bool operator==(const AwsCredentials&) const = default;
};

class CredentialSource {
 public:
  CredentialSource() = default;
  virtual ~CredentialSource() = default;
  CredentialSource(const CredentialSource&) = delete;
  CredentialSource& operator=(const CredentialSource&) = delete;

  // The credentials to sign the next request with. kFailedPrecondition when
  // none could ever be read (message says which file is missing). Thread-safe.
  virtual StatusOr<AwsCredentials> Get() = 0;
  // Re-checks the origin now (ignoring rate limits), e.g. after a 403; true if
  // the credentials changed. Thread-safe.
  virtual bool Refresh() = 0;
  // For error messages, e.g. "credentials 'imagenet' (Secret ferry-credentials
  // keys imagenet.accessKeyId/imagenet.secretAccessKey/imagenet.sessionToken)".
  virtual std::string Describe() const = 0;
};

// Fixed credentials (environment, tests); anonymous when access_key_id is empty.
class StaticCredentials final : public CredentialSource {
 public:
  StaticCredentials(AwsCredentials creds, std::string description)
      : creds_(std::move(creds)), description_(std::move(description)) {}
  StatusOr<AwsCredentials> Get() override { return creds_; }
  bool Refresh() override { return false; }
  std::string Describe() const override { return description_; }

 private:
  const AwsCredentials creds_;
  const std::string description_;
};

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN from `env`
// (pass the process environment); anonymous when the first two are unset.
std::unique_ptr<CredentialSource> CredentialsFromEnvironment(
    const std::map<std::string, std::string>& env);

// Reads the three files under `config_dir` with key prefix `prefix`. On each
// Get() at most once per `check_interval` it looks at the `..data` symlink
// target and the files' inode/mtime/size; when they changed it re-reads them
// and swaps in the new values only if they parse (both required keys
// non-empty), keeping the old ones otherwise.
class SecretFileCredentials final : public CredentialSource {
 public:
  SecretFileCredentials(std::string config_dir, std::string prefix, Clock& clock,
                        std::chrono::milliseconds check_interval = std::chrono::seconds(1));

  StatusOr<AwsCredentials> Get() override;
  bool Refresh() override;
  std::string Describe() const override;

 private:
  // Identity of the files on disk; changes when the kubelet swaps ..data.
  std::string Fingerprint() const;
  // Re-reads the files if their fingerprint changed; true if the values changed.
  bool Check();

  const std::string dir_;
  const std::string prefix_;
  Clock& clock_;
  const std::chrono::milliseconds interval_;
  // Guards the members below; leaf lock, never held across file I/O.
  mutable Mutex mu_;
  std::shared_ptr<const AwsCredentials> current_ FERRY_GUARDED_BY(mu_);
  std::string fingerprint_ FERRY_GUARDED_BY(mu_);
  std::string last_error_ FERRY_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point next_check_ FERRY_GUARDED_BY(mu_){};
};

}  // namespace ferry::sidecar
