#include "webhook/json_writer.h"

#include <charconv>

#include "webhook/admission_review.h"

namespace ferry::webhook {
namespace {

// 1 for bytes that need an escape (control characters, '"' and '\\').
constexpr bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

}  // namespace

void AppendJsonString(std::string* out, std::string_view s, Json::error_handler_t handler) {
  bool ascii = true;
  for (unsigned char c : s) ascii &= c < 0x80;
  if (!ascii && !IsValidUtf8(s)) {
    *out += Json(std::string(s)).dump(-1, ' ', false, handler);
    return;
  }
  out->push_back('"');
  size_t run = 0;  // start of the current run of bytes copied as they are
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (!NeedsEscape(c)) continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out->append(esc, sizeof(esc));
      }
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

void AppendJson(std::string* out, const Json& j, Json::error_handler_t handler) {
  char num[32];
  switch (j.type()) {
    case Json::value_t::null:
      *out += "null";
      return;
    case Json::value_t::boolean:
      *out += j.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer: {
      auto r = std::to_chars(num, num + sizeof(num), j.get<Json::number_integer_t>());
      out->append(num, static_cast<size_t>(r.ptr - num));
      return;
    }
    case Json::value_t::number_unsigned: {
      auto r = std::to_chars(num, num + sizeof(num), j.get<Json::number_unsigned_t>());
      out->append(num, static_cast<size_t>(r.ptr - num));
      return;
    }
    case Json::value_t::string:
      AppendJsonString(out, j.get_ref<const std::string&>(), handler);
      return;
    case Json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const Json& e : j) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(out, e, handler);
      }
      out->push_back(']');
      return;
    }
    case Json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(out, it.key(), handler);
        out->push_back(':');
        AppendJson(out, it.value(), handler);
      }
      out->push_back('}');
      return;
    }
    default:  // floats (nlohmann's shortest round-trip format), binary, discarded
      *out += j.dump(-1, ' ', false, handler);
      return;
  }
}

}  // namespace ferry::webhook
