#pragma once
// WebhookConfig: what `ferry-webhook --config FILE` may change in the injected pod
// (docs/pod-contract.md, docs/webhook.md). Defaults are the contract's defaults, so a
// webhook started without a file injects exactly docs/pod-contract.md.
//
// The file is YAML (yaml-cpp). Unknown keys, wrong types and bad values are errors
// that name the key and say how to fix it: a typo in the config must not silently
// inject something else.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry::webhook {

enum class SidecarMode { kNative, kLegacy };

// What marks pods of a serverless / virtual-kubelet platform. A pod matches when ANY
// criterion matches (each platform marks its pods in one of these ways).
struct PlatformMatch {
  // Pod labels; an empty value means "key present, any value".
  std::map<std::string, std::string> labels;
  // spec.nodeSelector entries, and required nodeAffinity `In` terms; "" = any value.
  std::map<std::string, std::string> node_selector;
  // Keys of spec.tolerations entries (e.g. virtual-kubelet.io/provider).
  std::vector<std::string> toleration_keys;
  // spec.schedulerName values (e.g. fargate-scheduler).
  std::vector<std::string> scheduler_names;
};

struct PlatformProfile {
  std::string name;
  // Whether a privileged FUSE sidecar with Bidirectional propagation works there.
  // false: the pod is admitted without injection and the answer carries a warning.
  bool fuse = false;
  std::string warning;  // optional extra text for the warning (< 80 chars)
  PlatformMatch match;
};

struct ResourceList {
  std::map<std::string, std::string> requests;  // quantities as strings: "50m", "64Mi"
  std::map<std::string, std::string> limits;
};

struct WebhookConfig {
  std::string image = "ghcr.io/ferry-data/ferry";
  std::string tag = FERRY_VERSION;
  std::string image_pull_policy = "IfNotPresent";
  ResourceList resources{{{"cpu", "50m"}, {"memory", "64Mi"}}, {{"memory", "512Mi"}}};
  std::string cache_size_limit = "10Gi";
  std::string datasets_path = "/datasets";
  SidecarMode mode = SidecarMode::kNative;
  std::vector<std::string> excluded_namespaces = {"kube-system", "kube-public", "kube-node-lease"};
  std::string own_namespace = "ferry-system";
  std::string datasets_config_map = "ferry-datasets";
  std::string credentials_secret = "ferry-credentials";
  // The mutation chain (plugin profile), in order; names from RegisterBuiltinMutators.
  std::vector<std::string> mutators = {"volumes", "sidecar", "app_mounts"};
  std::vector<PlatformProfile> platform_profiles = DefaultPlatformProfiles();

  // EKS Fargate, virtual-kubelet (ACI, generic), Alibaba ECI: all fuse: false.
  static std::vector<PlatformProfile> DefaultPlatformProfiles();

  std::string ImageRef() const { return image + ":" + tag; }
};

// Parses the YAML text of a config file over the defaults (absent keys keep them).
// kInvalidArgument naming the key for unknown keys, wrong types or bad values. Never throws.
StatusOr<WebhookConfig> ParseWebhookConfig(std::string_view yaml_text);

// Reads and parses `path`. kNotFound / kPermissionDenied when unreadable.
StatusOr<WebhookConfig> LoadWebhookConfigFile(const std::string& path);

// True for a Kubernetes quantity such as "50m", "1.5Gi", "1e3", "128974848".
bool IsValidQuantity(std::string_view q);
// True for an absolute, clean path without '..', '//', ':' or control characters.
bool IsValidMountPath(std::string_view path);
// True for a DNS-1123 subdomain (ConfigMap/Secret names): [a-z0-9.-], <= 253.
bool IsDns1123Subdomain(std::string_view name);

}  // namespace ferry::webhook
