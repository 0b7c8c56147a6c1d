// Fluid Dataset manifests through ParseDatasetSpec (dataset_spec_fluid.cc).
// The fixtures in tests/testdata/specs/{good,bad}/fluid-*.yaml cover more.
#include <gtest/gtest.h>

#include <string>

#include "common/dataset_spec.h"

namespace ferry {
namespace {

constexpr const char* kHeader =
    "apiVersion: data.fluid.io/v1alpha1\nkind: Dataset\nmetadata: {name: ds}\nspec:\n";

StatusOr<DatasetSpec> ParseFluid(const std::string& spec_body) {
  std::string text = kHeader;
  text += spec_body;
  return ParseDatasetSpec(text);
}

TEST(DatasetSpecFluid, EncryptOptionsBecomeTheMountNamePrefix) {
  StatusOr<DatasetSpec> spec = ParseFluid(
      "  mounts:\n"
      "    - mountPoint: oss://bucket/x/\n"
      "      name: Train_Set\n"
      "      options: {fs.oss.endpoint: oss-cn-beijing.aliyuncs.com}\n"
      "      encryptOptions:\n"
      "        - {name: fs.oss.accessKeyId, valueFrom: {secretKeyRef: {name: s, key: a}}}\n"
      "        - {name: fs.oss.accessKeySecret, valueFrom: {secretKeyRef: {name: s, key: b}}}\n"
      "        - {name: fs.oss.securityToken, valueFrom: {secretKeyRef: {name: s, key: c}}}\n");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  const MountSpec& m = spec->mounts.at(0);
  EXPECT_EQ(m.name, "train-set");
  EXPECT_EQ(m.credentials, "train-set");  // keys train-set.accessKeyId etc.
  EXPECT_EQ(m.scheme, "oss");
  EXPECT_EQ(m.options, (std::map<std::string, std::string>{
                           {"endpoint", "https://oss-cn-beijing.aliyuncs.com"}}));
}

TEST(DatasetSpecFluid, ReadOnlyFollowsMountFlagAndAccessModes) {
  const std::string mounts =
      "  mounts:\n"
      "    - {mountPoint: 'local:///a', name: a}\n"
      "    - {mountPoint: 'local:///b', name: b, readOnly: true}\n";
  StatusOr<DatasetSpec> default_modes = ParseFluid(mounts);
  ASSERT_TRUE(default_modes.ok()) << default_modes.status().ToString();
  EXPECT_TRUE(default_modes->mounts[0].read_only);  // ReadOnlyMany by default
  EXPECT_TRUE(default_modes->mounts[1].read_only);

  std::string rw_body = "  accessModes: [ReadWriteMany]\n";
  rw_body += mounts;
  StatusOr<DatasetSpec> rw = ParseFluid(rw_body);
  ASSERT_TRUE(rw.ok()) << rw.status().ToString();
  EXPECT_FALSE(rw->mounts[0].read_only);
  EXPECT_TRUE(rw->mounts[1].read_only);
}

TEST(DatasetSpecFluid, PathDecidesTheDirectory) {
  StatusOr<DatasetSpec> spec = ParseFluid(
      "  mounts:\n"
      "    - {mountPoint: 'local:///a', name: ignored, path: /visible}\n"
      "    - {mountPoint: 'local:///b', name: relative-path-ignored, path: sub}\n");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->mounts[0].name, "visible");
  EXPECT_EQ(spec->mounts[1].name, "relative-path-ignored");
}

TEST(DatasetSpecFluid, RuntimeDocumentsAreIgnoredOtherKindsRefused) {
  StatusOr<DatasetSpec> spec = ParseDatasetSpec(
      "apiVersion: data.fluid.io/v1alpha1\nkind: JindoRuntime\nmetadata: {name: x}\n"
      "spec: {replicas: 3, tieredstore: {levels: []}}\n");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_TRUE(spec->mounts.empty());

  StatusOr<DatasetSpec> dataload = ParseDatasetSpec(
      "apiVersion: data.fluid.io/v1alpha1\nkind: DataLoad\nmetadata: {name: x}\n");
  ASSERT_FALSE(dataload.ok());
  EXPECT_NE(dataload.status().message().find("only Fluid Datasets"), std::string_view::npos);
}

TEST(DatasetSpecFluid, ErrorsNameTheDatasetAndMount) {
  StatusOr<DatasetSpec> spec = ParseFluid(
      "  mounts:\n"
      "    - {mountPoint: 'local:///a', name: a}\n"
      "    - {mountPoint: 'hdfs://nn:9000/x', name: b}\n");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(),
            "Dataset \"ds\": spec.mounts[1] \"b\": source \"hdfs://nn:9000/x\": unsupported scheme "
            "\"hdfs\"; use s3://, oss://, http://, https://, local:// or exec:// (line 7)");
}

TEST(DatasetSpecFluid, SerializesToTheNativeForm) {
  StatusOr<DatasetSpec> spec = ParseFluid(
      "  mounts:\n"
      "    - {mountPoint: 's3://bucket/p/', name: data,\n"
      "       options: {alluxio.underfs.s3.endpoint: 'http://minio:9000',\n"
      "                 alluxio.underfs.s3.disable.dns.buckets: 'true'}}\n");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(SerializeDatasetSpec(*spec),
            "mounts:\n"
            "  - name: data\n"
            "    source: s3://bucket/p/\n"
            "    options:\n"
            "      endpoint: http://minio:9000\n"
            "      style: path\n"
            "    readOnly: true\n");
}

}  // namespace
}  // namespace ferry
