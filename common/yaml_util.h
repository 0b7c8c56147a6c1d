#pragma once
// Exception-free helpers over yaml-cpp (STYLE R1): every yaml-cpp call that can
// throw is made here or guarded by the caller's try/catch, and errors come back
// as Status values whose messages name the line and say how to fix the input.
// All functions are pure and thread-safe.

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry::yaml {

// How much bigger than its text a document may get by expanding aliases (*name).
inline constexpr size_t kMaxExpandedBytes = 8u << 20;

// Every document of `text` (an empty text or a lone `---` gives no or null
// documents). kInvalidArgument for malformed YAML, e.g. "line 3, column 1:
// illegal tab when looking for indentation (line 3 is indented with a tab; YAML
// needs spaces)", and for aliases that would expand the text by more than
// kMaxExpandedBytes. Never throws.
StatusOr<std::vector<YAML::Node>> LoadAll(std::string_view text);

// 1-based line of `node` in its document, or 0 when unknown.
int LineOf(const YAML::Node& node);

// " (line N)" for error messages, or "" when the line is unknown.
std::string AtLine(const YAML::Node& node);

// One key/value pair of a map, keys already checked to be unique scalars.
struct MapEntry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// The entries of map `node` in document order. kInvalidArgument if `node` is
// not a map, a key is not a scalar, or a key repeats ("duplicate key "x" at
// lines 3 and 7; keep one"). `what` names the map in messages.
StatusOr<std::vector<MapEntry>> MapEntries(const YAML::Node& node, std::string_view what);

// The text of a scalar: strings, numbers and booleans are all returned as
// written ("1e3", "true"). kInvalidArgument for null, lists and maps.
StatusOr<std::string> ScalarString(const YAML::Node& node, std::string_view what);

// A YAML boolean: true/false in any case (also yes/no/on/off as Kubernetes'
// YAML 1.1 reader accepts them). Quoted strings are refused.
StatusOr<bool> ScalarBool(const YAML::Node& node, std::string_view what);

// A map of scalars as strings (null = empty map). Values that are numbers or
// booleans are kept as written; null, list or map values are refused with a
// message naming `what`.key.
StatusOr<std::map<std::string, std::string>> StringMap(const YAML::Node& node,
                                                       std::string_view what);

// A list of scalars as strings (null = empty list). A lone string is refused
// with a hint to write a list.
StatusOr<std::vector<std::string>> StringList(const YAML::Node& node, std::string_view what);

// Human name of the node's kind for messages: "a map", "a list", "a string", "null".
std::string_view KindName(const YAML::Node& node);

// The candidate closest to `word` (case-insensitive, edit distance <= 2 or a
// prefix match), or "" when none is close. Used for "did you mean" hints.
std::string Suggest(std::string_view word, std::initializer_list<std::string_view> candidates);

// Offset of the first byte of `s` that is not part of valid UTF-8 (overlong
// forms, surrogates and code points above U+10FFFF are invalid), or npos.
size_t FindInvalidUtf8(std::string_view s);

// `s` in double quotes for messages: control characters escaped, cut to 80
// bytes with "..." so that a huge or binary value cannot flood a log line.
std::string Quote(std::string_view s);

}  // namespace ferry::yaml
