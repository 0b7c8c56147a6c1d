// The per-field checks of dataset_spec_validate.cc, directly.
#include "common/dataset_spec_validate.h"

#include <gtest/gtest.h>

namespace ferry::spec_internal {
namespace {

TEST(DatasetSpecValidate, MountNames) {
  for (const char* ok : {"a", "imagenet", "coco-2017", "0", "a-"}) {
    EXPECT_TRUE(CheckMountName(ok).ok()) << ok;
  }
  EXPECT_TRUE(CheckMountName(std::string(63, 'a')).ok());
  for (const char* bad : {"", "-a", "A", "a_b", "a.b", ".ferry", "a/b", "..", "ä"}) {
    EXPECT_FALSE(CheckMountName(bad).ok()) << bad;
  }
  EXPECT_FALSE(CheckMountName(std::string(64, 'a')).ok());
}

TEST(DatasetSpecValidate, SourcesPerScheme) {
  auto check = [](const char* source) {
    MountSpec m;
    m.source = source;
    Status s = CheckSource(m);
    if (s.ok()) return m.scheme;
    std::string error = "error: ";  // appended: gcc 12 warns falsely on "lit" + string
    error += s.message();
    return error;
  };
  EXPECT_EQ(check("s3://bucket/prefix/"), "s3");
  EXPECT_EQ(check("S3://bucket"), "s3");
  EXPECT_EQ(check("oss://my.bucket-1/"), "oss");
  EXPECT_EQ(check("http://127.0.0.1:8080/x/"), "http");
  EXPECT_EQ(check("https://h"), "https");
  EXPECT_EQ(check("local:///"), "local");
  EXPECT_EQ(check("exec://s3fs"), "exec");
  EXPECT_EQ(check("exec:///opt/bin/ossfs"), "exec");
  for (const char* bad : {"", "s3:/bucket", "s3://ab/", "s3://-bucket/", "s3://Bucket/",
                          "https://:80/", "https://u:p@h/", "local://rel", "local:///a/../b",
                          "exec://", "exec://bin/s3fs", "exec://s3fs x", "ftp://h/", "://x",
                          "local:///a\nb"}) {
    EXPECT_TRUE(check(bad).starts_with("error: ")) << bad;
  }
}

TEST(DatasetSpecValidate, Options) {
  MountSpec m;
  m.source = "s3://bucket/";
  m.options = {{"endpoint", "http://minio:9000"}, {"region", "us-east-1"}, {"style", "path"},
               {"custom", "anything\ngoes"}};
  EXPECT_TRUE(CheckOptions(m).ok());
  for (auto [key, value] : std::initializer_list<std::pair<const char*, const char*>>{
           {"endpoint", "minio:9000"}, {"endpoint", "http://"}, {"endpoint", "https://u:p@h"},
           {"region", "us east"}, {"style", "dns"}, {"", "x"}, {"secretAccessKey", "x"},
           {"fs.oss.accessKeySecret", "x"}, {"aws.secretKey", "x"}, {"password", "x"}}) {
    MountSpec bad = m;
    bad.options[key] = value;
    EXPECT_FALSE(CheckOptions(bad).ok()) << key << "=" << value;
  }
  EXPECT_FALSE(IsCredentialOptionKey("keyring"));
  EXPECT_FALSE(IsCredentialOptionKey("tokenizer"));
  EXPECT_TRUE(IsCredentialOptionKey("fs.s3a.secret.key"));
}

TEST(DatasetSpecValidate, CredentialsAndPreload) {
  EXPECT_TRUE(CheckCredentials("imagenet").ok());
  EXPECT_TRUE(CheckCredentials("team_a.prod-1").ok());
  EXPECT_FALSE(CheckCredentials("a/b").ok());
  EXPECT_FALSE(CheckCredentials("a b").ok());
  EXPECT_TRUE(CheckPreload({"train/**", "*.csv", "a/b/c"}).ok());
  EXPECT_FALSE(CheckPreload({""}).ok());
  EXPECT_FALSE(CheckPreload({"/abs"}).ok());
  EXPECT_FALSE(CheckPreload({"a/../../b"}).ok());
  EXPECT_FALSE(CheckPreload({".."}).ok());
}

// Strings moved in rather than assigned from literals: gcc 12 -O3 reports a false
// -Wstringop-overflow on basic_string::operator=(const char*) here.
ParsedMount Named(std::string name, std::string label) {
  ParsedMount pm;
  pm.spec.name = std::move(name);
  pm.label = std::move(label);
  return pm;
}

TEST(DatasetSpecValidate, UniqueNamesMentionBothMounts) {
  std::vector<ParsedMount> mounts = {Named("x", R"(mounts[0] "x")"), Named("x", R"(mounts[3] "x")")};
  Status s = CheckUniqueNames(mounts);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "mounts[3] \"x\": name \"x\" is already used by mounts[0] \"x\"; every "
                         "mount needs its own name");
}

}  // namespace
}  // namespace ferry::spec_internal
