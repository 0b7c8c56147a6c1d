#include "sidecar/source/credentials.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/logging.h"

namespace ferry::sidecar {
namespace {

constexpr const char* kSuffixes[] = {".accessKeyId", ".secretAccessKey", ".sessionToken"};

std::string TrimValue(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.pop_back();
  }
  size_t start = s.find_first_not_of(" \t\r\n");
  return start == std::string::npos ? std::string() : s.substr(start);
}

// Contents of `path`; nullopt when it does not exist or cannot be read.
std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::unique_ptr<CredentialSource> CredentialsFromEnvironment(
    const std::map<std::string, std::string>& env) {
  auto get = [&](const char* name) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  AwsCredentials c;
  c.access_key_id = get("AWS_ACCESS_KEY_ID");
  c.secret_access_key = get("AWS_SECRET_ACCESS_KEY");
  c.session_token = get("AWS_SESSION_TOKEN");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return std::make_unique<StaticCredentials>(AwsCredentials{}, "anonymous access");
  }
  return std::make_unique<StaticCredentials>(
      std::move(c), "credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");
}

SecretFileCredentials::SecretFileCredentials(std::string config_dir, std::string prefix,
                                             Clock& clock, std::chrono::milliseconds check_interval)
    : dir_(std::move(config_dir)), prefix_(std::move(prefix)), clock_(clock),
      interval_(check_interval) {}

std::string SecretFileCredentials::Describe() const {
  return "credentials '" + prefix_ + "' (Secret ferry-credentials keys " + prefix_ +
         ".accessKeyId/" + prefix_ + ".secretAccessKey/" + prefix_ + ".sessionToken)";
}

std::string SecretFileCredentials::Fingerprint() const {
  std::string fp;
  char target[4096];
  ssize_t n = ::readlink((dir_ + "/..data").c_str(), target, sizeof(target));
  if (n > 0) fp.append(target, static_cast<size_t>(n));
  for (const char* suffix : kSuffixes) {
    struct stat st {};
    fp += '|';
    if (::stat((dir_ + "/" + prefix_ + suffix).c_str(), &st) == 0) {
      fp += std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
            std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    }
  }
  return fp;
}

bool SecretFileCredentials::Check() {
  std::string fp = Fingerprint();
  {
    MutexLock lock(mu_);
    next_check_ = clock_.Now() + interval_;
    if (fp == fingerprint_ && (current_ || !last_error_.empty())) return false;
  }
  AwsCredentials c;
  std::string error;
  std::optional<std::string> id = ReadSmallFile(dir_ + "/" + prefix_ + kSuffixes[0]);
  std::optional<std::string> secret = ReadSmallFile(dir_ + "/" + prefix_ + kSuffixes[1]);
  std::optional<std::string> token = ReadSmallFile(dir_ + "/" + prefix_ + kSuffixes[2]);
  if (id) c.access_key_id = TrimValue(*id);
  if (secret) c.secret_access_key = TrimValue(*secret);
  if (token) c.session_token = TrimValue(*token);
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    error = Describe() + ": " + (c.access_key_id.empty() ? prefix_ + ".accessKeyId" : prefix_ + ".secretAccessKey") +
            " is missing or empty in " + dir_ +
            ": add it to Secret ferry-credentials (or drop `credentials:` for anonymous access)";
  }
  MutexLock lock(mu_);
  fingerprint_ = fp;
  if (!error.empty()) {
    if (last_error_ != error) {
      GetLogger("sidecar.source")->warn("{}{}", error, current_ ? "; keeping the previous ones" : "");
    }
    last_error_ = error;
    return false;
  }
  last_error_.clear();
  if (current_ && *current_ == c) return false;
  bool had = current_ != nullptr;
  current_ = std::make_shared<const AwsCredentials>(std::move(c));
  if (had) GetLogger("sidecar.source")->info("{}: rotated credentials loaded", Describe());
  return had;
}

StatusOr<AwsCredentials> SecretFileCredentials::Get() {
  bool due;
  {
    MutexLock lock(mu_);
    due = clock_.Now() >= next_check_ || (!current_ && last_error_.empty());
  }
  if (due) Check();
  MutexLock lock(mu_);
  if (current_) return *current_;
  return FailedPrecondition(last_error_.empty() ? Describe() + ": not loaded" : last_error_);
}

bool SecretFileCredentials::Refresh() { return Check(); }

}  // namespace ferry::sidecar
