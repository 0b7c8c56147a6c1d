// The handler over the corpus of realistic pods (tests/testdata/pods): each mutated pod
// is produced by applying the answer's patch with a real RFC 6902 implementation, then
// checked against the core/v1 OpenAPI schema and the apiserver's pod rules; a second
// pass over the output must answer with no patch.
#include "webhook/admission.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/openapi_validator.h"
#include "tests/support/webhook_pod_rules.h"
#include "tests/support/webhook_testing.h"

namespace ferry::webhook {
namespace {

using ferry::testing::ApplyJsonPatch;
using ferry::testing::DecodeReviewAnswer;
using ferry::testing::LoadTestPod;
using ferry::testing::MakeReview;
using ferry::testing::ReviewAnswer;
using ferry::testing::ReviewOptions;
using nlohmann::json;

std::unique_ptr<AdmissionHandler> Handler(WebhookConfig config = {}) {
  auto h = AdmissionHandler::Create(std::move(config));
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  return std::move(h).value();
}

ReviewAnswer MutateOk(const AdmissionHandler& h, const json& pod, ReviewOptions o = {}) {
  HttpReply reply = h.Mutate(MakeReview(pod, o));
  EXPECT_EQ(reply.status, 200) << reply.body;
  auto a = DecodeReviewAnswer(reply.body);
  EXPECT_TRUE(a.ok()) << a.status().ToString() << "\n" << reply.body;
  return a.ok() ? *a : ReviewAnswer{};
}

void ExpectValidPod(const json& pod, const std::string& what) {
  auto schema = ferry::testing::OpenApiValidator::CoreV1();
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  for (const auto& e : (*schema)->Validate(pod, "io.k8s.api.core.v1.Pod")) {
    ADD_FAILURE() << what << ": schema: " << e;
  }
  for (const auto& e : ferry::testing::ValidatePodRules(pod)) {
    ADD_FAILURE() << what << ": pod rules: " << e;
  }
}

// Mutates `pod` and returns the patched pod; checks schema, rules and idempotence.
json MutateAndCheck(const AdmissionHandler& h, const json& pod, const std::string& what,
                    ReviewAnswer* answer_out = nullptr) {
  ReviewAnswer a = MutateOk(h, pod);
  if (answer_out) *answer_out = a;
  EXPECT_TRUE(a.allowed) << what << ": " << a.message;
  if (!a.has_patch) return pod;
  for (const auto& op : a.patch) EXPECT_EQ(op["op"], "add") << what << ": " << op.dump();
  auto patched = ApplyJsonPatch(pod, a.patch);
  EXPECT_TRUE(patched.ok()) << what << ": " << patched.status().ToString() << "\n" << a.patch.dump(1);
  if (!patched.ok()) return pod;
  ExpectValidPod(*patched, what);
  ReviewAnswer again = MutateOk(h, *patched);
  EXPECT_TRUE(again.allowed) << what;
  EXPECT_FALSE(again.has_patch) << what << ": second pass patched: " << again.patch.dump();
  return *patched;
}

TEST(AdmissionCorpusTest, EveryTestPodMutatesToAValidIdempotentPod) {
  auto h = Handler();
  const std::set<std::string> denied = {"clash-volume", "clash-mount"};
  const std::set<std::string> untouched = {"opt-out", "fargate", "virtual-kubelet", "host-users"};
  size_t seen = 0;
  for (const std::string& name : ferry::testing::TestPodNames()) {
    SCOPED_TRACE(name);
    ++seen;
    json pod = LoadTestPod(name);
    ExpectValidPod(pod, name + " (input)");
    if (denied.count(name)) {
      ReviewAnswer a = MutateOk(*h, pod);
      EXPECT_FALSE(a.allowed);
      EXPECT_EQ(a.code, 403);
      EXPECT_FALSE(a.has_patch);
      continue;
    }
    ReviewAnswer a;
    json out = MutateAndCheck(*h, pod, name, &a);
    if (untouched.count(name)) {
      EXPECT_FALSE(a.has_patch) << name;
      continue;
    }
    ASSERT_TRUE(a.has_patch) << name;
    EXPECT_EQ(out["metadata"]["annotations"]["ferry.io/injected"], FERRY_VERSION);
    // Export the mutated pod for the e2e engineer and for reading.
    std::ofstream(std::string(FERRY_BINARY_DIR) + "/tests/mutated-" + name + ".json")
        << out.dump(1) << "\n";
  }
  EXPECT_GE(seen, 19u);
}

TEST(AdmissionCorpusTest, LegacyModeCorpusIsValidAndIdempotent) {
  WebhookConfig c;
  c.mode = SidecarMode::kLegacy;
  auto h = Handler(c);
  for (const char* name : {"deployment", "bare", "init-containers", "istio-legacy", "job",
                           "knative", "multi-container", "100-containers", "nonroot"}) {
    SCOPED_TRACE(name);
    json out = MutateAndCheck(*h, LoadTestPod(name), std::string(name) + " (legacy)");
    const json& cs = out["spec"]["containers"];
    bool found = false;
    for (const auto& c2 : cs) found |= c2["name"] == "ferry-sidecar";
    EXPECT_TRUE(found);
  }
}

TEST(AdmissionTest, AnswersV1beta1InItsOwnVersionWithUidEchoed) {
  auto h = Handler();
  ReviewOptions o;
  o.api_version = "admission.k8s.io/v1beta1";
  o.uid = "beta-uid-1";
  HttpReply r = h->Mutate(MakeReview(LoadTestPod("deployment"), o));
  ASSERT_EQ(r.status, 200);
  auto a = DecodeReviewAnswer(r.body);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->api_version, "admission.k8s.io/v1beta1");
  EXPECT_EQ(a->uid, "beta-uid-1");
  EXPECT_TRUE(a->has_patch);
  EXPECT_EQ(r.result, "patched");
}

TEST(AdmissionTest, TestdataReviewsGetTheExpectedAnswers) {
  auto h = Handler();
  struct Case {
    const char* file;
    bool mutate;
    bool allowed;
    bool patched;
  };
  for (const Case& c : {Case{"pod-create-v1", true, true, true},
                        Case{"pod-create-v1beta1", true, true, true},
                        Case{"pod-create-dry-run", true, true, true},
                        Case{"pod-update", true, true, false},
                        Case{"pod-delete", true, true, false},
                        Case{"pod-exec-connect", true, true, false},
                        Case{"pod-status-update", true, true, false},
                        Case{"pod-kube-system", true, true, false},
                        Case{"configmap-valid", false, true, false},
                        Case{"configmap-invalid", false, false, false},
                        Case{"secret-valid", false, true, false},
                        Case{"secret-datasets-key", false, false, false}}) {
    SCOPED_TRACE(c.file);
    std::string body = ferry::testing::ReadTestData(std::string("admission/") + c.file + ".json");
    ASSERT_FALSE(body.empty());
    HttpReply r = c.mutate ? h->Mutate(body) : h->Validate(body);
    ASSERT_EQ(r.status, 200);
    auto a = DecodeReviewAnswer(r.body);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->uid, json::parse(body)["request"]["uid"]);
    EXPECT_EQ(a->allowed, c.allowed) << a->message;
    EXPECT_EQ(a->has_patch, c.patched);
  }
}

