#include "webhook/flags.h"

#include <gtest/gtest.h>

namespace ferry::webhook {
namespace {

TEST(FlagsTest, ParsesBothForms) {
  auto f = ParseFlags({"--listen", "127.0.0.1:0", "--tls-cert=/c.pem", "--tls-key", "/k.pem",
                       "--config=/cfg.yaml", "--threads", "8", "--tls-reload-interval=50"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->host, "127.0.0.1");
  EXPECT_EQ(f->port, 0);
  EXPECT_EQ(f->tls_cert, "/c.pem");
  EXPECT_EQ(f->tls_key, "/k.pem");
  EXPECT_EQ(f->config, "/cfg.yaml");
  EXPECT_EQ(f->threads, 8);
  EXPECT_EQ(f->tls_reload_interval.count(), 50);
}

TEST(FlagsTest, ErrorsNameTheFlag) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"--tls-cert", "c"},
           {"--tls-cert", "c", "--tls-key", "k", "--listen", "8443"},
           {"--tls-cert", "c", "--tls-key", "k", "--listen", "host:1"},
           {"--tls-cert", "c", "--tls-key", "k", "--listen", "1.2.3.4:70000"},
           {"--tls-cert", "c", "--tls-key", "k", "--bogus"},
           {"--tls-cert", "c", "--tls-key"}}) {
    EXPECT_FALSE(ParseFlags(args).ok()) << args.back();
  }
  EXPECT_TRUE(ParseFlags({"--help"})->help);
}

}  // namespace
}  // namespace ferry::webhook
