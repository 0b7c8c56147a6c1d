#include "ferryctl/cli.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/dataset_spec.h"
#include "common/inotify_file_watcher.h"
#include "ferryctl/status_file.h"

namespace ferry::ferryctl {
namespace {

namespace fs = std::filesystem;

// Records kubectl invocations and answers from a script.
class FakeKubectl final : public CommandRunner {
 public:
  StatusOr<CommandResult> Run(const std::vector<std::string>& argv,
                              std::string_view input) override {
    calls.push_back(argv);
    if (missing) return NotFound(argv[0] + ": no such program");
    if (argv[1] == "get") {
      if (!configmap)
        return CommandResult{
            1, "", "Error from server (NotFound): configmaps \"ferry-datasets\" not found"};
      return CommandResult{0, *configmap, ""};
    }
    applied = std::string(input);
    return CommandResult{0, "configmap/ferry-datasets configured", ""};
  }
  bool missing = false;
  std::optional<std::string> configmap;
  std::string applied;
  std::vector<std::vector<std::string>> calls;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferryctl-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    CliEnv env{out_, err_, kubectl_, watcher_, clock_, stdin_};
    return RunCli(args, env);
  }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories(fs::path(dir_ + "/" + rel).parent_path());
    std::ofstream(dir_ + "/" + rel) << text;
  }
  std::string Read(const std::string& rel) {
    std::ifstream in(dir_ + "/" + rel);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void WriteStatus(bool ready) {
    Write(
        ".ferry/status.json",
        std::string(R"({"version":"0.1.0","ready":)") + (ready ? "true" : "false") +
            R"(,"generation":1,"specError":"","updated":"","datasets":{"a":{"phase":")" +
            (ready ? "Mounted" : "Pending") +
            R"(","source":"local:///a","readOnly":true,"error":"","bytesCached":0,"lastChange":""}}})");
  }

  std::string dir_;
  std::ostringstream out_, err_;
  FakeKubectl kubectl_;
  FileWatcher* watcher_ = nullptr;
  RealClock clock_;
  std::string stdin_;
};

TEST_F(CliTest, HelpAndUsage) {
  EXPECT_EQ(Run({"--help"}), 0);
  EXPECT_NE(out_.str().find("probe"), std::string::npos);
  EXPECT_EQ(Run({}), 2);
  EXPECT_EQ(Run({"frobnicate"}), 2);
  EXPECT_EQ(Run({"add", "onlyname", "-f", dir_ + "/x"}), 2);
}

TEST_F(CliTest, ProbeReadyNotReadyAndMissing) {
  EXPECT_EQ(Run({"probe", "--mnt-dir=" + dir_}), 1);
  EXPECT_NE(err_.str().find("has not started"), std::string::npos);
  WriteStatus(false);
  EXPECT_EQ(Run({"probe", "--mnt-dir", dir_}), 1);
  EXPECT_NE(err_.str().find("a (Pending)"), std::string::npos);
  WriteStatus(true);
  EXPECT_EQ(Run({"probe", "--mnt-dir=" + dir_}), 0);
  EXPECT_NE(out_.str().find("ready: 1 datasets"), std::string::npos);
}

TEST_F(CliTest, ProbeWaitTimesOutWithReason) {
  WriteStatus(false);
  // No watcher: the 250 ms backstop; a 1 ms budget ends after one check.
  EXPECT_EQ(Run({"probe", "--mnt-dir=" + dir_, "--wait=1ms"}), 1);
  EXPECT_NE(err_.str().find("a (Pending)"), std::string::npos);
  EXPECT_NE(err_.str().find("gave up"), std::string::npos);
}

TEST_F(CliTest, ProbeWaitWakesOnStatusChange) {
  auto w = InotifyFileWatcher::Create();
  ASSERT_TRUE(w.ok());
  watcher_ = w->get();
  std::thread writer([&] {
    // Appears while the probe waits: first the status dir, then ready.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    WriteStatus(false);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    WriteStatus(true);
  });
  int code = Run({"probe", "--mnt-dir=" + dir_, "--wait=30s"});
  writer.join();
  EXPECT_EQ(code, 0) << err_.str();
}

TEST_F(CliTest, StatusTableAndJson) {
  WriteStatus(true);
  EXPECT_EQ(Run({"status", "--mnt-dir=" + dir_}), 0);
  EXPECT_NE(out_.str().find("Mounted"), std::string::npos);
  EXPECT_EQ(Run({"status", "--mnt-dir=" + dir_, "--json"}), 0);
  EXPECT_NE(out_.str().find("\"ready\":true"), std::string::npos);
  EXPECT_EQ(Run({"status", "--mnt-dir=" + dir_ + "/none"}), 1);
}

