#pragma once
// Running kubectl for `ferryctl list|add|remove --kubectl`: a CommandRunner
// seam (tests fake it) and the two calls ferryctl makes:
//   kubectl get configmap NAME [-n NS] -o json
//   kubectl apply -f -            (the edited ConfigMap JSON on stdin)

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry::ferryctl {

struct CommandResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

class CommandRunner {
 public:
  CommandRunner() = default;
  virtual ~CommandRunner() = default;
  CommandRunner(const CommandRunner&) = delete;
  CommandRunner& operator=(const CommandRunner&) = delete;
  // Runs argv[0] (searched in PATH) with `input` on stdin. kNotFound: the
  // program does not exist; other errors: it could not be started.
  virtual StatusOr<CommandResult> Run(const std::vector<std::string>& argv,
                                      std::string_view input) = 0;
};

// posix_spawnp with pipes; stdout/stderr read concurrently with writing stdin.
class SubprocessRunner final : public CommandRunner {
 public:
  StatusOr<CommandResult> Run(const std::vector<std::string>& argv,
                              std::string_view input) override;
};

struct KubectlTarget {
  std::string kubectl = "kubectl";  // program name or path
  std::string namespace_name;       // "" = kubectl's current namespace
  std::string configmap = "ferry-datasets";
};

// The ConfigMap as JSON, or nullopt when it does not exist. Errors carry
// kubectl's stderr; a missing kubectl gives a message saying to use -f FILE.
StatusOr<std::optional<std::string>> KubectlGetConfigMap(CommandRunner& runner,
                                                         const KubectlTarget& target);

// A new ConfigMap manifest (JSON) holding `spec_text`.
std::string NewConfigMapJson(const KubectlTarget& target, std::string_view spec_text);

// Strips server-owned fields that `kubectl apply` must not get back
// (managedFields, the last-applied annotation stays), keeping resourceVersion
// so a concurrent edit makes apply fail instead of being overwritten.
std::string PrepareForApply(std::string_view configmap_json);

Status KubectlApply(CommandRunner& runner, const KubectlTarget& target, std::string_view json);

}  // namespace ferry::ferryctl
