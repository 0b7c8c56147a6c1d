// Every ConfigMap in examples/*.yaml with a datasets.yaml key must parse with
// ParseDatasetSpec, so the examples users apply unchanged cannot go stale.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "common/dataset_spec.h"
#include "common/yaml_util.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

std::string ReadExample(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ExampleConfigMap {
  std::string file;
  std::string name;
  std::string datasets_yaml;
};

std::vector<ExampleConfigMap> DatasetConfigMaps() {
  std::vector<ExampleConfigMap> out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(FERRY_SOURCE_DIR) / "examples")) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    StatusOr<std::vector<YAML::Node>> docs = yaml::LoadAll(ReadExample(f));
    EXPECT_TRUE(docs.ok()) << f << ": " << docs.status().ToString();
    if (!docs.ok()) continue;
    for (const YAML::Node& doc : *docs) {
      if (!doc.IsMap() || !doc["kind"] || doc["kind"].Scalar() != "ConfigMap") continue;
      YAML::Node data = doc["data"];
      if (!data || !data["datasets.yaml"]) continue;
      out.push_back({f.filename().string(), doc["metadata"]["name"].Scalar(),
                     data["datasets.yaml"].Scalar()});
    }
  }
  return out;
}

TEST(DatasetSpecExamples, EveryExampleDatasetListParses) {
  std::vector<ExampleConfigMap> maps = DatasetConfigMaps();
  std::set<std::string> files;
  for (const ExampleConfigMap& m : maps) {
    SCOPED_TRACE(m.file);
    files.insert(m.file);
    EXPECT_EQ(m.name, "ferry-datasets");
    StatusOr<DatasetSpec> spec = ParseDatasetSpec(m.datasets_yaml);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    EXPECT_FALSE(spec->mounts.empty());
  }
  EXPECT_TRUE(files.contains("datasets.yaml"));
  EXPECT_TRUE(files.contains("fluid-dataset.yaml"));
}

TEST(DatasetSpecExamples, ExamplesCoverALocalAndAnS3DatasetAndFluidCredentials) {
  std::set<std::string> schemes;
  bool fluid_credentials = false;
  for (const ExampleConfigMap& m : DatasetConfigMaps()) {
    StatusOr<DatasetSpec> spec = ParseDatasetSpec(m.datasets_yaml);
    ASSERT_TRUE(spec.ok()) << m.file << ": " << spec.status().ToString();
    for (const MountSpec& mount : spec->mounts) {
      schemes.insert(mount.scheme);
      if (m.file == "fluid-dataset.yaml" && !mount.credentials.empty()) {
        fluid_credentials = true;
        // Documented in the example: the Secret keys are <mount name>.accessKeyId.
        EXPECT_EQ(mount.credentials, mount.name);
      }
    }
  }
  EXPECT_TRUE(schemes.contains("local"));
  EXPECT_TRUE(schemes.contains("s3"));
  EXPECT_TRUE(fluid_credentials);
}

TEST(DatasetSpecExamples, CredentialsExampleHoldsTheKeysTheDatasetsName) {
  StatusOr<std::vector<YAML::Node>> docs =
      yaml::LoadAll(ReadExample(fs::path(FERRY_SOURCE_DIR) / "examples/credentials.yaml"));
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 1u);
  const YAML::Node& secret = (*docs)[0];
  EXPECT_EQ(secret["metadata"]["name"].Scalar(), "ferry-credentials");
  std::set<std::string> keys;
  for (auto it = secret["stringData"].begin(); it != secret["stringData"].end(); ++it) {
    keys.insert(it->first.Scalar());
  }
  EXPECT_FALSE(keys.contains("datasets.yaml"));
  for (const ExampleConfigMap& m : DatasetConfigMaps()) {
    StatusOr<DatasetSpec> spec = ParseDatasetSpec(m.datasets_yaml);
    ASSERT_TRUE(spec.ok());
    for (const MountSpec& mount : spec->mounts) {
      if (mount.credentials.empty()) continue;
      EXPECT_TRUE(keys.contains(mount.credentials + ".accessKeyId")) << m.file << " " << mount.name;
      EXPECT_TRUE(keys.contains(mount.credentials + ".secretAccessKey"))
          << m.file << " " << mount.name;
    }
  }
}

}  // namespace
}  // namespace ferry
