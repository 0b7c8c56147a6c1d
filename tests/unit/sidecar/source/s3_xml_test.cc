#include "sidecar/source/s3_xml.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace ferry::sidecar {
namespace {

std::string XmlFixture(const std::string& name) {
  std::ifstream in(std::string(FERRY_SOURCE_DIR) + "/tests/testdata/s3/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(S3XmlTest, ParsesS3rverPage) {
  StatusOr<S3ListPage> page = ParseListObjectsV2(XmlFixture("list_s3rver_root.xml"));
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "top.txt");
  EXPECT_EQ(page->objects[0].size, 3u);
  EXPECT_EQ(page->objects[0].etag, "\"764efa883dda1e11db47671c4a3bbd9e\"");
  EXPECT_EQ(page->objects[0].mtime_ns, 1795443019LL * 1'000'000'000);
  EXPECT_EQ(page->common_prefixes, std::vector<std::string>{"d/"});
  EXPECT_FALSE(page->truncated);
}

TEST(S3XmlTest, ParsesTruncatedPageWithEscapesAndLargeSizes) {
  StatusOr<S3ListPage> page = ParseListObjectsV2(XmlFixture("list_aws_truncated.xml"));
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  ASSERT_EQ(page->objects.size(), 3u);
  EXPECT_EQ(page->objects[0].key, "photos/");
  EXPECT_EQ(page->objects[1].key, "photos/a & b <1>.jpg");
  EXPECT_EQ(page->objects[1].mtime_ns % 1'000'000'000, 123'000'000);
  EXPECT_EQ(page->objects[2].key, "photos/\xe6\x97\xa5\xe6\x9c\xac.png");
  EXPECT_EQ(page->objects[2].size, UINT64_MAX);
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"photos/2006/", "photos/2007/"}));
}

TEST(S3XmlTest, EmptyListing) {
  StatusOr<S3ListPage> page = ParseListObjectsV2(XmlFixture("list_empty.xml"));
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects.empty());
  EXPECT_TRUE(page->common_prefixes.empty());
}

TEST(S3XmlTest, RejectsMalformedPages) {
  EXPECT_EQ(ParseListObjectsV2(XmlFixture("list_bad_size.xml")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseListObjectsV2(XmlFixture("list_truncated_no_token.xml")).status().code(),
            StatusCode::kInternal);
  EXPECT_FALSE(ParseListObjectsV2("").ok());
  EXPECT_FALSE(ParseListObjectsV2("<x/>").ok());
  EXPECT_FALSE(ParseListObjectsV2(XmlFixture("error_access_denied.xml")).ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>").ok());
}

TEST(S3XmlTest, ParsesErrors) {
  S3Error e = ParseS3Error(XmlFixture("error_access_denied.xml"));
  EXPECT_EQ(e.code, "AccessDenied");
  EXPECT_EQ(e.message, "Access Denied");
  e = ParseS3Error(XmlFixture("error_invalid_key.xml"));
  EXPECT_EQ(e.code, "InvalidAccessKeyId");
  EXPECT_TRUE(ParseS3Error("").code.empty());
  EXPECT_TRUE(ParseS3Error("not xml").code.empty());
  EXPECT_TRUE(ParseS3Error(XmlFixture("list_empty.xml")).code.empty());
}

}  // namespace
}  // namespace ferry::sidecar
