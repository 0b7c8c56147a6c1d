#pragma once
// Base64 (RFC 4648 §4, standard alphabet, with padding). Used by the webhook (patches,
// Secret values) and its tests.

#include <string>
#include <string_view>

namespace ferry {

std::string Base64Encode(std::string_view bytes);
// Appends the encoding of `bytes` to `out`.
void Base64EncodeTo(std::string_view bytes, std::string* out);
// Strict decoding: padding required, no whitespace, no characters outside the
// alphabet. False (and `out` unspecified) on bad input.
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace ferry
