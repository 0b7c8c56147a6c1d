#include "webhook/object_validator.h"

#include "common/dataset_spec.h"

namespace ferry::webhook {
namespace {

ValidationOutcome Outcome(std::string decision) {
  ValidationOutcome o;
  o.decision = std::move(decision);
  return o;
}

ValidationOutcome Denied(Status s) {
  ValidationOutcome o;
  o.status = std::move(s);
  o.decision = "denied";
  return o;
}

constexpr std::string_view kSpecKey = "datasets.yaml";

bool HasKey(const Json& obj, std::string_view map, std::string_view key) {
  const Json* m = Member(obj, map);
  return m != nullptr && Member(*m, key) != nullptr;
}

}  // namespace

ValidationOutcome ObjectValidator::Validate(const ReviewRequest& req) const {
  if (req.operation != "CREATE" && req.operation != "UPDATE") return Outcome("ignored");
  if (!req.sub_resource.empty() || req.kind_group != "" || req.kind_version != "v1") {
    return Outcome("ignored");
  }
  const Json& obj = req.object();
  if (!obj.is_object()) return Outcome("ignored");
  const Json* meta = Member(obj, "metadata");
  std::string_view name = meta ? StringMember(*meta, "name") : "";
  if (req.kind == "ConfigMap" && name == config_.datasets_config_map) {
    return ValidateConfigMap(obj);
  }
  if (req.kind == "Secret" && name == config_.credentials_secret) return ValidateSecret(obj);
  return Outcome("ignored");
}

ValidationOutcome ObjectValidator::ValidateConfigMap(const Json& obj) const {
  const std::string prefix = "ConfigMap " + config_.datasets_config_map + ": ";
  if (HasKey(obj, "binaryData", kSpecKey)) {
    return Denied(InvalidArgument(prefix + "datasets.yaml is in binaryData; put it under data"));
  }
  const Json* data = Member(obj, "data");
  if (data != nullptr && !data->is_object() && !data->is_null()) {
    return Denied(InvalidArgument(prefix + "data must be a map of strings"));
  }
  const Json* spec = data ? Member(*data, kSpecKey) : nullptr;
  if (spec == nullptr) {
    ValidationOutcome o = Outcome("validated");
    o.warnings.push_back("ferry: " + prefix + "no datasets.yaml key: pods will see no datasets");
    return o;
  }
  if (!spec->is_string()) return Denied(InvalidArgument(prefix + "datasets.yaml must be a string"));
  auto parsed = ParseDatasetSpec(spec->get_ref<const std::string&>());
  if (!parsed.ok()) {
    return Denied(InvalidArgument(prefix + "datasets.yaml: " + std::string(parsed.status().message())));
  }
  return Outcome("validated");
}

ValidationOutcome ObjectValidator::ValidateSecret(const Json& obj) const {
  const std::string prefix = "Secret " + config_.credentials_secret + ": ";
  if (HasKey(obj, "data", kSpecKey) || HasKey(obj, "stringData", kSpecKey)) {
    return Denied(InvalidArgument(
        prefix + "key datasets.yaml would clash with the dataset spec in the projected volume; "
                 "keep the spec in ConfigMap " + config_.datasets_config_map));
  }
  ValidationOutcome o = Outcome("validated");
  for (const char* map : {"data", "stringData"}) {
    const Json* m = Member(obj, map);
    if (m == nullptr || m->is_null()) continue;
    if (!m->is_object()) return Denied(InvalidArgument(prefix + map + " must be a map"));
    for (const auto& [key, value] : m->items()) {
      if (!value.is_string()) {
        return Denied(InvalidArgument(prefix + map + "." + SafeName(key) + " must be a string"));
      }
      std::string decoded;
      if (std::string_view(map) == "data" && !Base64Decode(value.get_ref<const std::string&>(), &decoded)) {
        return Denied(InvalidArgument(prefix + "data." + SafeName(key) +
                                      " is not valid base64 (use stringData for plain text)"));
      }
      size_t dot = key.rfind('.');
      std::string_view field = dot == std::string::npos ? "" : std::string_view(key).substr(dot + 1);
      if (dot == 0 || (field != "accessKeyId" && field != "secretAccessKey" &&
                       field != "sessionToken")) {
        o.warnings.push_back("ferry: " + prefix + "key " + SafeName(key) +
                             " is not <prefix>.accessKeyId|secretAccessKey|sessionToken");
      }
    }
  }
  return o;
}

}  // namespace ferry::webhook
