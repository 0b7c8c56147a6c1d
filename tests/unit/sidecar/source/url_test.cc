#include "sidecar/source/url.h"

#include <gtest/gtest.h>

namespace ferry::sidecar {
namespace {

TEST(UrlTest, UriEncodeKeepsUnreservedAndOptionallySlash) {
  EXPECT_EQ(UriEncode("a-b_c.d~e/f g", true), "a-b_c.d~e/f%20g");
  EXPECT_EQ(UriEncode("a/b+c=", false), "a%2Fb%2Bc%3D");
  EXPECT_EQ(UriEncode("\xe1\x88\xb4", false), "%E1%88%B4");
}

TEST(UrlTest, PercentDecode) {
  EXPECT_EQ(*PercentDecode("a%20b%2fc+"), "a b/c+");
  EXPECT_FALSE(PercentDecode("bad%2").ok());
  EXPECT_FALSE(PercentDecode("bad%zz").ok());
  EXPECT_FALSE(PercentDecode("%").ok());
}

TEST(UrlTest, ParsesHttpUrls) {
  StatusOr<ParsedUrl> u = ParseHttpUrl("HTTPS://oss-cn-shanghai.aliyuncs.com");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/");
  EXPECT_EQ(u->Authority(), "oss-cn-shanghai.aliyuncs.com");
  u = ParseHttpUrl("http://127.0.0.1:8080/data/x?y=1#frag");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->Authority(), "127.0.0.1:8080");
  EXPECT_EQ(u->path, "/data/x");
  EXPECT_EQ(u->query, "y=1");
  EXPECT_EQ(u->Origin(), "http://127.0.0.1:8080");
}

TEST(UrlTest, RejectsBadUrlsWithAFix) {
  EXPECT_EQ(ParseHttpUrl("ftp://x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseHttpUrl("no-scheme").ok());
  EXPECT_FALSE(ParseHttpUrl("http://:80/").ok());
  EXPECT_FALSE(ParseHttpUrl("http://h:99999/").ok());
  Status s = ParseHttpUrl("https://user:pw@h/").status();
  EXPECT_NE(s.message().find("ferry-credentials"), std::string_view::npos);
  EXPECT_EQ(s.message().find("pw"), std::string_view::npos) << "never echo a password";
}

TEST(UrlTest, BucketUrls) {
  StatusOr<BucketUrl> b = ParseBucketUrl("s3://bkt/some/prefix");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->bucket, "bkt");
  EXPECT_EQ(b->prefix, "some/prefix/");
  b = ParseBucketUrl("oss://bkt");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->prefix, "");
  b = ParseBucketUrl("s3://bkt/");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->prefix, "");
  EXPECT_FALSE(ParseBucketUrl("s3:///prefix").ok());
  EXPECT_EQ(JoinKey("p/", "a/b"), "p/a/b");
}

}  // namespace
}  // namespace ferry::sidecar
