#include "sidecar/source/http_index.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <set>

#include "sidecar/source/http_date.h"
#include "sidecar/source/url.h"

namespace ferry::sidecar {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

size_t IFind(std::string_view hay, std::string_view needle, size_t from) {
  if (needle.size() > hay.size()) return std::string_view::npos;
  for (size_t i = from; i + needle.size() <= hay.size(); ++i) {
    if (IEquals(hay.substr(i, needle.size()), needle)) return i;
  }
  return std::string_view::npos;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The href value of the <a ...> tag spanning tag[0..], or nullopt.
std::optional<std::string_view> HrefOf(std::string_view tag) {
  size_t at = IFind(tag, "href", 0);
  while (at != std::string_view::npos) {
    size_t p = at + 4;
    while (p < tag.size() && tag[p] == ' ') ++p;
    if (p < tag.size() && tag[p] == '=') {
      ++p;
      while (p < tag.size() && tag[p] == ' ') ++p;
      if (p >= tag.size()) return std::nullopt;
      char quote = tag[p];
      if (quote == '"' || quote == '\'') {
        size_t end = tag.find(quote, p + 1);
        if (end == std::string_view::npos) return std::nullopt;
        return tag.substr(p + 1, end - p - 1);
      }
      size_t end = tag.find_first_of(" >", p);
      return tag.substr(p, end == std::string_view::npos ? tag.size() - p : end - p);
    }
    at = IFind(tag, "href", at + 4);
  }
  return std::nullopt;
}

// Turns an href into a child name; false when it is not a direct child link.
bool ChildFromHref(std::string_view href, IndexEntry* e) {
  std::string decoded_entities = DecodeHtmlEntities(href);
  std::string_view h = decoded_entities;
  if (h.empty() || h[0] == '?' || h[0] == '#' || h[0] == '/' ||
      h.find("://") != std::string_view::npos || h.rfind("mailto:", 0) == 0) {
    return false;
  }
  if (h.rfind("./", 0) == 0) h.remove_prefix(2);
  size_t cut = h.find_first_of("?#");
  if (cut != std::string_view::npos) h = h.substr(0, cut);
  e->is_dir = !h.empty() && h.back() == '/';
  if (e->is_dir) h.remove_suffix(1);
  if (h.empty() || h.find('/') != std::string_view::npos) return false;
  StatusOr<std::string> name = PercentDecode(h);
  if (!name.ok() || name->empty() || *name == "." || *name == ".." ||
      name->find('/') != std::string::npos || name->find('\0') != std::string::npos) {
    return false;
  }
  e->name = std::move(*name);
  return true;
}

// Strips tags from the text between one link and the next, leaving words.
std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> words;
  std::string cur;
  bool in_tag = false;
  for (char c : s) {
    if (c == '<') in_tag = true;
    if (!in_tag && c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      cur += c;
    } else if (!cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
    if (c == '>') in_tag = false;
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

// Finds "date time [size]" among the words after a link.
void FillDetails(const std::vector<std::string>& words, IndexEntry* e) {
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    std::optional<int64_t> ns = ParseIndexDateNs(words[i] + " " + words[i + 1]);
    if (!ns) continue;
    e->mtime_ns = ns;
    e->mtime_has_seconds = words[i + 1].size() > 5;
    if (i + 2 < words.size() && !e->is_dir) {
      const std::string& w = words[i + 2];
      uint64_t size = 0;
      auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), size);
      if (ec == std::errc() && end == w.data() + w.size()) e->size = size;
    }
    return;
  }
}

std::vector<IndexEntry> ParseHtml(std::string_view body) {
  std::vector<IndexEntry> out;
  std::set<std::string> seen;
  size_t pos = IFind(body, "<a", 0);
  while (pos != std::string_view::npos) {
    size_t tag_end = body.find('>', pos);
    if (tag_end == std::string_view::npos) break;
    std::string_view tag = body.substr(pos, tag_end - pos);
    size_t next = IFind(body, "<a", tag_end);
    bool is_anchor = tag.size() > 2 && (tag[2] == ' ' || tag[2] == '\t' || tag[2] == '\n');
    IndexEntry e;
    std::optional<std::string_view> href = is_anchor ? HrefOf(tag) : std::nullopt;
    if (href && ChildFromHref(*href, &e) && !seen.count(e.name)) {
      size_t to = next == std::string_view::npos ? body.size() : next;
      // Only up to the next link: keeps pages with many unclosed links linear.
      size_t close = IFind(body.substr(0, to), "</a>", tag_end);
      size_t from = close == std::string_view::npos ? tag_end + 1 : close + 4;
      if (from < to) FillDetails(Words(body.substr(from, to - from)), &e);
      seen.insert(e.name);
      out.push_back(std::move(e));
    }
    pos = next;
  }
  return out;
}

StatusOr<std::vector<IndexEntry>> ParseJson(std::string_view body) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) return InvalidArgument("JSON index is not an array (nginx autoindex_format json)");
  std::vector<IndexEntry> out;
  std::set<std::string> seen;
  for (const nlohmann::json& item : doc) {
    if (!item.is_object()) return InvalidArgument("JSON index: entry is not an object");
    auto name = item.find("name");
    auto type = item.find("type");
    if (name == item.end() || !name->is_string() || type == item.end() || !type->is_string()) {
      return InvalidArgument("JSON index: entry without string name/type");
    }
    IndexEntry e;
    e.name = name->get<std::string>();
    const std::string t = type->get<std::string>();
    if (e.name.empty() || e.name == "." || e.name == ".." ||
        e.name.find('/') != std::string::npos || e.name.find('\0') != std::string::npos ||
        seen.count(e.name)) {
      continue;
    }
    if (t == "directory") {
      e.is_dir = true;
    } else if (t != "file") {
      continue;  // "other", "link": not served as data
    }
    auto size = item.find("size");
    if (!e.is_dir && size != item.end() && size->is_number_unsigned()) {
      e.size = size->get<uint64_t>();
    }
    auto mtime = item.find("mtime");
    if (mtime != item.end() && mtime->is_string()) {
      e.mtime_ns = ParseHttpDateNs(mtime->get<std::string>());
      e.mtime_has_seconds = e.mtime_ns.has_value();
    }
    seen.insert(e.name);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

std::string DecodeHtmlEntities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos" || ent == "#39") out += '\'';
    else if (ent.size() > 1 && ent[0] == '#') {
      bool hex = ent[1] == 'x' || ent[1] == 'X';
      std::string_view digits = ent.substr(hex ? 2 : 1);
      uint32_t cp = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (ec != std::errc() || end != digits.data() + digits.size() || cp == 0 || cp > 0x10FFFF) {
        out += s.substr(i, semi - i + 1);
      } else {
        AppendUtf8(cp, &out);
      }
    } else {
      out += s.substr(i, semi - i + 1);
    }
    i = semi;
  }
  return out;
}

StatusOr<std::vector<IndexEntry>> ParseIndexPage(std::string_view body, IndexFormat format) {
  if (format == IndexFormat::kAuto) {
    size_t first = body.find_first_not_of(" \t\r\n");
    format = first != std::string_view::npos && body[first] == '[' ? IndexFormat::kJson
                                                                    : IndexFormat::kHtml;
  }
  if (format == IndexFormat::kJson) return ParseJson(body);
  return ParseHtml(body);
}

}  // namespace ferry::sidecar
