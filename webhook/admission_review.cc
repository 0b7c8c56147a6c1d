#include "webhook/admission_review.h"

#include "webhook/json_writer.h"

#include <cstdint>
#include <cstring>

namespace ferry::webhook {
namespace {

constexpr std::string_view kV1 = "admission.k8s.io/v1";
constexpr std::string_view kV1beta1 = "admission.k8s.io/v1beta1";

Status NotReview(std::string_view why) {
  return InvalidArgument("not an AdmissionReview: " + std::string(why));
}

// Copies a string member; absent or null reads as "", another type is an error.
Status StringField(const Json& obj, std::string_view key, std::string* out) {
  const Json* m = Member(obj, key);
  if (m == nullptr || m->is_null()) {
    out->clear();
    return Status::Ok();
  }
  if (!m->is_string()) return NotReview(std::string(key) + " must be a string");
  *out = m->get<std::string>();
  return Status::Ok();
}

Status GroupVersion(const Json& req, std::string_view key, std::string_view name_key,
                    std::string* group, std::string* version, std::string* name) {
  const Json* m = Member(req, key);
  if (m == nullptr || m->is_null()) return Status::Ok();
  if (!m->is_object()) return NotReview("request." + std::string(key) + " must be an object");
  FERRY_RETURN_IF_ERROR(StringField(*m, "group", group));
  FERRY_RETURN_IF_ERROR(StringField(*m, "version", version));
  return StringField(*m, name_key, name);
}

// DOM builder for nlohmann's SAX parser that leaves out the members of containers that
// no part of the webhook reads (env, ports, probes other than startupProbe, ...).
// Member removal never shifts an array index, so patches computed on the pruned pod
// apply to the full one (the fuzzer checks exactly that). Everything outside container
// objects (annotations, labels, nodeSelector, ConfigMap data, ...) is kept whole.
class PruningDomBuilder {
 public:
  explicit PruningDomBuilder(Json& root) : root_(root) {}

