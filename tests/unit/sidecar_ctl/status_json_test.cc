#include "sidecar/status_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sidecar/status_metrics.h"

namespace ferry::sidecar {
namespace {

StatusSnapshot Sample() {
  StatusSnapshot s;
  s.ready = true;
  s.generation = 3;
  s.spec_error = "";
  s.updated = std::chrono::system_clock::time_point(std::chrono::seconds(1795442400));
  DatasetStatus a;
  a.phase = DatasetPhase::kMounted;
  a.source = "local:///data/a";
  a.read_only = true;
  a.bytes_cached = 5;
  a.bytes_read = 9;
  a.last_change = s.updated;
  s.datasets["a"] = a;
  DatasetStatus b;
  b.phase = DatasetPhase::kFailed;
  b.source = "s3://x/\"q\"";
  b.error = "source scheme s3 not supported yet";
  b.last_change = s.updated;
  s.datasets["b"] = b;
  s.reconciles_total = 4;
  return s;
}

TEST(StatusJsonTest, PreloadProgressAndRetryStateOnlyWhenPresent) {
  StatusSnapshot s = Sample();
  s.datasets["a"].preload = {true, false, 3, 10, 1, 3000, 10000, "403 from host"};
  s.datasets["b"].failures = 2;
  s.datasets["b"].next_retry = std::chrono::system_clock::time_point(std::chrono::seconds(1795442404));
  auto doc = nlohmann::json::parse(StatusToJson(s));
  const auto& p = doc["datasets"]["a"]["preload"];
  EXPECT_EQ(p["done"], false);
  EXPECT_EQ(p["filesDone"], 3);
  EXPECT_EQ(p["filesTotal"], 10);
  EXPECT_EQ(p["filesFailed"], 1);
  EXPECT_EQ(p["bytesDone"], 3000);
  EXPECT_EQ(p["bytesTotal"], 10000);
  EXPECT_EQ(p["error"], "403 from host");
  EXPECT_FALSE(doc["datasets"]["a"].contains("failures"));
  EXPECT_FALSE(doc["datasets"]["b"].contains("preload"));
  EXPECT_EQ(doc["datasets"]["b"]["failures"], 2);
  EXPECT_EQ(doc["datasets"]["b"]["nextRetry"], "2026-11-23T14:00:04Z");
}

TEST(StatusJsonTest, PassthroughOnlyWhenOn) {
  StatusSnapshot s = Sample();
  s.datasets["a"].passthrough = true;
  auto doc = nlohmann::json::parse(StatusToJson(s));
  EXPECT_EQ(doc["datasets"]["a"]["passthrough"], true);
  EXPECT_FALSE(doc["datasets"]["b"].contains("passthrough"));
}

TEST(StatusJsonTest, MatchesTheDocumentedFormat) {
  auto doc = nlohmann::json::parse(StatusToJson(Sample()));
  EXPECT_EQ(doc["version"], FERRY_VERSION);
  EXPECT_EQ(doc["ready"], true);
  EXPECT_EQ(doc["generation"], 3);
  EXPECT_EQ(doc["specError"], "");
  EXPECT_EQ(doc["updated"], "2026-11-23T14:00:00Z");
  const auto& a = doc["datasets"]["a"];
  EXPECT_EQ(a["phase"], "Mounted");
  EXPECT_EQ(a["source"], "local:///data/a");
  EXPECT_EQ(a["readOnly"], true);
  EXPECT_EQ(a["error"], "");
  EXPECT_EQ(a["bytesCached"], 5);
  EXPECT_EQ(a["lastChange"], "2026-11-23T14:00:00Z");
  EXPECT_EQ(doc["datasets"]["b"]["phase"], "Failed");
  EXPECT_EQ(doc["datasets"]["b"]["source"], "s3://x/\"q\"");
}

TEST(StatusJsonTest, EmptyDatasetsIsAnObject) {
  StatusSnapshot s;
  auto doc = nlohmann::json::parse(StatusToJson(s));
  EXPECT_TRUE(doc["datasets"].is_object());
  EXPECT_EQ(doc["ready"], false);
}

TEST(StatusJsonTest, InvalidUtf8DoesNotThrow) {
  StatusSnapshot s;
  s.spec_error = std::string("bad \xff byte");
  nlohmann::json doc;
  EXPECT_NO_THROW(doc = nlohmann::json::parse(StatusToJson(s)));
  EXPECT_TRUE(doc.is_object());
}

TEST(StatusMetricsTest, ListsEveryPhaseAndDataset) {
  std::string m = RenderMetrics(Sample());
  EXPECT_NE(m.find("ferry_ready 1\n"), std::string::npos);
  EXPECT_NE(m.find("ferry_datasets{phase=\"Mounted\"} 1\n"), std::string::npos);
  EXPECT_NE(m.find("ferry_datasets{phase=\"Failed\"} 1\n"), std::string::npos);
  EXPECT_NE(m.find("ferry_datasets{phase=\"Pending\"} 0\n"), std::string::npos);
  EXPECT_NE(m.find("ferry_datasets{phase=\"Unmounting\"} 0\n"), std::string::npos);
  EXPECT_NE(m.find("ferry_reconciles_total 4\n"), std::string::npos);
  EXPECT_NE(m.find("ferry_dataset_bytes_read_total{dataset=\"a\"} 9\n"), std::string::npos);
  EXPECT_NE(m.find("# TYPE ferry_reconciles_total counter\n"), std::string::npos);
}

TEST(StatusMetricsTest, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace ferry::sidecar
