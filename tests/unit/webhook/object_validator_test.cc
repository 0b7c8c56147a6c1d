#include "webhook/object_validator.h"

#include <gtest/gtest.h>

#include "tests/support/webhook_testing.h"

namespace ferry::webhook {
namespace {

using ferry::testing::MakeReview;
using ferry::testing::ReviewOptions;

ValidationOutcome Validate(const Json& obj, const std::string& kind, const std::string& op = "CREATE") {
  WebhookConfig config;
  ObjectValidator v(config);
  ReviewOptions o;
  o.kind = kind;
  o.resource = kind == "Secret" ? "secrets" : "configmaps";
  o.operation = op;
  auto req = ParseAdmissionReview(MakeReview(obj, o));
  EXPECT_TRUE(req.ok());
  return v.Validate(*req);
}

Json ConfigMap(const std::string& name, const std::string& spec) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}},
          {"data", {{"datasets.yaml", spec}}}};
}

TEST(ObjectValidatorTest, AcceptsAValidSpecAndAFluidDataset) {
  EXPECT_TRUE(Validate(ConfigMap("ferry-datasets",
                                 "mounts:\n- name: imagenet\n  source: s3://bucket/prefix/\n"),
                       "ConfigMap")
                  .status.ok());
  const char* fluid = R"(apiVersion: data.fluid.io/v1alpha1
kind: Dataset
metadata: {name: demo}
spec:
  mounts:
  - mountPoint: oss://bucket/path/
    name: demo
    options: {fs.oss.endpoint: oss-cn-shanghai.aliyuncs.com}
)";
  ValidationOutcome o = Validate(ConfigMap("ferry-datasets", fluid), "ConfigMap");
  EXPECT_TRUE(o.status.ok()) << o.status.ToString();
}

TEST(ObjectValidatorTest, RejectsABadSpecNamingTheMount) {
  ValidationOutcome o = Validate(
      ConfigMap("ferry-datasets", "mounts:\n- name: imagenet\n  source: ftp://x/\n"), "ConfigMap");
  ASSERT_FALSE(o.status.ok());
  std::string m(o.status.message());
  EXPECT_NE(m.find("ferry-datasets"), std::string::npos) << m;
  EXPECT_NE(m.find("imagenet"), std::string::npos) << m;
}

TEST(ObjectValidatorTest, OtherConfigMapsDeletesAndOtherKindsAreIgnored) {
  Json bad = ConfigMap("something-else", "mounts: [[[");
  EXPECT_TRUE(Validate(bad, "ConfigMap").status.ok());
  EXPECT_TRUE(Validate(ConfigMap("ferry-datasets", "mounts: [[["), "ConfigMap", "DELETE").status.ok());
  EXPECT_TRUE(Validate(ConfigMap("ferry-datasets", "mounts: [[["), "Pod").status.ok());
}

TEST(ObjectValidatorTest, MissingSpecKeyWarnsAndBinaryDataIsRefused) {
  Json cm = {{"metadata", {{"name", "ferry-datasets"}}}};
  ValidationOutcome o = Validate(cm, "ConfigMap");
  EXPECT_TRUE(o.status.ok());
  EXPECT_EQ(o.warnings.size(), 1u);
  cm["binaryData"] = {{"datasets.yaml", "bW91bnRzOiBbXQ=="}};
  EXPECT_FALSE(Validate(cm, "ConfigMap").status.ok());
}

TEST(ObjectValidatorTest, SecretMustNotCarryTheSpecKey) {
  Json s = {{"metadata", {{"name", "ferry-credentials"}}},
            {"data", {{"imagenet.accessKeyId", "QUtJQQ=="}, {"imagenet.secretAccessKey", "c2VjcmV0"}}}};
  ValidationOutcome ok = Validate(s, "Secret");
  EXPECT_TRUE(ok.status.ok());
  EXPECT_TRUE(ok.warnings.empty());
  Json clash = s;
  clash["stringData"] = {{"datasets.yaml", "mounts: []"}};
  ValidationOutcome o = Validate(clash, "Secret", "UPDATE");
  ASSERT_FALSE(o.status.ok());
  EXPECT_NE(std::string(o.status.message()).find("datasets.yaml"), std::string::npos);
}

TEST(ObjectValidatorTest, SecretValuesMustBeBase64AndAreNeverEchoed) {
  Json s = {{"metadata", {{"name", "ferry-credentials"}}},
            {"data", {{"imagenet.secretAccessKey", "not base64 TOPSECRET"}}}};
  ValidationOutcome o = Validate(s, "Secret");
  ASSERT_FALSE(o.status.ok());
  EXPECT_EQ(std::string(o.status.message()).find("TOPSECRET"), std::string::npos);
  Json odd = {{"metadata", {{"name", "ferry-credentials"}}}, {"stringData", {{"token", "x"}}}};
  ValidationOutcome w = Validate(odd, "Secret");
  EXPECT_TRUE(w.status.ok());
  EXPECT_EQ(w.warnings.size(), 1u);
}

}  // namespace
}  // namespace ferry::webhook
