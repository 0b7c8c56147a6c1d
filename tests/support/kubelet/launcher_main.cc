// ferry-kubelet-run: see launcher.h.
//   ferry-kubelet-run node --dir DIR --report-fd N
//   ferry-kubelet-run sandbox [--hostname NAME] --report-fd N
//   ferry-kubelet-run run --spec FILE --report-fd N
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

#include "common/unique_fd.h"
#include "tests/support/kubelet/launcher.h"

namespace ferry::kubelet {
namespace {

int Fail(const Status& s) {
  std::fprintf(stderr, "ferry-kubelet-run: %s\n", s.ToString().c_str());
  return 125;
}

Status JoinNamespace(const std::string& path, int nstype) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return StatusFromErrno(errno, "open " + path);
  if (::setns(fd.get(), nstype) != 0) return StatusFromErrno(errno, "setns " + path);
  return Status::Ok();
}

Status JoinPodNamespaces(const ContainerSpec& spec) {
  if (spec.sandbox_pid > 0) {
    std::string base = "/proc/" + std::to_string(spec.sandbox_pid) + "/ns/";
    FERRY_RETURN_IF_ERROR(JoinNamespace(base + "net", CLONE_NEWNET));
    FERRY_RETURN_IF_ERROR(JoinNamespace(base + "uts", CLONE_NEWUTS));
    FERRY_RETURN_IF_ERROR(JoinNamespace(base + "ipc", CLONE_NEWIPC));
  }
  return JoinNamespace(spec.node_mntns, CLONE_NEWNS);
}

// PID 1 of the container: build the root, become the container's user, exec.
[[noreturn]] void ContainerMain(const ContainerSpec& spec) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  Status s = BuildContainerRoot(spec);
  if (s.ok() && ::chdir(spec.cwd.c_str()) != 0) s = StatusFromErrno(errno, "chdir " + spec.cwd);
  if (s.ok()) s = ApplySecurity(spec);
  if (!s.ok()) _exit(Fail(s));
  ::clearenv();
  for (const std::string& kv : spec.env) ::putenv(const_cast<char*>(kv.c_str()));
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  int err = errno;
  std::fprintf(stderr, "ferry-kubelet-run: exec %s: %s\n", argv[0], std::strerror(err));
  _exit(err == ENOENT ? 127 : 126);
}

int RunContainer(const std::string& spec_path, int report_fd) {
  std::ifstream in(spec_path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Fail(InvalidArgument("cannot parse " + spec_path));
  StatusOr<ContainerSpec> spec = ParseContainerSpec(j);
  if (!spec.ok()) return Fail(spec.status());
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (Status s = JoinPodNamespaces(*spec); !s.ok()) return Fail(s);
  if (::unshare(CLONE_NEWNS | CLONE_NEWPID) != 0) {
    return Fail(StatusFromErrno(errno, "unshare(mnt, pid)"));
  }
  // The pid is reported once the child has exec'd (the CLOEXEC pipe closes) or
  // died, so "started" means what it means for a runtime: the root is built.
  int exec_pipe[2];
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) return Fail(StatusFromErrno(errno, "pipe2"));
  pid_t child = ::fork();
  if (child < 0) return Fail(StatusFromErrno(errno, "fork"));
  if (child == 0) {
    ::close(report_fd);
    ::close(exec_pipe[0]);
    ContainerMain(*spec);
  }
  ::close(exec_pipe[1]);
  char byte;
  while (::read(exec_pipe[0], &byte, 1) < 0 && errno == EINTR) {
  }
  ::close(exec_pipe[0]);
  std::string line = std::to_string(child) + "\n";
  if (::write(report_fd, line.data(), line.size()) < 0) {
    return Fail(StatusFromErrno(errno, "report"));
  }
  ::close(report_fd);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return Fail(StatusFromErrno(errno, "waitpid"));
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

int Usage() {
  std::fprintf(stderr,
               "usage: ferry-kubelet-run node --dir DIR --report-fd N\n"
               "       ferry-kubelet-run sandbox [--hostname NAME] --report-fd N\n"
               "       ferry-kubelet-run run --spec FILE --report-fd N\n");
  return 2;
}

}  // namespace
}  // namespace ferry::kubelet

int main(int argc, char** argv) {
  using namespace ferry::kubelet;
  if (argc < 2) return Usage();
  std::string mode = argv[1];
  std::map<std::string, std::string> flags;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) return Usage();
    flags[key.substr(2)] = argv[i + 1];
  }
  int report_fd = flags.count("report-fd") ? std::atoi(flags["report-fd"].c_str()) : -1;
  if (report_fd < 0) return Usage();
  if (mode == "node" && flags.count("dir")) return RunNode(flags["dir"], report_fd);
  if (mode == "sandbox") return RunSandbox(flags["hostname"], report_fd);
  if (mode == "run" && flags.count("spec")) return RunContainer(flags["spec"], report_fd);
  return Usage();
}