TEST(AdmissionTest, DryRunGetsTheSameAnswer) {
  auto h = Handler();
  json pod = LoadTestPod("deployment");
  ReviewOptions dry;
  dry.dry_run = true;
  EXPECT_EQ(h->Mutate(MakeReview(pod)).body, h->Mutate(MakeReview(pod, dry)).body);
}

TEST(AdmissionTest, BadBodiesGet4xxWithShortReasons) {
  auto h = Handler();
  struct Case {
    std::string body;
    int status;
    std::string reason;
  };
  std::string big(kMaxBodyBytes + 1, ' ');
  for (const Case& c : std::vector<Case>{
           {"", 400, "body is empty"},
           {"{", 400, "not valid JSON"},
           {"[1,2]", 400, "JSON object"},
           {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}", 400, "apiVersion"},
           {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}", 400, "request"},
           {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{}}",
            400, "uid"},
           {std::string("{\"a\":\"\xff\xfe\"}"), 400, "UTF-8"},
           {big, 413, "3 MiB"}}) {
    for (bool mutate : {true, false}) {
      HttpReply r = mutate ? h->Mutate(c.body) : h->Validate(c.body);
      EXPECT_EQ(r.status, c.status) << c.body.substr(0, 80);
      EXPECT_NE(r.body.find(c.reason), std::string::npos) << r.body;
      EXPECT_LT(r.body.size(), 200u);
      EXPECT_EQ(r.result, "invalid");
    }
  }
}

