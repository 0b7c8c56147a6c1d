#pragma once
// AdmissionHandler: the webhook's request logic as a pure function, bytes in and bytes
// out (no sockets, no files, no clock), so unit tests and the fuzzer drive it without
// the server. Admission responses are made only here (STYLE R2).
//
//  - a parseable AdmissionReview always gets 200 + an AdmissionReview in the request's
//    apiVersion with the uid echoed;
//  - an empty, malformed, non-UTF-8 or non-review body gets 400 (413 when > 3 MiB)
//    with a one-line text reason that never echoes the body.
// Thread-safe: every method is const and shares only immutable state.

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "webhook/config.h"
#include "webhook/mutator.h"
#include "webhook/object_validator.h"
#include "webhook/pod_injector.h"

namespace ferry::webhook {

struct HttpReply {
  int status = 200;
  std::string_view content_type = "application/json";
  std::string body;
  // Metric label: allowed, patched, denied, invalid (4xx), error (5xx).
  std::string_view result = "allowed";
};

class AdmissionHandler {
 public:
  // kInvalidArgument when the config's mutator profile names unknown mutators.
  static StatusOr<std::unique_ptr<AdmissionHandler>> Create(WebhookConfig config);

  // POST /mutate: injects the sidecar into Pod CREATEs; everything else is allowed
  // without a patch.
  HttpReply Mutate(std::string_view body) const;
  // The same request through the reference implementation (the one before the fast
  // path): nlohmann's SAX parser builds the review (unread container members pruned)
  // and the answer is an nlohmann tree. Slower; the differential tests and fuzzer
  // check that Mutate() answers byte for byte the same.
  HttpReply MutateReference(std::string_view body) const;
  // POST /validate: checks the datasets ConfigMap and credentials Secret.
  HttpReply Validate(std::string_view body) const;

  const WebhookConfig& config() const { return config_; }

  AdmissionHandler(const AdmissionHandler&) = delete;
  AdmissionHandler& operator=(const AdmissionHandler&) = delete;

 private:
  AdmissionHandler(WebhookConfig config, MutatorChain chain)
      : config_(std::move(config)),
        chain_(std::move(chain)),
        injector_(config_, chain_),
        validator_(config_) {}

  const WebhookConfig config_;
  const MutatorChain chain_;
  const PodInjector injector_;
  const ObjectValidator validator_;
};

// Reply for a body the server refused before the handler (e.g. too large): status
// and short reason as text/plain.
HttpReply TextReply(int status, std::string_view reason);

}  // namespace ferry::webhook
