// Differential tests of the /mutate hot path (simdjson parse + direct response writer)
// against the reference implementation (nlohmann parses everything, the answer is an
// nlohmann tree): the same status, result and body bytes on the whole pod corpus in
// every review shape, on malformed bodies, and on seeded random mutations of them.
#include <gtest/gtest.h>

#include <pthread.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tests/support/webhook_testing.h"
#include "webhook/admission.h"
#include "webhook/json_writer.h"

namespace ferry::webhook {
namespace {

using ferry::testing::LoadTestPod;
using ferry::testing::MakeReview;
using ferry::testing::ReviewOptions;
using ferry::testing::TestPodNames;

const AdmissionHandler& SharedHandler(SidecarMode mode = SidecarMode::kNative) {
  static auto* native = AdmissionHandler::Create(WebhookConfig{})->release();
  static auto* legacy = [] {
    WebhookConfig c;
    c.mode = SidecarMode::kLegacy;
    return AdmissionHandler::Create(std::move(c))->release();
  }();
  return mode == SidecarMode::kNative ? *native : *legacy;
}

// Returns a description of the first difference, or "" when the answers are equal.
std::string Differ(std::string_view body, SidecarMode mode = SidecarMode::kNative) {
  HttpReply fast = SharedHandler(mode).Mutate(body);
  HttpReply ref = SharedHandler(mode).MutateReference(body);
  if (fast.status != ref.status) {
    return "status " + std::to_string(fast.status) + " vs " + std::to_string(ref.status) +
           " (" + ref.body + ")";
  }
  if (fast.result != ref.result) return "result differs";
  if (fast.content_type != ref.content_type) return "content type differs";
  if (fast.body != ref.body) return "body:\n" + fast.body + "\nvs\n" + ref.body;
  return "";
}

std::vector<std::string> CorpusReviews() {
  std::vector<std::string> out;
  for (const std::string& name : TestPodNames()) {
    nlohmann::json pod = LoadTestPod(name);
    for (const char* api : {"admission.k8s.io/v1", "admission.k8s.io/v1beta1"}) {
      for (const char* op : {"CREATE", "UPDATE"}) {
        for (const char* ns : {"ml-team", "kube-system", ""}) {
          ReviewOptions o;
          o.api_version = api;
          o.operation = op;
          o.ns = ns;
          o.dry_run = std::string_view(ns) == "ml-team";
          out.push_back(MakeReview(pod, o));
        }
      }
    }
    // An UPDATE carries the old object too (the fast path does not convert it).
    nlohmann::json review = nlohmann::json::parse(MakeReview(pod));
    review["request"]["oldObject"] = pod;
    out.push_back(review.dump());
    // Already injected: the reference's own output goes back in (idempotence path).
    HttpReply first = SharedHandler().MutateReference(out.front());
    (void)first;
  }
  return out;
}

TEST(FastPathTest, CorpusAnswersEqualTheReference) {
  auto reviews = CorpusReviews();
  ASSERT_GT(reviews.size(), 100u);
  for (const std::string& body : reviews) {
    for (SidecarMode mode : {SidecarMode::kNative, SidecarMode::kLegacy}) {
      std::string d = Differ(body, mode);
      EXPECT_EQ(d, "") << body.substr(0, 300);
    }
  }
}

TEST(FastPathTest, InjectedPodsAnswerAsTheReference) {
  // The patched pods: already-injected, repair and idempotence paths.
  for (const std::string& name : TestPodNames()) {
    nlohmann::json pod = LoadTestPod(name);
    std::string body = MakeReview(pod);
    auto answer = ferry::testing::DecodeReviewAnswer(SharedHandler().MutateReference(body).body);
    ASSERT_TRUE(answer.ok());
    if (!answer->has_patch) continue;
    auto patched = ferry::testing::ApplyJsonPatch(pod, answer->patch);
    ASSERT_TRUE(patched.ok());
    EXPECT_EQ(Differ(MakeReview(*patched)), "") << name;
    nlohmann::json stripped = *patched;  // marker removed: the repair path
    stripped["metadata"]["annotations"].erase("ferry.io/injected");
    EXPECT_EQ(Differ(MakeReview(stripped)), "") << name;
  }
}

TEST(FastPathTest, MalformedBodiesAnswerAsTheReference) {
  const std::string pod = MakeReview(LoadTestPod("bare"));
  std::vector<std::string> bodies = {
      "", "{", "[]", "null", "1", "\"x\"", "{}", "\xff\xfe", "{\"a\":\"\xc3\"}",
      std::string(pod.data(), pod.size() / 2),
      pod + "x",
      pod + " \n\t ",
      "\xEF\xBB\xBF" + pod,  // BOM: nlohmann skips it
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u\ud800"}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u\udc00x"}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"a\u0000\u001f\"\\\/é"}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":1}})",
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","x":18446744073709551616,"y":-9223372036854775809,"z":1e999,"w":-0,"v":-0.0,"t":1.5e-300}})",
      R"({"apiVersion":"admission.k8s.io/v1","apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"a","uid":"b"}})",
      std::string(3000, '[') + std::string(3000, ']'),
      std::string((3u << 20) + 1, ' '),
  };
  // Duplicate member names inside the pod: the last one wins in both.
  nlohmann::json review = nlohmann::json::parse(pod);
  std::string dup = review.dump();
  size_t at = dup.find("\"metadata\":{");
  ASSERT_NE(at, std::string::npos);
  dup.insert(at + 12, "\"annotations\":{\"ferry.io/inject\":\"false\"},");
  bodies.push_back(dup);
  for (const std::string& b : bodies) EXPECT_EQ(Differ(b), "") << b.substr(0, 200);
}

