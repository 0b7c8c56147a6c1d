#include "common/yaml_util.h"

#include <gtest/gtest.h>

namespace ferry::yaml {
namespace {

// Concatenation by append: gcc 12 at -O3 reports false -Wstringop-overflow /
// -Wrestrict on `"literal" + std::string`.
template <typename... Parts>
std::string YamlCat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

YAML::Node One(const char* text) {
  StatusOr<std::vector<YAML::Node>> docs = LoadAll(text);
  FERRY_CHECK(docs.ok() && docs->size() == 1);
  return (*docs)[0];
}

TEST(YamlUtil, LoadAllReportsLineAndTabHint) {
  StatusOr<std::vector<YAML::Node>> docs = LoadAll("a:\n  b: 1\n\tc: 2\n");
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(docs.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(docs.status().message().find("line 3"), std::string_view::npos);
  EXPECT_NE(docs.status().message().find("indented with a tab; YAML needs spaces"),
            std::string_view::npos)
      << docs.status().message();
  // A tab inside a quoted value is content, not indentation.
  EXPECT_TRUE(LoadAll("a: \"x\ty\"\n").ok());
}

TEST(YamlUtil, LoadAllRefusesStrayCommaInsteadOfLoopingForever) {
  // yaml-cpp 0.7's own LoadAll allocates empty documents forever on these.
  for (const char* text : {",", "[a]\n,", "{a: 1},", "---\n,", ", ,"}) {
    StatusOr<std::vector<YAML::Node>> docs = LoadAll(text);
    ASSERT_FALSE(docs.ok()) << text;
    EXPECT_NE(docs.status().message().find("unexpected ','"), std::string_view::npos)
        << docs.status().message();
  }
  EXPECT_TRUE(LoadAll("a ,\n").ok());  // a plain scalar "a ," is fine
}

TEST(YamlUtil, LoadAllRefusesAliasBombs) {
  // 10 levels of 10 aliases: ~10^10 scalars once expanded, a few hundred bytes of text.
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 10; ++i) {
    std::string prev = YamlCat("*a", std::to_string(i - 1));
    text += YamlCat("a", std::to_string(i), ": &a", std::to_string(i), " [");
    for (int j = 0; j < 10; ++j) text += YamlCat(j ? ", " : "", prev);
    text += "]\n";
  }
  StatusOr<std::vector<YAML::Node>> docs = LoadAll(text);
  ASSERT_FALSE(docs.ok());
  EXPECT_NE(docs.status().message().find("aliases (*name) expanded"), std::string_view::npos)
      << docs.status().message();

  // One long scalar repeated through aliases is caught too.
  std::string scalars = YamlCat("s: &s ", std::string(1 << 20, 'x'), "\nl: [");
  for (int i = 0; i < 16; ++i) scalars += (i ? ", *s" : "*s");
  EXPECT_FALSE(LoadAll(scalars + "]\n").ok());

  // Ordinary alias use stays fine.
  StatusOr<std::vector<YAML::Node>> ok =
      LoadAll("o: &o {endpoint: http://x}\nm: [{options: *o}, {options: *o}]\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST(YamlUtil, LoadAllCountsDocuments) {
  EXPECT_EQ(LoadAll("")->size(), 0u);
  EXPECT_EQ(LoadAll("a: 1\n---\nb: 2\n")->size(), 2u);
}

TEST(YamlUtil, MapEntriesRefusesDuplicateAndComplexKeys) {
  StatusOr<std::vector<MapEntry>> dup = MapEntries(One("a: 1\nb: 2\na: 3\n"), "top");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(), "top: duplicate key \"a\" at lines 1 and 3; keep only one");

  StatusOr<std::vector<MapEntry>> complex = MapEntries(One("? [a]\n: b\n"), "top");
  ASSERT_FALSE(complex.ok());
  EXPECT_NE(complex.status().message().find("keys must be plain names"), std::string_view::npos);

  StatusOr<std::vector<MapEntry>> ok = MapEntries(One("b: 1\na: 2\n"), "top");
  ASSERT_TRUE(ok.ok());
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].key, "b");  // document order
  EXPECT_FALSE(MapEntries(One("[1, 2]"), "top").ok());
}

TEST(YamlUtil, ScalarBoolAcceptsOnlyUnquotedBooleans) {
  EXPECT_TRUE(*ScalarBool(One("true"), "x"));
  EXPECT_TRUE(*ScalarBool(One("True"), "x"));
  EXPECT_FALSE(*ScalarBool(One("false"), "x"));
  EXPECT_FALSE(*ScalarBool(One("no"), "x"));
  EXPECT_FALSE(ScalarBool(One("\"true\""), "x").ok());
  EXPECT_FALSE(ScalarBool(One("1"), "x").ok());
  EXPECT_FALSE(ScalarBool(One("[true]"), "x").ok());
}

TEST(YamlUtil, StringMapAndList) {
  StatusOr<std::map<std::string, std::string>> m = StringMap(One("a: 1\nb: true\nc: x\n"), "o");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (std::map<std::string, std::string>{{"a", "1"}, {"b", "true"}, {"c", "x"}}));
  EXPECT_FALSE(StringMap(One("a:\n"), "o").ok());
  EXPECT_FALSE(StringMap(One("a: [1]\n"), "o").ok());

  EXPECT_EQ(*StringList(One("[a, 2, true]"), "l"), (std::vector<std::string>{"a", "2", "true"}));
  StatusOr<std::vector<std::string>> lone = StringList(One("a/**"), "l");
  ASSERT_FALSE(lone.ok());
  EXPECT_NE(lone.status().message().find("write [\"a/**\"]"), std::string_view::npos);
  EXPECT_FALSE(StringList(One("[[a]]"), "l").ok());
}

TEST(YamlUtil, SuggestFindsCloseNames) {
  EXPECT_EQ(Suggest("mount", {"mounts"}), "mounts");
  EXPECT_EQ(Suggest("readonly", {"name", "readOnly"}), "readOnly");
  EXPECT_EQ(Suggest("sorce", {"name", "source"}), "source");
  EXPECT_EQ(Suggest("cred", {"name", "credentials"}), "credentials");
  EXPECT_EQ(Suggest("zzzzzz", {"name", "source"}), "");
}

TEST(YamlUtil, QuoteEscapesAndTruncates) {
  EXPECT_EQ(Quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Quote(std::string("a\nb\0c", 5)), "\"a\\x0ab\\x00c\"");
  EXPECT_EQ(Quote("ü✓"), "\"ü✓\"");
  EXPECT_EQ(Quote("\xff\xc3"), "\"\\xff\\xc3\"");  // invalid UTF-8 never reaches JSON raw
  std::string long_text(200, 'x');
  EXPECT_EQ(Quote(long_text), YamlCat("\"", std::string(80, 'x'), "...\""));
  // A multi-byte character cut by the limit is escaped, not split.
  std::string cut = YamlCat(std::string(79, 'x'), "ü");
  EXPECT_EQ(Quote(cut), YamlCat("\"", std::string(79, 'x'), "\\xc3...\""));
}

}  // namespace
}  // namespace ferry::yaml
