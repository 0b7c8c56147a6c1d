#include "webhook/pod_json.h"

#include <gtest/gtest.h>

namespace ferry::webhook {
namespace {

TEST(PodJsonTest, EscapesTildeBeforeSlash) {
  EXPECT_EQ(EscapePointerToken("ferry.io/injected"), "ferry.io~1injected");
  EXPECT_EQ(EscapePointerToken("a~/b"), "a~0~1b");
  EXPECT_EQ(EscapePointerToken("~1"), "~01");
}

TEST(PodJsonTest, AddsWholeMapWhenAbsentAndEntriesWhenPresent) {
  Json pod = {{"metadata", {{"name", "p"}}}};
  PatchBuilder b(pod);
  b.AddMapEntry("/metadata/annotations", "ferry.io/injected", "0.1.0");
  b.AddMapEntry("/metadata/annotations", "x/y", "z");
  Json patch = b.Build();
  ASSERT_EQ(patch.size(), 1u);
  EXPECT_EQ(patch[0]["path"], "/metadata/annotations");
  Json out = pod.patch(patch);
  EXPECT_EQ(out["metadata"]["annotations"]["ferry.io/injected"], "0.1.0");
  EXPECT_EQ(out["metadata"]["annotations"]["x/y"], "z");

  Json pod2 = {{"metadata", {{"annotations", {{"a", "b"}}}}}};
  PatchBuilder b2(pod2);
  b2.AddMapEntry("/metadata/annotations", "ferry.io/injected", "0.1.0");
  Json p2 = b2.Build();
  EXPECT_EQ(p2[0]["path"], "/metadata/annotations/ferry.io~1injected");
  EXPECT_EQ(pod2.patch(p2)["metadata"]["annotations"]["ferry.io/injected"], "0.1.0");
}

TEST(PodJsonTest, EditsComeBeforeInsertionsSoIndicesStayValid) {
  Json pod = {{"spec", {{"initContainers", {{{"name", "a"}}, {{"name", "b"}}}}}}};
  PatchBuilder b(pod);
  b.Insert("/spec/initContainers", 0, Json{{"name", "s"}});
  b.Append("/spec/initContainers/1/volumeMounts", Json{{"name", "m"}});
  Json out = pod.patch(b.Build());
  EXPECT_EQ(out["spec"]["initContainers"][0]["name"], "s");
  EXPECT_EQ(out["spec"]["initContainers"][2]["name"], "b");
  EXPECT_EQ(out["spec"]["initContainers"][2]["volumeMounts"][0]["name"], "m");
}

TEST(PodJsonTest, InsertIntoAbsentArrayCreatesIt) {
  Json pod = {{"spec", Json::object()}};
  PatchBuilder b(pod);
  b.Insert("/spec/initContainers", 0, Json{{"name", "s"}});
  Json out = pod.patch(b.Build());
  ASSERT_EQ(out["spec"]["initContainers"].size(), 1u);
}

TEST(PodJsonTest, DetectsSidecarByNameOrBidirectionalMount) {
  EXPECT_TRUE(IsFerrySidecar({{"name", "ferry-sidecar"}}));
  EXPECT_TRUE(IsFerrySidecar(
      {{"name", "renamed"},
       {"volumeMounts", {{{"name", "ferry-mnt"}, {"mountPropagation", "Bidirectional"}}}}}));
  EXPECT_FALSE(IsFerrySidecar(
      {{"name", "app"},
       {"volumeMounts", {{{"name", "ferry-mnt"}, {"mountPropagation", "HostToContainer"}}}}}));
  Json pod = {{"spec", {{"containers", {{{"name", "app"}}, {{"name", "ferry-sidecar"}}}}}}};
  SidecarLocation loc = FindFerrySidecar(pod);
  EXPECT_TRUE(loc.found);
  EXPECT_FALSE(loc.in_init_containers);
  EXPECT_EQ(loc.index, 1u);
}

TEST(PodJsonTest, SafeNameKeepsOnlyHarmlessCharacters) {
  EXPECT_EQ(SafeName("app-1"), "app-1");
  EXPECT_EQ(SafeName(std::string("a\0b\"c", 5)), "a?b?c");
  EXPECT_EQ(SafeName(std::string(100, 'x')).size(), 66u);
}

TEST(PodJsonTest, AccessorsTreatWrongTypesAsAbsent) {
  Json pod = {{"metadata", {{"annotations", {{"n", 5}, {"s", "v"}}}, {"labels", "oops"}}}};
  EXPECT_EQ(Annotation(pod, "n"), nullptr);
  ASSERT_NE(Annotation(pod, "s"), nullptr);
  EXPECT_EQ(Label(pod, "x"), nullptr);
  EXPECT_EQ(StringMember(Json(5), "x", "d"), "d");
}

}  // namespace
}  // namespace ferry::webhook
