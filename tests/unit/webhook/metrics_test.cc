#include "webhook/metrics.h"

#include <gtest/gtest.h>

namespace ferry::webhook {
namespace {

TEST(MetricsTest, CountsByPathAndResultWithCumulativeBuckets) {
  Metrics m;
  m.Record("/mutate", "patched", std::chrono::microseconds(200));
  m.Record("/mutate", "patched", std::chrono::milliseconds(3));
  m.Record("/validate", "denied", std::chrono::microseconds(50));
  m.Record("/nope", "invalid", std::chrono::microseconds(1));
  m.RecordTlsReload(true);
  std::string text = m.Render();
  EXPECT_NE(text.find("ferry_webhook_requests_total{path=\"/mutate\",result=\"patched\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("ferry_webhook_requests_total{path=\"/validate\",result=\"denied\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("ferry_webhook_requests_total{path=\"other\",result=\"invalid\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("ferry_webhook_request_duration_seconds_bucket{path=\"/mutate\",le=\"0.00025\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("ferry_webhook_request_duration_seconds_bucket{path=\"/mutate\",le=\"+Inf\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("ferry_webhook_request_duration_seconds_count{path=\"/mutate\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("ferry_webhook_tls_reloads_total{result=\"ok\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace ferry::webhook
