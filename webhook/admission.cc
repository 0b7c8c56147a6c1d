#include "webhook/admission.h"

#include "webhook/mutator_registry.h"

namespace ferry::webhook {
namespace {

HttpReply BadBody(const Status& s) {
  int code = s.Is(StatusCode::kResourceExhausted) ? 413 : 400;
  return TextReply(code, s.message());
}

int DenyCode(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kPermissionDenied:
      return 403;
    default:
      return 500;
  }
}

using Encoder = std::string (*)(const ReviewRequest&, const AdmissionResult&);

HttpReply Answer(const ReviewRequest& req, const Status& status, Json patch,
                 std::vector<std::string> warnings,
                 Encoder encode = &EncodeAdmissionResponse) {
  AdmissionResult r;
  HttpReply reply;
  if (!status.ok()) {
    r.allowed = false;
    r.code = DenyCode(status);
    r.message = std::string(status.message());
    reply.result = "denied";
  } else {
    r.patch = std::move(patch);
    reply.result = r.patch.is_array() && !r.patch.empty() ? "patched" : "allowed";
  }
  r.warnings = std::move(warnings);
  reply.body = encode(req, r);
  return reply;
}

bool IsPodCreate(const ReviewRequest& req) {
  return req.operation == "CREATE" && req.sub_resource.empty() && req.resource_group.empty() &&
         req.resource == "pods" && (req.kind.empty() || (req.kind == "Pod" && req.kind_group.empty()));
}

}  // namespace

HttpReply TextReply(int status, std::string_view reason) {
  HttpReply r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::string(reason) + "\n";
  r.result = status >= 500 ? "error" : "invalid";
  return r;
}

StatusOr<std::unique_ptr<AdmissionHandler>> AdmissionHandler::Create(WebhookConfig config) {
  FERRY_ASSIGN_OR_RETURN(MutatorChain chain, BuildBuiltinChain(config.mutators));
  return std::unique_ptr<AdmissionHandler>(
      new AdmissionHandler(std::move(config), std::move(chain)));
}

HttpReply AdmissionHandler::Mutate(std::string_view body) const {
  auto req = ParseAdmissionReviewFast(body);
  if (!req.ok()) return BadBody(req.status());
  if (!IsPodCreate(*req) || !req->object().is_object()) {
    return Answer(*req, Status::Ok(), Json(), {});
  }
  InjectionOutcome out = injector_.Inject(req->ns, req->object());
  return Answer(*req, out.status, std::move(out.patch), std::move(out.warnings));
}

HttpReply AdmissionHandler::MutateReference(std::string_view body) const {
  auto req = ParseAdmissionReview(body, ParseMode::kPrunePodContainers);
  if (!req.ok()) return BadBody(req.status());
  if (!IsPodCreate(*req) || !req->object().is_object()) {
    return Answer(*req, Status::Ok(), Json(), {}, &EncodeAdmissionResponseReference);
  }
  InjectionOutcome out = injector_.Inject(req->ns, req->object());
  return Answer(*req, out.status, std::move(out.patch), std::move(out.warnings),
                &EncodeAdmissionResponseReference);
}

HttpReply AdmissionHandler::Validate(std::string_view body) const {
  auto req = ParseAdmissionReview(body);
  if (!req.ok()) return BadBody(req.status());
  ValidationOutcome out = validator_.Validate(*req);
  return Answer(*req, out.status, Json(), std::move(out.warnings));
}

}  // namespace ferry::webhook
