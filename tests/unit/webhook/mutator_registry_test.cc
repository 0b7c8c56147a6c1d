#include "webhook/mutator_registry.h"

#include <gtest/gtest.h>

namespace ferry::webhook {
namespace {

TEST(MutatorRegistryTest, BuildsTheProfileInOrder) {
  auto chain = BuildBuiltinChain({"app_mounts", "volumes", "sidecar"});
  ASSERT_TRUE(chain.ok());
  auto names = chain->Names();
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0], "app_mounts");
  EXPECT_EQ(names[2], "sidecar");
}

TEST(MutatorRegistryTest, UnknownOrDuplicateNamesFail) {
  auto unknown = BuildBuiltinChain({"volumes", "sidecars"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(std::string(unknown.status().message()).find("sidecars"), std::string::npos);
  EXPECT_FALSE(BuildBuiltinChain({"volumes", "volumes"}).ok());
  MutatorRegistry r;
  RegisterBuiltinMutators(r);
  EXPECT_FALSE(r.Add("volumes", +[]() -> std::unique_ptr<Mutator> { return nullptr; }).ok());
}

}  // namespace
}  // namespace ferry::webhook
