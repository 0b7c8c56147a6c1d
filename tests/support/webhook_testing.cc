#include "tests/support/webhook_testing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/base64.h"

namespace ferry::testing {
namespace {

using nlohmann::json;

std::string TestDataDir() { return FERRY_SOURCE_DIR "/tests/testdata"; }

}  // namespace

std::vector<std::string> TestPodNames() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(TestDataDir() + "/pods")) {
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReadTestData(std::string_view relative_path) {
  std::ifstream in(TestDataDir() + "/" + std::string(relative_path), std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json LoadTestPod(std::string_view name) {
  std::string text = ReadTestData("pods/" + std::string(name) + ".json");
  json j = json::parse(text, nullptr, false);
  if (text.empty() || j.is_discarded()) {
    ADD_FAILURE() << "cannot load test pod " << name;
    return json::object();
  }
  return j;
}

std::string MakeReview(const json& object, const ReviewOptions& o) {
  json req = {{"uid", o.uid},
              {"kind", {{"group", ""}, {"version", "v1"}, {"kind", o.kind}}},
              {"resource", {{"group", ""}, {"version", "v1"}, {"resource", o.resource}}},
              {"requestKind", {{"group", ""}, {"version", "v1"}, {"kind", o.kind}}},
              {"requestResource", {{"group", ""}, {"version", "v1"}, {"resource", o.resource}}},
              {"namespace", o.ns},
              {"operation", o.operation},
              {"userInfo", {{"username", "system:serviceaccount:kube-system:replicaset-controller"}}},
              {"object", object},
              {"oldObject", nullptr},
              {"dryRun", o.dry_run}};
  if (!o.sub_resource.empty()) req["subResource"] = o.sub_resource;
  json review = {{"apiVersion", o.api_version}, {"kind", "AdmissionReview"}, {"request", req}};
  return review.dump();
}

StatusOr<ReviewAnswer> DecodeReviewAnswer(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return InvalidArgument("answer is not JSON");
  if (doc.value("kind", "") != "AdmissionReview") return InvalidArgument("kind is not AdmissionReview");
  if (doc.contains("request")) return InvalidArgument("answer echoes the request");
  if (!doc.contains("response") || !doc["response"].is_object()) {
    return InvalidArgument("no response object");
  }
  ReviewAnswer a;
  a.response = doc["response"];
  a.api_version = doc.value("apiVersion", "");
  a.uid = a.response.value("uid", "");
  if (!a.response.contains("allowed") || !a.response["allowed"].is_boolean()) {
    return InvalidArgument("response.allowed missing");
  }
  a.allowed = a.response["allowed"].get<bool>();
  if (a.response.contains("status")) {
    a.code = a.response["status"].value("code", 0);
    a.message = a.response["status"].value("message", "");
  }
  const bool has_type = a.response.contains("patchType");
  a.has_patch = a.response.contains("patch");
  if (has_type != a.has_patch) return InvalidArgument("patch and patchType must come together");
  if (a.has_patch) {
    if (a.response["patchType"] != "JSONPatch") return InvalidArgument("patchType is not JSONPatch");
    std::string raw;
    if (!a.response["patch"].is_string() ||
        !Base64Decode(a.response["patch"].get<std::string>(), &raw)) {
      return InvalidArgument("patch is not padded base64");
    }
    a.patch = json::parse(raw, nullptr, false);
    if (a.patch.is_discarded() || !a.patch.is_array()) {
      return InvalidArgument("patch is not a JSON array");
    }
  }
  if (a.response.contains("warnings")) {
    for (const auto& w : a.response["warnings"]) a.warnings.push_back(w.get<std::string>());
  }
  return a;
}

StatusOr<json> ApplyJsonPatch(const json& doc, const json& patch) {
  try {
    return doc.patch(patch);
  } catch (const json::exception& e) {
    return InvalidArgument(e.what());
  }
}

}  // namespace ferry::testing
