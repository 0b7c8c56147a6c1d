// Retries through FaultProxy: 500/503/429, resets and truncated bodies are
// retried and either succeed with the right bytes or fail honestly.
#include <gtest/gtest.h>

#include "sidecar/source/http_source.h"
#include "tests/integration/sidecar_source/backends.h"
#include "tests/support/fault_proxy.h"
#include "tests/unit/sidecar/source/data_source_contract.h"

namespace ferry::testing {
namespace {

using Fault = FaultProxy::Fault;

// Both real servers behind the proxy: the same faults for S3 and HTTP.
enum class Origin { kNginx, kS3rver };

class FaultTest : public ::testing::TestWithParam<Origin> {
 protected:
  void SetUp() override {
    content_ = RandomBytes(2 * 1024 * 1024 + 5, 7);
    uint16_t upstream = 0;
    MountSpec spec;
    spec.name = "faults";
    if (GetParam() == Origin::kNginx) {
      StatusOr<std::unique_ptr<NginxServer>> n = NginxServer::Start({});
      if (n.status().Is(StatusCode::kUnavailable)) GTEST_SKIP() << n.status().ToString();
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      nginx_ = std::move(*n);
      ASSERT_TRUE(WriteFile(nginx_->root() + "/d/file.bin", content_).ok());
      upstream = nginx_->port();
    } else {
      StatusOr<std::unique_ptr<S3rverServer>> s = S3rverServer::Start({"ferry"});
      if (s.status().Is(StatusCode::kUnavailable)) GTEST_SKIP() << s.status().ToString();
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      s3_ = std::move(*s);
      ASSERT_TRUE(S3Write(s3_->endpoint(), "ferry", "d/file.bin", &content_).ok());
      upstream = s3_->port();
    }
    StatusOr<std::unique_ptr<FaultProxy>> p = FaultProxy::Start(upstream);
    ASSERT_TRUE(p.ok());
    proxy_ = std::move(*p);
    std::string origin = "http://127.0.0.1:" + std::to_string(proxy_->port());
    if (GetParam() == Origin::kNginx) {
      spec.scheme = "http";
      spec.source = origin + "/d/";
    } else {
      spec.scheme = "s3";
      spec.source = "s3://ferry/d/";
      spec.options = {{"endpoint", origin}, {"anonymous", "true"}};
    }
    sidecar::SourceEnv env;
    env.clock = &clock_;
    env.retry_sleep = [this](std::chrono::milliseconds d) { slept_ += d; };
    StatusOr<std::unique_ptr<sidecar::DataSource>> src = sidecar::MakeRemoteSource(spec, env);
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    src_ = std::move(*src);
    StatusOr<sidecar::Entry> e = src_->Stat("file.bin");
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    entry_ = *e;
  }

  StatusOr<std::string> ReadRange(uint64_t offset, size_t len) {
    std::string buf(len, '\0');
    FERRY_ASSIGN_OR_RETURN(size_t n, src_->Read("file.bin", entry_, offset, std::as_writable_bytes(std::span(buf))));
    buf.resize(n);
    return buf;
  }

  RealClock clock_;
  std::string content_;
  std::unique_ptr<NginxServer> nginx_;
  std::unique_ptr<S3rverServer> s3_;
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<sidecar::DataSource> src_;
  sidecar::Entry entry_;
  std::chrono::milliseconds slept_{0};
};

TEST_P(FaultTest, TransientFaultsAreRetriedAndTheBytesAreRight) {
  for (Fault f : {Fault::kStatus, Fault::kReset, Fault::kTruncate}) {
    for (int status : {500, 503, 429}) {
      if (f != Fault::kStatus && status != 500) continue;
      proxy_->Push({.fault = f, .status = status}, 2);
      uint64_t faults_before = proxy_->faults();
      StatusOr<std::string> got = ReadRange(100'000, 1 << 20);
      ASSERT_TRUE(got.ok()) << static_cast<int>(f) << "/" << status << ": " << got.status().ToString();
      EXPECT_EQ(*got, content_.substr(100'000, 1 << 20));
      EXPECT_EQ(proxy_->faults() - faults_before, 2u);
    }
  }
  EXPECT_GT(slept_.count(), 0) << "backed off between attempts";
}

TEST_P(FaultTest, ListingsAndStatsAreRetriedToo) {
  proxy_->Push({.fault = Fault::kStatus, .status = 503, .retry_after = "1"}, 1);
  proxy_->Push({.fault = Fault::kReset}, 1);
  StatusOr<std::vector<sidecar::Entry>> l = src_->List("");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].size, content_.size());
  EXPECT_GE(slept_, std::chrono::milliseconds(1000)) << "Retry-After honoured";
}

TEST_P(FaultTest, PersistentFaultsFailHonestlyAfterBoundedAttempts) {
  for (Fault f : {Fault::kStatus, Fault::kReset, Fault::kTruncate}) {
    proxy_->SetDefault({.fault = f, .status = 500});
    uint64_t before = proxy_->requests();
    StatusOr<std::string> got = ReadRange(0, 4096);
    EXPECT_EQ(got.status().code(), StatusCode::kUnavailable) << static_cast<int>(f);
    EXPECT_NE(got.status().message().find("127.0.0.1:" + std::to_string(proxy_->port())),
              std::string_view::npos)
        << got.status().ToString();
    // 6 attempts; libcurl itself re-sends once when a reused connection turns out dead.
    EXPECT_GE(proxy_->requests() - before, 6u);
    EXPECT_LE(proxy_->requests() - before, 12u) << "bounded attempts";
    proxy_->Clear();
  }
  StatusOr<std::string> got = ReadRange(0, 4096);
  ASSERT_TRUE(got.ok()) << "recovers once the server does";
  EXPECT_EQ(*got, content_.substr(0, 4096));
}

TEST_P(FaultTest, NotFoundIsNotRetried) {
  uint64_t before = proxy_->requests();
  EXPECT_EQ(src_->Stat("nope.bin").status().code(), StatusCode::kNotFound);
  EXPECT_LE(proxy_->requests() - before, 2u);
}

INSTANTIATE_TEST_SUITE_P(Origins, FaultTest, ::testing::Values(Origin::kNginx, Origin::kS3rver),
                         [](const ::testing::TestParamInfo<Origin>& i) {
                           return i.param == Origin::kNginx ? std::string("nginx") : std::string("s3rver");
                         });

TEST(HttpIgnoringRangesTest, ServerAnswering200IsHandled) {
  StatusOr<std::unique_ptr<NginxServer>> n = NginxServer::Start({.ranges = false});
  if (n.status().Is(StatusCode::kUnavailable)) GTEST_SKIP() << n.status().ToString();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  std::string content = RandomBytes(1'500'000, 9);
  ASSERT_TRUE(WriteFile((*n)->root() + "/f.bin", content).ok());
  RealClock clock;
  sidecar::HttpSourceOptions o;
  o.base_url = (*n)->base_url();
  StatusOr<std::unique_ptr<sidecar::HttpSource>> src = sidecar::HttpSource::Create(o, clock);
  ASSERT_TRUE(src.ok());
  StatusOr<sidecar::Entry> e = (*src)->Stat("f.bin");
  ASSERT_TRUE(e.ok());
  std::string buf(10'000, '\0');
  StatusOr<size_t> got = (*src)->Read("f.bin", *e, 700'000, std::as_writable_bytes(std::span(buf)));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, 10'000u);
  EXPECT_EQ(buf, content.substr(700'000, 10'000));
  EXPECT_TRUE((*src)->ranges_ignored_for_test());
}

}  // namespace
}  // namespace ferry::testing
