#include "tests/support/openapi_validator.h"

#include <cstdint>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

namespace ferry::testing {
namespace {

using nlohmann::json;

bool IsBase64(const std::string& s) {
  if (s.size() % 4 != 0) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || (c == '=' && i + 2 >= s.size());
    if (!ok) return false;
  }
  return true;
}

}  // namespace

StatusOr<std::shared_ptr<const OpenApiValidator>> OpenApiValidator::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot open " + path);
  json doc = json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.contains("components")) {
    return InvalidArgument(path + ": not an OpenAPI v3 document");
  }
  return std::shared_ptr<const OpenApiValidator>(new OpenApiValidator(std::move(doc)));
}

StatusOr<std::shared_ptr<const OpenApiValidator>> OpenApiValidator::CoreV1() {
  static std::mutex mu;  // NOLINT: guards the process-wide cache below, test-only
  static std::shared_ptr<const OpenApiValidator> cached;
  std::lock_guard<std::mutex> lock(mu);
  if (!cached) {
    auto v = Load(FERRY_SOURCE_DIR "/tests/testdata/k8s-openapi-1.35/api_v1.json");
    if (!v.ok()) return v.status();
    cached = *v;
  }
  return cached;
}

std::vector<std::string> OpenApiValidator::Validate(const json& value,
                                                    std::string_view type_name) const {
  std::vector<std::string> errors;
  const auto& schemas = doc_["components"]["schemas"];
  auto it = schemas.find(std::string(type_name));
  if (it == schemas.end()) return {"unknown schema " + std::string(type_name)};
  Check(value, *it, "", errors);
  return errors;
}

const json* OpenApiValidator::Resolve(const json& schema) const {
  const json* s = &schema;
  for (int depth = 0; depth < 8; ++depth) {
    std::string ref;
    if (s->contains("$ref")) {
      ref = (*s)["$ref"].get<std::string>();
    } else if (s->contains("allOf") && (*s)["allOf"].size() == 1 &&
               (*s)["allOf"][0].contains("$ref")) {
      ref = (*s)["allOf"][0]["$ref"].get<std::string>();
    } else {
      return s;
    }
    const std::string prefix = "#/components/schemas/";
    const auto& schemas = doc_["components"]["schemas"];
    auto it = schemas.find(ref.substr(prefix.size()));
    if (it == schemas.end()) return nullptr;
    s = &*it;
  }
  return s;
}

bool OpenApiValidator::MatchesType(const json& v, const json& schema) const {
  if (!schema.contains("type")) return true;
  const std::string t = schema["type"].get<std::string>();
  if (t == "string") return v.is_string();
  if (t == "boolean") return v.is_boolean();
  if (t == "integer") return v.is_number_integer();
  if (t == "number") return v.is_number();
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  return false;
}

void OpenApiValidator::Check(const json& value, const json& schema_in, const std::string& path,
                             std::vector<std::string>& errors) const {
  const json* sp = Resolve(schema_in);
  if (sp == nullptr) {
    errors.push_back(path + ": unresolvable $ref");
    return;
  }
  const json& schema = *sp;
  const std::string where = path.empty() ? "." : path;
  if (value.is_null()) return;  // optional field set to null
  if (schema.contains("oneOf")) {
    bool any = false;
    for (const auto& alt : schema["oneOf"]) any = any || MatchesType(value, alt);
    if (!any) errors.push_back(where + ": value " + value.dump() + " matches no oneOf type");
    return;
  }
  if (!MatchesType(value, schema)) {
    errors.push_back(where + ": expected " + schema.value("type", std::string("?")) + ", got " +
                     value.type_name());
    return;
  }
  const std::string type = schema.value("type", std::string());
  const std::string format = schema.value("format", std::string());
  if (type == "integer" && format == "int32") {
    int64_t i = value.get<int64_t>();
    if (i < INT32_MIN || i > INT32_MAX) errors.push_back(where + ": out of int32 range");
  }
  if (type == "string" && format == "byte" && !IsBase64(value.get<std::string>())) {
    errors.push_back(where + ": not base64");
  }
  if (type == "object") {
    if (schema.contains("properties")) {
      const auto& props = schema["properties"];
      for (const auto& [key, v] : value.items()) {
        auto pit = props.find(key);
        if (pit == props.end()) {
          errors.push_back(path + "/" + key + ": unknown field");
          continue;
        }
        Check(v, *pit, path + "/" + key, errors);
      }
      if (schema.contains("required")) {
        for (const auto& r : schema["required"]) {
          if (!value.contains(r.get<std::string>())) {
            errors.push_back(where + ": missing required field " + r.get<std::string>());
          }
        }
      }
    } else if (schema.contains("additionalProperties")) {
      for (const auto& [key, v] : value.items()) {
        Check(v, schema["additionalProperties"], path + "/" + key, errors);
      }
    }
  }
  if (type == "array") {
    const json* items = schema.contains("items") ? &schema["items"] : nullptr;
    for (size_t i = 0; i < value.size(); ++i) {
      if (items) Check(value[i], *items, path + "/" + std::to_string(i), errors);
    }
    const std::string list_type = schema.value("x-kubernetes-list-type", std::string());
    if (list_type == "map" && schema.contains("x-kubernetes-list-map-keys")) {
      std::set<std::string> seen;
      for (size_t i = 0; i < value.size(); ++i) {
        json key = json::array();
        for (const auto& k : schema["x-kubernetes-list-map-keys"]) {
          const std::string kn = k.get<std::string>();
          if (!value[i].is_object() || !value[i].contains(kn)) {
            // Keys with defaults (e.g. ContainerPort.protocol) may be absent.
            key.push_back(nullptr);
            continue;
          }
          key.push_back(value[i][kn]);
        }
        if (!seen.insert(key.dump()).second) {
          errors.push_back(path + "/" + std::to_string(i) + ": duplicate list-map key " + key.dump());
        }
      }
    } else if (list_type == "set") {
      std::set<std::string> seen;
      for (size_t i = 0; i < value.size(); ++i) {
        if (!seen.insert(value[i].dump()).second) {
          errors.push_back(path + "/" + std::to_string(i) + ": duplicate set element");
        }
      }
    }
  }
}

}  // namespace ferry::testing
