#include "sidecar/source/credentials.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/fake_clock.h"

namespace ferry::sidecar {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

// Lays out files the way the kubelet's atomic writer does: a timestamped
// directory, `..data` -> it, and per-key symlinks through `..data`.
class ProjectedDir {
 public:
  ProjectedDir() {
    char tmpl[] = "/tmp/ferry-creds-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~ProjectedDir() { fs::remove_all(dir_); }
  void Write(const std::map<std::string, std::string>& files) {
    std::string gen = "..2026_" + std::to_string(++gen_);
    fs::create_directory(dir_ / gen);
    for (const auto& [k, v] : files) std::ofstream(dir_ / gen / k) << v;
    fs::create_symlink(gen, dir_ / "..data_tmp");
    fs::rename(dir_ / "..data_tmp", dir_ / "..data");
    for (const auto& [k, v] : files) {
      if (!fs::is_symlink(dir_ / k)) fs::create_symlink(fs::path("..data") / k, dir_ / k);
    }
  }
  std::string path() const { return dir_.string(); }

 private:
  fs::path dir_;
  int gen_ = 0;
};

TEST(CredentialsTest, ReadsTrimsAndDescribesWithoutSecrets) {
  ProjectedDir d;
  d.Write({{"imagenet.accessKeyId", "AKID\n"}, {"imagenet.secretAccessKey", " SECRET\n"}});
  testing::FakeClock clock;
  SecretFileCredentials c(d.path(), "imagenet", clock);
  StatusOr<AwsCredentials> got = c.Get();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->access_key_id, "AKID");
  EXPECT_EQ(got->secret_access_key, "SECRET");
  EXPECT_EQ(got->session_token, "");
  EXPECT_EQ(c.Describe(),
            "credentials 'imagenet' (Secret ferry-credentials keys imagenet.accessKeyId/"
            "imagenet.secretAccessKey/imagenet.sessionToken)");
}

TEST(CredentialsTest, PicksUpRotationAtMostOncePerInterval) {
  ProjectedDir d;
  d.Write({{"p.accessKeyId", "A1"}, {"p.secretAccessKey", "S1"}, {"p.sessionToken", "T1"}});
  testing::FakeClock clock;
  SecretFileCredentials c(d.path(), "p", clock);
  ASSERT_EQ(c.Get()->session_token, "T1");
  d.Write({{"p.accessKeyId", "A2"}, {"p.secretAccessKey", "S2"}, {"p.sessionToken", "T2"}});
  EXPECT_EQ(c.Get()->access_key_id, "A1") << "checked again only after the interval";
  clock.Advance(seconds(1));
  EXPECT_EQ(c.Get()->access_key_id, "A2");
  EXPECT_EQ(c.Get()->session_token, "T2");
}

TEST(CredentialsTest, KeepsOldValuesWhenTheNewOnesDoNotParse) {
  ProjectedDir d;
  d.Write({{"p.accessKeyId", "A1"}, {"p.secretAccessKey", "S1"}});
  testing::FakeClock clock;
  SecretFileCredentials c(d.path(), "p", clock);
  ASSERT_EQ(c.Get()->access_key_id, "A1");
  d.Write({{"p.accessKeyId", "A2"}, {"p.secretAccessKey", ""}});
  clock.Advance(seconds(2));
  EXPECT_EQ(c.Get()->access_key_id, "A1");
  d.Write({{"p.accessKeyId", "A3"}, {"p.secretAccessKey", "S3"}});
  clock.Advance(seconds(2));
  EXPECT_EQ(c.Get()->access_key_id, "A3");
}

TEST(CredentialsTest, RefreshIgnoresTheIntervalAndReportsChange) {
  ProjectedDir d;
  d.Write({{"p.accessKeyId", "A1"}, {"p.secretAccessKey", "S1"}});
  testing::FakeClock clock;
  SecretFileCredentials c(d.path(), "p", clock);
  ASSERT_TRUE(c.Get().ok());
  EXPECT_FALSE(c.Refresh()) << "nothing changed";
  d.Write({{"p.accessKeyId", "A2"}, {"p.secretAccessKey", "S2"}});
  EXPECT_TRUE(c.Refresh());
  EXPECT_EQ(c.Get()->access_key_id, "A2");
}

TEST(CredentialsTest, MissingKeysNameTheFix) {
  ProjectedDir d;
  d.Write({{"other.accessKeyId", "A"}});
  testing::FakeClock clock;
  SecretFileCredentials c(d.path(), "p", clock);
  Status s = c.Get().status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("p.accessKeyId"), std::string_view::npos) << s.ToString();
  EXPECT_NE(s.message().find("ferry-credentials"), std::string_view::npos);
  d.Write({{"p.accessKeyId", "A"}, {"p.secretAccessKey", "S"}});
  clock.Advance(seconds(1));
  EXPECT_TRUE(c.Get().ok()) << "appears once the Secret gains the keys";
}

TEST(CredentialsTest, Environment) {
  auto anon = CredentialsFromEnvironment({});
  EXPECT_TRUE(anon->Get()->anonymous());
  auto env = CredentialsFromEnvironment(
      {{"AWS_ACCESS_KEY_ID", "A"}, {"AWS_SECRET_ACCESS_KEY", "S"}, {"AWS_SESSION_TOKEN", "T"}});
  EXPECT_EQ(env->Get()->session_token, "T");
}

}  // namespace
}  // namespace ferry::sidecar
