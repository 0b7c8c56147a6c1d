#include "sidecar/standalone_exec.h"

#include <gtest/gtest.h>

namespace ferry::sidecar {
namespace {

TEST(StandaloneExecConfigTest, DefaultsAndOptions) {
  StatusOr<StandaloneExecConfig> c = MakeStandaloneExecConfig("exec:///usr/bin/s3fs", {}, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->spec.program, "/usr/bin/s3fs");
  EXPECT_TRUE(c->spec.args.empty());
  EXPECT_EQ(c->mount.fsname, "ferry");
  EXPECT_TRUE(c->mount.read_only);
  EXPECT_EQ(c->mount.read_ahead_kb, 16384u);
  EXPECT_EQ(c->exec.initial_backoff, std::chrono::milliseconds(500));

  c = MakeStandaloneExecConfig("exec://s3fs",
                               {{"ro", ""},
                                {"allow_other", ""},
                                {"fsname", "bucket"},
                                {"read_ahead_kb", "0"},
                                {"restart_backoff", "50ms"},
                                {"restart_backoff_max", "2s"},
                                {"stop_grace", "1s"},
                                {"args", "mybucket {mountpoint} -o 'url=http://x'"}},
                               {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->spec.program, "s3fs");
  EXPECT_EQ(c->spec.args, (std::vector<std::string>{"mybucket", "{mountpoint}", "-o", "url=http://x"}));
  EXPECT_EQ(c->mount.fsname, "bucket");
  EXPECT_EQ(c->mount.read_ahead_kb, 0u);
  EXPECT_EQ(c->exec.initial_backoff, std::chrono::milliseconds(50));
  EXPECT_EQ(c->exec.max_backoff, std::chrono::seconds(2));
  EXPECT_EQ(c->exec.stop_grace, std::chrono::seconds(1));
}

TEST(StandaloneExecConfigTest, ArgumentsAfterDoubleDashAreKeptVerbatim) {
  StatusOr<StandaloneExecConfig> c = MakeStandaloneExecConfig(
      "exec://s3fs", {}, {"mybucket", "{mountpoint}", "-o", "url=http://h:1,use_path_request_style"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->spec.args.back(), "url=http://h:1,use_path_request_style");
  EXPECT_EQ(BuildArgv(c->spec, "/usr/bin/s3fs", "/dev/fd/3"),
            (std::vector<std::string>{"/usr/bin/s3fs", "mybucket", "/dev/fd/3", "-o",
                                      "url=http://h:1,use_path_request_style", "-f"}));
}

TEST(StandaloneExecConfigTest, BadOptionsNameTheOption) {
  struct Case {
    std::map<std::string, std::string> options;
    std::vector<std::string> trailing;
    std::string named;
  };
  for (const Case& c : std::vector<Case>{
           {{{"threads", "4"}}, {}, "threads"},
           {{{"cache_memory", "1Gi"}}, {}, "cache_memory"},
           {{{"rw", ""}}, {}, "rw"},
           {{{"fsname", "a,b"}}, {}, "fsname"},
           {{{"read_ahead_kb", "lots"}}, {}, "read_ahead_kb"},
           {{{"restart_backoff", "0ms"}}, {}, "restart_backoff"},
           {{{"stop_grace", "soon"}}, {}, "stop_grace"},
           {{{"args", "-d"}}, {"x"}, "args"},
           {{{"args", "'unterminated"}}, {}, "args"},
       }) {
    StatusOr<StandaloneExecConfig> r = MakeStandaloneExecConfig("exec://s3fs", c.options, c.trailing);
    ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.named;
    EXPECT_NE(r.status().ToString().find(c.named), std::string::npos) << r.status().ToString();
  }
  EXPECT_EQ(MakeStandaloneExecConfig("exec://", {}, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeStandaloneExecConfig("exec://s3fs?x=1", {}, {}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferry::sidecar
