// The real ferry-webhook binary over real TLS: a fresh CA from the openssl CLI, a
// libcurl client that verifies the certificate under the Service name
// ferry-webhook.<ns>.svc, certificate rotation under load, bad bodies, health and
// metrics, flag and config errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/integration/webhook/webhook_process.h"
#include "tests/support/test_certs.h"
#include "tests/support/webhook_testing.h"

namespace ferry::testing {
namespace {

using nlohmann::json;

std::string NormalizeSerial(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), ':'), s.end());
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  s.erase(0, std::min(s.find_first_not_of('0'), s.size()));
  return s;
}

class WebhookServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(WebhookProcess::BinaryPath().c_str(), X_OK) != 0) {
      GTEST_SKIP() << "ferry-webhook not built";
    }
    auto certs = TestCerts::Create();
    if (!certs.ok()) GTEST_SKIP() << "openssl CLI unavailable: " << certs.status().ToString();
    certs_.emplace(std::move(certs).value());
    auto pair = certs_->IssueServerCert("serving");
    ASSERT_TRUE(pair.ok()) << pair.status().ToString();
    pair_ = *pair;
    // The files the webhook watches (cert-manager would rewrite these).
    cert_ = certs_->dir() + "/tls.crt";
    key_ = certs_->dir() + "/tls.key";
    std::filesystem::copy_file(pair_.cert, cert_);
    std::filesystem::copy_file(pair_.key, key_);
  }

  void StartWebhook(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--tls-cert", cert_, "--tls-key", key_,
                                     "--tls-reload-interval", "50", "--threads", "16"};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(proc_.Start(args)) << proc_.stderr_text();
  }

  std::unique_ptr<HttpsClient> Client() {
    return std::make_unique<HttpsClient>(certs_->ca_cert(), certs_->service_host(), proc_.port());
  }

  // Atomically replaces the watched files with `p` (rename over, like a Secret swap).
  void Install(const TestCerts::Pair& p) {
    std::filesystem::copy_file(p.key, key_ + ".new");
    std::filesystem::copy_file(p.cert, cert_ + ".new");
    std::filesystem::rename(key_ + ".new", key_);
    std::filesystem::rename(cert_ + ".new", cert_);
  }

  std::optional<TestCerts> certs_;
  TestCerts::Pair pair_;
  std::string cert_, key_;
  WebhookProcess proc_;
};

TEST_F(WebhookServerTest, MutatesOverVerifiedTlsWithKeepAlive) {
  StartWebhook();
  auto c = Client();
  std::string review = MakeReview(LoadTestPod("deployment"));
  for (int i = 0; i < 20; ++i) {  // one connection, reused
    HttpsResponse r = c->Post("/mutate", review);
    ASSERT_EQ(r.curl, CURLE_OK) << curl_easy_strerror(r.curl);
    ASSERT_EQ(r.status, 200);
    auto a = DecodeReviewAnswer(r.body);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_TRUE(a->has_patch);
  }
  HttpsResponse fresh = c->GetWithNewConnection("/healthz");
  EXPECT_EQ(NormalizeSerial(fresh.serial), NormalizeSerial(pair_.serial));
}

TEST_F(WebhookServerTest, WrongServiceNameFailsVerification) {
  StartWebhook();
  HttpsClient wrong(certs_->ca_cert(), "ferry-webhook.other-ns.svc", proc_.port());
  HttpsResponse r = wrong.Get("/healthz");
  EXPECT_NE(r.curl, CURLE_OK);
}

TEST_F(WebhookServerTest, Tls12And13WorkAndTls11IsRefused) {
  StartWebhook();
  auto c = Client();
  c->SetTlsVersions(static_cast<long>(CURL_SSLVERSION_TLSv1_2) | static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_2));
  EXPECT_EQ(c->GetWithNewConnection("/healthz").status, 200);
  c->SetTlsVersions(static_cast<long>(CURL_SSLVERSION_TLSv1_3) | static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_3));
  EXPECT_EQ(c->GetWithNewConnection("/healthz").status, 200);
  c->SetTlsVersions(static_cast<long>(CURL_SSLVERSION_TLSv1_1) | static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_1));
  EXPECT_NE(c->GetWithNewConnection("/healthz").curl, CURLE_OK);
}

TEST_F(WebhookServerTest, CertificateRotationUnderLoadDropsNothing) {
  StartWebhook();
  auto next = certs_->IssueServerCert("rotated");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  std::string review = MakeReview(LoadTestPod("deployment"));
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&, t] {
      auto c = Client();
      int n = 0;
      while (!stop.load()) {
        // Mix reused and fresh connections so handshakes happen during the swap.
        HttpsResponse r = (++n % 5 == t % 5) ? c->GetWithNewConnection("/readyz")
                                             : c->Post("/mutate", review);
        if (r.curl == CURLE_OK && r.status == 200) {
          ok.fetch_add(1);
        } else {
          failed.fetch_add(1);
          ADD_FAILURE() << "request failed during rotation: " << curl_easy_strerror(r.curl)
                        << " status " << r.status;
        }
      }
    });
  }
  auto wait_ok = [&](int at_least) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (ok.load() < at_least && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  wait_ok(50);
  Install(*next);
  // The new certificate is served to new connections within a few polls.
  auto c = Client();
  std::string served;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    served = NormalizeSerial(c->GetWithNewConnection("/healthz").serial);
    if (served == NormalizeSerial(next->serial)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int after_swap = ok.load();
  wait_ok(after_swap + 50);
  stop = true;
  for (auto& th : load) th.join();
  EXPECT_EQ(served, NormalizeSerial(next->serial)) << proc_.stderr_text();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), after_swap);
  std::string metrics = Client()->Get("/metrics").body;
  EXPECT_NE(metrics.find("ferry_webhook_tls_reloads_total{result=\"ok\"} 1"), std::string::npos)
      << metrics;
}

