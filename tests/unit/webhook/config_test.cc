#include "webhook/config.h"

#include <gtest/gtest.h>

namespace ferry::webhook {
namespace {

TEST(ConfigTest, EmptyDocumentKeepsContractDefaults) {
  auto c = ParseWebhookConfig("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ImageRef(), "ghcr.io/ferry-data/ferry:" FERRY_VERSION);
  EXPECT_EQ(c->image_pull_policy, "IfNotPresent");
  EXPECT_EQ(c->cache_size_limit, "10Gi");
  EXPECT_EQ(c->datasets_path, "/datasets");
  EXPECT_EQ(c->mode, SidecarMode::kNative);
  EXPECT_EQ(c->resources.requests.at("cpu"), "50m");
  EXPECT_EQ(c->resources.limits.at("memory"), "512Mi");
  EXPECT_EQ(c->platform_profiles.size(), 3u);
}

TEST(ConfigTest, ParsesEveryKey) {
  auto c = ParseWebhookConfig(R"(
sidecar:
  image: registry.local/ferry
  tag: "0.2.0"
  imagePullPolicy: Always
  mode: legacy
  resources:
    requests: {cpu: 100m, memory: 128Mi}
    limits: {memory: 1Gi}
cacheSizeLimit: 20Gi
datasetsPath: /data
excludedNamespaces: [kube-public]
ownNamespace: ferry
datasetsConfigMap: my-datasets
credentialsSecret: my-creds
mutators: [volumes, app_mounts, sidecar]
platformProfiles:
  - name: eci
    fuse: true
    match: {labels: {alibabacloud.com/eci: "true"}}
  - name: vk
    warning: no FUSE here
    match:
      nodeSelector: {type: virtual-kubelet}
      tolerations: [virtual-kubelet.io/provider]
      schedulerNames: [vk-scheduler]
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ImageRef(), "registry.local/ferry:0.2.0");
  EXPECT_EQ(c->image_pull_policy, "Always");
  EXPECT_EQ(c->mode, SidecarMode::kLegacy);
  EXPECT_EQ(c->resources.requests.at("memory"), "128Mi");
  EXPECT_EQ(c->cache_size_limit, "20Gi");
  EXPECT_EQ(c->datasets_path, "/data");
  // kube-system is always excluded.
  EXPECT_EQ(c->excluded_namespaces, (std::vector<std::string>{"kube-public", "kube-system"}));
  EXPECT_EQ(c->own_namespace, "ferry");
  EXPECT_EQ(c->datasets_config_map, "my-datasets");
  EXPECT_EQ(c->credentials_secret, "my-creds");
  EXPECT_EQ(c->mutators.size(), 3u);
  ASSERT_EQ(c->platform_profiles.size(), 2u);
  EXPECT_TRUE(c->platform_profiles[0].fuse);
  EXPECT_FALSE(c->platform_profiles[1].fuse);
  EXPECT_EQ(c->platform_profiles[1].match.scheduler_names[0], "vk-scheduler");
}

TEST(ConfigTest, ErrorsNameTheKey) {
  struct Case {
    const char* yaml;
    const char* want;
  };
  for (const Case& c : {Case{"sidecar: {imagePullPolicy: Sometimes}", "sidecar.imagePullPolicy"},
                        Case{"sidecar: {mode: hybrid}", "sidecar.mode"},
                        Case{"sidecar: {imgae: x}", "sidecar.imgae"},
                        Case{"cacheSizeLimit: lots", "cacheSizeLimit"},
                        Case{"datasetsPath: relative", "datasetsPath"},
                        Case{"datasetsPath: /", "datasetsPath"},
                        Case{"sidecar: {resources: {limits: {memory: 1 GB}}}", "limits.memory"},
                        Case{"platformProfiles: [{name: x}]", "match"},
                        Case{"platformProfiles: [{name: x, match: {}}]", "matches nothing"},
                        Case{"unknownKey: 1", "unknownKey"},
                        Case{"datasetsConfigMap: Not_Valid", "datasetsConfigMap"},
                        Case{"sidecar: [", "YAML"}}) {
    auto r = ParseWebhookConfig(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(std::string(r.status().message()).find(c.want), std::string::npos)
        << r.status().message();
  }
}

TEST(ConfigTest, MissingFileIsNotFound) {
  auto r = LoadWebhookConfigFile("/nonexistent/ferry.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(StatusCode::kNotFound));
}

TEST(ConfigTest, Validators) {
  for (const char* q : {"50m", "64Mi", "1.5Gi", "1e3", "128974848", "0"}) EXPECT_TRUE(IsValidQuantity(q)) << q;
  for (const char* q : {"", "1 Gi", "Gi", "1GB", "-"}) EXPECT_FALSE(IsValidQuantity(q)) << q;
  for (const char* p : {"/datasets", "/mnt/data-1", "/a/b.c"}) EXPECT_TRUE(IsValidMountPath(p)) << p;
  for (const char* p : {"/", "", "rel", "/a/../b", "/a//b", "/a/", "/a:b", "/a b"}) {
    EXPECT_FALSE(IsValidMountPath(p)) << p;
  }
  EXPECT_TRUE(IsDns1123Subdomain("ferry-datasets"));
  EXPECT_FALSE(IsDns1123Subdomain("Ferry"));
  EXPECT_FALSE(IsDns1123Subdomain("-x"));
}

}  // namespace
}  // namespace ferry::webhook
