#include "webhook/pod_injector.h"

#include <gtest/gtest.h>

#include "tests/support/webhook_pod_rules.h"
#include "tests/support/webhook_testing.h"
#include "webhook/mutator_registry.h"

namespace ferry::webhook {
namespace {

using ferry::testing::LoadTestPod;

class PodInjectorTest : public ::testing::Test {
 protected:
  InjectionOutcome Run(const Json& pod, std::string_view ns = "ml-team") {
    auto chain = BuildBuiltinChain(config_.mutators);
    EXPECT_TRUE(chain.ok());
    chain_ = std::make_unique<MutatorChain>(std::move(chain).value());
    PodInjector injector(config_, *chain_);
    return injector.Inject(ns, pod);
  }
  Json Apply(const Json& pod, const InjectionOutcome& o) {
    EXPECT_TRUE(o.status.ok()) << o.status.ToString();
    return pod.patch(o.patch);
  }
  static const Json* Find(const Json& list, std::string_view name) {
    for (const auto& c : list) {
      if (c["name"] == name) return &c;
    }
    return nullptr;
  }
  WebhookConfig config_;
  std::unique_ptr<MutatorChain> chain_;
};

TEST_F(PodInjectorTest, ExcludedNamespacesAreNeverMutated) {
  Json pod = LoadTestPod("deployment");
  config_.excluded_namespaces = {};  // kube-system and the own namespace stay excluded in code
  config_.own_namespace = "ferry-system";
  for (const char* ns : {"kube-system", "ferry-system"}) {
    InjectionOutcome o = Run(pod, ns);
    EXPECT_TRUE(o.status.ok());
    EXPECT_TRUE(o.patch.empty()) << ns;
  }
  config_.excluded_namespaces = {"batch-legacy"};
  EXPECT_TRUE(Run(pod, "batch-legacy").patch.empty());
  EXPECT_FALSE(Run(pod, "ml-team").patch.empty());
}

TEST_F(PodInjectorTest, RequestNamespaceIsAuthoritative) {
  Json pod = LoadTestPod("deployment");
  pod["metadata"]["namespace"] = "kube-system";  // object says kube-system, request does not
  EXPECT_FALSE(Run(pod, "ml-team").patch.empty());
  pod["metadata"]["namespace"] = "ml-team";
  EXPECT_TRUE(Run(pod, "kube-system").patch.empty());
}

TEST_F(PodInjectorTest, OptOutByAnnotationOrLabel) {
  EXPECT_TRUE(Run(LoadTestPod("opt-out")).patch.empty());
  Json pod = LoadTestPod("bare");
  pod["metadata"]["labels"] = {{"ferry.io/inject", "false"}};
  EXPECT_TRUE(Run(pod).patch.empty());
}

TEST_F(PodInjectorTest, NativeSidecarComesAfterMeshProxiesAndBeforeOtherInitContainers) {
  for (auto [name, proxy] : {std::pair{"istio-native", "istio-proxy"},
                             std::pair{"linkerd-native", "linkerd-proxy"}}) {
    Json pod = LoadTestPod(name);
    Json out = Apply(pod, Run(pod));
    const Json& inits = out["spec"]["initContainers"];
    size_t proxy_at = 0, ferry_at = 0;
    for (size_t i = 0; i < inits.size(); ++i) {
      if (inits[i]["name"] == proxy) proxy_at = i;
      if (inits[i]["name"] == "ferry-sidecar") ferry_at = i;
    }
    EXPECT_EQ(ferry_at, proxy_at + 1) << name;
  }
  Json pod = LoadTestPod("init-containers");
  Json out = Apply(pod, Run(pod));
  EXPECT_EQ(out["spec"]["initContainers"][0]["name"], "ferry-sidecar");
}

TEST_F(PodInjectorTest, SidecarMatchesThePodContract) {
  Json pod = LoadTestPod("bare");
  Json out = Apply(pod, Run(pod));
  const Json& s = out["spec"]["initContainers"][0];
  EXPECT_EQ(s["name"], "ferry-sidecar");
  EXPECT_EQ(s["restartPolicy"], "Always");
  EXPECT_EQ(s["command"], Json::array({"ferry-propagator"}));
  EXPECT_EQ(s["args"], Json::array({"--mnt-dir=/run/ferry/mnt", "--", "ferry-sidecar", "run",
                                    "--config-dir=/etc/ferry", "--mnt-dir=/run/ferry/mnt",
                                    "--cache-dir=/var/cache/ferry"}));
  EXPECT_EQ(s["startupProbe"]["exec"]["command"],
            Json::array({"ferryctl", "probe", "--mnt-dir=/run/ferry/mnt"}));
  EXPECT_EQ(s["startupProbe"]["failureThreshold"], 600);
  EXPECT_EQ(s["securityContext"]["privileged"], true);
  EXPECT_EQ(s["securityContext"]["runAsUser"], 0);
  EXPECT_EQ(s["securityContext"]["runAsNonRoot"], false);
  EXPECT_FALSE(s["securityContext"].contains("allowPrivilegeEscalation"));
  EXPECT_EQ(s["volumeMounts"][0],
            (Json{{"name", "ferry-mnt"}, {"mountPath", "/run/ferry/mnt"},
                  {"mountPropagation", "Bidirectional"}}));
  EXPECT_EQ(s["volumeMounts"][1]["readOnly"], true);
  EXPECT_FALSE(s["volumeMounts"][1].contains("subPath"));
  EXPECT_EQ(s["env"][0]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
  const Json& vols = out["spec"]["volumes"];
  ASSERT_EQ(vols.size(), 3u);
  EXPECT_EQ(vols[0], (Json{{"name", "ferry-mnt"}, {"emptyDir", Json::object()}}));
  EXPECT_EQ(vols[1]["projected"]["defaultMode"], 288);
  EXPECT_EQ(vols[1]["projected"]["sources"][0]["configMap"]["name"], "ferry-datasets");
  EXPECT_EQ(vols[1]["projected"]["sources"][0]["configMap"]["optional"], true);
  EXPECT_EQ(vols[1]["projected"]["sources"][1]["secret"]["name"], "ferry-credentials");
  EXPECT_EQ(vols[2]["emptyDir"]["sizeLimit"], "10Gi");
  const Json& app = out["spec"]["containers"][0];
  EXPECT_EQ(app["volumeMounts"][0],
            (Json{{"name", "ferry-mnt"}, {"mountPath", "/datasets"},
                  {"mountPropagation", "HostToContainer"}, {"readOnly", true}}));
  for (const auto& m : app["volumeMounts"]) EXPECT_NE(m["name"], "ferry-config");
}

TEST_F(PodInjectorTest, AnnotationsChooseConfigMapPathAndInitContainers) {
  Json pod = LoadTestPod("custom-annotations");
  Json out = Apply(pod, Run(pod));
  EXPECT_EQ(Find(out["spec"]["volumes"], "ferry-config")->at("projected")["sources"][0]
                ["configMap"]["name"],
            "team-datasets");
  const Json* fetch = Find(out["spec"]["initContainers"], "fetch");
  ASSERT_NE(fetch, nullptr);
  EXPECT_EQ(fetch->at("volumeMounts").back()["mountPath"], "/mnt/data");
  EXPECT_EQ(out["spec"]["containers"][0]["volumeMounts"].back()["mountPath"], "/mnt/data");

  Json init = LoadTestPod("init-containers");  // opts in "warm-cache" only
  Json out2 = Apply(init, Run(init));
  auto has_mount = [](const Json* c) {
    for (const auto& m : c->at("volumeMounts")) {
      if (m["name"] == "ferry-mnt") return true;
    }
    return false;
  };
  EXPECT_TRUE(has_mount(Find(out2["spec"]["initContainers"], "warm-cache")));
  EXPECT_FALSE(has_mount(Find(out2["spec"]["initContainers"], "migrate")));
}

TEST_F(PodInjectorTest, BadAnnotationsAreDeniedWithTheFix) {
  Json pod = LoadTestPod("bare");
  pod["metadata"]["annotations"] = {{"ferry.io/mount-path", "relative/path"}};
  InjectionOutcome o = Run(pod);
  EXPECT_FALSE(o.status.ok());
  EXPECT_NE(std::string(o.status.message()).find("ferry.io/mount-path"), std::string::npos);
  pod["metadata"]["annotations"] = {{"ferry.io/datasets", "Bad_Name"}};
  EXPECT_FALSE(Run(pod).status.ok());
  pod["metadata"]["annotations"] = {{"ferry.io/init-containers", "nope"}};
  InjectionOutcome w = Run(pod);
  EXPECT_TRUE(w.status.ok());
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_NE(w.warnings[0].find("nope"), std::string::npos);
}

TEST_F(PodInjectorTest, KnativeQueueProxyAndMeshProxiesGetNoDatasets) {
  Json pod = LoadTestPod("knative");
  Json out = Apply(pod, Run(pod));
  for (const auto& c : out["spec"]["containers"]) {
    bool mounted = false;
    for (const auto& m : c.value("volumeMounts", Json::array())) mounted |= m["name"] == "ferry-mnt";
    EXPECT_EQ(mounted, c["name"] == "user-container") << c["name"];
  }
}

TEST_F(PodInjectorTest, LegacyModePutsSidecarFirstAfterMeshProxyAndSetsDefaultContainer) {
  config_.mode = SidecarMode::kLegacy;
  Json pod = LoadTestPod("istio-legacy");
  Json out = Apply(pod, Run(pod));
  const Json& cs = out["spec"]["containers"];
  EXPECT_EQ(cs[0]["name"], "istio-proxy");
  EXPECT_EQ(cs[1]["name"], "ferry-sidecar");
  EXPECT_FALSE(cs[1].contains("restartPolicy"));
  EXPECT_FALSE(cs[1].contains("startupProbe"));
  EXPECT_EQ(cs[1]["lifecycle"]["postStart"]["exec"]["command"].back(), "--wait=600s");
  EXPECT_EQ(out["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"], "app");

  Json job = LoadTestPod("job");
  InjectionOutcome o = Run(job);
  ASSERT_FALSE(o.warnings.empty());
  EXPECT_NE(o.warnings[0].find("Job"), std::string::npos);
}

TEST_F(PodInjectorTest, PlatformProfilesAndUserNamespacesSkipWithWarning) {
  for (const char* name : {"fargate", "virtual-kubelet", "host-users"}) {
    InjectionOutcome o = Run(LoadTestPod(name));
    EXPECT_TRUE(o.status.ok());
    EXPECT_TRUE(o.patch.empty()) << name;
    ASSERT_EQ(o.warnings.size(), 1u) << name;
    EXPECT_NE(o.warnings[0].find("skipped"), std::string::npos) << o.warnings[0];
  }
  // A profile that allows FUSE injects normally.
  config_.platform_profiles[0].fuse = true;
  EXPECT_FALSE(Run(LoadTestPod("fargate")).patch.empty());
}

TEST_F(PodInjectorTest, NodeAffinityMatchesProfileLikeNodeSelector) {
  Json pod = LoadTestPod("bare");
  pod["spec"]["affinity"] = {
      {"nodeAffinity",
       {{"requiredDuringSchedulingIgnoredDuringExecution",
         {{"nodeSelectorTerms",
           {{{"matchExpressions",
              {{{"key", "type"}, {"operator", "In"}, {"values", {"virtual-kubelet"}}}}}}}}}}}}};
  EXPECT_TRUE(Run(pod).patch.empty());
}

TEST_F(PodInjectorTest, NonRootPodKeepsPodSecurityContextAndWarnsAboutPsa) {
  Json pod = LoadTestPod("nonroot");
  InjectionOutcome o = Run(pod);
  Json out = Apply(pod, o);
  EXPECT_EQ(out["spec"]["securityContext"], pod["spec"]["securityContext"]);
  EXPECT_EQ(out["spec"]["initContainers"][0]["securityContext"]["runAsNonRoot"], false);
  bool psa = false;
  for (const auto& w : o.warnings) psa |= w.find("pod-security.kubernetes.io") != std::string::npos;
  EXPECT_TRUE(psa);
}

TEST_F(PodInjectorTest, AlreadyInjectedAndOwnOutputAreFixedPoints) {
  Json pod = LoadTestPod("deployment");
  Json out = Apply(pod, Run(pod));
  EXPECT_TRUE(Run(out).patch.empty());
  // Without the marker (another webhook dropped annotations), the sidecar is still
  // detected: only the marker comes back, nothing is injected twice.
  Json no_marker = out;
  no_marker["metadata"]["annotations"].erase("ferry.io/injected");
  InjectionOutcome o = Run(no_marker);
  ASSERT_TRUE(o.status.ok());
  ASSERT_EQ(o.patch.size(), 1u) << o.patch.dump();
  EXPECT_EQ(o.patch[0]["path"], "/metadata/annotations/ferry.io~1injected");
}

TEST_F(PodInjectorTest, RepairsFieldsDroppedByAnotherWebhook) {
  Json pod = LoadTestPod("bare");
  Json out = Apply(pod, Run(pod));
  out["metadata"].erase("annotations");
  Json& s = out["spec"]["initContainers"][0];
  s.erase("restartPolicy");
  s.erase("startupProbe");
  s["volumeMounts"][0].erase("mountPropagation");  // old client library dropped it
  out["spec"]["volumes"].erase(2);                  // ferry-cache gone
  // Renamed-detection needs name or Bidirectional mount; the name is still there.
  InjectionOutcome o = Run(out);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  Json repaired = Apply(out, o);
  EXPECT_TRUE(ferry::testing::ValidatePodRules(repaired).empty());
  const Json& r = repaired["spec"]["initContainers"][0];
  EXPECT_EQ(r["restartPolicy"], "Always");
  EXPECT_TRUE(r.contains("startupProbe"));
  EXPECT_EQ(r["volumeMounts"][0]["mountPropagation"], "Bidirectional");
  EXPECT_EQ(repaired["spec"]["volumes"].size(), 3u);
  EXPECT_FALSE(o.warnings.empty());
  EXPECT_TRUE(Run(repaired).patch.empty());
}

TEST_F(PodInjectorTest, DeniesSidecarChangedBeyondRepair) {
  Json pod = LoadTestPod("bare");
  Json out = Apply(pod, Run(pod));
  out["metadata"].erase("annotations");
  out["spec"]["initContainers"][0]["securityContext"]["privileged"] = false;
  InjectionOutcome o = Run(out);
  EXPECT_FALSE(o.status.ok());
  EXPECT_NE(std::string(o.status.message()).find("privileged"), std::string::npos);
}

TEST_F(PodInjectorTest, MarkerWithoutSidecarIsSkippedWithWarning) {
  Json pod = LoadTestPod("bare");
  pod["metadata"]["annotations"] = {{"ferry.io/injected", "0.0.9"}};
  InjectionOutcome o = Run(pod);
  EXPECT_TRUE(o.patch.empty());
  EXPECT_EQ(o.warnings.size(), 1u);
}

TEST_F(PodInjectorTest, MalformedPodsAreDenied) {
  for (const char* bad : {R"({"metadata":{},"spec":{"containers":5}})", R"({"metadata":{}})",
                          R"({"metadata":{"annotations":[1]},"spec":{"containers":[]}})",
                          R"({"metadata":{},"spec":{"containers":[],"volumes":{}}})", "[]"}) {
    InjectionOutcome o = Run(Json::parse(bad));
    EXPECT_FALSE(o.status.ok()) << bad;
    EXPECT_TRUE(o.patch.empty());
  }
}

TEST_F(PodInjectorTest, ConfigChangesImageResourcesCacheAndPath) {
  config_.image = "registry.local/ferry";
  config_.tag = "9.9.9";
  config_.image_pull_policy = "Always";
  config_.resources = {{{"cpu", "1"}}, {}};
  config_.cache_size_limit = "1Gi";
  config_.datasets_path = "/data";
  Json pod = LoadTestPod("bare");
  Json out = Apply(pod, Run(pod));
  const Json& s = out["spec"]["initContainers"][0];
  EXPECT_EQ(s["image"], "registry.local/ferry:9.9.9");
  EXPECT_EQ(s["imagePullPolicy"], "Always");
  EXPECT_EQ(s["resources"], (Json{{"requests", {{"cpu", "1"}}}}));
  EXPECT_EQ(out["spec"]["volumes"][2]["emptyDir"]["sizeLimit"], "1Gi");
  EXPECT_EQ(out["spec"]["containers"][0]["volumeMounts"][0]["mountPath"], "/data");
  EXPECT_EQ(out["metadata"]["annotations"]["ferry.io/injected"], "9.9.9");
}

TEST_F(PodInjectorTest, UserContainerNamedFerrySidecarIsDenied) {
  Json pod = LoadTestPod("bare");
  pod["spec"]["containers"][0]["name"] = "ferry-sidecar";
  EXPECT_FALSE(Run(pod).status.ok());
}

}  // namespace
}  // namespace ferry::webhook
