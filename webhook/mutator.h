#pragma once
// Mutator: one step of the pod mutation (STYLE §1, after Fluid's plugins_api.go): a
// name plus Mutate(). Mutators read the original pod, never change it, and queue
// add-only patch operations and warnings in the MutationContext. A non-OK Status
// denies the pod with its message (it must name the clash and the fix).
//
// The chain (MutatorChain) runs the mutators of the plugin profile in order and stops
// at the first error. Mutators are stateless after construction and thread-safe.

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "webhook/config.h"
#include "webhook/pod_json.h"

namespace ferry::webhook {

// What the handler resolved before the chain runs (annotations already validated).
struct InjectionParams {
  std::string mount_path;          // where apps see the datasets (ferry.io/mount-path)
  std::string datasets_config_map; // ConfigMap projected into ferry-config
  bool all_init_containers = false;            // ferry.io/init-containers: "*"
  std::set<std::string> init_containers;       // named init containers that opt in
};

struct MutationContext {
  MutationContext(const Json& pod_in, const WebhookConfig& config_in, InjectionParams params_in)
      : pod(pod_in), config(config_in), params(std::move(params_in)), patch(pod_in) {}

  const Json& pod;               // request.object; metadata and spec are objects
  const WebhookConfig& config;
  const InjectionParams params;
  PatchBuilder patch;
  std::vector<std::string> warnings;  // each "ferry: ..." and < 120 characters
  // SidecarContainer(config, config.mode) built once by the caller (PodInjector), or
  // null: the sidecar mutator then builds it.
  const Json* sidecar_container = nullptr;
};

class Mutator {
 public:
  virtual ~Mutator() = default;
  Mutator() = default;
  Mutator(const Mutator&) = delete;
  Mutator& operator=(const Mutator&) = delete;

  virtual std::string_view Name() const = 0;
  // Queues this step's patch ops. kFailedPrecondition (clash) or kInvalidArgument (bad
  // input) deny the pod; the message says what clashes and how to fix it.
  virtual Status Mutate(MutationContext& ctx) const = 0;
};

// Runs mutators in order; stops at the first error.
class MutatorChain {
 public:
  explicit MutatorChain(std::vector<std::unique_ptr<Mutator>> mutators)
      : mutators_(std::move(mutators)) {}
  Status Run(MutationContext& ctx) const;
  std::vector<std::string_view> Names() const;

 private:
  std::vector<std::unique_ptr<Mutator>> mutators_;
};

}  // namespace ferry::webhook
