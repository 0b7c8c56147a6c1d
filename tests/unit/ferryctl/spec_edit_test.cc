#include "ferryctl/spec_edit.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

namespace ferry::ferryctl {
namespace {

constexpr char kManifest[] = R"(# team datasets, edited by hand
apiVersion: v1
kind: ConfigMap
metadata:
  name: ferry-datasets   # keep this name
  namespace: ml
  labels: {team: vision}
data:
  datasets.yaml: |
    mounts:
      - name: imagenet
        source: local:///data/imagenet
  other.txt: keep me
)";

TEST(SpecEditTest, RecognizesKinds) {
  auto a = LoadSpecDocument("mounts: []\n");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->kind, DocKind::kDatasetsYaml);
  auto b = LoadSpecDocument(kManifest);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->kind, DocKind::kConfigMapYaml);
  EXPECT_NE(b->spec_text.find("imagenet"), std::string::npos);
  auto c = LoadSpecDocument(
      R"({"apiVersion":"v1","kind":"ConfigMap","data":{"datasets.yaml":"mounts: []\n"}})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, DocKind::kConfigMapJson);
  EXPECT_EQ(c->spec_text, "mounts: []\n");
}

TEST(SpecEditTest, AddToManifestKeepsEverythingElse) {
  auto doc = LoadSpecDocument(kManifest);
  ASSERT_TRUE(doc.ok());
  AddRequest req{"coco", "s3://bucket/coco/", {{"region", "us-east-1"}}, false, "coco"};
  auto spec = AddMount(doc->spec_text, req);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto out = WithSpecText(*doc, *spec);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Comments and other keys survive byte for byte.
  EXPECT_EQ(out->rfind("# team datasets, edited by hand\n", 0), 0u);
  EXPECT_NE(out->find("  name: ferry-datasets   # keep this name\n"), std::string::npos);
  EXPECT_NE(out->find("  other.txt: keep me\n"), std::string::npos);
  auto again = LoadSpecDocument(*out);
  ASSERT_TRUE(again.ok());
  auto parsed = ParseDatasetSpec(again->spec_text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->mounts.size(), 2u);
  EXPECT_EQ(parsed->mounts[1].name, "coco");
  EXPECT_FALSE(parsed->mounts[1].read_only);
  EXPECT_EQ(parsed->mounts[1].credentials, "coco");
  EXPECT_EQ(parsed->mounts[1].options.at("region"), "us-east-1");
}

TEST(SpecEditTest, RemoveFromManifest) {
  auto doc = LoadSpecDocument(kManifest);
  ASSERT_TRUE(doc.ok());
  auto spec = RemoveMount(doc->spec_text, "imagenet");
  ASSERT_TRUE(spec.ok());
  auto out = WithSpecText(*doc, *spec);
  ASSERT_TRUE(out.ok());
  auto again = LoadSpecDocument(*out);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(ParseDatasetSpec(again->spec_text)->mounts.empty());
  EXPECT_NE(out->find("  other.txt: keep me\n"), std::string::npos);
}

TEST(SpecEditTest, ManifestWithoutDataGetsOne) {
  std::string m = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ferry-datasets\n";
  auto doc = LoadSpecDocument(m);
  ASSERT_TRUE(doc.ok());
  auto spec = AddMount(doc->spec_text, {"a", "local:///a", {}, std::nullopt, ""});
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto out = WithSpecText(*doc, *spec);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(LoadSpecDocument(*out)->spec_text, *spec);
}

TEST(SpecEditTest, InlineValueBecomesABlock) {
  std::string m =
      "apiVersion: v1\nkind: ConfigMap\ndata:\n  datasets.yaml: \"mounts: []\"\n  x: y\n";
  auto doc = LoadSpecDocument(m);
  ASSERT_TRUE(doc.ok());
  auto spec = AddMount(doc->spec_text, {"a", "local:///a", {}, std::nullopt, ""});
  ASSERT_TRUE(spec.ok());
  auto out = WithSpecText(*doc, *spec);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_NE(out->find("  x: y\n"), std::string::npos);
  EXPECT_EQ(LoadSpecDocument(*out)->spec_text, *spec);
}

TEST(SpecEditTest, JsonManifestIsEdited) {
  std::string j =
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ferry-datasets","resourceVersion":"7"},"data":{"datasets.yaml":"mounts: []\n"}})";
  auto doc = LoadSpecDocument(j);
  ASSERT_TRUE(doc.ok());
  auto spec = AddMount(doc->spec_text, {"a", "local:///a", {}, std::nullopt, ""});
  ASSERT_TRUE(spec.ok());
  auto out = WithSpecText(*doc, *spec);
  ASSERT_TRUE(out.ok());
  auto parsed = nlohmann::json::parse(*out);
  EXPECT_EQ(parsed["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(parsed["data"]["datasets.yaml"], *spec);
}

TEST(SpecEditTest, AddRefusesDuplicatesAndBadSources) {
  EXPECT_TRUE(AddMount("mounts: [{name: a, source: 'local:///a'}]\n",
                       {"a", "local:///b", {}, std::nullopt, ""})
                  .status()
                  .Is(StatusCode::kAlreadyExists));
  auto bad = AddMount("", {"b", "ftp://x", {}, std::nullopt, ""});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("ftp"), std::string::npos);
}

TEST(SpecEditTest, RemoveUnknownIsNotFound) {
  EXPECT_TRUE(RemoveMount("mounts: []\n", "x").status().Is(StatusCode::kNotFound));
}

TEST(SpecEditTest, FluidDocumentsAreNotEdited) {
  std::string fluid =
      "apiVersion: data.fluid.io/v1alpha1\nkind: Dataset\nmetadata: {name: d}\nspec:\n  mounts:\n"
      "    - mountPoint: local:///data\n      name: d\n";
  EXPECT_TRUE(IsFluidSpec(fluid));
  EXPECT_TRUE(AddMount(fluid, {"b", "local:///b", {}, std::nullopt, ""})
                  .status()
                  .Is(StatusCode::kFailedPrecondition));
  EXPECT_FALSE(IsFluidSpec("mounts: []\n"));
}

}  // namespace
}  // namespace ferry::ferryctl
