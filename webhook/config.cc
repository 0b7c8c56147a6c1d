#include "webhook/config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <regex>
#include <set>
#include <sstream>

namespace ferry::webhook {
namespace {

Status Bad(std::string_view key, std::string_view what) {
  return InvalidArgument("config: " + std::string(key) + ": " + std::string(what));
}

Status CheckKeys(const YAML::Node& node, std::string_view where,
                 std::initializer_list<std::string_view> allowed) {
  if (!node.IsMap()) return Bad(where, "must be a mapping");
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || key == a;
    if (!ok) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return Bad(where.empty() ? key : std::string(where) + "." + key,
                 "unknown key; allowed: " + list);
    }
  }
  return Status::Ok();
}

StatusOr<std::string> Scalar(const YAML::Node& n, std::string_view key) {
  if (!n.IsScalar()) return Bad(key, "must be a string");
  return n.as<std::string>();
}

StatusOr<bool> Bool(const YAML::Node& n, std::string_view key) {
  if (!n.IsScalar()) return Bad(key, "must be true or false");
  std::string v = n.as<std::string>();
  if (v == "true") return true;
  if (v == "false") return false;
  return Bad(key, "must be true or false");
}

StatusOr<std::vector<std::string>> StringList(const YAML::Node& n, std::string_view key) {
  if (!n.IsSequence()) return Bad(key, "must be a list of strings");
  std::vector<std::string> out;
  for (const auto& item : n) {
    if (!item.IsScalar()) return Bad(key, "must be a list of strings");
    out.push_back(item.as<std::string>());
  }
  return out;
}

StatusOr<std::map<std::string, std::string>> StringMap(const YAML::Node& n, std::string_view key) {
  if (n.IsNull()) return std::map<std::string, std::string>{};
  if (!n.IsMap()) return Bad(key, "must be a mapping of strings");
  std::map<std::string, std::string> out;
  for (const auto& kv : n) {
    if (!kv.second.IsScalar() && !kv.second.IsNull()) return Bad(key, "values must be strings");
    out[kv.first.as<std::string>()] = kv.second.IsNull() ? "" : kv.second.as<std::string>();
  }
  return out;
}

StatusOr<std::map<std::string, std::string>> Quantities(const YAML::Node& n, std::string key) {
  FERRY_ASSIGN_OR_RETURN(auto m, StringMap(n, key));
  for (const auto& [name, q] : m) {
    if (!IsValidQuantity(q)) {
      return Bad(key + "." + name, "\"" + q + "\" is not a quantity; use e.g. 50m, 64Mi, 1Gi");
    }
  }
  return m;
}

Status ParseSidecar(const YAML::Node& n, WebhookConfig& c) {
  FERRY_RETURN_IF_ERROR(CheckKeys(n, "sidecar", {"image", "tag", "imagePullPolicy", "mode",
                                                 "resources"}));
  if (n["image"]) {
    FERRY_ASSIGN_OR_RETURN(c.image, Scalar(n["image"], "sidecar.image"));
    if (c.image.empty()) return Bad("sidecar.image", "must not be empty");
  }
  if (n["tag"]) {
    FERRY_ASSIGN_OR_RETURN(c.tag, Scalar(n["tag"], "sidecar.tag"));
    if (c.tag.empty()) return Bad("sidecar.tag", "must not be empty");
  }
  if (n["imagePullPolicy"]) {
    FERRY_ASSIGN_OR_RETURN(c.image_pull_policy,
                           Scalar(n["imagePullPolicy"], "sidecar.imagePullPolicy"));
    if (c.image_pull_policy != "Always" && c.image_pull_policy != "IfNotPresent" &&
        c.image_pull_policy != "Never") {
      return Bad("sidecar.imagePullPolicy", "must be Always, IfNotPresent or Never");
    }
  }
  if (n["mode"]) {
    FERRY_ASSIGN_OR_RETURN(std::string mode, Scalar(n["mode"], "sidecar.mode"));
    if (mode == "native") {
      c.mode = SidecarMode::kNative;
    } else if (mode == "legacy") {
      c.mode = SidecarMode::kLegacy;
    } else {
      return Bad("sidecar.mode", "must be native (Kubernetes >= 1.29 everywhere) or legacy");
    }
  }
  if (n["resources"]) {
    const YAML::Node& r = n["resources"];
    FERRY_RETURN_IF_ERROR(CheckKeys(r, "sidecar.resources", {"requests", "limits"}));
    ResourceList rl;
    if (r["requests"]) {
      FERRY_ASSIGN_OR_RETURN(rl.requests, Quantities(r["requests"], "sidecar.resources.requests"));
    }
    if (r["limits"]) {
      FERRY_ASSIGN_OR_RETURN(rl.limits, Quantities(r["limits"], "sidecar.resources.limits"));
    }
    c.resources = std::move(rl);
  }
  return Status::Ok();
}

