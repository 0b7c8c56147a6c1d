#pragma once
// MakeRemoteSource: builds the DataSource for an s3://, oss://, http:// or
// https:// mount from its spec. Called by the reconciler and the standalone
// `ferry-sidecar mount` command (STYLE R11: the one place these schemes are
// listed). Option names are documented in docs/sources.md.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/dataset_spec.h"
#include "common/status.h"
#include "sidecar/source/data_source.h"

namespace ferry::sidecar {

struct SourceEnv {
  // Where the projected Secret `ferry-credentials` appears (files
  // <config_dir>/<prefix>.accessKeyId, ...).
  std::string config_dir = "/etc/ferry";
  Clock* clock = nullptr;  // required; outlives the source
  // Standalone mode: a mount without `credentials:` signs with AWS_ACCESS_KEY_ID /
  // AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN from `environment`.
  bool standalone = false;
  std::map<std::string, std::string> environment;
  // Tests: CURLOPT_RESOLVE pins ("host:port:addr") and a retry sleeper.
  std::vector<std::string> resolve;
  std::function<void(std::chrono::milliseconds)> retry_sleep;
};

// kInvalidArgument for a bad option value or a scheme that is not s3, oss,
// http or https (the message names the option and the accepted values).
// Credentials are read lazily: a missing Secret key surfaces on the first
// request as kFailedPrecondition.
StatusOr<std::unique_ptr<DataSource>> MakeRemoteSource(const MountSpec& spec, const SourceEnv& env);

// True when `key` is an option the `scheme` source reads (endpoint, region,
// ... for s3/oss; tls_verify, ca_file, connections, timeout for http(s)).
bool IsRemoteSourceOption(std::string_view scheme, std::string_view key);

// The process environment as a map (for SourceEnv::environment in main()).
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace ferry::sidecar