  bool null() { return Value(nullptr); }
  bool boolean(bool v) { return Value(v); }
  bool number_integer(Json::number_integer_t v) { return Value(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return Value(v); }
  bool number_float(Json::number_float_t v, const std::string&) { return Value(v); }
  bool string(std::string& v) { return Value(std::move(v)); }
  bool binary(Json::binary_t& v) { return Value(std::move(v)); }
  bool start_object(std::size_t) { return Open(Json::value_t::object); }
  bool start_array(std::size_t) { return Open(Json::value_t::array); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool key(std::string& k) {
    if (skip_ > 0) return true;
    Frame& f = stack_.back();
    if (f.is_container && IsUnread(k)) {
      skip_pending_ = true;
      return true;
    }
    pending_key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t byte, const std::string&, const nlohmann::detail::exception&) {
    error_byte_ = byte;
    return false;
  }
  std::size_t error_byte() const { return error_byte_; }

 private:
  struct Frame {
    Json* value;
    std::string key;        // member name this value was stored under ("" in arrays)
    bool is_container;      // an element of containers/initContainers/ephemeralContainers
  };
  static bool IsUnread(std::string_view k) {
    return k == "env" || k == "envFrom" || k == "ports" || k == "args" || k == "command" ||
           k == "readinessProbe" || k == "livenessProbe" || k == "resources" ||
           k == "resizePolicy" || k == "workingDir" || k == "volumeDevices";
  }
  template <typename T>
  bool Value(T&& v) {
    if (skip_ > 0) return true;
    if (skip_pending_) {
      skip_pending_ = false;
      return true;
    }
    Insert(Json(std::forward<T>(v)));
    return true;
  }
  Json* Insert(Json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Json& parent = *stack_.back().value;
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    Json& slot = parent[pending_key_];
    slot = std::move(v);
    return &slot;
  }
  bool Open(Json::value_t type) {
    if (skip_ > 0 || skip_pending_) {
      skip_pending_ = false;
      ++skip_;
      return true;
    }
    std::string key;
    bool in_container_list = false;
    if (!stack_.empty()) {
      const Frame& parent = stack_.back();
      if (parent.value->is_object()) key = pending_key_;
      in_container_list = parent.value->is_array() &&
                          (parent.key == "containers" || parent.key == "initContainers" ||
                           parent.key == "ephemeralContainers");
    }
    Json* v = Insert(Json(type));
    stack_.push_back({v, std::move(key), in_container_list && type == Json::value_t::object});
    return true;
  }
  bool Close() {
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    stack_.pop_back();
    return true;
  }

  Json& root_;
  std::vector<Frame> stack_;
  std::string pending_key_;
  bool skip_pending_ = false;
  int skip_ = 0;
  std::size_t error_byte_ = 0;
};

std::string CutWarning(const std::string& w) {
  // Warnings must be valid UTF-8 and short; they are built from sanitized parts, but
  // cut at a character boundary anyway.
  if (w.size() < 120) return w;
  size_t n = 116;
  while (n > 0 && (static_cast<unsigned char>(w[n]) & 0xC0) == 0x80) --n;
  return w.substr(0, n) + "...";
}

}  // namespace

const Json& ReviewRequest::object() const {
  static const Json kNull;  // immutable
  const Json* o = Member(request(), "object");
  return o == nullptr ? kNull : *o;
}

StatusOr<ReviewRequest> ParseAdmissionReview(std::string_view body, ParseMode mode) {
  if (body.empty()) return InvalidArgument("body is empty");
  if (body.size() > kMaxBodyBytes) return ResourceExhausted("body is larger than 3 MiB");
  if (!IsValidUtf8(body)) return InvalidArgument("body is not valid UTF-8");
  ReviewRequest r;
  try {
    if (mode == ParseMode::kPrunePodContainers) {
      PruningDomBuilder builder(r.doc);
      if (!Json::sax_parse(body, &builder)) {
        return InvalidArgument("body is not valid JSON (byte " +
                               std::to_string(builder.error_byte()) + ")");
      }
    } else {
      r.doc = Json::parse(body);
    }
  } catch (const Json::parse_error& e) {
    return InvalidArgument("body is not valid JSON (byte " + std::to_string(e.byte) + ")");
  } catch (const Json::exception&) {
    return InvalidArgument("body is not valid JSON");
  }
  return ReviewFromDocument(std::move(r.doc));
}

StatusOr<ReviewRequest> ReviewFromDocument(Json doc) {
  ReviewRequest r;
  r.doc = std::move(doc);
  if (!r.doc.is_object()) return NotReview("body must be a JSON object");
  FERRY_RETURN_IF_ERROR(StringField(r.doc, "apiVersion", &r.api_version));
  if (r.api_version != kV1 && r.api_version != kV1beta1) {
    return NotReview("apiVersion must be admission.k8s.io/v1 or v1beta1");
  }
  if (StringMember(r.doc, "kind") != "AdmissionReview") {
    return NotReview("kind must be AdmissionReview");
  }
  const Json* req = Member(r.doc, "request");
  if (req == nullptr || !req->is_object()) return NotReview("request is missing");
  FERRY_RETURN_IF_ERROR(StringField(*req, "uid", &r.uid));
  if (r.uid.empty()) return NotReview("request.uid is missing");
  if (!IsValidUtf8(r.uid) || r.uid.size() > 256) return NotReview("request.uid is malformed");
  FERRY_RETURN_IF_ERROR(StringField(*req, "operation", &r.operation));
  FERRY_RETURN_IF_ERROR(StringField(*req, "namespace", &r.ns));
  FERRY_RETURN_IF_ERROR(StringField(*req, "subResource", &r.sub_resource));
  FERRY_RETURN_IF_ERROR(
      GroupVersion(*req, "kind", "kind", &r.kind_group, &r.kind_version, &r.kind));
  FERRY_RETURN_IF_ERROR(GroupVersion(*req, "resource", "resource", &r.resource_group,
                                     &r.resource_version, &r.resource));
  if (const Json* dry = Member(*req, "dryRun"); dry != nullptr && !dry->is_null()) {
    if (!dry->is_boolean()) return NotReview("request.dryRun must be a boolean");
    r.dry_run = dry->get<bool>();
  }
  return r;
}

std::string EncodeAdmissionResponse(const ReviewRequest& req, const AdmissionResult& result) {
  // Members in nlohmann's (sorted) order, so the bytes equal the reference encoder's.
  constexpr auto kReplace = Json::error_handler_t::replace;
  std::string out;
  out.reserve(512);
  out += "{\"apiVersion\":";
  AppendJsonString(&out, req.api_version, kReplace);
  out += ",\"kind\":\"AdmissionReview\",\"response\":{\"allowed\":";
  out += result.allowed ? "true" : "false";
  if (result.allowed && result.patch.is_array() && !result.patch.empty()) {
    std::string patch;
    patch.reserve(4096);
    AppendJson(&patch, result.patch);  // strict, as the reference's dump()
    out.reserve(out.size() + patch.size() / 3 * 4 + 256);
    out += ",\"patch\":\"";
    Base64EncodeTo(patch, &out);
    out += "\",\"patchType\":\"JSONPatch\"";
  }
  if (!result.allowed) {
    int code = result.code < 400 ? 403 : result.code;
    out += ",\"status\":{\"code\":";
    out += std::to_string(code);
    out += ",\"message\":";
    AppendJsonString(&out, result.message, kReplace);
    out += '}';
  }
  out += ",\"uid\":";
  AppendJsonString(&out, req.uid, kReplace);
  if (!result.warnings.empty()) {
    out += ",\"warnings\":[";
    for (size_t i = 0; i < result.warnings.size(); ++i) {
      if (i > 0) out += ',';
      AppendJsonString(&out, CutWarning(result.warnings[i]), kReplace);
    }
    out += ']';
  }
  out += "}}";
  return out;
}

std::string EncodeAdmissionResponseReference(const ReviewRequest& req,
                                             const AdmissionResult& result) {
  Json resp = Json::object();
  resp["uid"] = req.uid;
  resp["allowed"] = result.allowed;
  if (!result.allowed) {
    int code = result.code < 400 ? 403 : result.code;
    resp["status"] = {{"code", code}, {"message", result.message}};
  }
  if (result.allowed && result.patch.is_array() && !result.patch.empty()) {
    resp["patchType"] = "JSONPatch";
    resp["patch"] = Base64Encode(result.patch.dump());
  }
  if (!result.warnings.empty()) {
    Json w = Json::array();
    for (const auto& s : result.warnings) w.push_back(CutWarning(s));
    resp["warnings"] = std::move(w);
  }
  Json out = {{"apiVersion", req.api_version}, {"kind", "AdmissionReview"},
              {"response", std::move(resp)}};
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // Fast path: 8 ASCII bytes at a time.
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (w & 0x8080808080808080ull) break;
      p += 8;
    }
    if (p >= end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[k] & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

}  // namespace ferry::webhook
