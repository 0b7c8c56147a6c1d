#pragma once
// MutatorRegistry: the explicit list of mutators (STYLE R11: no self-registration).
// RegisterBuiltinMutators() names every built-in one; BuildChain() turns the plugin
// profile (WebhookConfig::mutators) into a MutatorChain, failing at start-up on an
// unknown or duplicate name.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "webhook/mutator.h"

namespace ferry::webhook {

using MutatorFactory = std::unique_ptr<Mutator> (*)();

class MutatorRegistry {
 public:
  // kAlreadyExists when `name` is taken.
  Status Add(std::string_view name, MutatorFactory factory);
  // kInvalidArgument naming the unknown or repeated mutator and the known ones.
  StatusOr<MutatorChain> BuildChain(const std::vector<std::string>& profile) const;

 private:
  std::map<std::string, MutatorFactory, std::less<>> factories_;
};

// volumes, sidecar, app_mounts.
void RegisterBuiltinMutators(MutatorRegistry& registry);

// Registry with the built-ins, then BuildChain(profile).
StatusOr<MutatorChain> BuildBuiltinChain(const std::vector<std::string>& profile);

}  // namespace ferry::webhook
