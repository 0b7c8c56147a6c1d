#pragma once
// Helpers for the webhook's tests: load the pods of tests/testdata/pods, wrap them in
// AdmissionReviews, and apply a response's patch the way the apiserver does
// (nlohmann's RFC 6902 json::patch). Depends on nothing of ferry_webhook, so the
// tests check the handler from the outside.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry::testing {

// Names of the pods in tests/testdata/pods (without .json), sorted.
std::vector<std::string> TestPodNames();
// tests/testdata/pods/<name>.json. Aborts the test (FAIL) when missing.
nlohmann::json LoadTestPod(std::string_view name);
// Any file under tests/testdata, as text.
std::string ReadTestData(std::string_view relative_path);

struct ReviewOptions {
  std::string api_version = "admission.k8s.io/v1";
  std::string uid = "0f5a7c1e-2b3d-4e5f-8a9b-1c2d3e4f5a6b";
  std::string ns = "ml-team";
  std::string operation = "CREATE";
  std::string resource = "pods";
  std::string kind = "Pod";
  std::string sub_resource;  // "" = key absent
  bool dry_run = false;
};
// An AdmissionReview request body carrying `object`.
std::string MakeReview(const nlohmann::json& object, const ReviewOptions& options = {});

// The decoded response of a review answer body; fails (gtest) on malformed answers.
struct ReviewAnswer {
  std::string api_version;
  std::string uid;
  bool allowed = false;
  int code = 0;
  std::string message;
  bool has_patch = false;
  nlohmann::json patch;  // the decoded JSON Patch (array) when has_patch
  std::vector<std::string> warnings;
  nlohmann::json response;  // the raw response object
};
StatusOr<ReviewAnswer> DecodeReviewAnswer(std::string_view body);

// Applies `patch` to `doc` with nlohmann's RFC 6902 implementation; kInvalidArgument
// with the library's message when it does not apply (the apiserver's 500).
StatusOr<nlohmann::json> ApplyJsonPatch(const nlohmann::json& doc, const nlohmann::json& patch);

}  // namespace ferry::testing
