#include "webhook/admission_review.h"

#include <gtest/gtest.h>

namespace ferry::webhook {
namespace {

TEST(AdmissionReviewTest, Base64RoundTrip) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    std::string enc = Base64Encode(s);
    EXPECT_EQ(enc.size() % 4, 0u);
    std::string dec;
    ASSERT_TRUE(Base64Decode(enc, &dec));
    EXPECT_EQ(dec, s);
  }
  EXPECT_EQ(Base64Encode("ferry"), "ZmVycnk=");
  std::string out;
  EXPECT_FALSE(Base64Decode("abc", &out));
  EXPECT_FALSE(Base64Decode("a=bc", &out));
  EXPECT_FALSE(Base64Decode("ab!c", &out));
}

TEST(AdmissionReviewTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain ascii that is longer than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("模型训练 🚀 Entraînement"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\x80"));          // overlong NUL
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("abc\xe6\xa8"));       // truncated
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
}

TEST(AdmissionReviewTest, ParsesV1Request) {
  auto r = ParseAdmissionReview(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
    "request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},
    "resource":{"group":"","version":"v1","resource":"pods"},"namespace":"ns",
    "operation":"CREATE","object":{"metadata":{}},"dryRun":true}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->uid, "u1");
  EXPECT_EQ(r->kind, "Pod");
  EXPECT_EQ(r->resource, "pods");
  EXPECT_EQ(r->ns, "ns");
  EXPECT_TRUE(r->dry_run);
  EXPECT_TRUE(r->sub_resource.empty());
  EXPECT_TRUE(r->object().is_object());
}

TEST(AdmissionReviewTest, EncodesDenialWithoutPatchAndAllowWithPatch) {
  auto r = ParseAdmissionReview(
      R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}})");
  ASSERT_TRUE(r.ok());
  AdmissionResult deny;
  deny.allowed = false;
  deny.code = 200;  // < 400 becomes 403
  deny.message = "no";
  deny.patch = Json::array({Json{{"op", "add"}}});
  Json d = Json::parse(EncodeAdmissionResponse(*r, deny));
  EXPECT_EQ(d["apiVersion"], "admission.k8s.io/v1beta1");
  EXPECT_EQ(d["response"]["status"]["code"], 403);
  EXPECT_FALSE(d["response"].contains("patch"));
  EXPECT_FALSE(d.contains("request"));
  AdmissionResult allow;
  allow.patch = Json::array();
  allow.warnings = {std::string(300, 'w')};
  Json a = Json::parse(EncodeAdmissionResponse(*r, allow));
  EXPECT_FALSE(a["response"].contains("patchType"));
  EXPECT_LT(a["response"]["warnings"][0].get<std::string>().size(), 120u);
}

}  // namespace
}  // namespace ferry::webhook
