#include "sidecar/source/http_date.h"

#include <gtest/gtest.h>

namespace ferry::sidecar {
namespace {

constexpr int64_t kSec = 1'000'000'000;

TEST(HttpDateTest, Iso8601) {
  EXPECT_EQ(ParseIso8601Ns("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseIso8601Ns("2015-08-30T12:36:00.000Z"), 1440938160 * kSec);
  EXPECT_EQ(ParseIso8601Ns("2015-08-30T12:36:00.5Z"), 1440938160 * kSec + kSec / 2);
  EXPECT_EQ(ParseIso8601Ns("2020-02-29T00:00:00Z"), 1582934400 * kSec);
  EXPECT_FALSE(ParseIso8601Ns("2015-08-30 12:36:00Z"));
  EXPECT_FALSE(ParseIso8601Ns("2015-08-30T12:36:00"));
  EXPECT_FALSE(ParseIso8601Ns("2015-13-30T12:36:00Z"));
  EXPECT_FALSE(ParseIso8601Ns("2015-08-30T12:36:00.Z"));
  EXPECT_FALSE(ParseIso8601Ns(""));
}

TEST(HttpDateTest, YearsBeyondInt64NanosecondsAreRejected) {  // found by s3_list_xml_fuzz
  EXPECT_FALSE(ParseIso8601Ns("2787-01-01T00:00:00Z"));
  EXPECT_FALSE(ParseHttpDateNs("Fri, 01 Jan 9999 00:00:00 GMT"));
  EXPECT_TRUE(ParseIso8601Ns("2261-12-31T23:59:59Z"));
}

TEST(HttpDateTest, HttpDate) {
  EXPECT_EQ(ParseHttpDateNs("Sun, 30 Aug 2015 12:36:00 GMT"), 1440938160 * kSec);
  EXPECT_FALSE(ParseHttpDateNs("Sun, 30 Foo 2015 12:36:00 GMT"));
  EXPECT_FALSE(ParseHttpDateNs("Sunday, 30-Aug-15 12:36:00 GMT"));
  EXPECT_FALSE(ParseHttpDateNs("Sun, 30 Aug 2015 12:36:00 UTC"));
}

TEST(HttpDateTest, IndexDates) {
  EXPECT_EQ(ParseIndexDateNs("30-Aug-2015 12:36"), 1440938160 * kSec);
  EXPECT_EQ(ParseIndexDateNs("2015-08-30 12:36"), 1440938160 * kSec);
  EXPECT_EQ(ParseIndexDateNs("2015-08-30 12:36:07"), (1440938160 + 7) * kSec);
  EXPECT_FALSE(ParseIndexDateNs("30-Aug-2015"));
  EXPECT_FALSE(ParseIndexDateNs("x"));
}

TEST(HttpDateTest, AmzFormats) {
  auto t = std::chrono::system_clock::from_time_t(1440938160);
  EXPECT_EQ(FormatAmzDate(t), "20150830T123600Z");
  EXPECT_EQ(FormatAmzDay(t), "20150830");
}

}  // namespace
}  // namespace ferry::sidecar