TEST_F(WebhookServerTest, BrokenPairIsIgnoredUntilAGoodOneArrives) {
  StartWebhook();
  std::ofstream(cert_, std::ios::trunc) << "not a certificate\n";
  auto c = Client();
  // Still serving the old pair: poll a few reload intervals while checking.
  for (int i = 0; i < 10; ++i) {
    HttpsResponse r = c->GetWithNewConnection("/healthz");
    ASSERT_EQ(r.curl, CURLE_OK);
    EXPECT_EQ(NormalizeSerial(r.serial), NormalizeSerial(pair_.serial));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  EXPECT_TRUE(proc_.Running());
}

TEST_F(WebhookServerTest, BadBodiesGet4xxAndTheNextRequestIsServed) {
  StartWebhook();
  std::string big(3 * 1024 * 1024 + 10, 'x');
  struct Case {
    std::string body;
    long status;
  };
  for (const Case& cs : std::vector<Case>{{"", 400},
                                          {"{not json", 400},
                                          {std::string("{\"k\":\"\xc3\x28\"}"), 400},
                                          {"{\"apiVersion\":\"v1\"}", 400},
                                          {big, 413}}) {
    auto c = Client();
    HttpsResponse r = c->Post("/mutate", cs.body);
    EXPECT_EQ(r.status, cs.status) << cs.body.substr(0, 40) << " curl=" << r.curl;
    EXPECT_LT(r.body.size(), 200u);
    HttpsResponse next = Client()->Post("/mutate", MakeReview(LoadTestPod("bare")));
    EXPECT_EQ(next.status, 200);
  }
  EXPECT_TRUE(proc_.Running());
}

TEST_F(WebhookServerTest, HealthReadinessAndMetrics) {
  StartWebhook();
  auto c = Client();
  EXPECT_EQ(c->Get("/healthz").status, 200);
  EXPECT_EQ(c->Get("/readyz").status, 200);
  EXPECT_EQ(c->Post("/validate", ReadTestData("admission/configmap-invalid.json")).status, 200);
  EXPECT_EQ(c->Post("/mutate", MakeReview(LoadTestPod("bare"))).status, 200);
  EXPECT_EQ(c->Get("/nope").status, 404);
  HttpsResponse m = c->Get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("ferry_webhook_requests_total{path=\"/mutate\",result=\"patched\"} 1"),
            std::string::npos);
  EXPECT_NE(m.body.find("ferry_webhook_requests_total{path=\"/validate\",result=\"denied\"} 1"),
            std::string::npos);
  EXPECT_NE(m.body.find("ferry_webhook_request_duration_seconds_count{path=\"/mutate\"} 1"),
            std::string::npos);
  EXPECT_EQ(proc_.Stop(), 0);  // SIGTERM: clean exit
}

TEST_F(WebhookServerTest, ConfigFileChangesTheInjection) {
  std::string cfg = certs_->dir() + "/config.yaml";
  std::ofstream(cfg) << "sidecar: {image: registry.local/ferry, tag: \"7.7.7\", mode: legacy}\n";
  StartWebhook({"--config", cfg});
  HttpsResponse r = Client()->Post("/mutate", MakeReview(LoadTestPod("bare")));
  auto a = DecodeReviewAnswer(r.body);
  ASSERT_TRUE(a.ok());
  auto pod = ApplyJsonPatch(LoadTestPod("bare"), a->patch);
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ((*pod)["spec"]["containers"][0]["image"], "registry.local/ferry:7.7.7");
}

TEST_F(WebhookServerTest, BadConfigAndFlagsExit2WithAClearError) {
  std::string cfg = certs_->dir() + "/bad.yaml";
  std::ofstream(cfg) << "sidecar: {mode: hybrid}\n";
  ProcessResult bad_cfg =
      WebhookProcess::RunToExit({"--tls-cert", cert_, "--tls-key", key_, "--config", cfg});
  EXPECT_EQ(bad_cfg.exit_code, 2);
  EXPECT_NE(bad_cfg.stderr_text.find("sidecar.mode"), std::string::npos) << bad_cfg.stderr_text;
  ProcessResult no_key = WebhookProcess::RunToExit({"--tls-cert", cert_});
  EXPECT_EQ(no_key.exit_code, 2);
  ProcessResult missing = WebhookProcess::RunToExit(
      {"--tls-cert", certs_->dir() + "/absent.pem", "--tls-key", key_});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.stderr_text.find("absent.pem"), std::string::npos) << missing.stderr_text;
}

}  // namespace
}  // namespace ferry::testing