TEST_F(CliTest, ValidateFilesAndStdin) {
  Write("good.yaml", "mounts:\n  - name: a\n    source: local:///a\n");
  Write("bad.yaml", "mounts:\n  - name: a\n    source: ftp://a\n");
  Write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\ndata:\n  datasets.yaml: |\n    mounts: []\n");
  EXPECT_EQ(Run({"validate", dir_ + "/good.yaml"}), 0);
  EXPECT_NE(out_.str().find("valid, 1 dataset"), std::string::npos);
  EXPECT_EQ(Run({"validate", dir_ + "/bad.yaml"}), 1);
  EXPECT_NE(err_.str().find("ftp"), std::string::npos);
  EXPECT_EQ(Run({"validate", dir_ + "/cm.yaml"}), 0);
  EXPECT_EQ(Run({"validate", dir_ + "/missing.yaml"}), 1);
  stdin_ = "mounts: []\n";
  EXPECT_EQ(Run({"validate", "-"}), 0);
}

TEST_F(CliTest, AddListRemoveOnAFile) {
  Write("datasets.yaml", "mounts: []\n");
  std::string f = dir_ + "/datasets.yaml";
  EXPECT_EQ(Run({"add", "a", "local:///data/a", "-f", f}), 0) << err_.str();
  EXPECT_EQ(Run({"add", "b", "s3://bucket/b/", "-o", "region=eu-west-1", "--rw", "--credentials",
                 "b", "-f", f}),
            0)
      << err_.str();
  EXPECT_EQ(Run({"add", "a", "local:///x", "-f", f}), 1);
  EXPECT_NE(err_.str().find("already exists"), std::string::npos);
  EXPECT_EQ(Run({"list", "-f", f}), 0);
  EXPECT_EQ(out_.str(), "a\tlocal:///data/a\tro\nb\ts3://bucket/b/\trw\tcredentials=b\n");
  EXPECT_EQ(Run({"remove", "a", "-f", f}), 0);
  EXPECT_EQ(Run({"list", "-f", f}), 0);
  EXPECT_EQ(out_.str(), "b\ts3://bucket/b/\trw\tcredentials=b\n");
  EXPECT_TRUE(ParseDatasetSpec(Read("datasets.yaml")).ok());
  EXPECT_EQ(Run({"remove", "zzz", "-f", f}), 1);
}

TEST_F(CliTest, DryRunDoesNotWrite) {
  Write("datasets.yaml", "mounts: []\n");
  EXPECT_EQ(Run({"add", "a", "local:///a", "-f", dir_ + "/datasets.yaml", "--dry-run"}), 0);
  EXPECT_NE(out_.str().find("local:///a"), std::string::npos);
  EXPECT_EQ(Read("datasets.yaml"), "mounts: []\n");
}

TEST_F(CliTest, KubectlModeGetsEditsAndApplies) {
  kubectl_.configmap =
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ferry-datasets","namespace":"ml","resourceVersion":"5","managedFields":[{}]},"data":{"datasets.yaml":"mounts: []\n"}})";
  EXPECT_EQ(Run({"add", "a", "local:///a", "-n", "ml"}), 0) << err_.str();
  ASSERT_EQ(kubectl_.calls.size(), 2u);
  EXPECT_EQ(kubectl_.calls[0],
            (std::vector<std::string>{"kubectl", "get", "configmap", "ferry-datasets", "-o", "json",
                                      "-n", "ml"}));
  EXPECT_EQ(kubectl_.calls[1][1], "apply");
  EXPECT_NE(kubectl_.applied.find("\"resourceVersion\": \"5\""), std::string::npos);
  EXPECT_EQ(kubectl_.applied.find("managedFields"), std::string::npos);
  EXPECT_NE(kubectl_.applied.find("local:///a"), std::string::npos);
}

TEST_F(CliTest, KubectlModeCreatesAMissingConfigMap) {
  EXPECT_EQ(Run({"add", "a", "local:///a", "--kubectl", "-n", "ml"}), 0) << err_.str();
  EXPECT_NE(kubectl_.applied.find("\"kind\": \"ConfigMap\""), std::string::npos);
  EXPECT_NE(kubectl_.applied.find("\"namespace\": \"ml\""), std::string::npos);
  EXPECT_EQ(Run({"list"}), 0);
  EXPECT_EQ(out_.str(), "no datasets\n");
}

TEST_F(CliTest, MissingKubectlSaysWhatToDo) {
  kubectl_.missing = true;
  EXPECT_EQ(Run({"list"}), 1);
  EXPECT_NE(err_.str().find("kubectl not found in PATH"), std::string::npos);
  EXPECT_NE(err_.str().find("-f FILE"), std::string::npos);
}

TEST_F(CliTest, RealSubprocessRunnerReportsMissingProgram) {
  SubprocessRunner runner;
  auto r = runner.Run({"ferry-no-such-program-xyz"}, "");
  EXPECT_TRUE(r.status().Is(StatusCode::kNotFound));
  auto cat = runner.Run({"cat"}, "hello");
  ASSERT_TRUE(cat.ok());
  EXPECT_EQ(cat->out, "hello");
  EXPECT_EQ(cat->exit_code, 0);
}

}  // namespace
}  // namespace ferry::ferryctl
