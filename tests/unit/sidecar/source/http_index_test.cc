#include "sidecar/source/http_index.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace ferry::sidecar {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(FERRY_SOURCE_DIR) + "/tests/testdata/index/" + name,
                   std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(HttpIndexTest, NginxHtml) {
  StatusOr<std::vector<IndexEntry>> got = ParseIndexPage(Fixture("nginx.html"));
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 5u);
  const int64_t t = 1795443060LL * kNsPerSec;  // 23-Nov-2026 14:11 UTC
  EXPECT_EQ((*got)[0], (IndexEntry{"only", true, std::nullopt, t, false}));
  EXPECT_EQ((*got)[1], (IndexEntry{"sub dir", true, std::nullopt, t, false}));
  EXPECT_EQ((*got)[2], (IndexEntry{"a.txt", false, 6, t, false}));
  EXPECT_EQ((*got)[3], (IndexEntry{"big.img", false, 123456789, t, false}));
  EXPECT_EQ((*got)[4], (IndexEntry{"b&c <x>.bin", false, 5000, t, false}));
}

TEST(HttpIndexTest, InexactSizesAreUnknown) {
  StatusOr<std::vector<IndexEntry>> got = ParseIndexPage(Fixture("nginx_inexact.html"));
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_FALSE((*got)[0].size.has_value());
  EXPECT_EQ((*got)[1].size, 512u);
}

TEST(HttpIndexTest, NginxJson) {
  StatusOr<std::vector<IndexEntry>> got = ParseIndexPage(Fixture("nginx.json"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 4u) << "type \"other\" is skipped";
  const int64_t t = 1795443112LL * kNsPerSec;
  EXPECT_EQ((*got)[0], (IndexEntry{"only", true, std::nullopt, t, true}));
  EXPECT_EQ((*got)[2], (IndexEntry{"a.txt", false, 6, t, true}));
  EXPECT_EQ((*got)[3].name, "q\"uote.txt");
  EXPECT_EQ((*got)[3].size, 0u);
}

TEST(HttpIndexTest, ApacheFancyIndex) {
  StatusOr<std::vector<IndexEntry>> got = ParseIndexPage(Fixture("apache.html"));
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 3u) << "sort links, parent, absolute and other-host links are skipped";
  EXPECT_EQ((*got)[0].name, "images");
  EXPECT_TRUE((*got)[0].is_dir);
  EXPECT_EQ((*got)[1].name, "train.tar.gz");
  EXPECT_FALSE((*got)[1].size.has_value()) << "1.2G is not exact";
  EXPECT_EQ((*got)[2].name, "README.txt");
  EXPECT_EQ((*got)[2].size, 1024u);
  EXPECT_EQ((*got)[2].mtime_ns, ParseIndexPage("<a href=\"x\">x</a> 2024-03-03 12:30 1")->at(0).mtime_ns);
}

TEST(HttpIndexTest, SkipsNonChildren) {
  StatusOr<std::vector<IndexEntry>> got = ParseIndexPage(
      "<a href=\"../\">up</a><a href=\"./\">here</a><a href=\"/abs\">a</a>"
      "<a href=\"#top\">t</a><a href=\"a/b\">deep</a><a href=\"%zz\">bad</a>"
      "<a href=\"ok\">ok</a><a href=\"ok\">dup</a><abbr href=\"no\">x</abbr>"
      "<A HREF='single'>s</A><a name=x href=bare>b</a>");
  ASSERT_TRUE(got.ok());
  std::vector<std::string> names;
  for (const IndexEntry& e : *got) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"ok", "single", "bare"}));
}

TEST(HttpIndexTest, BadJsonIsAnError) {
  EXPECT_EQ(ParseIndexPage("[1,2]").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseIndexPage("[{\"name\":1,\"type\":\"file\"}]").ok());
  EXPECT_FALSE(ParseIndexPage("{}", IndexFormat::kJson).ok());
  EXPECT_FALSE(ParseIndexPage("[", IndexFormat::kJson).ok());
  ASSERT_TRUE(ParseIndexPage("[]").ok());
  EXPECT_TRUE(ParseIndexPage("[]")->empty());
}

TEST(HttpIndexTest, Entities) {
  EXPECT_EQ(DecodeHtmlEntities("a&amp;b&lt;&gt;&quot;&#39;&#x41;&#66;&unknown;&"), "a&b<>\"'AB&unknown;&");
  EXPECT_EQ(DecodeHtmlEntities("&#0;&#x110000;"), "&#0;&#x110000;");
}

}  // namespace
}  // namespace ferry::sidecar
