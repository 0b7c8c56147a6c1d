#include "webhook/plugins/app_mounts.h"

#include <string>

namespace ferry::webhook {
namespace {

bool IsKnativePod(const Json& pod) {
  const Json* meta = Member(pod, "metadata");
  const Json* labels = meta ? Member(*meta, "labels") : nullptr;
  if (labels == nullptr || !labels->is_object()) return false;
  for (const auto& [key, value] : labels->items()) {
    if (key.rfind("serving.knative.dev/", 0) == 0) return true;
  }
  return false;
}

// Path equality ignoring one trailing slash ("/datasets/" mounts at "/datasets").
bool SamePath(std::string_view a, std::string_view b) {
  auto trim = [](std::string_view s) {
    while (s.size() > 1 && s.back() == '/') s.remove_suffix(1);
    return s;
  };
  return trim(a) == trim(b);
}

class AppMountsMutator final : public Mutator {
 public:
  std::string_view Name() const override { return "app_mounts"; }

  Status Mutate(MutationContext& ctx) const override {
    const Json& spec = ctx.pod["spec"];
    const Json mount = {{"name", kMntVolume},
                        {"mountPath", ctx.params.mount_path},
                        {"mountPropagation", "HostToContainer"},
                        {"readOnly", true}};
    if (const Json* inits = ArrayMember(spec, "initContainers")) {
      for (size_t i = 0; i < inits->size(); ++i) {
        const Json& c = (*inits)[i];
        std::string name(StringMember(c, "name"));
        if (!ctx.params.all_init_containers && ctx.params.init_containers.count(name) == 0) continue;
        if (ctx.params.all_init_containers && IsInfrastructureContainer(ctx.pod, c)) continue;
        // A native sidecar of someone else (restartPolicy: Always) is not an app.
        if (ctx.params.all_init_containers && StringMember(c, "restartPolicy") == "Always") continue;
        FERRY_RETURN_IF_ERROR(AddMount(ctx, "/spec/initContainers/" + std::to_string(i), c,
                                       "init container", mount));
      }
    }
    if (const Json* containers = ArrayMember(spec, "containers")) {
      for (size_t i = 0; i < containers->size(); ++i) {
        const Json& c = (*containers)[i];
        if (IsInfrastructureContainer(ctx.pod, c)) continue;
        FERRY_RETURN_IF_ERROR(
            AddMount(ctx, "/spec/containers/" + std::to_string(i), c, "container", mount));
      }
    }
    return Status::Ok();
  }

 private:
  static Status AddMount(MutationContext& ctx, const std::string& pointer, const Json& c,
                         std::string_view kind, const Json& mount) {
    if (const Json* mounts = ArrayMember(c, "volumeMounts")) {
      for (const Json& m : *mounts) {
        if (SamePath(StringMember(m, "mountPath"), ctx.params.mount_path)) {
          return FailedPrecondition(
              std::string(kind) + " \"" + SafeName(StringMember(c, "name")) +
              "\" already mounts volume \"" + SafeName(StringMember(m, "name")) + "\" at " +
              ctx.params.mount_path +
              ", where ferry mounts the datasets; choose another path with annotation "
              "ferry.io/mount-path: /some/path");
        }
      }
    }
    ctx.patch.Append(pointer + "/volumeMounts", mount);
    return Status::Ok();
  }
};

}  // namespace

bool IsInfrastructureContainer(const Json& pod, const Json& container) {
  std::string_view name = StringMember(container, "name");
  if (name == "istio-proxy" || name == "linkerd-proxy") return true;
  return name == "queue-proxy" && IsKnativePod(pod);
}

std::unique_ptr<Mutator> NewAppMountsMutator() { return std::make_unique<AppMountsMutator>(); }

}  // namespace ferry::webhook
