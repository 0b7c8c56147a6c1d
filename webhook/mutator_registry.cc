#include "webhook/mutator_registry.h"

#include <set>

#include "webhook/plugins/app_mounts.h"
#include "webhook/plugins/sidecar.h"
#include "webhook/plugins/volumes.h"

namespace ferry::webhook {

Status MutatorChain::Run(MutationContext& ctx) const {
  for (const auto& m : mutators_) FERRY_RETURN_IF_ERROR(m->Mutate(ctx));
  return Status::Ok();
}

std::vector<std::string_view> MutatorChain::Names() const {
  std::vector<std::string_view> out;
  for (const auto& m : mutators_) out.push_back(m->Name());
  return out;
}

Status MutatorRegistry::Add(std::string_view name, MutatorFactory factory) {
  if (!factories_.emplace(std::string(name), factory).second) {
    return AlreadyExists("mutator " + std::string(name) + " registered twice");
  }
  return Status::Ok();
}

StatusOr<MutatorChain> MutatorRegistry::BuildChain(const std::vector<std::string>& profile) const {
  std::string known;
  for (const auto& [name, f] : factories_) known += (known.empty() ? "" : ", ") + name;
  std::set<std::string> seen;
  std::vector<std::unique_ptr<Mutator>> chain;
  for (const auto& name : profile) {
    auto it = factories_.find(name);
    if (it == factories_.end()) {
      return InvalidArgument("config: mutators: unknown mutator \"" + name + "\"; known: " + known);
    }
    if (!seen.insert(name).second) {
      return InvalidArgument("config: mutators: \"" + name + "\" listed twice");
    }
    chain.push_back(it->second());
  }
  return MutatorChain(std::move(chain));
}

void RegisterBuiltinMutators(MutatorRegistry& registry) {
  FERRY_CHECK(registry.Add("volumes", &NewVolumesMutator).ok());
  FERRY_CHECK(registry.Add("sidecar", &NewSidecarMutator).ok());
  FERRY_CHECK(registry.Add("app_mounts", &NewAppMountsMutator).ok());
}

StatusOr<MutatorChain> BuildBuiltinChain(const std::vector<std::string>& profile) {
  MutatorRegistry registry;
  RegisterBuiltinMutators(registry);
  return registry.BuildChain(profile);
}

}  // namespace ferry::webhook
