// libFuzzer target: the admission handler end to end (bytes in, bytes out). Every
// input is tried on /mutate and /validate. Invariants: never crash; a 200 answer is
// an AdmissionReview whose patch (when present) is base64 of a JSON array of add ops
// that applies to the request's object; a non-200 answer is 4xx. Differential: the
// /mutate hot path (simdjson + direct writer) answers byte for byte as the reference
// implementation (MutateReference: nlohmann all the way).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "webhook/admission.h"
#include "webhook/admission_review.h"

namespace {

using ferry::webhook::AdmissionHandler;
using ferry::webhook::Json;

const AdmissionHandler& Handler() {
  static auto* h = AdmissionHandler::Create(ferry::webhook::WebhookConfig{})->release();
  return *h;
}

void Check(std::string_view input, const ferry::webhook::HttpReply& r, bool mutate) {
  if (r.status != 200) {
    if (r.status < 400 || r.status >= 500) std::abort();
    return;
  }
  Json doc = Json::parse(r.body, nullptr, false);
  if (doc.is_discarded() || !doc.contains("response")) std::abort();
  const Json& resp = doc["response"];
  if (resp.contains("patch") != resp.contains("patchType")) std::abort();
  if (!resp.contains("patch")) return;
  if (!mutate) std::abort();  // /validate never patches
  std::string raw;
  if (!ferry::Base64Decode(resp["patch"].get<std::string>(), &raw)) std::abort();
  Json patch = Json::parse(raw, nullptr, false);
  if (!patch.is_array()) std::abort();
  for (const auto& op : patch) {
    if (op["op"] != "add") std::abort();
  }
  Json req = Json::parse(input, nullptr, false);
  try {
    (void)req["request"]["object"].patch(patch);
  } catch (const Json::exception&) {
    std::abort();  // a patch that does not apply is an apiserver 500
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const AdmissionHandler& h = Handler();
  ferry::webhook::HttpReply fast = h.Mutate(input);
  ferry::webhook::HttpReply ref = h.MutateReference(input);
  if (fast.status != ref.status || fast.body != ref.body || fast.result != ref.result ||
      fast.content_type != ref.content_type) {
    std::abort();
  }
  Check(input, fast, true);
  Check(input, h.Validate(input), false);
  return 0;
}
