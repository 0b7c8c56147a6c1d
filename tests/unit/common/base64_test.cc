#include "common/base64.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace ferry {
namespace {

// RFC 4648 §10 test vectors.
const std::vector<std::pair<std::string, std::string>> kVectors = {
    {"", ""},          {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

TEST(Base64Test, EncodesRfc4648Vectors) {
  for (const auto& [plain, encoded] : kVectors) EXPECT_EQ(Base64Encode(plain), encoded) << plain;
}

TEST(Base64Test, DecodesRfc4648Vectors) {
  for (const auto& [plain, encoded] : kVectors) {
    std::string out = "stale";
    ASSERT_TRUE(Base64Decode(encoded, &out)) << encoded;
    EXPECT_EQ(out, plain);
  }
}

TEST(Base64Test, EncodeToAppends) {
  std::string out = "x:";
  Base64EncodeTo("foobar", &out);
  EXPECT_EQ(out, "x:Zm9vYmFy");
}

TEST(Base64Test, RoundTripsEveryByteValueAndLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); ++n) {
    std::string dec;
    ASSERT_TRUE(Base64Decode(Base64Encode(all.substr(0, n)), &dec)) << n;
    EXPECT_EQ(dec, all.substr(0, n));
  }
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");  // both high alphabet characters
}

TEST(Base64Test, RejectsMalformedInput) {
  std::string out;
  for (const char* bad : {"abc", "a=bc", "ab!c", "Zg=", "Zg==Zg==", "Z===", "Zm9v\n", " Zm9v",
                          "Zm9-", "Zm9_", "=Zm9", "Zg=a"}) {
    EXPECT_FALSE(Base64Decode(bad, &out)) << bad;
  }
}

}  // namespace
}  // namespace ferry
