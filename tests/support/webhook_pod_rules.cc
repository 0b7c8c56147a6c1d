#include "tests/support/webhook_pod_rules.h"

#include <regex>
#include <set>

namespace ferry::testing {
namespace {

using nlohmann::json;

bool IsDns1123Label(const std::string& s) {
  static const std::regex re("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");  // NOLINT
  return s.size() <= 63 && std::regex_match(s, re);
}

bool IsQualifiedName(const std::string& key) {
  static const std::regex name("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$");  // NOLINT
  static const std::regex prefix(                                              // NOLINT
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  size_t slash = key.find('/');
  std::string n = slash == std::string::npos ? key : key.substr(slash + 1);
  if (n.empty() || n.size() > 63 || !std::regex_match(n, name)) return false;
  if (slash == std::string::npos) return true;
  std::string p = key.substr(0, slash);
  return !p.empty() && p.size() <= 253 && std::regex_match(p, prefix);
}

const json& Get(const json& o, const char* key) {
  static const json kNull;
  if (!o.is_object()) return kNull;
  auto it = o.find(key);
  return it == o.end() ? kNull : *it;
}

bool IsPrivileged(const json& c) {
  const json& p = Get(Get(c, "securityContext"), "privileged");
  return p.is_boolean() && p.get<bool>();
}

void CheckProbe(const json& probe, const std::string& path, std::vector<std::string>& errors) {
  int handlers = 0;
  for (const char* h : {"exec", "httpGet", "tcpSocket", "grpc"}) handlers += probe.contains(h);
  if (handlers != 1) errors.push_back(path + ": must have exactly one handler");
  for (const char* k : {"periodSeconds", "timeoutSeconds", "failureThreshold", "successThreshold"}) {
    const json& v = Get(probe, k);
    if (!v.is_null() && (!v.is_number_integer() || v.get<int64_t>() < 1)) {
      errors.push_back(path + "/" + k + ": must be >= 1");
    }
  }
  const json& cmd = Get(Get(probe, "exec"), "command");
  if (probe.contains("exec") && (!cmd.is_array() || cmd.empty())) {
    errors.push_back(path + "/exec/command: must be a non-empty list");
  }
}

void CheckContainer(const json& c, const std::string& path, bool init,
                    const std::set<std::string>& volumes, std::vector<std::string>& errors) {
  const bool sidecar = init && Get(c, "restartPolicy") == "Always";
  const json& rp = Get(c, "restartPolicy");
  if (!rp.is_null()) {
    if (!init) errors.push_back(path + "/restartPolicy: not allowed on regular containers");
    if (rp != "Always") errors.push_back(path + "/restartPolicy: only Always is supported");
  }
  if (init && !sidecar) {
    for (const char* k : {"lifecycle", "livenessProbe", "readinessProbe", "startupProbe"}) {
      if (c.contains(k)) errors.push_back(path + "/" + k + ": not allowed on init containers");
    }
  }
  for (const char* k : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    if (c.contains(k)) CheckProbe(c[k], path + "/" + k, errors);
  }
  const json& ipp = Get(c, "imagePullPolicy");
  if (!ipp.is_null() && ipp != "Always" && ipp != "IfNotPresent" && ipp != "Never") {
    errors.push_back(path + "/imagePullPolicy: invalid");
  }
  const json& tmp = Get(c, "terminationMessagePolicy");
  if (!tmp.is_null() && tmp != "File" && tmp != "FallbackToLogsOnError") {
    errors.push_back(path + "/terminationMessagePolicy: invalid");
  }
  if (!c.contains("image") || !Get(c, "image").is_string() || Get(c, "image").empty()) {
    errors.push_back(path + "/image: required");
  }
  const json& sc = Get(c, "securityContext");
  if (IsPrivileged(c) && Get(sc, "allowPrivilegeEscalation") == false) {
    errors.push_back(path + "/securityContext: privileged with allowPrivilegeEscalation: false");
  }
  static const std::regex env_re("^[-._a-zA-Z][-._a-zA-Z0-9]*$");  // NOLINT
  const json& env = Get(c, "env");
  for (size_t i = 0; env.is_array() && i < env.size(); ++i) {
    std::string n = Get(env[i], "name").is_string() ? Get(env[i], "name").get<std::string>() : "";
    if (!std::regex_match(n, env_re)) errors.push_back(path + "/env/" + std::to_string(i) + ": bad name");
  }
  std::set<std::string> paths;
  const json& mounts = Get(c, "volumeMounts");
  for (size_t i = 0; mounts.is_array() && i < mounts.size(); ++i) {
    const json& m = mounts[i];
    const std::string mp = path + "/volumeMounts/" + std::to_string(i);
    std::string name = Get(m, "name").is_string() ? Get(m, "name").get<std::string>() : "";
    std::string at = Get(m, "mountPath").is_string() ? Get(m, "mountPath").get<std::string>() : "";
    if (volumes.count(name) == 0) errors.push_back(mp + ": volume \"" + name + "\" not found");
    if (at.empty()) errors.push_back(mp + "/mountPath: required");
    if (at.find(':') != std::string::npos) errors.push_back(mp + "/mountPath: must not contain ':'");
    if (!paths.insert(at).second) errors.push_back(mp + "/mountPath: must be unique");
    const json& prop = Get(m, "mountPropagation");
    if (!prop.is_null()) {
      if (prop != "None" && prop != "HostToContainer" && prop != "Bidirectional") {
        errors.push_back(mp + "/mountPropagation: invalid");
      }
      if (prop == "Bidirectional" && !IsPrivileged(c)) {
        errors.push_back(mp + "/mountPropagation: Bidirectional is available only to privileged "
                              "containers");
      }
    }
  }
}

}  // namespace

std::vector<std::string> ValidatePodRules(const json& pod) {
  std::vector<std::string> errors;
  const json& spec = Get(pod, "spec");
  std::set<std::string> volumes;
  const json& vols = Get(spec, "volumes");
  for (size_t i = 0; vols.is_array() && i < vols.size(); ++i) {
    const std::string vp = "/spec/volumes/" + std::to_string(i);
    std::string n = Get(vols[i], "name").is_string() ? Get(vols[i], "name").get<std::string>() : "";
    if (!IsDns1123Label(n)) errors.push_back(vp + "/name: not a DNS-1123 label");
    if (!volumes.insert(n).second) errors.push_back(vp + "/name: duplicate volume " + n);
    const json& mode = Get(Get(vols[i], "projected"), "defaultMode");
    if (!mode.is_null() && (!mode.is_number_integer() || mode.get<int64_t>() < 0 ||
                            mode.get<int64_t>() > 0777)) {
      errors.push_back(vp + "/projected/defaultMode: must be 0..0777");
    }
    const json& limit = Get(Get(vols[i], "emptyDir"), "sizeLimit");
    if (!limit.is_null() && !limit.is_string()) errors.push_back(vp + "/emptyDir/sizeLimit: not a string");
    const json& medium = Get(Get(vols[i], "emptyDir"), "medium");
    if (!medium.is_null() && medium != "" && medium != "Memory" && medium != "HugePages") {
      errors.push_back(vp + "/emptyDir/medium: invalid");
    }
  }
  std::set<std::string> names;
  const json& containers = Get(spec, "containers");
  if (!containers.is_array() || containers.empty()) errors.push_back("/spec/containers: required");
  for (bool init : {true, false}) {
    const char* key = init ? "initContainers" : "containers";
    const json& list = Get(spec, key);
    for (size_t i = 0; list.is_array() && i < list.size(); ++i) {
      const std::string cp = std::string("/spec/") + key + "/" + std::to_string(i);
      std::string n = Get(list[i], "name").is_string() ? Get(list[i], "name").get<std::string>() : "";
      if (!IsDns1123Label(n)) errors.push_back(cp + "/name: not a DNS-1123 label");
      if (!names.insert(n).second) errors.push_back(cp + "/name: duplicate container name " + n);
      CheckContainer(list[i], cp, init, volumes, errors);
    }
  }
  const json& annotations = Get(Get(pod, "metadata"), "annotations");
  size_t total = 0;
  for (auto it = annotations.begin(); annotations.is_object() && it != annotations.end(); ++it) {
    if (!it.value().is_string()) {
      errors.push_back("/metadata/annotations/" + it.key() + ": value must be a string");
      continue;
    }
    if (!IsQualifiedName(it.key())) errors.push_back("/metadata/annotations/" + it.key() + ": bad key");
    total += it.key().size() + it.value().get<std::string>().size();
  }
  if (total > 256 * 1024) errors.push_back("/metadata/annotations: larger than 256 KiB");
  return errors;
}

}  // namespace ferry::testing
