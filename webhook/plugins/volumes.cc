#include "webhook/plugins/volumes.h"

namespace ferry::webhook {
namespace {

class VolumesMutator final : public Mutator {
 public:
  std::string_view Name() const override { return "volumes"; }

  Status Mutate(MutationContext& ctx) const override {
    const Json& spec = ctx.pod["spec"];
    if (const Json* vols = ArrayMember(spec, "volumes")) {
      for (const Json& v : *vols) {
        std::string_view name = StringMember(v, "name");
        if (name == kMntVolume || name == kConfigVolume || name == kCacheVolume) {
          return FailedPrecondition(
              "pod already has a volume named \"" + std::string(name) +
              "\"; ferry adds volumes ferry-mnt, ferry-config and ferry-cache: rename yours, "
              "or opt out with annotation ferry.io/inject: \"false\"");
        }
      }
    }
    for (Json& v : FerryVolumes(ctx.config, ctx.params.datasets_config_map)) {
      ctx.patch.Append("/spec/volumes", std::move(v));
    }
    return Status::Ok();
  }
};

}  // namespace

Json FerryVolumes(const WebhookConfig& config, std::string_view datasets_config_map) {
  Json mnt = {{"name", kMntVolume}, {"emptyDir", Json::object()}};
  Json cfg = {
      {"name", kConfigVolume},
      {"projected",
       {{"defaultMode", 0440},
        {"sources",
         Json::array({Json{{"configMap", {{"name", datasets_config_map}, {"optional", true}}}},
                      Json{{"secret",
                            {{"name", config.credentials_secret}, {"optional", true}}}}})}}}};
  Json cache = {{"name", kCacheVolume},
                {"emptyDir", {{"sizeLimit", config.cache_size_limit}}}};
  return Json::array({std::move(mnt), std::move(cfg), std::move(cache)});
}

std::unique_ptr<Mutator> NewVolumesMutator() { return std::make_unique<VolumesMutator>(); }

}  // namespace ferry::webhook
