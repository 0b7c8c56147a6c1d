// S3Source against s3rver: pagination, the delimiter quirk, credentials
// (wrong key, rotation through the projected Secret), anonymous access and
// virtual-hosted style.
#include "sidecar/source/s3_source.h"

#include <gtest/gtest.h>

#include "tests/integration/sidecar_source/backends.h"

namespace ferry::testing {
namespace {

class S3SourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<std::unique_ptr<S3rverServer>> s = S3rverServer::Start({"ferry"});
    if (s.status().Is(StatusCode::kUnavailable)) GTEST_SKIP() << s.status().ToString();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }
  void Put(const std::string& key, const std::string& body) {
    ASSERT_TRUE(S3Write(server_->endpoint(), "ferry", key, &body).ok()) << key;
  }
  MountSpec Spec(std::map<std::string, std::string> extra = {}) {
    MountSpec spec;
    spec.name = "t";
    spec.scheme = "s3";
    spec.source = "s3://ferry/p/";
    spec.options = {{"endpoint", server_->endpoint()}};
    for (auto& [k, v] : extra) spec.options[k] = v;
    return spec;
  }
  sidecar::SourceEnv Env() {
    sidecar::SourceEnv env;
    env.config_dir = config_.path();
    env.clock = &clock_;
    env.retry_sleep = [](std::chrono::milliseconds) {};
    return env;
  }

  RealClock clock_;
  TempDir config_{"ferry-config"};
  std::unique_ptr<S3rverServer> server_;
};

TEST_F(S3SourceTest, PaginatesListingsAndStatsAcrossPages) {
  for (int i = 0; i < 7; ++i) Put("p/many/f" + std::to_string(i), std::string(i, 'x'));
  Put("p/many/sub/x", "x");
  sidecar::S3Options o;
  o.bucket = "ferry";
  o.prefix = "p/";
  o.endpoint = server_->endpoint();
  o.path_style = true;
  o.max_keys = 2;
  o.list_mode = sidecar::S3ListMode::kDelimiter;
  auto creds = std::make_unique<sidecar::StaticCredentials>(
      sidecar::AwsCredentials{S3rverServer::kAccessKey, S3rverServer::kSecretKey, ""}, "test");
  StatusOr<std::unique_ptr<sidecar::S3Source>> src = sidecar::S3Source::Create(o, std::move(creds), clock_);
  ASSERT_TRUE(src.ok());
  StatusOr<std::vector<sidecar::Entry>> l = (*src)->List("many");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->size(), 8u);
  EXPECT_EQ((*l)[6].name, "f6");
  EXPECT_EQ((*l)[6].size, 6u);
  EXPECT_EQ((*l)[7].name, "sub");
  EXPECT_GE((*src)->Stats().requests, 4u) << "7 objects + 1 prefix at 2 per page";
  StatusOr<sidecar::Entry> f6 = (*src)->Stat("many/f6");
  ASSERT_TRUE(f6.ok()) << f6.status().ToString();
  EXPECT_EQ(f6->etag, (*l)[6].etag) << "Stat and List give the same version";
  EXPECT_EQ(f6->VersionKey(), (*l)[6].VersionKey());
}

TEST_F(S3SourceTest, AutoModeDetectsDroppedPrefixesAndListsFlat) {
  Put("p/only/deeper/z", "z");
  Put("p/top", "t");
  sidecar::S3Options o;
  o.bucket = "ferry";
  o.prefix = "p/";
  o.endpoint = server_->endpoint();
  o.path_style = true;
  auto creds = std::make_unique<sidecar::StaticCredentials>(sidecar::AwsCredentials{}, "anonymous");
  StatusOr<std::unique_ptr<sidecar::S3Source>> src = sidecar::S3Source::Create(o, std::move(creds), clock_);
  ASSERT_TRUE(src.ok());
  StatusOr<std::vector<sidecar::Entry>> l = (*src)->List("");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[0].name, "only");
  EXPECT_EQ((*src)->list_mode_for_test(), sidecar::S3ListMode::kFlat)
      << "s3rver omits 'only/' from delimiter listings; if this fails s3rver was fixed";
}

