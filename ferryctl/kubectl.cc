#include "ferryctl/kubectl.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "common/unique_fd.h"

extern char** environ;

namespace ferry::ferryctl {
namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return StatusFromErrno(errno, "pipe");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::string MissingKubectl(const std::string& program) {
  return program + " not found in PATH: install kubectl, or edit a file with -f FILE";
}

}  // namespace

StatusOr<CommandResult> SubprocessRunner::Run(const std::vector<std::string>& argv,
                                              std::string_view input) {
  if (argv.empty()) return InvalidArgument("empty command");
  FERRY_ASSIGN_OR_RETURN(Pipe in, MakePipe());
  FERRY_ASSIGN_OR_RETURN(Pipe out, MakePipe());
  FERRY_ASSIGN_OR_RETURN(Pipe err, MakePipe());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out.write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err.write.get(), 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    if (rc == ENOENT) return NotFound(argv[0] + ": no such program");
    return StatusFromErrno(rc, "start " + argv[0]);
  }
  in.read.Reset();
  out.write.Reset();
  err.write.Reset();
  // Feed stdin and drain both outputs together so no pipe fills up.
  CommandResult result;
  size_t written = 0;
  if (input.empty()) in.write.Reset();
  (void)fcntl(in.write.get(), F_SETFL, O_NONBLOCK);
  sigset_t pipe_set;  // a child that exits early must not kill us with SIGPIPE
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
  while (out.read || err.read) {
    pollfd fds[3] = {
        {out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}, {in.write.get(), POLLOUT, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[8192];
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        (i == 0 ? out.read : err.read).Reset();
      }
    }
    if (in.write && fds[2].revents != 0) {
      ssize_t n = write(in.write.get(), input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) in.write.Reset();
      if (written == input.size()) in.write.Reset();
    }
  }
  in.write.Reset();
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return result;
}

StatusOr<std::optional<std::string>> KubectlGetConfigMap(CommandRunner& runner,
                                                         const KubectlTarget& t) {
  std::vector<std::string> argv = {t.kubectl, "get", "configmap", t.configmap, "-o", "json"};
  if (!t.namespace_name.empty()) argv.insert(argv.end(), {"-n", t.namespace_name});
  auto r = runner.Run(argv, "");
  if (!r.ok()) {
    if (r.status().Is(StatusCode::kNotFound)) return NotFound(MissingKubectl(t.kubectl));
    return r.status();
  }
  if (r->exit_code != 0) {
    if (r->err.find("NotFound") != std::string::npos ||
        r->err.find("not found") != std::string::npos) {
      return std::optional<std::string>();
    }
    return Unavailable("kubectl get configmap " + t.configmap + " failed: " + r->err);
  }
  return std::optional<std::string>(r->out);
}

std::string NewConfigMapJson(const KubectlTarget& t, std::string_view spec_text) {
  nlohmann::ordered_json doc;
  doc["apiVersion"] = "v1";
  doc["kind"] = "ConfigMap";
  doc["metadata"]["name"] = t.configmap;
  if (!t.namespace_name.empty()) doc["metadata"]["namespace"] = t.namespace_name;
  doc["data"]["datasets.yaml"] = std::string(spec_text);
  return doc.dump(4) + "\n";
}

std::string PrepareForApply(std::string_view configmap_json) {
  auto doc = nlohmann::ordered_json::parse(configmap_json, nullptr, false);
  if (!doc.is_object()) return std::string(configmap_json);
  if (doc.contains("metadata") && doc["metadata"].is_object()) {
    doc["metadata"].erase("managedFields");
  }
  return doc.dump(4, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Status KubectlApply(CommandRunner& runner, const KubectlTarget& t, std::string_view json) {
  std::vector<std::string> argv = {t.kubectl, "apply", "-f", "-"};
  if (!t.namespace_name.empty()) argv.insert(argv.end(), {"-n", t.namespace_name});
  auto r = runner.Run(argv, json);
  if (!r.ok()) {
    if (r.status().Is(StatusCode::kNotFound)) return NotFound(MissingKubectl(t.kubectl));
    return r.status();
  }
  if (r->exit_code != 0) return Unavailable("kubectl apply failed: " + r->err);
  return Status::Ok();
}

}  // namespace ferry::ferryctl
