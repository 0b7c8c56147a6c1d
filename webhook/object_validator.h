#pragma once
// ObjectValidator: /validate (DESIGN.md "The dataset spec"). Checks, on CREATE and
// UPDATE only:
//  - ConfigMaps named like the datasets ConfigMap (config datasetsConfigMap): the key
//    `datasets.yaml` must parse with ferry::ParseDatasetSpec (native or Fluid Dataset);
//    the message names the mount and field. The key in binaryData is refused.
//  - Secrets named like the credentials Secret: no `datasets.yaml` key (it would clash
//    in the projected volume), data values valid base64; unknown key shapes warn.
// Everything else (other objects, DELETE, CONNECT) is allowed. Secret values are never
// copied into messages. Pure and thread-safe.

#include <string>
#include <vector>

#include "common/status.h"
#include "webhook/admission_review.h"
#include "webhook/config.h"

namespace ferry::webhook {

struct ValidationOutcome {
  Status status;  // non-OK: deny with this message
  std::vector<std::string> warnings;
  std::string decision;  // validated, ignored, denied
};

class ObjectValidator {
 public:
  explicit ObjectValidator(const WebhookConfig& config) : config_(config) {}
  ValidationOutcome Validate(const ReviewRequest& req) const;

 private:
  ValidationOutcome ValidateConfigMap(const Json& obj) const;
  ValidationOutcome ValidateSecret(const Json& obj) const;

  const WebhookConfig& config_;
};

}  // namespace ferry::webhook