TEST_F(S3SourceTest, WrongKeyIsPermissionDeniedAndRotationRecovers) {
  Put("p/a.txt", "hello");
  WriteSecret(config_.path(), "imagenet", "WRONG", "whatever");
  MountSpec spec = Spec();
  spec.credentials = "imagenet";
  StatusOr<std::unique_ptr<sidecar::DataSource>> src = sidecar::MakeRemoteSource(spec, Env());
  ASSERT_TRUE(src.ok());
  Status s = (*src)->Stat("a.txt").status();
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("403 from 127.0.0.1:"), std::string_view::npos) << s.ToString();
  EXPECT_NE(s.message().find("credentials 'imagenet' (Secret ferry-credentials keys imagenet.accessKeyId"),
            std::string_view::npos) << s.ToString();
  EXPECT_EQ(s.message().find("whatever"), std::string_view::npos) << "never show the secret";
  // The kubelet rotates the Secret: the next request picks it up (a 403 forces a re-read).
  WriteSecret(config_.path(), "imagenet", S3rverServer::kAccessKey, S3rverServer::kSecretKey);
  StatusOr<sidecar::Entry> e = (*src)->Stat("a.txt");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->size, 5u);
}

TEST_F(S3SourceTest, MissingSecretKeysNameTheFix) {
  MountSpec spec = Spec();
  spec.credentials = "absent";
  StatusOr<std::unique_ptr<sidecar::DataSource>> src = sidecar::MakeRemoteSource(spec, Env());
  ASSERT_TRUE(src.ok());
  Status s = (*src)->List("").status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("absent.accessKeyId"), std::string_view::npos) << s.ToString();
}

TEST_F(S3SourceTest, AnonymousAndMissingBucket) {
  Put("p/a.txt", "hello");
  StatusOr<std::unique_ptr<sidecar::DataSource>> src =
      sidecar::MakeRemoteSource(Spec({{"anonymous", "true"}}), Env());
  ASSERT_TRUE(src.ok());
  EXPECT_TRUE((*src)->Stat("a.txt").ok()) << "s3rver lets anonymous requests through";
  MountSpec spec = Spec();
  spec.source = "s3://no-such-bucket/";
  src = sidecar::MakeRemoteSource(spec, Env());
  ASSERT_TRUE(src.ok());
  Status s = (*src)->List("").status();
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("no-such-bucket"), std::string_view::npos) << s.ToString();
}

TEST_F(S3SourceTest, VirtualHostedStyle) {
  Put("p/v.txt", "virtual");
  std::string port = std::to_string(server_->port());
  MountSpec spec = Spec({{"endpoint", "http://s3.amazonaws.com:" + port}, {"style", "virtual"}});
  WriteSecret(config_.path(), "k", S3rverServer::kAccessKey, S3rverServer::kSecretKey);
  spec.credentials = "k";
  sidecar::SourceEnv env = Env();
  env.resolve = {"ferry.s3.amazonaws.com:" + port + ":127.0.0.1"};  // loopback only
  StatusOr<std::unique_ptr<sidecar::DataSource>> src = sidecar::MakeRemoteSource(spec, env);
  ASSERT_TRUE(src.ok());
  StatusOr<sidecar::Entry> e = (*src)->Stat("v.txt");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  std::string buf(16, '\0');
  StatusOr<size_t> n = (*src)->Read("v.txt", *e, 0, std::as_writable_bytes(std::span(buf)));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(buf.substr(0, *n), "virtual");
}

TEST_F(S3SourceTest, BadOptionsAreRefusedWithTheAcceptedValues) {
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"style", "sideways"}, {"tls_verify", "maybe"}, {"connections", "0"}, {"timeout", "soon"},
           {"list", "tree"}}) {
    StatusOr<std::unique_ptr<sidecar::DataSource>> src = sidecar::MakeRemoteSource(Spec({{k, v}}), Env());
    EXPECT_EQ(src.status().code(), StatusCode::kInvalidArgument) << k;
    EXPECT_NE(src.status().message().find("options." + k), std::string_view::npos)
        << src.status().ToString();
  }
}

}  // namespace
}  // namespace ferry::testing