Status ParseProfile(const YAML::Node& n, size_t index, PlatformProfile& p) {
  std::string where = "platformProfiles[" + std::to_string(index) + "]";
  FERRY_RETURN_IF_ERROR(CheckKeys(n, where, {"name", "fuse", "warning", "match"}));
  if (!n["name"]) return Bad(where, "name is required");
  FERRY_ASSIGN_OR_RETURN(p.name, Scalar(n["name"], where + ".name"));
  if (p.name.empty()) return Bad(where + ".name", "must not be empty");
  if (n["fuse"]) {
    FERRY_ASSIGN_OR_RETURN(p.fuse, Bool(n["fuse"], where + ".fuse"));
  }
  if (n["warning"]) {
    FERRY_ASSIGN_OR_RETURN(p.warning, Scalar(n["warning"], where + ".warning"));
    if (p.warning.size() > 80) return Bad(where + ".warning", "keep it under 80 characters");
  }
  if (!n["match"]) return Bad(where, "match is required (labels, nodeSelector, ...)");
  const YAML::Node& m = n["match"];
  FERRY_RETURN_IF_ERROR(CheckKeys(m, where + ".match",
                                  {"labels", "nodeSelector", "tolerations", "schedulerNames"}));
  if (m["labels"]) {
    FERRY_ASSIGN_OR_RETURN(p.match.labels, StringMap(m["labels"], where));
  }
  if (m["nodeSelector"]) {
    FERRY_ASSIGN_OR_RETURN(p.match.node_selector, StringMap(m["nodeSelector"], where));
  }
  if (m["tolerations"]) {
    FERRY_ASSIGN_OR_RETURN(p.match.toleration_keys, StringList(m["tolerations"], where));
  }
  if (m["schedulerNames"]) {
    FERRY_ASSIGN_OR_RETURN(p.match.scheduler_names, StringList(m["schedulerNames"], where));
  }
  if (p.match.labels.empty() && p.match.node_selector.empty() && p.match.toleration_keys.empty() &&
      p.match.scheduler_names.empty()) {
    return Bad(where + ".match", "matches nothing; give labels, nodeSelector, tolerations or "
                                 "schedulerNames");
  }
  return Status::Ok();
}

Status ParseRoot(const YAML::Node& root, WebhookConfig& c) {
  if (root.IsNull()) return Status::Ok();  // empty file: all defaults
  FERRY_RETURN_IF_ERROR(CheckKeys(root, "",
                                  {"sidecar", "cacheSizeLimit", "datasetsPath", "excludedNamespaces",
                                   "ownNamespace", "datasetsConfigMap", "credentialsSecret",
                                   "mutators", "platformProfiles"}));
  if (root["sidecar"]) FERRY_RETURN_IF_ERROR(ParseSidecar(root["sidecar"], c));
  if (root["cacheSizeLimit"]) {
    FERRY_ASSIGN_OR_RETURN(c.cache_size_limit, Scalar(root["cacheSizeLimit"], "cacheSizeLimit"));
    if (!IsValidQuantity(c.cache_size_limit)) {
      return Bad("cacheSizeLimit", "not a quantity; use e.g. 10Gi");
    }
  }
  if (root["datasetsPath"]) {
    FERRY_ASSIGN_OR_RETURN(c.datasets_path, Scalar(root["datasetsPath"], "datasetsPath"));
    if (!IsValidMountPath(c.datasets_path)) {
      return Bad("datasetsPath", "must be an absolute clean path other than /, e.g. /datasets");
    }
  }
  if (root["excludedNamespaces"]) {
    FERRY_ASSIGN_OR_RETURN(c.excluded_namespaces,
                           StringList(root["excludedNamespaces"], "excludedNamespaces"));
  }
  // kube-system is always excluded, whatever the file says (self-deadlock otherwise).
  bool has_kube_system = false;
  for (const auto& ns : c.excluded_namespaces) has_kube_system |= ns == "kube-system";
  if (!has_kube_system) c.excluded_namespaces.push_back("kube-system");
  if (root["ownNamespace"]) {
    FERRY_ASSIGN_OR_RETURN(c.own_namespace, Scalar(root["ownNamespace"], "ownNamespace"));
    if (c.own_namespace.empty()) return Bad("ownNamespace", "must not be empty");
  }
  for (auto [key, field] : {std::pair{"datasetsConfigMap", &c.datasets_config_map},
                            std::pair{"credentialsSecret", &c.credentials_secret}}) {
    if (!root[key]) continue;
    FERRY_ASSIGN_OR_RETURN(*field, Scalar(root[key], key));
    if (!IsDns1123Subdomain(*field)) return Bad(key, "must be a valid object name");
  }
  if (root["mutators"]) {
    FERRY_ASSIGN_OR_RETURN(c.mutators, StringList(root["mutators"], "mutators"));
  }
  if (root["platformProfiles"]) {
    const YAML::Node& list = root["platformProfiles"];
    if (!list.IsSequence()) return Bad("platformProfiles", "must be a list");
    c.platform_profiles.clear();
    std::set<std::string> names;
    for (size_t i = 0; i < list.size(); ++i) {
      PlatformProfile p;
      FERRY_RETURN_IF_ERROR(ParseProfile(list[i], i, p));
      if (!names.insert(p.name).second) {
        return Bad("platformProfiles[" + std::to_string(i) + "].name", "duplicate " + p.name);
      }
      c.platform_profiles.push_back(std::move(p));
    }
  }
  return Status::Ok();
}

}  // namespace

