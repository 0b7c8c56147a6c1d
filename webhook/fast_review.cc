// ParseAdmissionReviewFast: simdjson parses and validates the whole body (UTF-8 and
// JSON grammar, SIMD), then only the parts the mutation reads are converted to
// nlohmann, with the same pruning as ParseMode::kPrunePodContainers. Anything simdjson
// refuses (bad JSON, numbers out of range, nesting deeper than 1024) is parsed again by
// the reference parser, which gives the answer and the error message.
#include <simdjson.h>

#include "webhook/admission_review.h"

namespace ferry::webhook {
namespace {

namespace dom = simdjson::dom;

// Same rule as PruningDomBuilder::IsUnread in admission_review.cc.
bool IsUnreadContainerMember(std::string_view k) {
  return k == "env" || k == "envFrom" || k == "ports" || k == "args" || k == "command" ||
         k == "readinessProbe" || k == "livenessProbe" || k == "resources" ||
         k == "resizePolicy" || k == "workingDir" || k == "volumeDevices";
}

bool IsContainerList(std::string_view k) {
  return k == "containers" || k == "initContainers" || k == "ephemeralContainers";
}

enum class Where {
  kOther,
  kContainer,  // an object element of a containers/initContainers/ephemeralContainers list
  kRequest,    // the review's request object
};

// Recursion bound of Convert: deeper documents (simdjson accepts 1024 levels) go to
// the reference parser, which is iterative. civetweb runs handlers on 100 KB stacks.
constexpr int kMaxConvertDepth = 64;

// Converts `e` to nlohmann. `key` is the member name `e` was stored under ("" in arrays).
// Duplicate member names: the last one wins, as in nlohmann's parser. Sets *too_deep
// (and returns null) past kMaxConvertDepth.
Json Convert(dom::element e, std::string_view key, Where where, int depth, bool* too_deep) {
  if (depth > kMaxConvertDepth) {
    *too_deep = true;
    return Json();
  }
  switch (e.type()) {
    case dom::element_type::OBJECT: {
      Json obj(Json::value_t::object);
      for (dom::key_value_pair kv : dom::object(e)) {
        if (where == Where::kContainer && IsUnreadContainerMember(kv.key)) continue;
        if (where == Where::kRequest && kv.key == "oldObject") continue;
        obj[std::string(kv.key)] = Convert(kv.value, kv.key, Where::kOther, depth + 1, too_deep);
      }
      return obj;
    }
    case dom::element_type::ARRAY: {
      Json arr(Json::value_t::array);
      dom::array a(e);
      arr.get_ref<Json::array_t&>().reserve(a.size());
      Where child = IsContainerList(key) ? Where::kContainer : Where::kOther;
      for (dom::element v : a) {
        arr.push_back(Convert(v, "", v.type() == dom::element_type::OBJECT ? child : Where::kOther,
                             depth + 1, too_deep));
      }
      return arr;
    }
    case dom::element_type::STRING:
      return Json(std::string(std::string_view(e)));
    case dom::element_type::INT64: {
      int64_t v = int64_t(e);
      // nlohmann stores non-negative integers as unsigned.
      if (v >= 0) return Json(static_cast<Json::number_unsigned_t>(v));
      return Json(static_cast<Json::number_integer_t>(v));
    }
    case dom::element_type::UINT64:
      return Json(static_cast<Json::number_unsigned_t>(uint64_t(e)));
    case dom::element_type::DOUBLE:
      return Json(double(e));
    case dom::element_type::BOOL:
      return Json(bool(e));
    case dom::element_type::NULL_VALUE:
      return Json(nullptr);
  }
  return Json();
}

}  // namespace

StatusOr<ReviewRequest> ParseAdmissionReviewFast(std::string_view body) {
  if (body.empty() || body.size() > kMaxBodyBytes || !IsValidUtf8(body)) {
    return ParseAdmissionReview(body, ParseMode::kPrunePodContainers);
  }
  // One parser per thread: its buffers are reused, so a request allocates only for
  // the nlohmann values it keeps. Rare large bodies get a parser of their own, so a
  // worker thread does not keep megabytes of buffers after one huge pod.
  constexpr size_t kReusedCapacity = 128 << 10;
  thread_local dom::parser reused;
  dom::parser large;
  dom::parser& parser = body.size() <= kReusedCapacity ? reused : large;
  dom::element root;
  if (parser.parse(body.data(), body.size(), /*realloc_if_needed=*/true).get(root) !=
      simdjson::SUCCESS) {
    return ParseAdmissionReview(body, ParseMode::kPrunePodContainers);
  }
  Json doc;
  bool too_deep = false;
  if (root.type() == dom::element_type::OBJECT) {
    doc = Json(Json::value_t::object);
    for (dom::key_value_pair kv : dom::object(root)) {
      Where where = kv.key == "request" ? Where::kRequest : Where::kOther;
      doc[std::string(kv.key)] = Convert(kv.value, kv.key, where, 1, &too_deep);
    }
  } else {
    doc = Convert(root, "", Where::kOther, 0, &too_deep);
  }
  if (too_deep) return ParseAdmissionReview(body, ParseMode::kPrunePodContainers);
  return ReviewFromDocument(std::move(doc));
}

}  // namespace ferry::webhook
