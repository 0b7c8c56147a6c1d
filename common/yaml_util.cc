#include "common/yaml_util.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <exception>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

namespace ferry::yaml {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Line `index` (0-based) of `text`, without its newline; "" past the end.
std::string_view LineAt(std::string_view text, int index) {
  size_t pos = 0;
  for (int i = 0; i < index; ++i) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return {};
    pos = nl + 1;
  }
  size_t end = text.find('\n', pos);
  return text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
}

bool IndentedWithTab(std::string_view line) {
  for (char c : line) {
    if (c == '\t') return true;
    if (c != ' ') return false;
  }
  return false;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Length of the valid UTF-8 sequence starting `s` (non-empty, s[0] >= 0x80), or 0.
size_t Utf8SequenceLength(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(0);
  size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
  if (c >= 0xf5) len = 0;
  if (len == 0 || s.size() < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
  }
  if (c == 0xe0 && byte(1) < 0xa0) return 0;  // overlong
  if (c == 0xed && byte(1) > 0x9f) return 0;  // surrogate
  if (c == 0xf0 && byte(1) < 0x90) return 0;  // overlong
  if (c == 0xf4 && byte(1) > 0x8f) return 0;  // > U+10FFFF
  return len;
}

// Counts documents, remembers where the last one started, and measures how big
// the documents would be with every alias (*name) expanded: a few bytes of
// aliases can stand for gigabytes ("billion laughs"), and readers copy what
// they read.
class DocumentMeter final : public YAML::EventHandler {
 public:
  explicit DocumentMeter(size_t limit) : limit_(limit) {}

  void OnDocumentStart(const YAML::Mark& mark) override { last_start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { Add(1, anchor); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchor_bytes_.find(anchor);
    if (it != anchor_bytes_.end()) Add(it->second, 0);
    if (over_limit && alias_mark.is_null()) alias_mark = mark;
  }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    Add(value.size() + 1, anchor);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open_.push_back({anchor, 1});
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open_.push_back({anchor, 1});
  }
  void OnMapEnd() override { Close(); }

  YAML::Mark last_start = YAML::Mark::null_mark();
  YAML::Mark alias_mark = YAML::Mark::null_mark();  // first alias past the limit
  bool over_limit = false;

 private:
  struct Open {
    YAML::anchor_t anchor;
    size_t bytes;
  };
  // Saturates at limit_ + 1 so that nested aliases cannot overflow.
  size_t Sum(size_t a, size_t b) const { return std::min(a + std::min(b, limit_ + 1), limit_ + 1); }
  void Add(size_t bytes, YAML::anchor_t anchor) {
    if (anchor != 0) anchor_bytes_[anchor] = bytes;
    if (open_.empty()) {
      total_ = Sum(total_, bytes);
    } else {
      open_.back().bytes = Sum(open_.back().bytes, bytes);
    }
    if (Sum(total_, open_.empty() ? 0 : open_.back().bytes) > limit_) over_limit = true;
  }
  void Close() {
    if (open_.empty()) return;
    Open done = open_.back();
    open_.pop_back();
    Add(done.bytes, done.anchor);
  }

  size_t limit_;
  size_t total_ = 0;
  std::vector<Open> open_;
  std::map<YAML::anchor_t, size_t> anchor_bytes_;
};

// Upper bound of the documents in `text`: each one but the first starts after a
// "---" or "..." line.
size_t MaxDocuments(std::string_view text) {
  size_t n = 1;
  size_t pos = 0;
  while (pos < text.size()) {
    std::string_view line = text.substr(pos, text.find('\n', pos) - pos);
    if (line.starts_with("---") || line.starts_with("...")) ++n;
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return n;
}

// yaml-cpp 0.7's LoadAll never ends on a stray ',' outside a flow collection
// (",", "[a]\n,", "{a: 1},"): the parser returns an empty document without
// consuming the token, forever, until memory runs out. Walk the events first
// with a document budget and refuse such input, and input whose aliases expand
// beyond kMaxExpandedBytes.
Status CheckDocumentsTerminate(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentMeter counter(kMaxExpandedBytes + text.size());
  size_t budget = MaxDocuments(text) + 1;
  for (size_t docs = 0; parser.HandleNextDocument(counter);) {
    if (counter.over_limit) {
      std::string where = counter.alias_mark.is_null()
                              ? std::string()
                              : "line " + std::to_string(counter.alias_mark.line + 1) + ": ";
      return InvalidArgument("not accepted: " + where +
                             "with its aliases (*name) expanded the text would exceed " +
                             std::to_string(kMaxExpandedBytes >> 20) +
                             " MiB; write the values out instead of repeating aliases");
    }
    if (++docs > budget) {
      std::string where = counter.last_start.is_null()
                              ? std::string()
                              : "line " + std::to_string(counter.last_start.line + 1) +
                                    ", column " + std::to_string(counter.last_start.column + 1) +
                                    ": ";
      return InvalidArgument("not valid YAML: " + where +
                             "unexpected ',' outside [...] or {...}; remove it or quote the "
                             "value");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::vector<YAML::Node>> LoadAll(std::string_view text) {
  try {
    std::string copy(text);
    FERRY_RETURN_IF_ERROR(CheckDocumentsTerminate(copy));
    return YAML::LoadAll(copy);
  } catch (const YAML::Exception& e) {
    std::string msg;
    if (!e.mark.is_null()) {
      msg = "line " + std::to_string(e.mark.line + 1) + ", column " +
            std::to_string(e.mark.column + 1) + ": ";
    }
    msg += e.msg;
    // yaml-cpp reports a tab in indentation as "illegal map value" or similar at
    // the line below; point at the tab, which is what the user has to change.
    for (int line = e.mark.is_null() ? 0 : std::max(0, e.mark.line - 1);
         !e.mark.is_null() && line <= e.mark.line; ++line) {
      if (IndentedWithTab(LineAt(text, line))) {
        msg += " (line " + std::to_string(line + 1) +
               " is indented with a tab; YAML needs spaces)";
        break;
      }
    }
    return InvalidArgument("not valid YAML: " + msg);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("not valid YAML: ") + e.what());
  }
}

int LineOf(const YAML::Node& node) {
  try {
    YAML::Mark m = node.Mark();
    return m.is_null() ? 0 : m.line + 1;
  } catch (const std::exception&) {
    return 0;
  }
}

std::string AtLine(const YAML::Node& node) {
  int line = LineOf(node);
  return line > 0 ? " (line " + std::to_string(line) + ")" : "";
}

std::string_view KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "empty (null)";
  }
  return "unknown";
}

StatusOr<std::vector<MapEntry>> MapEntries(const YAML::Node& node, std::string_view what) {
  if (!node.IsMap()) {
    return InvalidArgument(std::string(what) + ": expected a map (key: value lines), got " +
                           std::string(KindName(node)) + AtLine(node));
  }
  std::vector<MapEntry> out;
  std::map<std::string, size_t, std::less<>> index;  // key -> position in out
  try {
    for (auto it = node.begin(); it != node.end(); ++it) {
      YAML::Node key = it->first;
      if (!key.IsScalar()) {
        return InvalidArgument(std::string(what) + ": a key is " + std::string(KindName(key)) +
                               AtLine(key) + "; keys must be plain names");
      }
      const std::string& k = key.Scalar();
      auto [pos, inserted] = index.emplace(k, out.size());
      if (!inserted) {
        return InvalidArgument(std::string(what) + ": duplicate key " + Quote(k) + " at lines " +
                               std::to_string(LineOf(out[pos->second].key_node)) + " and " +
                               std::to_string(LineOf(key)) + "; keep only one");
      }
      out.push_back(MapEntry{k, key, it->second});
    }
  } catch (const std::exception& e) {
    return InvalidArgument(std::string(what) + ": " + e.what());
  }
  return out;
}

StatusOr<std::string> ScalarString(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar()) return node.Scalar();
  return InvalidArgument(std::string(what) + ": expected a string, got " +
                         std::string(KindName(node)) + AtLine(node));
}

StatusOr<bool> ScalarBool(const YAML::Node& node, std::string_view what) {
  // yaml-cpp tags quoted scalars "!"; a quoted "true" is a string, not a bool.
  if (node.IsScalar() && node.Tag() != "!") {
    std::string v = Lower(node.Scalar());
    if (v == "true" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "no" || v == "off") return false;
  }
  std::string got = node.IsScalar() ? Quote(node.Scalar()) : std::string(KindName(node));
  return InvalidArgument(std::string(what) + ": expected true or false (unquoted), got " + got +
                         AtLine(node));
}

StatusOr<std::map<std::string, std::string>> StringMap(const YAML::Node& node,
                                                       std::string_view what) {
  std::map<std::string, std::string> out;
  if (node.IsNull()) return out;
  FERRY_ASSIGN_OR_RETURN(std::vector<MapEntry> entries, MapEntries(node, what));
  for (const MapEntry& e : entries) {
    if (e.value.IsNull()) {
      return InvalidArgument(std::string(what) + "." + e.key + ": no value" + AtLine(e.value) +
                             "; write a value (quote it if it is empty: \"\") or remove the key");
    }
    FERRY_ASSIGN_OR_RETURN(out[e.key], ScalarString(e.value, std::string(what) + "." + e.key));
  }
  return out;
}

StatusOr<std::vector<std::string>> StringList(const YAML::Node& node, std::string_view what) {
  std::vector<std::string> out;
  if (node.IsNull()) return out;
  if (node.IsScalar()) {
    return InvalidArgument(std::string(what) + ": expected a list, got the string " +
                           Quote(node.Scalar()) + AtLine(node) + "; write [" + Quote(node.Scalar()) +
                           "]");
  }
  if (!node.IsSequence()) {
    return InvalidArgument(std::string(what) + ": expected a list of strings, got " +
                           std::string(KindName(node)) + AtLine(node));
  }
  try {
    size_t i = 0;
    for (auto it = node.begin(); it != node.end(); ++it, ++i) {
      FERRY_ASSIGN_OR_RETURN(std::string v,
                             ScalarString(*it, std::string(what) + "[" + std::to_string(i) + "]"));
      out.push_back(std::move(v));
    }
  } catch (const std::exception& e) {
    return InvalidArgument(std::string(what) + ": " + e.what());
  }
  return out;
}

std::string Suggest(std::string_view word, std::initializer_list<std::string_view> candidates) {
  std::string w = Lower(word);
  std::string best;
  size_t best_distance = 3;
  for (std::string_view c : candidates) {
    std::string lc = Lower(c);
    size_t d = EditDistance(w, lc);
    if (d < best_distance || (best.empty() && w.size() >= 3 && lc.starts_with(w))) {
      best = std::string(c);
      best_distance = std::min(d, best_distance);
    }
  }
  return best;
}

size_t FindInvalidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) < 0x80) continue;
    size_t len = Utf8SequenceLength(s.substr(i));
    if (len == 0) return i;
    i += len - 1;
  }
  return std::string_view::npos;
}

std::string Quote(std::string_view s) {
  constexpr size_t kMaxQuoted = 80;
  std::string out = "\"";
  size_t n = std::min(s.size(), kMaxQuoted);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // Messages end up in JSON (AdmissionReview): copy only whole, valid UTF-8
      // sequences; escape any other byte.
      size_t len = Utf8SequenceLength(s.substr(i));
      if (len > 0 && i + len <= n) {
        out.append(s.substr(i, len));
        i += len - 1;
        continue;
      }
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMaxQuoted) out += "...";
  out += '"';
  return out;
}

}  // namespace ferry::yaml
