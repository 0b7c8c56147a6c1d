// ferry-openapi-check: validates Kubernetes objects against the OpenAPI v3
// documents of k8s-openapi-1.35 with the same strict validator the webhook's
// unit tests use (unknown fields, types, required, list-map keys).
//
//   ferry-openapi-check SCHEMA_DIR OBJECTS.json
//
// OBJECTS.json is a JSON array of objects (rendered chart, example manifests).
// Each object's apiVersion picks the document (v1 -> api_v1.json, G/V ->
// apis_G_V.json) and its kind the schema (x-kubernetes-group-version-kind).
// Prints one line per object: "ok KIND/NAME", "skip KIND/NAME: why" (no
// document for that group, e.g. cert-manager or Knative CRDs) or
// "error KIND/NAME: path: problem". Exit 0 when no object has errors, 1 when
// one has, 2 on bad usage or input.
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/openapi_validator.h"

namespace {

using nlohmann::json;
using ferry::testing::OpenApiValidator;

std::string DocumentFor(const std::string& api_version) {
  size_t slash = api_version.find('/');
  if (slash == std::string::npos) return "api_" + api_version + ".json";
  return "apis_" + api_version.substr(0, slash) + "_" + api_version.substr(slash + 1) + ".json";
}

// The schema name whose x-kubernetes-group-version-kind matches, or "".
std::string SchemaFor(const json& doc, const std::string& api_version, const std::string& kind) {
  size_t slash = api_version.find('/');
  std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  std::string version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
  const json& schemas = doc["components"]["schemas"];
  for (auto it = schemas.begin(); it != schemas.end(); ++it) {
    auto gvks = it.value().find("x-kubernetes-group-version-kind");
    if (gvks == it.value().end()) continue;
    for (const json& gvk : *gvks) {
      if (gvk.value("group", "") == group && gvk.value("version", "") == version &&
          gvk.value("kind", "") == kind) {
        return it.key();
      }
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: ferry-openapi-check SCHEMA_DIR OBJECTS.json\n");
    return 2;
  }
  std::string dir = argv[1];
  std::ifstream in(argv[2]);
  json objects = json::parse(in, nullptr, false);
  if (objects.is_discarded() || !objects.is_array()) {
    std::fprintf(stderr, "%s: not a JSON array of objects\n", argv[2]);
    return 2;
  }
  struct Document {
    json raw;
    std::shared_ptr<const OpenApiValidator> validator;
  };
  std::map<std::string, std::unique_ptr<Document>> documents;
  int failed = 0;
  for (const json& obj : objects) {
    if (!obj.is_object()) {
      std::fprintf(stderr, "an element is not an object\n");
      return 2;
    }
    std::string api_version = obj.value("apiVersion", "");
    std::string kind = obj.value("kind", "");
    std::string name = kind + "/" + obj.value("/metadata/name"_json_pointer, std::string("?"));
    std::string file = dir + "/" + DocumentFor(api_version);
    auto& slot = documents[file];
    if (!slot) {
      slot = std::make_unique<Document>();
      std::ifstream doc_in(file);
      if (doc_in) {
        slot->raw = json::parse(doc_in, nullptr, false);
        auto v = OpenApiValidator::Load(file);
        if (v.ok()) slot->validator = *v;
      }
    }
    if (!slot->validator) {
      std::printf("skip %s: no schema document for %s\n", name.c_str(), api_version.c_str());
      continue;
    }
    std::string schema = SchemaFor(slot->raw, api_version, kind);
    if (schema.empty()) {
      std::printf("error %s: %s has no kind %s\n", name.c_str(), api_version.c_str(), kind.c_str());
      ++failed;
      continue;
    }
    auto errors = slot->validator->Validate(obj, schema);
    if (errors.empty()) {
      std::printf("ok %s\n", name.c_str());
      continue;
    }
    ++failed;
    for (const std::string& e : errors) std::printf("error %s: %s\n", name.c_str(), e.c_str());
  }
  return failed == 0 ? 0 : 1;
}
