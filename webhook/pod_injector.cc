#include "webhook/pod_injector.h"

#include <algorithm>

#include "webhook/plugins/sidecar.h"
#include "webhook/plugins/volumes.h"

namespace ferry::webhook {
namespace {

InjectionOutcome Skip(std::string decision, std::string warning = "") {
  InjectionOutcome o;
  o.decision = std::move(decision);
  if (!warning.empty()) o.warnings.push_back(std::move(warning));
  return o;
}

InjectionOutcome Deny(Status s) {
  InjectionOutcome o;
  o.status = std::move(s);
  o.decision = "denied";
  return o;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool SelectorValueMatches(const std::string& want, std::string_view have) {
  return want.empty() || want == have;
}

// Hints that the namespace enforces a Pod Security level stricter than privileged:
// the pod itself was written for "restricted" (pod-level runAsNonRoot or seccomp).
bool LooksRestricted(const Json& spec) {
  const Json* psc = Member(spec, "securityContext");
  if (psc == nullptr) return false;
  const Json* non_root = Member(*psc, "runAsNonRoot");
  return (non_root != nullptr && non_root->is_boolean() && non_root->get<bool>()) ||
         Member(*psc, "seccompProfile") != nullptr;
}

}  // namespace

PodInjector::PodInjector(const WebhookConfig& config, const MutatorChain& chain)
    : config_(config), chain_(chain), sidecar_(SidecarContainer(config, config.mode)) {}

InjectionOutcome PodInjector::Inject(std::string_view ns, const Json& pod) const {
  if (ns.empty()) return Skip("skipped", "ferry: skipped: the request carries no namespace");
  if (ns == config_.own_namespace || ns == "kube-system" ||
      std::find(config_.excluded_namespaces.begin(), config_.excluded_namespaces.end(), ns) !=
          config_.excluded_namespaces.end()) {
    return Skip("excluded");
  }
  if (!pod.is_object() || !Member(pod, "metadata") || !pod["metadata"].is_object() ||
      !Member(pod, "spec") || !pod["spec"].is_object()) {
    return Deny(InvalidArgument("ferry: the pod has no metadata or spec object"));
  }
  const Json& spec = pod["spec"];
  const Json* containers = Member(spec, "containers");
  if (containers == nullptr || !containers->is_array()) {
    return Deny(InvalidArgument("ferry: spec.containers must be a list"));
  }
  for (const char* key : {"initContainers", "volumes"}) {
    const Json* m = Member(spec, key);
    if (m != nullptr && !m->is_array() && !m->is_null()) {
      return Deny(InvalidArgument(std::string("ferry: spec.") + key + " must be a list"));
    }
  }
  for (const char* key : {"annotations", "labels"}) {
    const Json* m = Member(pod["metadata"], key);
    if (m != nullptr && !m->is_object() && !m->is_null()) {
      return Deny(InvalidArgument(std::string("ferry: metadata.") + key + " must be a map"));
    }
  }
  const std::string* opt = Annotation(pod, kAnnoInject);
  const std::string* opt_label = Label(pod, kAnnoInject);
  if ((opt != nullptr && *opt == "false") || (opt_label != nullptr && *opt_label == "false")) {
    return Skip("opted-out");
  }
  SidecarLocation loc = FindFerrySidecar(pod);
  if (Annotation(pod, kAnnoInjected) != nullptr) {
    if (!loc.found) {
      return Skip("skipped",
                  "ferry: skipped: ferry.io/injected is set but there is no ferry-sidecar");
    }
    return Skip("already-injected");
  }
  if (loc.found) return Repair(pod, loc);

  if (const Json* hu = Member(spec, "hostUsers"); hu != nullptr && hu->is_boolean() && !hu->get<bool>()) {
    return Skip("skipped",
                "ferry: skipped: hostUsers: false pods cannot use Bidirectional mounts (no datasets)");
  }
  if (const PlatformProfile* p = MatchProfile(pod); p != nullptr && !p->fuse) {
    std::string w = "ferry: skipped on platform " + SafeName(p->name) + ": no privileged FUSE";
    if (!p->warning.empty()) w += " (" + p->warning + ")";
    return Skip("skipped-platform", w);
  }

  InjectionOutcome out;
  auto params = ResolveParams(pod, out.warnings);
  if (!params.ok()) return Deny(params.status());
  MutationContext ctx(pod, config_, std::move(params).value());
  ctx.sidecar_container = &sidecar_;
  if (Status s = chain_.Run(ctx); !s.ok()) return Deny(s);
  ctx.patch.AddMapEntry("/metadata/annotations", kAnnoInjected, std::string(config_.tag));
  if (LooksRestricted(spec)) {
    ctx.warnings.push_back(
        "ferry: privileged ferry-sidecar needs pod-security.kubernetes.io/enforce=privileged");
  }
  out.patch = std::move(ctx.patch).Build();
  out.warnings.insert(out.warnings.end(), ctx.warnings.begin(), ctx.warnings.end());
  out.decision = "injected";
  return out;
}

StatusOr<InjectionParams> PodInjector::ResolveParams(const Json& pod,
                                                     std::vector<std::string>& warnings) const {
  InjectionParams p;
  p.mount_path = config_.datasets_path;
  p.datasets_config_map = config_.datasets_config_map;
  if (const std::string* mp = Annotation(pod, kAnnoMountPath)) {
    if (!IsValidMountPath(*mp)) {
      return InvalidArgument("ferry: annotation ferry.io/mount-path \"" + SafeName(*mp) +
                             "\" is not an absolute clean path of [A-Za-z0-9._-/]; use e.g. "
                             "/datasets");
    }
    p.mount_path = *mp;
  }
  if (const std::string* cm = Annotation(pod, kAnnoDatasets)) {
    if (!IsDns1123Subdomain(*cm)) {
      return InvalidArgument("ferry: annotation ferry.io/datasets \"" + SafeName(*cm) +
                             "\" is not a ConfigMap name (lowercase a-z, 0-9, '-', '.')");
    }
    p.datasets_config_map = *cm;
  }
  const std::string* ic = Annotation(pod, kAnnoInitContainers);
  if (ic == nullptr) return p;
  if (config_.mode == SidecarMode::kLegacy) {
    warnings.push_back("ferry: legacy mode: init containers cannot see datasets; "
                       "ferry.io/init-containers ignored");
    return p;
  }
  const Json* inits = ArrayMember(pod["spec"], "initContainers");
  std::string_view rest = *ic;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view name = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (name.empty()) continue;
    if (name == "*") {
      p.all_init_containers = true;
      continue;
    }
    bool known = false;
    if (inits != nullptr) {
      for (const Json& c : *inits) known |= StringMember(c, "name") == name;
    }
    if (!known) {
      warnings.push_back("ferry: ferry.io/init-containers: no init container \"" +
                         SafeName(name) + "\"");
    }
    p.init_containers.emplace(name);
  }
  return p;
}

const PlatformProfile* PodInjector::MatchProfile(const Json& pod) const {
  const Json& spec = pod["spec"];
  const Json* node_selector = Member(spec, "nodeSelector");
  const Json* tolerations = ArrayMember(spec, "tolerations");
  std::string_view scheduler = StringMember(spec, "schedulerName");
  // Required node affinity `In` terms act like node selectors.
  std::vector<std::pair<std::string, std::string>> affinity;
  try {
    const Json* terms = nullptr;
    if (const Json* a = Member(spec, "affinity"))
      if (const Json* na = Member(*a, "nodeAffinity"))
        if (const Json* req = Member(*na, "requiredDuringSchedulingIgnoredDuringExecution"))
          terms = ArrayMember(*req, "nodeSelectorTerms");
    if (terms != nullptr) {
      for (const Json& t : *terms) {
        const Json* exprs = ArrayMember(t, "matchExpressions");
        if (exprs == nullptr) continue;
        for (const Json& e : *exprs) {
          if (StringMember(e, "operator") != "In" && StringMember(e, "operator") != "Exists") continue;
          const Json* values = ArrayMember(e, "values");
          if (values == nullptr || values->empty()) {
            affinity.emplace_back(StringMember(e, "key"), "");
            continue;
          }
          for (const Json& v : *values) {
            if (v.is_string()) affinity.emplace_back(StringMember(e, "key"), v.get<std::string>());
          }
        }
      }
    }
  } catch (const Json::exception&) {
    affinity.clear();
  }
  for (const PlatformProfile& p : config_.platform_profiles) {
    const PlatformMatch& m = p.match;
    for (const auto& [key, want] : m.labels) {
      if (const std::string* v = Label(pod, key); v != nullptr && SelectorValueMatches(want, *v)) {
        return &p;
      }
    }
    for (const auto& [key, want] : m.node_selector) {
      if (node_selector != nullptr) {
        std::string_view v = StringMember(*node_selector, key, "\x01");
        if (v != "\x01" && SelectorValueMatches(want, v)) return &p;
      }
      for (const auto& [akey, aval] : affinity) {
        if (akey == key && (want.empty() || aval.empty() || aval == want)) return &p;
      }
    }
    if (tolerations != nullptr) {
      for (const Json& t : *tolerations) {
        std::string_view key = StringMember(t, "key");
        for (const auto& want : m.toleration_keys) {
          if (key == want) return &p;
        }
      }
    }
    for (const auto& s : m.scheduler_names) {
      if (scheduler == s) return &p;
    }
  }
  return nullptr;
}

InjectionOutcome PodInjector::Repair(const Json& pod, const SidecarLocation& loc) const {
  // Ferry's sidecar is there but the marker is not: another webhook rebuilt the pod (or
  // dropped fields through an old client library). Put back what is missing, add-only;
  // deny what was changed, since replacing it could undo that webhook's intent.
  const char* list = loc.in_init_containers ? "initContainers" : "containers";
  const std::string ptr = "/spec/" + std::string(list) + "/" + std::to_string(loc.index);
  const Json& c = pod["spec"][list][loc.index];
  PatchBuilder patch(pod);
  auto changed = [&](std::string_view what) {
    return Deny(FailedPrecondition(
        "ferry: ferry-sidecar was changed by another admission webhook (" + std::string(what) +
        "); fix that webhook, or opt out with annotation ferry.io/inject: \"false\""));
  };
  if (loc.in_init_containers) {
    const Json* rp = Member(c, "restartPolicy");
    if (rp == nullptr || rp->is_null()) {
      patch.AddMember(ptr, "restartPolicy", "Always");
    } else if (*rp != "Always") {
      return changed("restartPolicy is not Always");
    }
    if (Member(c, "startupProbe") == nullptr) {
      patch.AddMember(ptr, "startupProbe",
                      SidecarContainer(config_, SidecarMode::kNative)["startupProbe"]);
    }
  }
  bool has_mnt = false;
  if (const Json* mounts = ArrayMember(c, "volumeMounts")) {
    for (size_t j = 0; j < mounts->size(); ++j) {
      const Json& m = (*mounts)[j];
      if (StringMember(m, "name") != kMntVolume) continue;
      has_mnt = true;
      const Json* prop = Member(m, "mountPropagation");
      if (prop == nullptr || prop->is_null()) {
        patch.AddMember(ptr + "/volumeMounts/" + std::to_string(j), "mountPropagation",
                        "Bidirectional");
      } else if (*prop != "Bidirectional") {
        return changed("ferry-mnt mountPropagation is not Bidirectional");
      }
    }
  }
  if (!has_mnt) return changed("ferry-mnt is not mounted");
  const Json* sc = Member(c, "securityContext");
  if (sc == nullptr || sc->is_null()) {
    patch.AddMember(ptr, "securityContext",
                    SidecarContainer(config_, SidecarMode::kNative)["securityContext"]);
  } else if (const Json* priv = Member(*sc, "privileged"); priv == nullptr || *priv != true) {
    return changed("securityContext.privileged is not true");
  }
  std::vector<std::string_view> present;
  if (const Json* vols = ArrayMember(pod["spec"], "volumes")) {
    for (const Json& v : *vols) present.push_back(StringMember(v, "name"));
  }
  std::string cm = config_.datasets_config_map;
  if (const std::string* a = Annotation(pod, kAnnoDatasets); a && IsDns1123Subdomain(*a)) cm = *a;
  for (Json& v : FerryVolumes(config_, cm)) {
    std::string_view name = v["name"].get_ref<const std::string&>();
    if (std::find(present.begin(), present.end(), name) == present.end()) {
      patch.Append("/spec/volumes", std::move(v));
    }
  }
  patch.AddMapEntry("/metadata/annotations", kAnnoInjected, std::string(config_.tag));
  InjectionOutcome out;
  out.patch = std::move(patch).Build();
  out.decision = "repaired";
  if (out.patch.size() > 1) {
    out.warnings.push_back("ferry: repaired ferry-sidecar fields dropped by another webhook");
  }
  return out;
}

}  // namespace ferry::webhook
