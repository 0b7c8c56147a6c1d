#include "webhook/service.h"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"
#include "tests/support/webhook_testing.h"

namespace ferry::webhook {
namespace {

TEST(WebhookServiceTest, RoutesAndCounts) {
  auto h = AdmissionHandler::Create(WebhookConfig{});
  ASSERT_TRUE(h.ok());
  Metrics metrics;
  ferry::testing::FakeClock clock;
  WebhookService s(**h, metrics, clock);
  EXPECT_EQ(s.Serve("GET", "/healthz", "").status, 200);
  EXPECT_EQ(s.Serve("GET", "/readyz", "").status, 200);
  EXPECT_EQ(s.Serve("GET", "/mutate", "").status, 405);
  EXPECT_EQ(s.Serve("POST", "/healthz", "").status, 405);
  EXPECT_EQ(s.Serve("GET", "/nope", "").status, 404);
  EXPECT_EQ(s.Serve("POST", "/mutate", "{").status, 400);
  HttpReply ok = s.Serve("POST", "/mutate",
                         ferry::testing::MakeReview(ferry::testing::LoadTestPod("bare")));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.result, "patched");
  s.SetDraining();
  EXPECT_EQ(s.Serve("GET", "/readyz", "").status, 503);
  EXPECT_EQ(s.Serve("GET", "/healthz", "").status, 200);
  std::string text = s.Serve("GET", "/metrics", "").body;
  EXPECT_NE(text.find("ferry_webhook_requests_total{path=\"/mutate\",result=\"patched\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("ferry_webhook_requests_total{path=\"/mutate\",result=\"invalid\"} 2"),
            std::string::npos);
}

}  // namespace
}  // namespace ferry::webhook
