#pragma once
// AdmissionReview codec (KUBERNETES.md §1-§2): bytes -> ReviewRequest, and
// AdmissionResult -> response bytes. Handles admission.k8s.io/v1 and v1beta1; the
// answer uses the request's apiVersion and echoes its uid. No I/O, never throws.

#include <string>
#include <string_view>
#include <vector>

#include "common/base64.h"
#include "common/status.h"
#include "webhook/pod_json.h"

namespace ferry::webhook {

inline constexpr size_t kMaxBodyBytes = 3u << 20;  // 3 MiB, as the apiserver's own limit

struct ReviewRequest {
  Json doc;                 // the whole review; request() points into it
  std::string api_version;  // "admission.k8s.io/v1" or "admission.k8s.io/v1beta1"
  std::string uid;
  std::string operation;    // CREATE, UPDATE, DELETE, CONNECT
  std::string ns;           // request.namespace (authoritative; may be empty)
  std::string sub_resource; // "" when absent
  std::string kind_group, kind_version, kind;             // request.kind
  std::string resource_group, resource_version, resource; // request.resource
  bool dry_run = false;

  const Json& request() const { return doc["request"]; }
  // request.object, or a null Json when absent.
  const Json& object() const;
};

// Parses a review. kInvalidArgument with a short reason (never echoing the body):
// "body is empty", "body is not valid UTF-8", "body is not valid JSON (byte N)",
// "not an AdmissionReview: ...". kResourceExhausted when > kMaxBodyBytes.
enum class ParseMode {
  kFull,
  // Leaves out container members the webhook never reads (env, ports, args, command,
  // readiness/liveness probes, resources, ...): a third of the parse cost of a typical
  // pod. Array indices are unchanged, so patches apply to the full object.
  kPrunePodContainers,
};
StatusOr<ReviewRequest> ParseAdmissionReview(std::string_view body,
                                             ParseMode mode = ParseMode::kFull);
// The /mutate hot path: the same answer as ParseAdmissionReview(body,
// kPrunePodContainers) (the differential tests compare them), parsed with simdjson
// and converted to nlohmann only for what the mutation reads (request.oldObject is
// left out as well). Any input simdjson refuses goes to ParseAdmissionReview, so
// errors and their messages are the reference ones.
StatusOr<ReviewRequest> ParseAdmissionReviewFast(std::string_view body);
// The checks of ParseAdmissionReview on an already parsed document.
StatusOr<ReviewRequest> ReviewFromDocument(Json doc);

struct AdmissionResult {
  bool allowed = true;
  int code = 0;                       // with allowed == false: status.code (>= 400)
  std::string message;                // with allowed == false: status.message
  Json patch;                         // null or an array of ops; an empty array = no patch
  std::vector<std::string> warnings;  // sanitized, cut at 119 characters
};

// The response review for `req`. Omits patch/patchType when there is no patch.
// Written directly (json_writer.h); byte-identical to EncodeAdmissionResponseReference,
// which builds the answer as an nlohmann tree (kept for the differential tests).
std::string EncodeAdmissionResponse(const ReviewRequest& req, const AdmissionResult& result);
std::string EncodeAdmissionResponseReference(const ReviewRequest& req,
                                             const AdmissionResult& result);

bool IsValidUtf8(std::string_view bytes);

}  // namespace ferry::webhook