std::vector<PlatformProfile> WebhookConfig::DefaultPlatformProfiles() {
  std::vector<PlatformProfile> out;
  PlatformProfile fargate;
  fargate.name = "eks-fargate";
  fargate.warning = "EKS Fargate allows no privileged containers";
  fargate.match.labels = {{"eks.amazonaws.com/fargate-profile", ""}};
  fargate.match.scheduler_names = {"fargate-scheduler"};
  out.push_back(fargate);
  PlatformProfile vk;
  vk.name = "virtual-kubelet";
  vk.warning = "virtual-kubelet nodes run no privileged FUSE sidecar";
  vk.match.node_selector = {{"type", "virtual-kubelet"}};
  vk.match.toleration_keys = {"virtual-kubelet.io/provider"};
  out.push_back(vk);
  PlatformProfile eci;
  eci.name = "alibaba-eci";
  eci.warning = "Bidirectional propagation on ECI is unverified";
  eci.match.labels = {{"alibabacloud.com/eci", "true"}};
  out.push_back(eci);
  return out;
}

StatusOr<WebhookConfig> ParseWebhookConfig(std::string_view yaml_text) {
  WebhookConfig c;
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    FERRY_RETURN_IF_ERROR(ParseRoot(root, c));
  } catch (const YAML::Exception& e) {
    return InvalidArgument("config: not valid YAML at line " + std::to_string(e.mark.line + 1) +
                           ": " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("config: ") + e.what());
  }
  return c;
}

StatusOr<WebhookConfig> LoadWebhookConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return StatusFromErrno(errno, "config: open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  auto c = ParseWebhookConfig(ss.str());
  if (!c.ok()) return c.status().WithContext(path);
  return c;
}

bool IsValidQuantity(std::string_view q) {
  static const std::regex kRe(  // NOLINT: immutable after first use
      R"(^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$)");
  if (q.empty() || q.size() > 64) return false;
  return std::regex_match(q.begin(), q.end(), kRe);
}

bool IsValidMountPath(std::string_view path) {
  if (path.size() < 2 || path.size() > 1024 || path[0] != '/' || path.back() == '/') return false;
  for (char ch : path) {
    unsigned char u = static_cast<unsigned char>(ch);
    bool ok = std::isalnum(u) || ch == '/' || ch == '-' || ch == '_' || ch == '.';
    if (!ok) return false;
  }
  size_t pos = 0;
  while (pos < path.size()) {
    size_t next = path.find('/', pos + 1);
    std::string_view elem = path.substr(pos + 1, next == std::string_view::npos ? next : next - pos - 1);
    if (elem.empty() || elem == "." || elem == "..") return false;
    if (next == std::string_view::npos) break;
    pos = next;
  }
  return true;
}

bool IsDns1123Subdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (char ch : name) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.')) {
      return false;
    }
  }
  auto alnum = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'); };
  return alnum(name.front()) && alnum(name.back());
}

}  // namespace ferry::webhook
