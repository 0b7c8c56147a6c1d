#include "ferryctl/status_file.h"

#include <gtest/gtest.h>

namespace ferry::ferryctl {
namespace {

// As sidecar/status_json.cc writes it.
constexpr char kDoc[] = R"({
  "version": "0.1.0",
  "ready": false,
  "generation": 1,
  "specError": "",
  "updated": "2026-11-23T14:00:00Z",
  "datasets": {
    "b": {"phase": "Pending", "source": "s3://b/", "readOnly": true, "error": "",
          "bytesCached": 0, "bytesRead": 0, "lastChange": "2026-11-23T14:00:00Z"},
    "a": {"phase": "Mounted", "source": "local:///a", "readOnly": false, "error": "",
          "bytesCached": 1536, "bytesRead": 9, "lastChange": "2026-11-23T14:00:00Z"}
  }
})";

TEST(StatusFileTest, ParsesTheSidecarDocument) {
  auto s = ParseSidecarStatus(kDoc);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE(s->ready);
  EXPECT_EQ(s->generation, 1u);
  ASSERT_EQ(s->datasets.size(), 2u);
  EXPECT_EQ(s->datasets[0].name, "a");  // sorted
  EXPECT_FALSE(s->datasets[0].read_only);
  EXPECT_EQ(s->datasets[0].bytes_cached, 1536u);
}

TEST(StatusFileTest, NotReadyReasonNamesPendingDatasets) {
  auto s = ParseSidecarStatus(kDoc);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(NotReadyReason(*s), "waiting for 1 of 2 datasets: b (Pending)");
  s->spec_error = "mounts[0]: bad";
  EXPECT_NE(NotReadyReason(*s).find("spec error: mounts[0]: bad"), std::string::npos);
}

TEST(StatusFileTest, RejectsOtherJson) {
  EXPECT_FALSE(ParseSidecarStatus("{}").ok());
  EXPECT_FALSE(ParseSidecarStatus("not json").ok());
  EXPECT_FALSE(ParseSidecarStatus(R"({"ready": "yes"})").ok());
}

TEST(StatusFileTest, TableShowsEveryDataset) {
  auto s = ParseSidecarStatus(kDoc);
  ASSERT_TRUE(s.ok());
  std::string t = FormatStatusTable(*s, "/x/.ferry/status.json");
  EXPECT_NE(t.find("NAME"), std::string::npos);
  EXPECT_NE(t.find("local:///a"), std::string::npos);
  EXPECT_NE(t.find("1.5 KiB"), std::string::npos);
  EXPECT_NE(t.find("rw"), std::string::npos);
}

TEST(StatusFileTest, HumanBytes) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(3ull << 30), "3.0 GiB");
}

}  // namespace
}  // namespace ferry::ferryctl
