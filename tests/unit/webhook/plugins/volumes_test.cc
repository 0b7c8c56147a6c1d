#include "webhook/plugins/volumes.h"

#include <gtest/gtest.h>

namespace ferry::webhook {
namespace {

TEST(VolumesMutatorTest, AddsWholeArrayWhenAbsentAndAppendsOtherwise) {
  WebhookConfig config;
  auto m = NewVolumesMutator();
  Json pod = {{"metadata", Json::object()}, {"spec", {{"containers", Json::array()}}}};
  MutationContext ctx(pod, config, {"/datasets", "ferry-datasets", false, {}});
  ASSERT_TRUE(m->Mutate(ctx).ok());
  Json patch = ctx.patch.Build();
  ASSERT_EQ(patch.size(), 1u);
  EXPECT_EQ(patch[0]["path"], "/spec/volumes");
  EXPECT_EQ(patch[0]["value"].size(), 3u);

  Json pod2 = {{"metadata", Json::object()},
               {"spec", {{"containers", Json::array()}, {"volumes", {{{"name", "x"}}}}}}};
  MutationContext ctx2(pod2, config, {"/datasets", "ferry-datasets", false, {}});
  ASSERT_TRUE(m->Mutate(ctx2).ok());
  Json p2 = ctx2.patch.Build();
  ASSERT_EQ(p2.size(), 3u);
  for (const auto& op : p2) EXPECT_EQ(op["path"], "/spec/volumes/-");
}

TEST(VolumesMutatorTest, ClashNamesTheVolume) {
  WebhookConfig config;
  Json pod = {{"spec", {{"volumes", {{{"name", "ferry-mnt"}, {"emptyDir", Json::object()}}}}}}};
  MutationContext ctx(pod, config, {"/datasets", "ferry-datasets", false, {}});
  Status s = NewVolumesMutator()->Mutate(ctx);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("\"ferry-mnt\""), std::string::npos);
}

TEST(VolumesMutatorTest, NeverHostPathNeverMemory) {
  WebhookConfig config;
  Json vols = FerryVolumes(config, "cm");
  EXPECT_EQ(vols.dump().find("hostPath"), std::string::npos);
  EXPECT_EQ(vols.dump().find("Memory"), std::string::npos);
}

}  // namespace
}  // namespace ferry::webhook
