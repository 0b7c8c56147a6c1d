#pragma once
// Direct JSON serialization for the response hot path. The output is byte-identical to
// nlohmann's compact dump (`dump(-1)`, ensure_ascii off): object members in key order
// (nlohmann objects are sorted maps), RFC 8259 string escaping with \b \f \n \r \t,
// \uXXXX (lowercase hex) for other control characters, non-ASCII UTF-8 kept as is.
// The differential tests compare both. Never throws except as nlohmann would: a string
// that is not valid UTF-8 is handed to nlohmann with the caller's error handler.

#include <string>
#include <string_view>

#include "webhook/pod_json.h"

namespace ferry::webhook {

// Appends `s` as a quoted JSON string. Invalid UTF-8 goes through nlohmann with
// `handler` (strict throws Json::type_error, replace writes U+FFFD).
void AppendJsonString(std::string* out, std::string_view s,
                      Json::error_handler_t handler = Json::error_handler_t::strict);
// Appends the compact serialization of `j`, as `j.dump(-1, ' ', false, handler)`.
void AppendJson(std::string* out, const Json& j,
                Json::error_handler_t handler = Json::error_handler_t::strict);

}  // namespace ferry::webhook
