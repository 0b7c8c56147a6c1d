#include "sidecar/source/exec_spec.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/unit/sidecar/source/elf_builder.h"

namespace ferry::sidecar {
namespace {

MountSpec Exec(const std::string& source, const std::string& args = "") {
  // Built as one aggregate: gcc 12 -O3 reports a false -Wrestrict on member-wise
  // assignment of short literals here.
  MountSpec m{.name = std::string("x"), .source = source, .scheme = std::string("exec")};
  if (!args.empty()) m.options.emplace("args", args);
  return m;
}

TEST(ExecSpecTest, ParsesProgramAndArgs) {
  StatusOr<ExecSpec> e = ParseExecSpec(Exec("exec:///usr/bin/s3fs", "bkt {mountpoint} -o url=http://h:9000 -o 'passwd_file=/etc/x y'"));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->program, "/usr/bin/s3fs");
  EXPECT_EQ(e->args, (std::vector<std::string>{"bkt", "{mountpoint}", "-o", "url=http://h:9000", "-o",
                                               "passwd_file=/etc/x y"}));
  e = ParseExecSpec(Exec("exec://ossfs"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->program, "ossfs");
  EXPECT_TRUE(e->args.empty());
}

TEST(ExecSpecTest, RejectsBadSpecs) {
  EXPECT_EQ(ParseExecSpec(Exec("exec://")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseExecSpec(Exec("s3://b")).ok());
  EXPECT_FALSE(ParseExecSpec(Exec("exec:///bin/x?args=1")).ok());
  Status s = ParseExecSpec(Exec("exec://x", "a 'b")).status();
  EXPECT_NE(s.message().find("options.args"), std::string_view::npos) << s.ToString();
}

TEST(ExecSpecTest, SplitsLikeAShell) {
  EXPECT_EQ(*SplitArgs("  a  b\\ c \"d \\\"e\" 'f\\g' ''  "),
            (std::vector<std::string>{"a", "b c", "d \"e", "f\\g", ""}));
  EXPECT_TRUE(SplitArgs("")->empty());
  EXPECT_FALSE(SplitArgs("\"open").ok());
}

TEST(ExecSpecTest, BuildsArgvWithMountpointAndForeground) {
  ExecSpec s{"s3fs", {"bkt", "{mountpoint}", "-o", "ro"}};
  EXPECT_EQ(BuildArgv(s, "/usr/bin/s3fs", "/dev/fd/3"),
            (std::vector<std::string>{"/usr/bin/s3fs", "bkt", "/dev/fd/3", "-o", "ro", "-f"}));
  ExecSpec appended{"x", {"-d"}};
  EXPECT_EQ(BuildArgv(appended, "/x", "/dev/fd/3"), (std::vector<std::string>{"/x", "-d", "/dev/fd/3"}));
}

TEST(ExecSpecTest, ReadsDtNeededAndTellsFuseVersions) {
  StatusOr<std::vector<std::string>> n =
      ElfNeededLibraries(testing::BuildElfWithNeeded({"libfuse.so.2", "libc.so.6"}));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, (std::vector<std::string>{"libfuse.so.2", "libc.so.6"}));
  EXPECT_EQ(FuseAbiOf(*n), FuseAbi::kFuse2);
  n = ElfNeededLibraries(testing::BuildElfWithNeeded({"libfuse3.so.3", "libc.so.6"}));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(FuseAbiOf(*n), FuseAbi::kFuse3);
  EXPECT_EQ(FuseAbiOf({"libc.so.6"}), FuseAbi::kUnknown);
}

TEST(ExecSpecTest, ReadsARealBinary) {
  std::ifstream in("/bin/sh", std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  StatusOr<std::vector<std::string>> n = ElfNeededLibraries(ss.str());
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  bool libc = false;
  for (const std::string& l : *n) libc = libc || l.rfind("libc.so", 0) == 0;
  EXPECT_TRUE(libc);
}

TEST(ExecSpecTest, MalformedElfIsAnErrorNotACrash) {
  std::string good = testing::BuildElfWithNeeded({"libfuse3.so.3"});
  EXPECT_FALSE(ElfNeededLibraries("").ok());
  EXPECT_FALSE(ElfNeededLibraries("#!/bin/sh\n").ok());
  for (size_t cut = 0; cut < good.size(); cut += 7) {
    (void)ElfNeededLibraries(good.substr(0, cut));  // must not read out of bounds (ASan)
  }
  std::string bad = good;
  bad[sizeof(Elf64_Ehdr) + 1 + 40] ^= 0x7f;  // scribble over the dynamic table
  (void)ElfNeededLibraries(bad);
}

}  // namespace
}  // namespace ferry::sidecar
