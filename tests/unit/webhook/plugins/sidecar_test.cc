#include "webhook/plugins/sidecar.h"

#include <gtest/gtest.h>

namespace ferry::webhook {
namespace {

TEST(SidecarMutatorTest, NativeInsertsAfterLastMeshProxy) {
  WebhookConfig config;
  Json pod = {{"metadata", Json::object()},
              {"spec",
               {{"initContainers",
                 {{{"name", "istio-init"}}, {{"name", "istio-proxy"}}, {{"name", "migrate"}}}},
                {"containers", {{{"name", "app"}}}}}}};
  MutationContext ctx(pod, config, {"/datasets", "ferry-datasets", false, {}});
  ASSERT_TRUE(NewSidecarMutator()->Mutate(ctx).ok());
  Json patch = ctx.patch.Build();
  ASSERT_EQ(patch.size(), 1u);
  EXPECT_EQ(patch[0]["path"], "/spec/initContainers/2");
}

TEST(SidecarMutatorTest, NothingOfTheSidecarLiesUnderTheBidirectionalPath) {
  WebhookConfig config;
  for (SidecarMode mode : {SidecarMode::kNative, SidecarMode::kLegacy}) {
    Json c = SidecarContainer(config, mode);
    for (const auto& m : c["volumeMounts"]) {
      if (m["name"] == "ferry-mnt") continue;
      EXPECT_NE(m["mountPath"].get<std::string>().rfind("/run/ferry/mnt", 0), 0u);
      EXPECT_FALSE(m.contains("subPath"));
    }
    EXPECT_FALSE(c.contains("terminationMessagePath"));
  }
}

TEST(SidecarMutatorTest, LegacyKeepsExistingDefaultContainerAnnotation) {
  WebhookConfig config;
  config.mode = SidecarMode::kLegacy;
  Json pod = {{"metadata", {{"annotations", {{"kubectl.kubernetes.io/default-container", "b"}}}}},
              {"spec", {{"containers", {{{"name", "a"}}, {{"name", "b"}}}}}}};
  MutationContext ctx(pod, config, {"/datasets", "ferry-datasets", false, {}});
  ASSERT_TRUE(NewSidecarMutator()->Mutate(ctx).ok());
  Json out = pod.patch(ctx.patch.Build());
  EXPECT_EQ(out["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"], "b");
  EXPECT_EQ(out["spec"]["containers"][0]["name"], "ferry-sidecar");
}

}  // namespace
}  // namespace ferry::webhook
