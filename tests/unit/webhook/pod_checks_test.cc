// The checkers the corpus test relies on must catch what injection can break; a
// checker that cannot fail would make the corpus test meaningless.
#include <gtest/gtest.h>

#include "tests/support/openapi_validator.h"
#include "tests/support/webhook_pod_rules.h"
#include "tests/support/webhook_testing.h"

namespace ferry::testing {
namespace {

using nlohmann::json;

TEST(PodChecksTest, SchemaCatchesUnknownFieldsWrongTypesAndDuplicateKeys) {
  auto v = OpenApiValidator::CoreV1();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  json pod = LoadTestPod("bare");
  EXPECT_TRUE((*v)->Validate(pod, "io.k8s.api.core.v1.Pod").empty());
  json typo = pod;
  typo["spec"]["containers"][0]["volumeMounts"] = {
      {{"name", "x"}, {"mountPath", "/x"}, {"mountPropogation", "Bidirectional"}}};
  EXPECT_FALSE((*v)->Validate(typo, "io.k8s.api.core.v1.Pod").empty());
  json number = pod;
  number["metadata"]["annotations"] = {{"ferry.io/injected", 1}};
  EXPECT_FALSE((*v)->Validate(number, "io.k8s.api.core.v1.Pod").empty());
  json dup = pod;
  dup["spec"]["volumes"] = {{{"name", "a"}, {"emptyDir", json::object()}},
                            {{"name", "a"}, {"emptyDir", json::object()}}};
  EXPECT_FALSE((*v)->Validate(dup, "io.k8s.api.core.v1.Pod").empty());
  json quantity = pod;
  quantity["spec"]["containers"][0]["resources"] = {{"limits", {{"memory", true}}}};
  EXPECT_FALSE((*v)->Validate(quantity, "io.k8s.api.core.v1.Pod").empty());
}

TEST(PodChecksTest, RulesCatchWhatInjectionCanBreak) {
  json pod = LoadTestPod("bare");
  EXPECT_TRUE(ValidatePodRules(pod).empty());
  auto broken = [&](auto mutate) {
    json p = pod;
    mutate(p);
    return !ValidatePodRules(p).empty();
  };
  EXPECT_TRUE(broken(
      [](json& p) { p["spec"]["initContainers"] = json::array({p["spec"]["containers"][0]}); }));
  EXPECT_TRUE(broken([](json& p) {
    p["spec"]["containers"][0]["volumeMounts"] = {{{"name", "ferry-mnt"}, {"mountPath", "/d"}}};
  }));
  EXPECT_TRUE(broken([](json& p) {
    p["spec"]["volumes"] = {{{"name", "v"}, {"emptyDir", json::object()}}};
    p["spec"]["containers"][0]["volumeMounts"] = {
        {{"name", "v"}, {"mountPath", "/d"}, {"mountPropagation", "Bidirectional"}}};
  }));
  EXPECT_TRUE(broken([](json& p) {
    p["spec"]["volumes"] = {{{"name", "v"}, {"emptyDir", json::object()}}};
    p["spec"]["containers"][0]["volumeMounts"] = {{{"name", "v"}, {"mountPath", "/d"}},
                                                  {{"name", "v"}, {"mountPath", "/d"}}};
  }));
  EXPECT_TRUE(broken([](json& p) { p["spec"]["containers"][0]["restartPolicy"] = "Always"; }));
  EXPECT_TRUE(broken([](json& p) {
    json init = p["spec"]["containers"][0];
    init["name"] = "init";
    init["startupProbe"] = {{"exec", {{"command", {"true"}}}}};
    p["spec"]["initContainers"] = json::array({init});
  }));
  EXPECT_TRUE(broken([](json& p) {
    p["spec"]["containers"][0]["securityContext"] = {{"privileged", true},
                                                     {"allowPrivilegeEscalation", false}};
  }));
  EXPECT_TRUE(broken([](json& p) { p["metadata"]["annotations"] = {{"bad key!", "x"}}; }));
}

}  // namespace
}  // namespace ferry::testing
