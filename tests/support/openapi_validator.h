#pragma once
// OpenApiValidator: checks a JSON value against a schema of a Kubernetes OpenAPI v3
// document (k8s-openapi-1.35/api_v1.json), as strictly as kubectl-validate would and
// stricter than the apiserver (which silently drops unknown fields):
//  - unknown fields (the schemas carry no additionalProperties: false, so every
//    object with `properties` is treated as closed);
//  - types (string, boolean, integer with int32/int64 range, number, object, array),
//    oneOf (Quantity, IntOrString), format byte (base64);
//  - required fields;
//  - list-type map (unique x-kubernetes-list-map-keys, keys present) and set.
// null is accepted for optional fields (Go decodes it as the zero value).

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry::testing {

class OpenApiValidator {
 public:
  // Loads an OpenAPI v3 document. kNotFound / kInvalidArgument.
  static StatusOr<std::shared_ptr<const OpenApiValidator>> Load(const std::string& path);
  // tests/testdata/k8s-openapi-1.35/api_v1.json (vendored), loaded once per process.
  static StatusOr<std::shared_ptr<const OpenApiValidator>> CoreV1();

  // Errors found in `value` as schema `type_name` (e.g. "io.k8s.api.core.v1.Pod"),
  // each "path: problem". Empty when valid.
  std::vector<std::string> Validate(const nlohmann::json& value, std::string_view type_name) const;

 private:
  explicit OpenApiValidator(nlohmann::json doc) : doc_(std::move(doc)) {}
  void Check(const nlohmann::json& value, const nlohmann::json& schema, const std::string& path,
             std::vector<std::string>& errors) const;
  const nlohmann::json* Resolve(const nlohmann::json& schema) const;
  bool MatchesType(const nlohmann::json& value, const nlohmann::json& schema) const;

  nlohmann::json doc_;
};

}  // namespace ferry::testing
