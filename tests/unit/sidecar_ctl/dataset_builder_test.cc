// BuildDataset's option handling (no network: building an s3:// or http://
// source contacts nobody) and the standalone mount's SOURCE/-o mapping.
#include "sidecar/dataset_builder.h"

#include <gtest/gtest.h>

#include "sidecar/standalone_mount.h"
#include "tests/support/server_fixtures.h"

namespace ferry::sidecar {
namespace {

MountSpec Spec(const std::string& source, std::map<std::string, std::string> options) {
  MountSpec m;
  m.name = "ds";
  m.source = source;
  m.scheme = SchemeOf(source);
  m.options = std::move(options);
  return m;
}

class DatasetBuilderTest : public ::testing::Test {
 protected:
  DatasetEnv Env(bool strict) {
    DatasetEnv env;
    env.clock = &clock_;
    env.strict_options = strict;
    env.standalone = strict;
    return env;
  }
  RealClock clock_;
};

TEST_F(DatasetBuilderTest, RemoteDatasetGetsSourceCacheAndRemoteTtls) {
  StatusOr<BuiltDataset> d =
      BuildDataset(Spec("s3://bucket/prefix/", {{"endpoint", "http://127.0.0.1:9"},
                                                {"cache_memory", "32Mi"},
                                                {"attr_ttl", "5m"},
                                                {"dir_ttl", "500ms"},
                                                {"uid", "1000"},
                                                {"file_mode", "0644"},
                                                {"dir_mode", "755"}}),
                   Env(true));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_NE(d->cache, nullptr);
  EXPECT_EQ(d->source->Describe(), "s3://bucket/prefix/");
  EXPECT_EQ(d->fs_options.attr_ttl, std::chrono::minutes(5));
  EXPECT_EQ(d->fs_options.dir_ttl, std::chrono::milliseconds(500));
  EXPECT_EQ(d->fs_options.entry_ttl, std::chrono::seconds(60));  // remote default
  EXPECT_EQ(d->fs_options.uid, 1000u);
  EXPECT_EQ(d->fs_options.file_mode, 0644u);
  EXPECT_EQ(d->fs_options.dir_mode, 0755u);
  for (const char* bad : {"0", "0888", "rw-r--r--", "", "017777"}) {
    StatusOr<BuiltDataset> b = BuildDataset(
        Spec("s3://bucket/", {{"endpoint", "http://127.0.0.1:9"}, {"file_mode", bad}}), Env(true));
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find("file_mode"), std::string::npos) << b.status().ToString();
  }
}

TEST_F(DatasetBuilderTest, LocalDatasetHasNoCache) {
  testing::TempDir dir;
  StatusOr<BuiltDataset> d = BuildDataset(Spec("local://" + dir.path(), {}), Env(true));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->cache, nullptr);
  EXPECT_EQ(d->fs_options.attr_ttl, std::chrono::seconds(1));
  EXPECT_TRUE(d->fs_options.passthrough);  // local files: FUSE passthrough by default
}

TEST_F(DatasetBuilderTest, PassthroughIsLocalOnlyAndCanBeTurnedOff) {
  testing::TempDir dir;
  StatusOr<BuiltDataset> off =
      BuildDataset(Spec("local://" + dir.path(), {{"passthrough", "false"}}), Env(true));
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->fs_options.passthrough);
  StatusOr<BuiltDataset> remote =
      BuildDataset(Spec("s3://bucket/", {{"endpoint", "http://127.0.0.1:9"}}), Env(true));
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  EXPECT_FALSE(remote->fs_options.passthrough);
  StatusOr<BuiltDataset> min =
      BuildDataset(Spec("local://" + dir.path(), {{"passthrough_min_size", "256Ki"}}), Env(true));
  ASSERT_TRUE(min.ok()) << min.status().ToString();
  EXPECT_EQ(min->fs_options.passthrough_min_bytes, 256u << 10);
  EXPECT_FALSE(
      BuildDataset(Spec("local://" + dir.path(), {{"passthrough_min_size", "big"}}), Env(true)).ok());
  StatusOr<BuiltDataset> bad =
      BuildDataset(Spec("local://" + dir.path(), {{"passthrough", "maybe"}}), Env(true));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("passthrough"), std::string::npos);
}