// Seeded random edits of corpus reviews (bytes flipped, inserted, deleted, JSON tokens
// swapped in): a deterministic slice of what the differential fuzzer explores.
TEST(FastPathTest, RandomEditsAnswerAsTheReference) {
  std::vector<std::string> seeds;
  for (const char* name : {"bare", "istio-native", "unicode", "init-containers", "opt-out"}) {
    seeds.push_back(MakeReview(LoadTestPod(name)));
  }
  static const char* kTokens[] = {"{", "}", "[", "]", ",", ":", "\"", "\\", "\\u00e9", "null",
                                  "true", "-1", "1e5", "\"containers\"", "\"env\"",
                                  "\"ferry-sidecar\"", "\xc3\xa9", "\xff"};
  std::mt19937 rng(20261123);
  int differ = 0;
  for (int i = 0; i < 3000 && differ < 5; ++i) {
    std::string b = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !b.empty(); ++e) {
      size_t pos = rng() % b.size();
      switch (rng() % 4) {
        case 0: b[pos] = static_cast<char>(rng() & 0xFF); break;
        case 1: b.erase(pos, 1 + rng() % 8); break;
        case 2: b.insert(pos, kTokens[rng() % (sizeof(kTokens) / sizeof(kTokens[0]))]); break;
        default: b.insert(pos, b.substr(rng() % b.size(), rng() % 32)); break;
      }
    }
    std::string d = Differ(b);
    if (!d.empty()) {
      ++differ;
      ADD_FAILURE() << d << "\ninput: " << b;
    }
  }
}

// civetweb (Debian) runs handlers on 100 KB thread stacks: a pod nested as deep as
// simdjson allows (1024 levels) must not overflow one.
TEST(FastPathTest, DeepNestingFitsACivetwebSizedStack) {
  nlohmann::json review = nlohmann::json::parse(MakeReview(LoadTestPod("bare")));
  std::string body = review.dump();
  size_t at = body.find("\"spec\":{");
  ASSERT_NE(at, std::string::npos);
  body.insert(at + 8, "\"deep\":" + std::string(1000, '[') + std::string(1000, ']') + ",");
  struct Job {
    std::string body;
    HttpReply fast, ref;
  } job{body, {}, {}};
  // ASan's -O0 frames are several times larger: scale the stack the same way (the
  // server gives civetweb's threads 1 MiB, see http_server.cc).
#if defined(__SANITIZE_ADDRESS__)
  constexpr size_t kStack = 1024 * 1024;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  constexpr size_t kStack = 1024 * 1024;
#else
  constexpr size_t kStack = 100 * 1024;
#endif
#else
  constexpr size_t kStack = 100 * 1024;
#endif
  void* stack = std::aligned_alloc(4096, kStack);
  ASSERT_NE(stack, nullptr);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  ASSERT_EQ(pthread_attr_setstack(&attr, stack, kStack), 0);
  pthread_t t;
  ASSERT_EQ(pthread_create(
                &t, &attr,
                [](void* arg) -> void* {
                  auto* j = static_cast<Job*>(arg);
                  j->fast = SharedHandler().Mutate(j->body);
                  j->ref = SharedHandler().MutateReference(j->body);
                  return nullptr;
                },
                &job),
            0);
  pthread_join(t, nullptr);
  pthread_attr_destroy(&attr);
  std::free(stack);
  EXPECT_EQ(job.fast.status, 200);
  EXPECT_EQ(job.fast.body, job.ref.body);
}

TEST(JsonWriterTest, MatchesNlohmannDump) {
  Json cases = Json::array({
      nullptr, true, false, 0, -1, 18446744073709551615ull, -9223372036854775807ll - 1, 1.5,
      -0.0, 1e300, 0.1, "", "plain", "quote\" back\\ slash/", "\b\f\n\r\t\x01\x1f\x7f",
      "é€😀", Json::object(), Json::array(),
      Json{{"b", 1}, {"a", {{"z", Json::array({1, "x", nullptr})}, {"y", Json::object()}}}},
  });
  for (const Json& c : cases) {
    std::string out;
    AppendJson(&out, c);
    EXPECT_EQ(out, c.dump()) << c.dump();
  }
  std::string all;
  AppendJson(&all, cases);
  EXPECT_EQ(all, cases.dump());
}

TEST(JsonWriterTest, InvalidUtf8FollowsTheErrorHandler) {
  std::string bad = "a\xff" "b\xc3";
  std::string out;
  AppendJsonString(&out, bad, Json::error_handler_t::replace);
  EXPECT_EQ(out, Json(bad).dump(-1, ' ', false, Json::error_handler_t::replace));
  out.clear();
  EXPECT_THROW(AppendJsonString(&out, bad), Json::type_error);
}

}  // namespace
}  // namespace ferry::webhook
