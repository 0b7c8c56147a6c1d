#include "webhook/plugins/app_mounts.h"

#include <gtest/gtest.h>

namespace ferry::webhook {
namespace {

TEST(AppMountsMutatorTest, CreatesMissingVolumeMountsArrays) {
  WebhookConfig config;
  Json pod = {{"metadata", Json::object()},
              {"spec", {{"containers", {{{"name", "a"}}, {{"name", "b"}, {"volumeMounts", Json::array()}}}}}}};
  MutationContext ctx(pod, config, {"/datasets", "ferry-datasets", false, {}});
  ASSERT_TRUE(NewAppMountsMutator()->Mutate(ctx).ok());
  Json out = pod.patch(ctx.patch.Build());
  for (const auto& c : out["spec"]["containers"]) {
    ASSERT_EQ(c["volumeMounts"].size(), 1u);
    EXPECT_EQ(c["volumeMounts"][0]["mountPropagation"], "HostToContainer");
    EXPECT_EQ(c["volumeMounts"][0]["readOnly"], true);
  }
}

TEST(AppMountsMutatorTest, TrailingSlashStillClashes) {
  WebhookConfig config;
  Json pod = {{"metadata", Json::object()},
              {"spec", {{"containers", {{{"name", "a"}, {"volumeMounts", {{{"name", "v"}, {"mountPath", "/datasets/"}}}}}}}}}};
  MutationContext ctx(pod, config, {"/datasets", "ferry-datasets", false, {}});
  EXPECT_FALSE(NewAppMountsMutator()->Mutate(ctx).ok());
}

TEST(AppMountsMutatorTest, AllInitContainersSkipsOtherSidecars) {
  WebhookConfig config;
  Json pod = {{"metadata", Json::object()},
              {"spec",
               {{"initContainers", {{{"name", "vault-agent"}, {"restartPolicy", "Always"}}, {{"name", "fetch"}}}},
                {"containers", {{{"name", "a"}}}}}}};
  MutationContext ctx(pod, config, {"/datasets", "ferry-datasets", true, {}});
  ASSERT_TRUE(NewAppMountsMutator()->Mutate(ctx).ok());
  Json out = pod.patch(ctx.patch.Build());
  EXPECT_FALSE(out["spec"]["initContainers"][0].contains("volumeMounts"));
  EXPECT_TRUE(out["spec"]["initContainers"][1].contains("volumeMounts"));
}

}  // namespace
}  // namespace ferry::webhook