TEST_F(DatasetBuilderTest, StrictModeNamesTheBadOption) {
  struct Case {
    std::string source;
    std::map<std::string, std::string> options;
    std::string must_name;
  };
  testing::TempDir dir;
  std::vector<Case> cases = {
      {"s3://b/", {{"cache_memroy", "1Mi"}}, "cache_memroy"},
      {"s3://b/", {{"bogus", "1"}}, "bogus"},
      {"s3://b/", {{"style", "sideways"}}, "style"},
      {"s3://b/", {{"attr_ttl", "soon"}}, "attr_ttl"},
      {"s3://b/", {{"block_size", "3Mi"}}, "block_size"},
      {"http://h/", {{"region", "x"}}, "region"},
      {"local://" + dir.path(), {{"cache_memory", "1Mi"}}, "cache_memory"},
      {"ftp://x/", {}, "s3://"},
  };
  for (const Case& c : cases) {
    StatusOr<BuiltDataset> d = BuildDataset(Spec(c.source, c.options), Env(true));
    ASSERT_FALSE(d.ok()) << c.must_name;
    EXPECT_TRUE(d.status().Is(StatusCode::kInvalidArgument)) << d.status().ToString();
    EXPECT_NE(d.status().ToString().find(c.must_name), std::string::npos) << d.status().ToString();
  }
}

TEST_F(DatasetBuilderTest, SpecModeIgnoresUnknownKeysButNotBadValues) {
  EXPECT_TRUE(BuildDataset(Spec("s3://b/", {{"bogus", "1"}}), Env(false)).ok());
  EXPECT_TRUE(BuildDataset(Spec("http://h/", {{"region", "x"}}), Env(false)).ok());
  EXPECT_FALSE(BuildDataset(Spec("s3://b/", {{"cache_memory", "lots"}}), Env(false)).ok());
}

TEST_F(DatasetBuilderTest, ExecIsNotBuiltHere) {
  EXPECT_TRUE(BuildDataset(Spec("exec://s3fs", {}), Env(false)).status().Is(StatusCode::kUnimplemented));
}

TEST_F(DatasetBuilderTest, StandaloneEndpointFromEnvironmentMustBeValid) {
  // AWS_ENDPOINT_URL stands in for endpoint=: a bad one fails naming the option.
  DatasetEnv env = Env(true);
  env.environment = {{"AWS_ENDPOINT_URL", "http://127.0.0.1:9/some/path"}};
  StatusOr<BuiltDataset> d = BuildDataset(Spec("s3://b/", {}), env);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().ToString().find("endpoint"), std::string::npos) << d.status().ToString();
  // An explicit option wins over the environment.
  EXPECT_TRUE(BuildDataset(Spec("s3://b/", {{"endpoint", "http://127.0.0.1:9"}}), env).ok());
}

TEST(StandaloneSpecTest, MapsSourceDirAndS3fsSpellings) {
  StatusOr<MountSpec> s = MakeStandaloneSpec(
      "s3://bucket/p/", "/mnt/My_Data/",
      {{"url", "http://minio:9000"}, {"use_path_request_style", ""}, {"public_bucket", "1"},
       {"cache_memory", "64Mi"}});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->scheme, "s3");
  EXPECT_EQ(s->name, "my-data");
  EXPECT_EQ(s->options.at("endpoint"), "http://minio:9000");
  EXPECT_EQ(s->options.at("style"), "path");
  EXPECT_EQ(s->options.at("anonymous"), "true");
  EXPECT_EQ(s->options.at("cache_memory"), "64Mi");

  StatusOr<MountSpec> local = MakeStandaloneSpec("/srv/data", "/mnt/x", {});
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->scheme, "local");
  EXPECT_EQ(local->source, "local:///srv/data");

  StatusOr<MountSpec> bad = MakeStandaloneSpec("gs://b/", "/mnt/x", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("s3://"), std::string::npos);
}

}  // namespace
}  // namespace ferry::sidecar