TEST(AdmissionTest, UidIsEchoedEvenWithControlCharacters) {
  auto h = Handler();
  ReviewOptions o;
  o.uid = std::string("u\x01id\"x", 6);
  HttpReply r = h->Mutate(MakeReview(LoadTestPod("bare"), o));
  ASSERT_EQ(r.status, 200);
  auto a = DecodeReviewAnswer(r.body);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->uid, o.uid);
}

TEST(AdmissionTest, PatchIsPaddedBase64WithoutNewlines) {
  auto h = Handler();
  HttpReply r = h->Mutate(MakeReview(LoadTestPod("bare")));
  json doc = json::parse(r.body);
  std::string patch = doc["response"]["patch"];
  EXPECT_EQ(patch.size() % 4, 0u);
  EXPECT_EQ(patch.find('\n'), std::string::npos);
  EXPECT_EQ(doc["response"]["patchType"], "JSONPatch");
}

TEST(AdmissionTest, NonPodCreatesAreAllowedWithoutPatch) {
  auto h = Handler();
  json pod = LoadTestPod("deployment");
  for (auto [op, sub, resource] : {std::tuple{"UPDATE", "", "pods"},
                                   std::tuple{"DELETE", "", "pods"},
                                   std::tuple{"CONNECT", "exec", "pods"},
                                   std::tuple{"CREATE", "ephemeralcontainers", "pods"},
                                   std::tuple{"CREATE", "binding", "pods"},
                                   std::tuple{"CREATE", "", "configmaps"}}) {
    ReviewOptions o;
    o.operation = op;
    o.sub_resource = sub;
    o.resource = resource;
    ReviewAnswer a = MutateOk(*h, pod, o);
    EXPECT_TRUE(a.allowed) << op << " " << sub;
    EXPECT_FALSE(a.has_patch) << op << " " << sub;
  }
}

TEST(AdmissionTest, DeleteWithNullObjectIsAllowed) {
  auto h = Handler();
  ReviewOptions o;
  o.operation = "DELETE";
  ReviewAnswer a = MutateOk(*h, json(nullptr), o);
  EXPECT_TRUE(a.allowed);
  EXPECT_FALSE(a.has_patch);
}

TEST(AdmissionTest, ClashDenialNamesTheClashAndTheFix) {
  auto h = Handler();
  ReviewAnswer a = MutateOk(*h, LoadTestPod("clash-mount"));
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.code, 403);
  EXPECT_NE(a.message.find("\"trainer\""), std::string::npos) << a.message;
  EXPECT_NE(a.message.find("/datasets"), std::string::npos) << a.message;
  EXPECT_NE(a.message.find("ferry.io/mount-path"), std::string::npos) << a.message;
  ReviewAnswer v = MutateOk(*h, LoadTestPod("clash-volume"));
  EXPECT_FALSE(v.allowed);
  EXPECT_NE(v.message.find("ferry-cache"), std::string::npos) << v.message;
}

TEST(AdmissionTest, WarningsAreShortAndPrefixed) {
  auto h = Handler();
  for (const char* name : {"fargate", "virtual-kubelet", "host-users", "nonroot"}) {
    ReviewAnswer a = MutateOk(*h, LoadTestPod(name));
    ASSERT_FALSE(a.warnings.empty()) << name;
    for (const auto& w : a.warnings) {
      EXPECT_LT(w.size(), 120u) << w;
      EXPECT_EQ(w.rfind("ferry: ", 0), 0u) << w;
    }
  }
}

}  // namespace
}  // namespace ferry::webhook
