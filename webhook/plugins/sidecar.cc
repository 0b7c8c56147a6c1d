#include "webhook/plugins/sidecar.h"

#include <string>

namespace ferry::webhook {
namespace {

// Flags spelled out (pod_json.h names the same directories).
constexpr const char* kMntDirFlag = "--mnt-dir=/run/ferry/mnt";
constexpr const char* kConfigDirFlag = "--config-dir=/etc/ferry";
constexpr const char* kCacheDirFlag = "--cache-dir=/var/cache/ferry";
static_assert(kSidecarMntDir == "/run/ferry/mnt" && kSidecarConfigDir == "/etc/ferry" &&
              kSidecarCacheDir == "/var/cache/ferry");

std::string MntFlag() { return kMntDirFlag; }

Json ResourcesJson(const ResourceList& r) {
  Json out = Json::object();
  if (!r.requests.empty()) out["requests"] = r.requests;
  if (!r.limits.empty()) out["limits"] = r.limits;
  return out;
}

class SidecarMutator final : public Mutator {
 public:
  std::string_view Name() const override { return "sidecar"; }

  Status Mutate(MutationContext& ctx) const override {
    const Json& spec = ctx.pod["spec"];
    for (const char* list : {"initContainers", "containers"}) {
      if (const Json* cs = ArrayMember(spec, list)) {
        for (const Json& c : *cs) {
          if (StringMember(c, "name") == kSidecarName) {
            return FailedPrecondition(
                "pod already has a container named ferry-sidecar that is not ferry's; rename it, "
                "or opt out with annotation ferry.io/inject: \"false\"");
          }
        }
      }
    }
    const SidecarMode mode = ctx.config.mode;
    const char* list = mode == SidecarMode::kNative ? "initContainers" : "containers";
    size_t index = 0;
    if (const Json* cs = ArrayMember(spec, list)) {
      if (mode == SidecarMode::kNative) {
        for (size_t i = 0; i < cs->size(); ++i) {
          if (IsMeshProxy((*cs)[i])) index = i + 1;
        }
      } else {
        while (index < cs->size() && IsMeshProxy((*cs)[index])) ++index;
      }
    }
    ctx.patch.Insert("/spec/" + std::string(list), index,
                     ctx.sidecar_container != nullptr ? *ctx.sidecar_container
                                                      : SidecarContainer(ctx.config, mode));
    if (mode == SidecarMode::kLegacy) {
      AddLegacyExtras(ctx, index);
    } else if (const Json* apps = ArrayMember(spec, "containers")) {
      for (const Json& c : *apps) {
        if (IsMeshProxy(c)) {
          ctx.warnings.push_back("ferry: " + std::string(StringMember(c, "name")) +
                                 " is no native sidecar: ferry-sidecar may lack network until it starts");
          break;
        }
      }
    }
    return Status::Ok();
  }

 private:
  static void AddLegacyExtras(MutationContext& ctx, size_t sidecar_index) {
    const Json* cs = ArrayMember(ctx.pod["spec"], "containers");
    if (Annotation(ctx.pod, kAnnoDefaultContainer) == nullptr && cs != nullptr &&
        sidecar_index < cs->size()) {
      std::string_view app = StringMember((*cs)[sidecar_index], "name");
      if (!app.empty()) {
        ctx.patch.AddMapEntry("/metadata/annotations", kAnnoDefaultContainer, std::string(app));
      }
    }
    bool job = StringMember(ctx.pod["spec"], "restartPolicy", "Always") != "Always";
    if (job) {
      ctx.warnings.push_back(
          "ferry: legacy mode: this pod cannot complete while ferry-sidecar runs (Job pods)");
    }
  }
};

}  // namespace

bool IsMeshProxy(const Json& container) {
  std::string_view name = StringMember(container, "name");
  return name == "istio-proxy" || name == "linkerd-proxy";
}

Json SidecarContainer(const WebhookConfig& config, SidecarMode mode) {
  const std::string mnt = MntFlag();
  Json c = {
      {"name", kSidecarName},
      {"image", config.ImageRef()},
      {"imagePullPolicy", config.image_pull_policy},
      {"command", {"ferry-propagator"}},
      {"args",
       {mnt, "--", "ferry-sidecar", "run", kConfigDirFlag, mnt, kCacheDirFlag}},
      {"env",
       {{{"name", "FERRY_POD_NAME"},
         {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
        {{"name", "FERRY_POD_NAMESPACE"},
         {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}}}},
      {"securityContext",
       {{"privileged", true},
        {"runAsUser", 0},
        {"runAsGroup", 0},
        {"runAsNonRoot", false},
        {"readOnlyRootFilesystem", true}}},
      {"resources", ResourcesJson(config.resources)},
      {"terminationMessagePolicy", "FallbackToLogsOnError"},
      {"volumeMounts",
       {{{"name", kMntVolume},
         {"mountPath", kSidecarMntDir},
         {"mountPropagation", "Bidirectional"}},
        {{"name", kConfigVolume}, {"mountPath", kSidecarConfigDir}, {"readOnly", true}},
        {{"name", kCacheVolume}, {"mountPath", kSidecarCacheDir}}}},
  };
  if (mode == SidecarMode::kNative) {
    c["restartPolicy"] = "Always";
    c["startupProbe"] = {{"exec", {{"command", {"ferryctl", "probe", mnt}}}},
                         {"periodSeconds", 1},
                         {"failureThreshold", 600},
                         {"timeoutSeconds", 5}};
  } else {
    c["lifecycle"] = {
        {"postStart", {{"exec", {{"command", {"ferryctl", "probe", mnt, "--wait=600s"}}}}}}};
  }
  return c;
}

std::unique_ptr<Mutator> NewSidecarMutator() { return std::make_unique<SidecarMutator>(); }

}  // namespace ferry::webhook
