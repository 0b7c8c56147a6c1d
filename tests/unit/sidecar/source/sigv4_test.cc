// SigV4 against the published AWS test vectors (tests/testdata/sigv4/).
#include "sidecar/source/sigv4.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "sidecar/source/url.h"

namespace ferry::sidecar {
namespace {

const std::filesystem::path kDir = std::filesystem::path(FERRY_SOURCE_DIR) / "tests/testdata/sigv4";

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses a .req file: "METHOD URI HTTP/1.1", "Name:value" lines, blank, body.
SigV4Request ParseReq(const std::string& text) {
  SigV4Request r;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  r.method = line.substr(0, sp1);
  std::string uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t q = uri.find('?');
  r.canonical_uri = uri.substr(0, q);
  if (q != std::string::npos) {
    std::string query = uri.substr(q + 1);
    size_t start = 0;
    while (start <= query.size()) {
      size_t amp = query.find('&', start);
      std::string part = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
      size_t eq = part.find('=');
      r.query.emplace_back(*PercentDecode(part.substr(0, eq)),
                           eq == std::string::npos ? "" : *PercentDecode(part.substr(eq + 1)));
      if (amp == std::string::npos) break;
      start = amp + 1;
    }
  }
  std::string body;
  bool in_body = false;
  while (std::getline(in, line)) {
    if (in_body) {
      body += line;
      continue;
    }
    if (line.empty()) {
      in_body = true;
      continue;
    }
    size_t colon = line.find(':');
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  r.payload_sha256 = Sha256Hex(body);
  r.region = "us-east-1";
  r.service = "service";
  r.time = std::chrono::system_clock::from_time_t(1440938160);  // 2015-08-30T12:36:00Z
  return r;
}

class SigV4VectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4VectorTest, MatchesPublishedVector) {
  const std::string name = GetParam();
  const auto dir = kDir / name;
  SigV4Request req = ParseReq(Slurp(dir / (name + ".req")));
  SigV4Key key{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  SigV4Signature sig = SignV4(req, key);
  EXPECT_EQ(sig.canonical_request, Slurp(dir / (name + ".creq")));
  EXPECT_EQ(sig.string_to_sign, Slurp(dir / (name + ".sts")));
  EXPECT_EQ(sig.authorization, Slurp(dir / (name + ".authz")));
  EXPECT_TRUE(sig.added_headers.empty()) << "the vectors carry X-Amz-Date already";
}

std::vector<std::string> VectorNames() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(kDir)) {
    if (e.is_directory()) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string VectorTestName(const ::testing::TestParamInfo<std::string>& param_info) {
  std::string n = param_info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(Aws, SigV4VectorTest, ::testing::ValuesIn(VectorNames()), VectorTestName);

TEST(SigV4Test, VectorsArePresent) { EXPECT_GE(VectorNames().size(), 19u); }

TEST(SigV4Test, AddsDateAndSessionTokenAndSignsThem) {
  SigV4Request r;
  r.method = "GET";
  r.canonical_uri = "/bucket/key";
  r.headers = {{"Host", "s3.example.com"}};
  r.payload_sha256 = kEmptyPayloadSha256;
  r.region = "us-east-1";
  r.service = "s3";
  r.time = std::chrono::system_clock::from_time_t(1440938160);
  SigV4Signature sig = SignV4(r, SigV4Key{"AK", "SK", "TOKEN"});
  ASSERT_EQ(sig.added_headers.size(), 2u);
  EXPECT_EQ(sig.added_headers[0], (std::pair<std::string, std::string>("x-amz-date", "20150830T123600Z")));
  EXPECT_EQ(sig.added_headers[1], (std::pair<std::string, std::string>("x-amz-security-token", "TOKEN")));
  EXPECT_NE(sig.authorization.find("SignedHeaders=host;x-amz-date;x-amz-security-token"),
            std::string::npos);
  // A different secret changes the signature, the scope stays.
  SigV4Signature other = SignV4(r, SigV4Key{"AK", "SK2", "TOKEN"});
  EXPECT_NE(sig.authorization, other.authorization);
  EXPECT_EQ(sig.string_to_sign, other.string_to_sign);
}

TEST(SigV4Test, Sha256OfEmptyIsTheConstant) { EXPECT_EQ(Sha256Hex(""), kEmptyPayloadSha256); }

}  // namespace
}  // namespace ferry::sidecar
